package web

import (
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// accountUI holds the sign-in and profile pages: the portal's helpers
// plus what only they need (the per-IP limiter and the WebAuthn relying
// party).
type accountUI struct {
	*Server
	limit *rateLimiter
	wa    *webauthn.WebAuthn // nil when the public URL cannot be a relying party
}

// rateWindow is how long the per-IP budget of sign-in attempts lasts.
const rateWindow = 15 * time.Minute

func newAccountUI(s *Server) *accountUI {
	a := &accountUI{Server: s, limit: newRateLimiter(s.cfg.Security.LoginRatePerIP, rateWindow, s.now)}
	wa, err := newRelyingParty(s.cfg.HTTP.PublicURL)
	if err != nil {
		s.log.Warn("passkeys are off: the public URL cannot be a WebAuthn relying party", "err", err)
	}
	a.wa = wa
	return a
}

// newRelyingParty: the RP ID is the public URL's host, the only origin the
// public URL itself (tests use http://localhost:PORT, a secure context).
func newRelyingParty(public string) (*webauthn.WebAuthn, error) {
	u, err := url.Parse(public)
	if err != nil || u.Hostname() == "" {
		return nil, errors.New("no host in http.public_url")
	}
	if _, err := netip.ParseAddr(u.Hostname()); err == nil {
		return nil, errors.New("a relying party cannot be an IP address")
	}
	return webauthn.New(&webauthn.Config{
		RPID:          u.Hostname(),
		RPDisplayName: "JC Service Desk",
		RPOrigins:     []string{u.Scheme + "://" + u.Host},
	})
}

// tooMany answers an exhausted per-IP budget.
func (a *accountUI) tooMany() error {
	return httpError(http.StatusTooManyRequests, "auth.error.rate_limited")
}

// sessionToken is the session cookie's value (the pending session of /otp,
// the session logout ends).
func sessionToken(r *http.Request) string {
	if c, err := r.Cookie(sessionCookie); err == nil {
		return c.Value
	}
	return ""
}

// afterSignIn sets the new session's cookie and sends the visitor on: to
// /otp when a second factor is pending, to change a weak password, or to
// next.
func (a *accountUI) afterSignIn(w http.ResponseWriter, r *http.Request, si *ticketing.SessionInfo, next string) string {
	a.startSession(w, r, si)
	if si.Stage == store.StageMFA {
		to := "/otp"
		if next != "" {
			to += "?next=" + url.QueryEscape(safeNext(next))
		}
		return to
	}
	if si.MustChangePassword {
		a.flash(w, r, "info", "auth.flash.must_change_password")
		return "/meu-perfil#senha"
	}
	return nextOr(next, "/dashboard")
}

// nextOr is next when it is a local path, else def.
func nextOr(next, def string) string {
	if next == "" {
		return def
	}
	if n := safeNext(next); n != "/" || next == "/" {
		return n
	}
	return def
}

// rateLimiter counts attempts per action and client address in fixed
// windows. It lives in memory: a restart forgets it, and several
// processes each keep their own (the account lockout in the database is
// the rule that holds everywhere).
type rateLimiter struct {
	max    int
	window time.Duration
	now    func() time.Time

	mu    sync.Mutex
	hits  map[string]*rateCount
	swept time.Time
}

type rateCount struct {
	start time.Time
	n     int
}

func newRateLimiter(max int, window time.Duration, now func() time.Time) *rateLimiter {
	return &rateLimiter{max: max, window: window, now: now, hits: map[string]*rateCount{}}
}

// allow counts one attempt of action from ip and reports whether it is
// within the budget. max <= 0 turns the limit off.
func (l *rateLimiter) allow(action string, ip netip.Addr) bool {
	if l.max <= 0 {
		return true
	}
	key := action + " " + rateKey(ip)
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > l.window {
		for k, c := range l.hits {
			if now.Sub(c.start) >= l.window {
				delete(l.hits, k)
			}
		}
		l.swept = now
	}
	c := l.hits[key]
	if c == nil || now.Sub(c.start) >= l.window {
		c = &rateCount{start: now}
		l.hits[key] = c
	}
	c.n++
	return c.n <= l.max
}

// rateKey: one IPv4 address, or the /64 of an IPv6 one (a single host
// usually holds a whole /64).
func rateKey(ip netip.Addr) string {
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// formEmail reads the e-mail field, trimmed.
func formEmail(r *http.Request) string { return strings.TrimSpace(r.PostFormValue("email")) }

// validEmail is a light check for the forms; ticketing has the last word.
func validEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	return at > 0 && at < len(s)-1 && !strings.ContainsAny(s, " \t\r\n<>") && len(s) <= 254
}
