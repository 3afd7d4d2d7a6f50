package web

import (
	"net/http"
	"strconv"
)

// ticketMailSource is GET /tickets/{number}/messages/{id}/eml: the
// original message a ticket or comment came from, as a download for
// staff (ticketing.MailSource decides; anyone else gets 404). The path
// ends in a literal word so it never meets the rating links'
// /tickets/{a}/{b}.
func (s *Server) ticketMailSource(w http.ResponseWriter, r *http.Request) error {
	n, id, err := ticketAndID(r)
	if err != nil {
		return err
	}
	m, raw, err := s.svc.MailSource(r.Context(), ctxOf(r).User, n, id)
	if err != nil {
		return hideRefusal(err)
	}
	h := w.Header()
	// A download (attachment, nosniff), never something the browser renders.
	h.Set("Content-Type", "message/rfc822")
	h.Set("Content-Disposition", `attachment; filename="ticket-`+strconv.FormatInt(n, 10)+"-mail-"+strconv.FormatInt(m.ID, 10)+`.eml"`)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, no-store")
	h.Set("Content-Length", strconv.Itoa(len(raw)))
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(raw)
	return err
}
