package web

import (
	"net/http"
)

// sessionEnd ends one of the person's other sessions (by its public id).
func (a *accountUI) sessionEnd(w http.ResponseWriter, r *http.Request) error {
	rc := ctxOf(r)
	id := r.PathValue("id")
	if rc.Session != nil && id == rc.Session.ID {
		// Ending this very session is signing out.
		a.redirect(w, r, "/logout")
		return nil
	}
	if err := a.svc.EndSession(r.Context(), rc.User, id); err != nil {
		return err
	}
	a.flash(w, r, "success", "profile.flash.session_ended")
	a.redirect(w, r, "/meu-perfil#sessoes")
	return nil
}

// sessionEndOthers ends every session of the person but this one.
func (a *accountUI) sessionEndOthers(w http.ResponseWriter, r *http.Request) error {
	rc := ctxOf(r)
	sessions, err := a.svc.Sessions(r.Context(), rc.User, rc.User.Email)
	if err != nil {
		return err
	}
	for _, si := range sessions {
		if rc.Session != nil && si.ID == rc.Session.ID {
			continue
		}
		if err := a.svc.EndSession(r.Context(), rc.User, si.ID); err != nil {
			return err
		}
	}
	a.flash(w, r, "success", "profile.flash.sessions_ended")
	a.redirect(w, r, "/meu-perfil#sessoes")
	return nil
}
