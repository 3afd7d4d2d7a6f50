package web

import (
	"errors"
	"net/http"

	"github.com/jcservicedesk/servicedesk/ticketing"
)

// loginCheck signs in with e-mail and password. Whatever was wrong the
// answer is the same; only after the right password does it say that the
// address is unconfirmed or the network refused.
func (a *accountUI) loginCheck(w http.ResponseWriter, r *http.Request) error {
	rc := ctxOf(r)
	page := loginPage{Email: formEmail(r), Next: r.PostFormValue("next"), Remember: r.PostFormValue("remember") != ""}
	if !a.limit.allow("login", rc.IP) {
		return a.tooMany()
	}
	si, err := a.svc.Login(r.Context(), page.Email, r.PostFormValue("password"), page.Remember, rc.Client)
	switch {
	case errors.Is(err, ticketing.ErrUnconfirmed):
		a.flash(w, r, "info", "auth.error.unconfirmed")
		a.redirect(w, r, "/resend-confirmation")
		return nil
	case errors.Is(err, ticketing.ErrIPNotAllowed):
		page.Error = "auth.error.ip_not_allowed"
		return a.render(w, r, http.StatusForbidden, "auth_login", page)
	case errors.Is(err, ticketing.ErrBadLogin), errors.Is(err, ticketing.ErrInvalid), errors.Is(err, ticketing.ErrNotFound):
		page.Error = "auth.error.bad_login"
		return a.render(w, r, http.StatusUnauthorized, "auth_login", page)
	case err != nil:
		return err
	}
	a.redirect(w, r, a.afterSignIn(w, r, si, page.Next))
	return nil
}
