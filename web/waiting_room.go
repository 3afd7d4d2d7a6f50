package web

import "net/http"

// waitingRoom is the placeholder of the waiting room: the games come in a
// later issue.
func (s *Server) waitingRoom(w http.ResponseWriter, r *http.Request) error {
	return s.render(w, r, http.StatusOK, "waiting_room", nil)
}
