package web

import "net/http"

var forgotForm = emailFormPage{Title: "auth.forgot.title", Intro: "auth.forgot.intro", Submit: "auth.forgot.submit",
	Action: "/forgot"}

func (a *accountUI) forgotShow(w http.ResponseWriter, r *http.Request) error {
	return a.render(w, r, http.StatusOK, "auth_email_form", forgotForm)
}

// forgot mails a reset link; the answer never tells whether the address
// has an account.
func (a *accountUI) forgot(w http.ResponseWriter, r *http.Request) error {
	rc := ctxOf(r)
	if !a.limit.allow("forgot", rc.IP) {
		return a.tooMany()
	}
	if email := formEmail(r); validEmail(email) {
		if err := a.svc.Forgot(r.Context(), email, rc.Client); err != nil {
			return err
		}
	}
	return a.notice(w, r, "auth.notice.forgot_title", "auth.notice.forgot", "auth.notice.spam_hint")
}
