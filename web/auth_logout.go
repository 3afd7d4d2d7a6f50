package web

import "net/http"

// logoutShow asks before signing out: a GET never ends a session (a link
// or an image elsewhere could otherwise sign people out).
func (a *accountUI) logoutShow(w http.ResponseWriter, r *http.Request) error {
	if ctxOf(r).Session == nil {
		a.redirect(w, r, "/login")
		return nil
	}
	return a.render(w, r, http.StatusOK, "auth_logout", nil)
}

// logout ends the session on the server, then drops the cookie.
func (a *accountUI) logout(w http.ResponseWriter, r *http.Request) error {
	if tok := sessionToken(r); tok != "" && ctxOf(r).Session != nil {
		if err := a.svc.Logout(r.Context(), tok); err != nil {
			return err
		}
	}
	a.endSession(w, r)
	a.flash(w, r, "success", "auth.flash.logged_out")
	a.redirect(w, r, "/login")
	return nil
}
