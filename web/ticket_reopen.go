package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/jcservicedesk/servicedesk/ticketing"
)

// ticketReopen reopens a resolved or closed ticket under the rule mail
// follows (mail.reopen_days): recent enough, it reopens; later, a linked
// follow-up ticket is opened and shown.
func (s *Server) ticketReopen(w http.ResponseWriter, r *http.Request) error {
	n, err := ticketNumber(r)
	if err != nil {
		return err
	}
	t, outcome, err := s.svc.Reopen(r.Context(), ctxOf(r).User, n, ticketing.ReopenInput{
		Body: strings.TrimSpace(r.PostFormValue("body")), ReopenDays: s.cfg.Mail.ReopenDays})
	if err != nil {
		return err
	}
	if outcome == ticketing.ReplyFollowUp {
		s.flash(w, r, "success", "tickets.flash.follow_up")
	} else {
		s.flash(w, r, "success", "tickets.flash.reopened")
	}
	s.redirect(w, r, "/tickets/"+strconv.FormatInt(t.Number, 10))
	return nil
}
