package web

import (
	"crypto/subtle"
	"net/http"
)

// anonCookie carries the CSRF token of visitors without a session (login,
// register, forgot): a signed double-submit cookie.
const anonCookie = "sd_csrf"

// anonCSRF returns the visitor's anonymous token, setting the cookie the
// first time.
func (s *Server) anonCSRF(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(anonCookie); err == nil {
		if _, ok := s.unsign("csrf", c.Value); ok {
			return c.Value
		}
	}
	tok := s.sign("csrf", randomString(18))
	http.SetCookie(w, &http.Cookie{Name: anonCookie, Value: tok, Path: "/", HttpOnly: true, Secure: s.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: 12 * 3600})
	// The request carries the new token too, so a page rendered now and
	// a check made now agree.
	r.AddCookie(&http.Cookie{Name: anonCookie, Value: tok})
	return tok
}

// checkCSRF refuses a state-changing request whose token (form field
// csrf_token or header X-CSRF-Token) is not the session's, or for a
// visitor without a session, not the signed cookie's.
func (s *Server) checkCSRF(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			next.ServeHTTP(w, r)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.maxBody())
		got := r.Header.Get("X-CSRF-Token")
		if got == "" {
			got = r.PostFormValue("csrf_token")
		}
		want := ctxOf(r).CSRF
		if want == "" || len(got) != len(want) || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			s.fail(w, r, httpError(http.StatusForbidden, "error.csrf"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// maxBody bounds a request body: the largest attachment plus the form.
func (s *Server) maxBody() int64 {
	n := s.cfg.Attachments.MaxBytes
	if n <= 0 {
		n = 20 << 20
	}
	return n + 1<<20
}
