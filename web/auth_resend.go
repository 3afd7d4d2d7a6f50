package web

import (
	"net/http"
	"strings"
)

// emailFormPage is the one-field form of /resend-confirmation and /forgot.
type emailFormPage struct {
	Title, Intro, Submit string // i18n keys
	Action, Email        string
}

var resendForm = emailFormPage{Title: "auth.resend.title", Intro: "auth.resend.intro", Submit: "auth.resend.submit",
	Action: "/resend-confirmation"}

// resendShow is the form; the old app's GET ?email= link still resends.
func (a *accountUI) resendShow(w http.ResponseWriter, r *http.Request) error {
	if email := strings.TrimSpace(r.URL.Query().Get("email")); email != "" {
		return a.resendTo(w, r, email)
	}
	return a.render(w, r, http.StatusOK, "auth_email_form", resendForm)
}

func (a *accountUI) resend(w http.ResponseWriter, r *http.Request) error {
	return a.resendTo(w, r, formEmail(r))
}

// resendTo answers the same whether the address is unknown, confirmed or
// waiting.
func (a *accountUI) resendTo(w http.ResponseWriter, r *http.Request, email string) error {
	if !a.limit.allow("resend", ctxOf(r).IP) {
		return a.tooMany()
	}
	if validEmail(email) {
		if err := a.svc.ResendConfirmation(r.Context(), email); err != nil {
			return err
		}
	}
	return a.notice(w, r, "auth.notice.resend_title", "auth.notice.resend", "auth.notice.spam_hint")
}
