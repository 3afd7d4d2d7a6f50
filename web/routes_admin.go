package web

import "net/http"

// adminRoutes registers admin pages (quarantine) and the staff dashboard's data.
func (s *Server) adminRoutes(mux *http.ServeMux) {}
