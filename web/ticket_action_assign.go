package web

import (
	"net/http"
	"strconv"

	"github.com/jcservicedesk/servicedesk/store"
)

// staffNumber reads the ticket number of the URL; anything else is a 404
// (the same answer as a ticket one may not see).
func staffNumber(r *http.Request) (int64, error) {
	n, err := strconv.ParseInt(r.PathValue("number"), 10, 64)
	if err != nil || n <= 0 {
		return 0, httpError(http.StatusNotFound, "error.not_found")
	}
	return n, nil
}

// staffDone flashes key and goes back to the ticket page.
func (s *Server) staffDone(w http.ResponseWriter, r *http.Request, number int64, key string) error {
	s.flash(w, r, "success", key)
	s.redirect(w, r, "/tickets/"+strconv.FormatInt(number, 10))
	return nil
}

// staffTake is POST /tickets/{number}/take: assign to me.
func (s *Server) staffTake(w http.ResponseWriter, r *http.Request) error {
	n, err := staffNumber(r)
	if err != nil {
		return err
	}
	if _, err := s.svc.Assign(r.Context(), ctxOf(r).User, n, ctxOf(r).User); err != nil {
		return err
	}
	return s.staffDone(w, r, n, "staff.done.taken")
}

// staffAssign is POST /tickets/{number}/assign (assignee_id): transfer.
func (s *Server) staffAssign(w http.ResponseWriter, r *http.Request) error {
	n, err := staffNumber(r)
	if err != nil {
		return err
	}
	id, err := formInt(r, "assignee_id")
	if err != nil {
		return err
	}
	to, err := s.svc.StaffUser(r.Context(), ctxOf(r).User, id)
	if err != nil {
		return err
	}
	if _, err := s.svc.Assign(r.Context(), ctxOf(r).User, n, to); err != nil {
		return err
	}
	return s.staffDone(w, r, n, "staff.done.assigned")
}

// staffParticipantAdd is POST /tickets/{number}/participants (user_id):
// invite a technician.
func (s *Server) staffParticipantAdd(w http.ResponseWriter, r *http.Request) error {
	n, err := staffNumber(r)
	if err != nil {
		return err
	}
	id, err := formInt(r, "user_id")
	if err != nil {
		return err
	}
	u, err := s.svc.StaffUser(r.Context(), ctxOf(r).User, id)
	if err != nil {
		return err
	}
	if err := s.svc.AddParticipant(r.Context(), ctxOf(r).User, n, u); err != nil {
		return err
	}
	return s.staffDone(w, r, n, "staff.done.participant_added")
}

// staffParticipantRemove is POST /tickets/{number}/participants/{uid}/remove.
// The user is looked up among the ticket's participants, so an id from
// another ticket finds nobody.
func (s *Server) staffParticipantRemove(w http.ResponseWriter, r *http.Request) error {
	n, err := staffNumber(r)
	if err != nil {
		return err
	}
	uid, err := strconv.ParseInt(r.PathValue("uid"), 10, 64)
	if err != nil {
		return httpError(http.StatusNotFound, "error.not_found")
	}
	v, err := s.svc.Get(r.Context(), ctxOf(r).User, n)
	if err != nil {
		return err
	}
	var u *store.User
	for _, p := range v.Participants {
		if p.ID == uid {
			u = p
		}
	}
	if u == nil {
		return httpError(http.StatusNotFound, "error.not_found")
	}
	if err := s.svc.RemoveParticipant(r.Context(), ctxOf(r).User, n, u); err != nil {
		return err
	}
	return s.staffDone(w, r, n, "staff.done.participant_removed")
}
