package web

import "net/http"

// authRoutes registers sign-in, registration, 2FA and the profile.
// Helper authweb owns this file; webcore does not edit it.
func (s *Server) authRoutes(mux *http.ServeMux) {}
