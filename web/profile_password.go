package web

import (
	"errors"
	"net/http"

	"github.com/jcservicedesk/servicedesk/ticketing"
)

// profilePassword changes the password (the current one is asked). The
// session is rotated (a new cookie) and the others end.
func (a *accountUI) profilePassword(w http.ResponseWriter, r *http.Request) error {
	u := ctxOf(r).User
	next := r.PostFormValue("password")
	if next != r.PostFormValue("confirm") {
		return a.renderProfile(w, r, http.StatusUnprocessableEntity, map[string]string{"password": "auth.error.password_mismatch"})
	}
	si, err := a.svc.ChangePassword(r.Context(), u, sessionToken(r), r.PostFormValue("current"), next)
	switch {
	case errors.Is(err, ticketing.ErrWeakPassword):
		return a.renderProfile(w, r, http.StatusUnprocessableEntity, map[string]string{"password": "auth.error.weak_password"})
	case errors.Is(err, ticketing.ErrReauth): // a first password needs a recent sign-in
		return a.renderProfile(w, r, http.StatusForbidden, map[string]string{"password": "profile.reauth.sign_in_again"})
	case errors.Is(err, ticketing.ErrBadLogin), errors.Is(err, ticketing.ErrNotAllowed):
		return a.renderProfile(w, r, http.StatusUnprocessableEntity, map[string]string{"password": "profile.error.bad_password"})
	case errors.Is(err, ticketing.ErrInvalid):
		return a.renderProfile(w, r, http.StatusUnprocessableEntity, map[string]string{"password": "auth.error.invalid"})
	case err != nil:
		return err
	}
	if si == nil { // the session ended meanwhile (signed out elsewhere)
		a.redirect(w, r, "/login")
		return nil
	}
	a.startSession(w, r, si)
	a.flash(w, r, "success", "profile.flash.password_changed")
	a.redirect(w, r, "/meu-perfil#senha")
	return nil
}
