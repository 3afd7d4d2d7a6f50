package web

import "net/http"

// notifyRoutes: the notification centre and the live stream (with its
// polling fallback), as the old app's routes.
func (s *Server) notifyRoutes(mux *http.ServeMux) {
	s.handle(mux, "GET /notify", signedIn, s.notifyList)
	s.handle(mux, "GET /notify/stream", signedIn, s.notifyStream)
	s.handle(mux, "GET /notify/poll", signedIn, s.notifyPoll)
	s.handle(mux, "POST /notify/read/{id}", signedIn, s.notifyRead)
	s.handle(mux, "POST /notify/read_all", signedIn, s.notifyReadAll)
}
