package web

import (
	"net/http"
)

// linkSend mails a sign-in link; the answer is the same whether or not
// the address has an account.
func (a *accountUI) linkSend(w http.ResponseWriter, r *http.Request) error {
	rc := ctxOf(r)
	if !a.limit.allow("link", rc.IP) {
		return a.tooMany()
	}
	if email := formEmail(r); validEmail(email) {
		if err := a.svc.SendSignInLink(r.Context(), email, rc.Client); err != nil {
			return err
		}
	}
	return a.notice(w, r, "auth.notice.link_sent_title", "auth.notice.link_sent", "auth.notice.spam_hint")
}

type tokenPage struct{ Token string }

// linkShow shows a button: the POST signs in (a GET never uses the token).
func (a *accountUI) linkShow(w http.ResponseWriter, r *http.Request) error {
	return a.render(w, r, http.StatusOK, "auth_link", tokenPage{Token: r.PathValue("token")})
}

func (a *accountUI) linkUse(w http.ResponseWriter, r *http.Request) error {
	rc := ctxOf(r)
	if !a.limit.allow("link", rc.IP) {
		return a.tooMany()
	}
	si, err := a.svc.SignInWithLink(r.Context(), r.PathValue("token"), r.PostFormValue("remember") != "", rc.Client)
	if err != nil {
		return err
	}
	a.redirect(w, r, a.afterSignIn(w, r, si, ""))
	return nil
}

// noticePage is a neutral message page (mail sent, check your inbox).
type noticePage struct {
	Title, Body, Hint string // i18n keys
	Back, BackLabel   string
}

func (a *accountUI) notice(w http.ResponseWriter, r *http.Request, title, body, hint string) error {
	return a.render(w, r, http.StatusOK, "auth_notice", noticePage{Title: title, Body: body, Hint: hint})
}
