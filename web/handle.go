package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// access says who may reach a route.
type access int

const (
	public    access = iota // anyone
	anonymous               // signed-in users are sent to /dashboard (login, register…)
	signedIn                // a full session; else 303 to /login?next=…
	pending                 // a session waiting for its second factor (/otp)
	staff                   // a signed-in technician, supervisor or admin
)

// handlerFunc is a page or action: it returns an error and the one error
// path (fail) logs and renders it.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle registers h on pattern behind the access check.
func (s *Server) handle(mux *http.ServeMux, pattern string, a access, h handlerFunc) {
	mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.admit(w, r, a); err != nil {
			if !errors.Is(err, errHandled) {
				s.fail(w, r, err)
			}
			return
		}
		if err := h(w, r); err != nil {
			s.fail(w, r, err)
		}
	}))
}

// errHandled says the response is already written (a redirect).
var errHandled = errors.New("handled")

// admit applies the access level; it redirects or returns the refusal.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, a access) error {
	rc := ctxOf(r)
	switch a {
	case public:
		return nil
	case anonymous:
		if rc.User != nil {
			s.redirect(w, r, "/dashboard")
			return errHandled
		}
		return nil
	case pending:
		if rc.User != nil {
			s.redirect(w, r, "/dashboard")
			return errHandled
		}
		if rc.Session == nil || rc.Session.Stage != store.StageMFA {
			s.redirect(w, r, "/login")
			return errHandled
		}
		return nil
	}
	// signedIn and staff.
	if rc.User == nil {
		s.redirect(w, r, loginURL(r))
		return errHandled
	}
	if a == staff && !rc.User.IsStaff() {
		return ticketing.ErrNotAllowed
	}
	if !consentExempt(r.URL.Path) && !rc.User.IsStaff() {
		need, _, err := s.svc.NeedsConsent(r.Context(), rc.User)
		if err != nil && !errors.Is(err, ticketing.ErrNotFound) { // no policy published: nothing to accept
			return err
		}
		if need {
			s.redirect(w, r, "/lgpd?next="+url.QueryEscape(localPath(r)))
			return errHandled
		}
	}
	return nil
}

// loginURL sends an anonymous visitor to sign in and come back here.
func loginURL(r *http.Request) string {
	if r.Method != http.MethodGet {
		return "/login" // a form posted after the session ended: its page, not its action
	}
	return "/login?next=" + url.QueryEscape(localPath(r))
}

func localPath(r *http.Request) string {
	p := r.URL.EscapedPath()
	if r.URL.RawQuery != "" {
		p += "?" + r.URL.RawQuery
	}
	return p
}

// consentExempt are the signed-in pages a requester reaches before
// accepting a new privacy policy: the policy itself, leaving, and their own
// data.
func consentExempt(path string) bool {
	for _, p := range []string{"/lgpd", "/logout", "/meu-perfil", "/avatar/", "/webauthn/"} {
		if path == p || strings.HasPrefix(path, strings.TrimSuffix(p, "/")+"/") {
			return true
		}
	}
	return false
}
