package web

import (
	"net/http"
	"strings"
	"time"
)

const flashCookie = "sd_flash"

// flashMsg is a one-time message shown on the next page rendered.
type flashMsg struct {
	Kind string // success, error or info
	Key  string // i18n key
}

// flash keeps a message for the next page (a signed cookie, so nobody
// can make the site say something it did not).
func (s *Server) flash(w http.ResponseWriter, r *http.Request, kind, key string) {
	switch kind {
	case "success", "error", "info":
	default:
		kind = "info"
	}
	ctxOf(r).flash = &flashMsg{Kind: kind, Key: key}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: s.sign("flash", kind+":"+key), Path: "/",
		MaxAge: 300, HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
}

// takeFlash returns the pending message and drops its cookie.
func (s *Server) takeFlash(w http.ResponseWriter, r *http.Request) *flashMsg {
	rc := ctxOf(r)
	f := rc.flash
	if c, err := r.Cookie(flashCookie); err == nil {
		http.SetCookie(w, &http.Cookie{Name: flashCookie, Path: "/", MaxAge: -1, Expires: time.Unix(1, 0),
			HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
		if v, ok := s.unsign("flash", c.Value); ok && f == nil {
			if kind, key, ok := strings.Cut(v, ":"); ok {
				f = &flashMsg{Kind: kind, Key: key}
			}
		}
	}
	rc.flash = nil
	return f
}
