package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/jcservicedesk/servicedesk/ticketing"
)

// ticketComment adds the requester's public comment (with files). Staff
// post their replies through tkstaff's reply form; when they use this
// one, it is a public comment too. An "internal" field is never read
// here: a requester cannot make a note internal, and staff notes go
// through the staff reply (S16).
func (s *Server) ticketComment(w http.ResponseWriter, r *http.Request) error {
	n, err := ticketNumber(r)
	if err != nil {
		return err
	}
	u := ctxOf(r).User
	in := ticketing.CommentInput{Body: strings.TrimSpace(r.PostFormValue("body")), Source: "web"}
	if seen, err := strconv.ParseInt(r.PostFormValue("seen"), 10, 64); err == nil && seen >= 0 && u.IsStaff() {
		in.Seen = &seen // collision control is for staff replies; a requester's message always goes
	}
	formErr := func(status int, key string) error {
		p, err := s.ticketPageFor(r, n)
		if err != nil {
			return err
		}
		p.Error, p.Body = key, in.Body
		return s.render(w, r, status, "ticket_show", p)
	}
	if in.Body == "" {
		return formErr(http.StatusUnprocessableEntity, "tickets.error.empty_comment")
	}
	if in.Files, err = s.formFiles(r); err != nil {
		var se *statusError
		if errors.As(err, &se) {
			return formErr(se.Status, se.Key)
		}
		return err
	}
	if _, err := s.svc.Comment(r.Context(), u, n, in); err != nil {
		var ce *ticketing.CollisionError
		switch {
		case errors.As(err, &ce):
			return formErr(http.StatusConflict, "tickets.error.collision")
		case errors.Is(err, ticketing.ErrInvalid):
			return formErr(http.StatusUnprocessableEntity, "tickets.error.comment_refused")
		}
		return hideRefusal(err)
	}
	s.flash(w, r, "success", "tickets.flash.commented")
	s.redirect(w, r, "/tickets/"+strconv.FormatInt(n, 10)+"#reply")
	return nil
}
