package web

import (
	"net/http"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// staffResolve is POST /tickets/{number}/resolve (solution, required).
func (s *Server) staffResolve(w http.ResponseWriter, r *http.Request) error {
	return s.staffSetStatus(w, r, store.StatusResolved, ticketing.StatusInput{Solution: r.PostFormValue("solution")}, "staff.done.resolved")
}

// staffClose is POST /tickets/{number}/close: reason, the technician's
// evaluation and a classification, all required (the evaluation is
// internal).
func (s *Server) staffClose(w http.ResponseWriter, r *http.Request) error {
	in := ticketing.StatusInput{Reason: r.PostFormValue("reason"), Evaluation: r.PostFormValue("evaluation"),
		Classification: r.PostFormValue("classification")}
	return s.staffSetStatus(w, r, store.StatusClosed, in, "staff.done.closed")
}

// staffStatus is POST /tickets/{number}/status (status): the changes that
// need nothing more (open, pending). Resolving and closing have their own
// forms.
func (s *Server) staffStatus(w http.ResponseWriter, r *http.Request) error {
	to := r.PostFormValue("status")
	if to != store.StatusOpen && to != store.StatusPending {
		return httpError(http.StatusUnprocessableEntity, "error.invalid")
	}
	return s.staffSetStatus(w, r, to, ticketing.StatusInput{}, "staff.done.status")
}

func (s *Server) staffSetStatus(w http.ResponseWriter, r *http.Request, to string, in ticketing.StatusInput, done string) error {
	n, err := staffNumber(r)
	if err != nil {
		return err
	}
	if _, err := s.svc.SetStatus(r.Context(), ctxOf(r).User, n, to, in); err != nil {
		return err
	}
	return s.staffDone(w, r, n, done)
}

// staffPauseSLA is POST /tickets/{number}/sla/pause.
func (s *Server) staffPauseSLA(w http.ResponseWriter, r *http.Request) error {
	n, err := staffNumber(r)
	if err != nil {
		return err
	}
	if _, err := s.svc.PauseSLA(r.Context(), ctxOf(r).User, n); err != nil {
		return err
	}
	return s.staffDone(w, r, n, "staff.done.sla_paused")
}

// staffResumeSLA is POST /tickets/{number}/sla/resume.
func (s *Server) staffResumeSLA(w http.ResponseWriter, r *http.Request) error {
	n, err := staffNumber(r)
	if err != nil {
		return err
	}
	if _, err := s.svc.ResumeSLA(r.Context(), ctxOf(r).User, n); err != nil {
		return err
	}
	return s.staffDone(w, r, n, "staff.done.sla_resumed")
}
