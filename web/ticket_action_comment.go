package web

import (
	"net/http"
	"strconv"
	"strings"
)

func staffCommentID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, httpError(http.StatusNotFound, "error.not_found")
	}
	return id, nil
}

// staffMoveComment is POST /tickets/{number}/comments/{id}/move (to): a
// misplaced comment goes to another ticket of the same company.
func (s *Server) staffMoveComment(w http.ResponseWriter, r *http.Request) error {
	if _, err := staffNumber(r); err != nil {
		return err
	}
	id, err := staffCommentID(r)
	if err != nil {
		return err
	}
	to, err := formInt(r, "to")
	if err != nil {
		return err
	}
	t, err := s.svc.MoveComment(r.Context(), ctxOf(r).User, id, to)
	if err != nil {
		return err
	}
	return s.staffDone(w, r, t.Number, "staff.done.moved")
}

// staffSplitComment is POST /tickets/{number}/comments/{id}/split
// (subject, optional): the comment becomes a new ticket.
func (s *Server) staffSplitComment(w http.ResponseWriter, r *http.Request) error {
	if _, err := staffNumber(r); err != nil {
		return err
	}
	id, err := staffCommentID(r)
	if err != nil {
		return err
	}
	t, err := s.svc.SplitComment(r.Context(), ctxOf(r).User, id, strings.TrimSpace(r.PostFormValue("subject")))
	if err != nil {
		return err
	}
	return s.staffDone(w, r, t.Number, "staff.done.split")
}
