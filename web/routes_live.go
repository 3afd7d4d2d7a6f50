package web

import "net/http"

// liveRoutes registers the chat and presence (issue 11's "live" part; the
// notification stream, its poll and the bell are in notify*.go).
func (s *Server) liveRoutes(mux *http.ServeMux) {
	s.handle(mux, "GET /chat", signedIn, s.chatShow)
	s.handle(mux, "GET /chat/{$}", signedIn, s.chatShow)
	s.handle(mux, "GET /chat/stream", signedIn, s.chatStream)
	s.handle(mux, "GET /chat/poll", signedIn, s.chatPoll)
	s.handle(mux, "POST /chat/send", signedIn, s.chatSend)
	s.handle(mux, "POST /notify/presence", signedIn, s.presenceSave)
}
