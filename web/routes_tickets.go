package web

import "net/http"

// ticketRoutes registers the requester's side of tickets and the ticket
// page shared by requesters and staff. The old app's paths stay.
func (s *Server) ticketRoutes(mux *http.ServeMux) {
	s.handle(mux, "GET /tickets/{$}", signedIn, s.ticketList) // staff: s.ticketQueue (tkstaff)
	s.handle(mux, "GET /tickets", signedIn, s.ticketList)
	s.handle(mux, "GET /tickets/new", signedIn, s.ticketNew)
	s.handle(mux, "POST /tickets/new", signedIn, s.ticketCreate)
	s.handle(mux, "GET /tickets/create", signedIn, s.ticketNew)
	s.handle(mux, "POST /tickets/create", signedIn, s.ticketCreate)

	s.handle(mux, "GET /tickets/{number}", signedIn, s.ticketShow)
	s.handle(mux, "POST /tickets/{number}", signedIn, s.ticketComment) // the old app's comment form
	s.handle(mux, "POST /tickets/{number}/comments", signedIn, s.ticketComment)
	s.handle(mux, "GET /tickets/{number}/attachments/{id}", signedIn, s.ticketAttachment)
	s.handle(mux, "GET /tickets/{number}/attachments/{id}/view", signedIn, s.ticketAttachmentView)
	s.handle(mux, "POST /tickets/{number}/reopen", signedIn, s.ticketReopen)
	s.handle(mux, "GET /tickets/{number}/messages/{id}/eml", signedIn, s.ticketMailSource) // staff only, by ticketing

	// Rating links of the closing mail (/tickets/rate/<token>): no
	// sign-in; a GET only shows the form, the POST records. They are
	// registered as the catch-all /tickets/{a}/{b} (the handler answers
	// only a == "rate"), because a literal /tickets/rate/{token} would
	// conflict in ServeMux with every /tickets/{number}/<word> route.
	s.handle(mux, "GET /tickets/{a}/{b}", public, s.rateLinkShow)
	s.handle(mux, "POST /tickets/{a}/{b}", public, s.rateLinkSave)
	// The requester's rating form, and the links mailed before
	// (/tickets/N/rate?t=…&stars=…), which need no sign-in either.
	s.handle(mux, "GET /tickets/{number}/rate", public, s.ticketRateShow)
	s.handle(mux, "POST /tickets/{number}/rate", public, s.ticketRate)

	s.handle(mux, "GET /waiting-room", signedIn, s.waitingRoom)
}
