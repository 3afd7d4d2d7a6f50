package web

import (
	"net/http"
	"strings"

	"github.com/jcservicedesk/servicedesk/ticketing"
)

// staffUpdate is POST /tickets/{number}/update: priority, category, queue and asset
// (fields left out of the form are left alone).
func (s *Server) staffUpdate(w http.ResponseWriter, r *http.Request) error {
	n, err := staffNumber(r)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return httpError(http.StatusBadRequest, "error.invalid")
	}
	var in ticketing.UpdateInput
	if _, ok := r.PostForm["priority"]; ok {
		p := r.PostFormValue("priority")
		in.Priority = &p
	}
	if _, ok := r.PostForm["category"]; ok {
		c := strings.TrimSpace(r.PostFormValue("category")) // an id, or "" for none
		in.Category = &c
	}
	if _, ok := r.PostForm["queue"]; ok {
		q := strings.TrimSpace(r.PostFormValue("queue"))
		in.Queue = &q
	}
	if _, ok := r.PostForm["asset"]; ok {
		a := strings.TrimSpace(r.PostFormValue("asset")) // an id of the ticket's company, or "" for none
		in.Asset = &a
	}
	if _, err := s.svc.Update(r.Context(), ctxOf(r).User, n, in); err != nil {
		return err
	}
	return s.staffDone(w, r, n, "staff.done.updated")
}
