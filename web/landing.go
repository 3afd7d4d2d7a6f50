package web

import "net/http"

// landing is the product's front page: what the helpdesk does, sign in.
func (s *Server) landing(w http.ResponseWriter, r *http.Request) error {
	return s.render(w, r, http.StatusOK, "index", nil)
}
