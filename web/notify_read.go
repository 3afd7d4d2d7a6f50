package web

import (
	"net/http"
	"strconv"
)

// notifyRead is POST /notify/read/{id}: one notification read. fetch()
// gets the unread count; a form goes on to next (the notification's link,
// say) or back to the list.
func (s *Server) notifyRead(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return httpError(http.StatusNotFound, "error.not_found")
	}
	rc := ctxOf(r)
	if err := s.svc.MarkNotificationRead(r.Context(), rc.User, id); err != nil {
		return err
	}
	return s.afterRead(w, r)
}

// notifyReadAll is POST /notify/read_all.
func (s *Server) notifyReadAll(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.svc.MarkAllNotificationsRead(r.Context(), ctxOf(r).User); err != nil {
		return err
	}
	return s.afterRead(w, r)
}

func (s *Server) afterRead(w http.ResponseWriter, r *http.Request) error {
	if wantsJSON(r) {
		n, err := s.svc.UnreadNotifications(r.Context(), ctxOf(r).User)
		if err != nil {
			return err
		}
		return writeJSON(w, map[string]int{"unread": n})
	}
	next := r.FormValue("next")
	if next == "" {
		next = "/notify"
	}
	s.redirect(w, r, next)
	return nil
}
