package web

import "net/http"

// ticketRoutes registers the requester's side of tickets and the ticket page.
func (s *Server) ticketRoutes(mux *http.ServeMux) {}
