package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/jcservicedesk/servicedesk/ticketing"
)

// chatSent is the answer to a send made by live.js.
type chatSent struct {
	Ticket  int64 `json:"ticket"`  // the ticket's number
	Comment int64 `json:"comment"` // the comment's id; 0 when the message opened the ticket
	Opened  bool  `json:"opened"`  // the message opened a new ticket
}

// chatSend is POST /chat/send (ticket, text, internal): one chat message
// on a ticket, or without a ticket a new one. A form post comes back to
// /chat on the ticket; live.js asks for JSON and stays on the page.
func (s *Server) chatSend(w http.ResponseWriter, r *http.Request) error {
	n, err := chatNumber(r, "ticket")
	if err != nil {
		return err
	}
	u := ctxOf(r).User
	// The internal box is the policy's to refuse: a requester's crafted
	// "internal" is refused, not posted in public.
	in := ticketing.ChatInput{Text: r.PostFormValue("text"), Internal: r.PostFormValue("internal") != ""}
	t, c, err := s.svc.SendChat(r.Context(), u, n, in)
	if err != nil {
		if !errors.Is(err, ticketing.ErrInvalid) || wantsJSON(r) {
			return hideRefusal(err)
		}
		// A form post: the page again, with the text and why.
		p, perr := s.chatPageFor(r, n)
		if perr != nil {
			return perr
		}
		key := "live.chat.error.refused"
		if n == 0 {
			p.NewErr, p.NewText = key, in.Text
		} else {
			p.Error, p.Text = key, in.Text
		}
		return s.render(w, r, http.StatusUnprocessableEntity, "chat", p)
	}
	out := chatSent{Ticket: t.Number, Opened: c == nil}
	if c != nil {
		out.Comment = c.ID
	}
	if wantsJSON(r) {
		return writeJSON(w, out)
	}
	to := "/chat?ticket=" + strconv.FormatInt(t.Number, 10)
	if c != nil {
		to += "#m" + strconv.FormatInt(c.ID, 10)
	}
	s.redirect(w, r, to)
	return nil
}
