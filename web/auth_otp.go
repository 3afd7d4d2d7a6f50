package web

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/jcservicedesk/servicedesk/ticketing"
)

type otpPage struct {
	CodeMethods []string // methods that take a typed code
	Method      string   // the one checked
	HasCode     bool
	HasEmail    bool
	HasPasskey  bool
	Sent        bool
	Error       string
	Next        string
}

func (a *accountUI) otpPage(r *http.Request, method, errKey string) otpPage {
	si := ctxOf(r).Session
	p := otpPage{Method: method, Error: errKey, Next: r.FormValue("next")}
	if safeNext(p.Next) != p.Next {
		p.Next = ""
	}
	for _, m := range si.Methods {
		switch m {
		case ticketing.MethodTOTP, ticketing.MethodEmail, ticketing.MethodRecovery:
			p.CodeMethods = append(p.CodeMethods, m)
		case ticketing.MethodPasskey:
			p.HasPasskey = a.wa != nil
		}
	}
	p.HasCode = len(p.CodeMethods) > 0
	p.Sent = si.CodeSent
	p.HasEmail = slices.Contains(si.Methods, ticketing.MethodEmail)
	if !slices.Contains(p.CodeMethods, p.Method) && p.HasCode {
		p.Method = p.CodeMethods[0]
	}
	return p
}

// otpShow is the second step of a sign-in whose password was right.
func (a *accountUI) otpShow(w http.ResponseWriter, r *http.Request) error {
	return a.render(w, r, http.StatusOK, "auth_otp", a.otpPage(r, r.URL.Query().Get("method"), ""))
}

// otpCheck verifies a code. The pending session's attempts are counted by
// ticketing; once they are spent the visitor starts again at /login.
func (a *accountUI) otpCheck(w http.ResponseWriter, r *http.Request) error {
	rc := ctxOf(r)
	method := r.PostFormValue("method")
	if !a.limit.allow("otp", rc.IP) {
		return a.tooMany()
	}
	code := strings.TrimSpace(r.PostFormValue("code"))
	si, err := a.svc.VerifySecondFactor(r.Context(), sessionToken(r), method, code, rc.Client)
	switch {
	case errors.Is(err, ticketing.ErrBadCode), errors.Is(err, ticketing.ErrInvalid):
		return a.render(w, r, http.StatusUnauthorized, "auth_otp", a.otpPage(r, method, "auth.error.bad_code"))
	case errors.Is(err, ticketing.ErrRateLimited):
		return a.restart(w, r, "auth.error.code_exhausted")
	case errors.Is(err, ticketing.ErrNotFound), errors.Is(err, ticketing.ErrBadLogin):
		return a.restart(w, r, "auth.error.session_expired")
	case err != nil:
		return err
	}
	a.redirect(w, r, a.afterSignIn(w, r, si, r.PostFormValue("next")))
	return nil
}

// otpSend mails a sign-in code (rate-limited by ticketing too).
func (a *accountUI) otpSend(w http.ResponseWriter, r *http.Request) error {
	rc := ctxOf(r)
	if !a.limit.allow("otp", rc.IP) {
		return a.tooMany()
	}
	err := a.svc.SendLoginCode(r.Context(), sessionToken(r))
	switch {
	case errors.Is(err, ticketing.ErrRateLimited):
		return a.render(w, r, http.StatusTooManyRequests, "auth_otp", a.otpPage(r, ticketing.MethodEmail, "auth.error.rate_limited"))
	case errors.Is(err, ticketing.ErrNotFound):
		return a.restart(w, r, "auth.error.session_expired")
	case err != nil:
		return err
	}
	p := a.otpPage(r, ticketing.MethodEmail, "")
	p.Sent = true
	return a.render(w, r, http.StatusOK, "auth_otp", p)
}

// restart ends the pending session and sends the visitor back to /login.
func (a *accountUI) restart(w http.ResponseWriter, r *http.Request, key string) error {
	if tok := sessionToken(r); tok != "" {
		if err := a.svc.Logout(r.Context(), tok); err != nil && !errors.Is(err, ticketing.ErrNotFound) {
			return err
		}
	}
	a.endSession(w, r)
	a.flash(w, r, "error", key)
	a.redirect(w, r, "/login")
	return nil
}
