package web

import (
	"net/http"

	"github.com/jcservicedesk/servicedesk/ticketing"
)

// staffDraft is POST /tickets/{number}/draft: keep the reply being
// written on the server. staff.js posts it every few seconds (fetch with
// X-CSRF-Token, answered 204); without JavaScript the "Salvar rascunho"
// button posts the form and comes back to the ticket.
func (s *Server) staffDraft(w http.ResponseWriter, r *http.Request) error {
	n, err := staffNumber(r)
	if err != nil {
		return err
	}
	in := ticketing.DraftInput{Body: r.PostFormValue("body"), Internal: r.PostFormValue("internal") == "1"}
	if _, err := s.svc.SaveDraft(r.Context(), ctxOf(r).User, n, in); err != nil {
		return err
	}
	if r.Header.Get("X-Requested-With") == "fetch" {
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return s.staffDone(w, r, n, "staff.done.draft_saved")
}
