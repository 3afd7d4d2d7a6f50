package web

import "net/http"

// confirmShow shows a button; the POST confirms (mail scanners fetch
// links, so a GET never uses the token).
func (a *accountUI) confirmShow(w http.ResponseWriter, r *http.Request) error {
	return a.render(w, r, http.StatusOK, "auth_confirm", tokenPage{Token: r.PathValue("token")})
}

func (a *accountUI) confirm(w http.ResponseWriter, r *http.Request) error {
	if _, err := a.svc.Confirm(r.Context(), r.PathValue("token")); err != nil {
		return err
	}
	a.flash(w, r, "success", "auth.flash.confirmed")
	a.redirect(w, r, "/login")
	return nil
}
