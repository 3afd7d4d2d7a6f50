package web

import "net/http"

// TEMPORARY (tkreq): tkstaff's web/ticket_queue.go replaces this; delete it then.
func (s *Server) ticketQueue(w http.ResponseWriter, r *http.Request) error {
	return s.ticketsMine(w, r)
}
