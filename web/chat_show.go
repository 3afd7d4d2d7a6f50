package web

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// chatPage is the data of /chat (templates/chat.html): the user's recent
// tickets on the left, the chosen one's messages on the right.
type chatPage struct {
	Tickets  []*store.Ticket
	Active   *store.Ticket // nil: no ticket chosen (or none yet)
	Messages []chatMessage
	Staff    bool
	CanSend  bool // the send form is shown (the ticket is not closed)
	Max      int  // characters of a message

	Error   string // i18n key of a send error
	Text    string // the text given back after an error
	NewText string // the same for the new-conversation form
	NewErr  string
}

// chatMessage is one message as the chat shows it.
type chatMessage struct {
	ID       int64 // comment id; 0 for the ticket's opening message
	Author   string
	Mine     bool
	Staff    bool
	Internal bool
	Chat     bool // written in the chat (else on the ticket page or by mail)
	At       time.Time
	Parts    []textPart
}

// textPart is a run of plain text, or a link when Href is set (http and
// https only). The template escapes both.
type textPart struct {
	Text string
	Href string
}

// chatLink finds the web addresses in a message. Trailing punctuation is
// the sentence's, not the address's.
var chatLink = regexp.MustCompile(`(?i)\bhttps?://[^\s<>"]+`)

// linkParts splits text into plain runs and links.
func linkParts(text string) []textPart {
	var out []textPart
	last := 0
	for _, m := range chatLink.FindAllStringIndex(text, -1) {
		start, end := m[0], m[1]
		end = start + len(strings.TrimRight(text[start:end], ".,;:!?)]}'"))
		if end-start <= len("https://") {
			continue
		}
		if start > last {
			out = append(out, textPart{Text: text[last:start]})
		}
		out = append(out, textPart{Text: text[start:end], Href: text[start:end]})
		last = end
	}
	if last < len(text) {
		out = append(out, textPart{Text: text[last:]})
	}
	return out
}

// chatNumber reads ?ticket=<number>; 0 when absent.
func chatNumber(r *http.Request, key string) (int64, error) {
	v := strings.TrimPrefix(strings.TrimSpace(r.FormValue(key)), "#")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, httpError(http.StatusNotFound, "error.not_found")
	}
	return n, nil
}

// chatShow is GET /chat[?ticket=N].
func (s *Server) chatShow(w http.ResponseWriter, r *http.Request) error {
	n, err := chatNumber(r, "ticket")
	if err != nil {
		return err
	}
	p, err := s.chatPageFor(r, n)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "chat", p)
}

// chatPageFor loads the chat page with ticket n open (0: the most recent
// of the list).
func (s *Server) chatPageFor(r *http.Request, n int64) (*chatPage, error) {
	u := ctxOf(r).User
	ts, err := s.svc.ChatTickets(r.Context(), u)
	if err != nil {
		return nil, err
	}
	p := &chatPage{Tickets: ts, Staff: u.IsStaff(), Max: ticketing.MaxChatText}
	if n == 0 && len(ts) > 0 {
		n = ts[0].Number
	}
	if n == 0 {
		return p, nil
	}
	v, err := s.svc.Get(r.Context(), u, n)
	if err != nil {
		return nil, hideRefusal(err)
	}
	p.Active = v.Ticket
	p.CanSend = v.Ticket.Status != store.StatusClosed
	for _, it := range conversation(v) {
		m := chatMessage{ID: it.ID, At: it.At, Internal: it.Internal, Chat: it.Comment != nil && it.Comment.Source == store.SourceChat}
		if a := it.Author; a != nil {
			m.Author, m.Mine, m.Staff = displayName(a), a.ID == u.ID, a.IsStaff()
		}
		text := it.Text
		if it.Quoted != "" {
			text = strings.TrimSpace(text + "\n" + it.Quoted)
		}
		m.Parts = linkParts(text)
		p.Messages = append(p.Messages, m)
	}
	return p, nil
}

// displayName is how a person is named to others: their name, else the
// part of their address before the @.
func displayName(u *store.User) string {
	if u.Name != "" {
		return u.Name
	}
	local, _, _ := strings.Cut(u.Email, "@")
	return local
}
