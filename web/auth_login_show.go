package web

import "net/http"

// loginPage is what the sign-in form shows.
type loginPage struct {
	Email    string
	Next     string
	Remember bool
	Error    string // i18n key
}

func (a *accountUI) loginShow(w http.ResponseWriter, r *http.Request) error {
	next := r.URL.Query().Get("next")
	if next != "" && safeNext(next) != next {
		next = "" // never carry a foreign address into the form
	}
	return a.render(w, r, http.StatusOK, "auth_login", loginPage{Next: next})
}
