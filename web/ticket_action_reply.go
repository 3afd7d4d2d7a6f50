package web

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/jcservicedesk/servicedesk/store"

	"github.com/jcservicedesk/servicedesk/ticketing"
)

// collisionPage is ticket_collision.html: the reply was refused because
// someone answered first.
type collisionPage struct {
	Number  int64
	Subject string
	Reply   *staffReply
}

// staffReplyPost is POST /tickets/{number}/reply: a public reply or an
// internal note, with files, from the staff reply form (an internal
// note's files are internal too). The form carries the version
// it was written against (seen); when a public message arrived since,
// the reply is refused with 409 and the page shows the new messages
// above the untouched text, to send anyway or edit.
func (s *Server) staffReplyPost(w http.ResponseWriter, r *http.Request) error {
	rc := ctxOf(r)
	n, err := staffNumber(r)
	if err != nil {
		return err
	}
	in := ticketing.CommentInput{Body: r.PostFormValue("body"), Internal: r.PostFormValue("internal") == "1",
		SendAnyway: r.PostFormValue("send_anyway") == "1"}
	if seen, err := strconv.ParseInt(r.PostFormValue("seen"), 10, 64); err == nil && seen >= 0 {
		in.Seen = &seen
	}
	if in.Files, err = s.formFiles(r); err != nil {
		return err
	}
	in.Recipients = replyRecipients(r, in.Internal)
	_, err = s.svc.Comment(r.Context(), rc.User, n, in)
	var ce *ticketing.CollisionError
	if errors.As(err, &ce) {
		return s.staffCollision(w, r, n, in, ce)
	}
	if err != nil {
		return err
	}
	key := "staff.done.replied"
	if in.Internal {
		key = "staff.done.noted"
	}
	return s.staffDone(w, r, n, key)
}

// replyRecipients reads the recipients of the reply form: the ticked
// boxes (to) and the typed addresses (cc, separated by commas, semicolons
// or spaces). A form without the recipients fieldset (rcpt) mails
// everyone who follows; an internal note has no recipients. ticketing
// checks every address.
func replyRecipients(r *http.Request, internal bool) *ticketing.ReplyRecipients {
	if internal || r.PostFormValue("rcpt") != "1" {
		return nil
	}
	rr := &ticketing.ReplyRecipients{To: []string{}}
	for _, a := range r.PostForm["to"] {
		if a = strings.TrimSpace(a); a != "" {
			rr.To = append(rr.To, store.NormalizeEmail(a))
		}
	}
	rr.Cc = strings.FieldsFunc(r.PostFormValue("cc"), func(c rune) bool {
		return c == ',' || c == ';' || c == ' ' || c == '\n' || c == '\r' || c == '\t'
	})
	return rr
}

// staffCollision renders the refused reply: the newer messages first,
// then the form with the same text and the new version. The text is kept
// as a draft too, so leaving the page loses nothing.
func (s *Server) staffCollision(w http.ResponseWriter, r *http.Request, n int64, in ticketing.CommentInput, ce *ticketing.CollisionError) error {
	rc := ctxOf(r)
	if _, err := s.svc.SaveDraft(r.Context(), rc.User, n, ticketing.DraftInput{Body: in.Body, Internal: in.Internal}); err != nil {
		return err
	}
	v, err := s.svc.Get(r.Context(), rc.User, n)
	if err != nil {
		return err
	}
	rp, err := s.staffReplyFor(r, v, ce.Newer)
	if err != nil {
		return err
	}
	rp.Seen, rp.Body, rp.Internal = ce.Version, in.Body, in.Internal
	rp.FilesLost = len(in.Files) > 0
	if in.Recipients != nil { // the choice survives the refusal
		for i := range rp.Recipients {
			rp.Recipients[i].On = slices.Contains(in.Recipients.To, store.NormalizeEmail(rp.Recipients[i].Email))
		}
		rp.Cc = strings.Join(in.Recipients.Cc, ", ")
	}
	return s.render(w, r, http.StatusConflict, "ticket_collision", &collisionPage{Number: n, Subject: v.Ticket.Subject, Reply: rp})
}
