package web

import (
	"errors"
	"net/http"

	"github.com/jcservicedesk/servicedesk/ticketing"
)

type resetPage struct {
	Token string
	Error string
}

func (a *accountUI) resetShow(w http.ResponseWriter, r *http.Request) error {
	return a.render(w, r, http.StatusOK, "auth_reset", resetPage{Token: r.PathValue("token")})
}

// reset sets the new password. ticketing makes the link single-use, lifts
// a lockout, ends every session of the account (this browser's too) and
// removes its passkeys, which the flash says.
func (a *accountUI) reset(w http.ResponseWriter, r *http.Request) error {
	rc := ctxOf(r)
	p := resetPage{Token: r.PathValue("token")}
	if !a.limit.allow("reset", rc.IP) {
		return a.tooMany()
	}
	pw := r.PostFormValue("password")
	if pw != r.PostFormValue("confirm") {
		p.Error = "auth.error.password_mismatch"
		return a.render(w, r, http.StatusUnprocessableEntity, "auth_reset", p)
	}
	err := a.svc.ResetPassword(r.Context(), p.Token, pw, rc.Client)
	switch {
	case errors.Is(err, ticketing.ErrWeakPassword):
		p.Error = "auth.error.weak_password"
		return a.render(w, r, http.StatusUnprocessableEntity, "auth_reset", p)
	case err != nil:
		return err
	}
	if rc.Session != nil {
		a.endSession(w, r)
	}
	a.flash(w, r, "success", "profile.reset.done")
	a.redirect(w, r, "/login")
	return nil
}
