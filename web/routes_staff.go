package web

import "net/http"

// staffRoutes registers the technicians' queue actions, search and the
// staff actions of the ticket page: each form posts to one route that
// calls one ticketing function and comes back with a flash. GET /tickets/
// is tkreq's route, which calls ticketQueue for staff; POST
// /tickets/{number}/reopen and the requester's comment form are tkreq's
// too.
func (s *Server) staffRoutes(mux *http.ServeMux) {
	s.handle(mux, "GET /search", signedIn, s.searchShow) // requesters too: same access rules
	s.handle(mux, "POST /tickets/bulk", staff, s.staffBulk)
	s.handle(mux, "POST /tickets/views", staff, s.staffViewSave)
	s.handle(mux, "POST /tickets/views/{id}/delete", staff, s.staffViewDelete)

	s.handle(mux, "POST /tickets/{number}/take", staff, s.staffTake)
	s.handle(mux, "POST /tickets/{number}/assign", staff, s.staffAssign)
	s.handle(mux, "POST /tickets/{number}/participants", staff, s.staffParticipantAdd)
	s.handle(mux, "POST /tickets/{number}/participants/{uid}/remove", staff, s.staffParticipantRemove)
	s.handle(mux, "POST /tickets/{number}/update", staff, s.staffUpdate)
	s.handle(mux, "POST /tickets/{number}/status", staff, s.staffStatus)
	s.handle(mux, "POST /tickets/{number}/resolve", staff, s.staffResolve)
	s.handle(mux, "POST /tickets/{number}/close", staff, s.staffClose)
	s.handle(mux, "POST /tickets/{number}/sla/pause", staff, s.staffPauseSLA)
	s.handle(mux, "POST /tickets/{number}/pause_sla", staff, s.staffPauseSLA) // the old app's path
	s.handle(mux, "POST /tickets/{number}/sla/resume", staff, s.staffResumeSLA)
	s.handle(mux, "POST /tickets/{number}/resume_sla", staff, s.staffResumeSLA)
	s.handle(mux, "POST /tickets/{number}/links", staff, s.staffLink)
	s.handle(mux, "POST /tickets/{number}/links/remove", staff, s.staffUnlink)
	s.handle(mux, "POST /tickets/{number}/merge", staff, s.staffMerge)
	s.handle(mux, "POST /tickets/{number}/comments/{id}/move", staff, s.staffMoveComment)
	s.handle(mux, "POST /tickets/{number}/comments/{id}/split", staff, s.staffSplitComment)
	s.handle(mux, "POST /tickets/{number}/reply", staff, s.staffReplyPost)
	s.handle(mux, "POST /tickets/{number}/draft", signedIn, s.staffDraft)
	s.handle(mux, "POST /tickets/{number}/comments/{id}/react", signedIn, s.staffReact)

	s.handle(mux, "GET /canned", staff, s.staffCannedList)
	s.handle(mux, "POST /canned", staff, s.staffCannedCreate)
	s.handle(mux, "POST /canned/{id}/delete", staff, s.staffCannedDelete)
}
