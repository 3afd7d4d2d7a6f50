package web

import (
	"net/http"
	"regexp"
	"strconv"
)

// presenceTab is a tab id as live.js makes them.
var presenceTab = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// presenceSave is POST /notify/presence (ticket = number, tab, state =
// viewing, replying, typing or left; CSRF header): live.js's heartbeat,
// every 20 s and when the state changes. It answers who is on the ticket
// now, in the shape of a presence event, so polling pages see it too.
func (s *Server) presenceSave(w http.ResponseWriter, r *http.Request) error {
	if s.presence == nil {
		return httpError(http.StatusNotFound, "error.not_found")
	}
	n, err := chatNumber(r, "ticket")
	if err != nil {
		return err
	}
	if n == 0 {
		return httpError(http.StatusUnprocessableEntity, "error.invalid")
	}
	tab, state := r.PostFormValue("tab"), r.PostFormValue("state")
	if !presenceTab.MatchString(tab) {
		return httpError(http.StatusUnprocessableEntity, "error.invalid")
	}
	u := ctxOf(r).User
	t, err := s.svc.Viewable(r.Context(), u, n)
	if err != nil {
		return hideRefusal(err)
	}
	m := presenceMsg{Ticket: t.ID, User: u.ID, Name: displayName(u), Tab: tab}
	switch state {
	case stateViewing, stateReplying:
		m.Kind, m.State = presenceBeat, state
	case "typing":
		// Typing is also replying: one message says both.
		s.presence.local(r.Context(), presenceMsg{Kind: presenceBeat, Ticket: t.ID, User: u.ID, Name: m.Name, Tab: tab, State: stateReplying})
		m.Kind = presenceTyping
	case "left":
		m.Kind = presenceLeave
	default:
		return httpError(http.StatusUnprocessableEntity, "error.invalid")
	}
	s.presence.local(r.Context(), m)
	var out livePresence
	out.Topic = "ticket:" + strconv.FormatInt(t.ID, 10)
	out.Presence.Users = s.presence.current(t.ID)
	return writeJSON(w, out)
}
