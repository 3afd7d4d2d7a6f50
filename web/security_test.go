package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/jcservicedesk/servicedesk/configs"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
)

func TestSecurityHeaders(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	w := newWorld(t, st)
	res := w.get("/")
	csp := res.Header.Get("Content-Security-Policy")
	m := regexp.MustCompile(`script-src 'nonce-([A-Za-z0-9_-]{20,})' 'strict-dynamic'`).FindStringSubmatch(csp)
	if m == nil {
		t.Fatalf("CSP without a nonce: %q", csp)
	}
	for _, want := range []string{"default-src 'none'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'", "style-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP lacks %s: %q", want, csp)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("CSP allows unsafe code: %q", csp)
	}
	// Every script carries this response's nonce; no inline handlers or
	// style attributes anywhere.
	scripts := regexp.MustCompile(`<script[^>]*>`).FindAllString(res.Body, -1)
	if len(scripts) == 0 {
		t.Fatal("no script tag")
	}
	for _, s := range scripts {
		if !strings.Contains(s, `nonce="`+m[1]+`"`) {
			t.Errorf("script without the nonce: %s", s)
		}
	}
	if regexp.MustCompile(`\s(style|on[a-z]+)=`).MatchString(res.Body) {
		t.Errorf("inline style or event handler in the page")
	}
	if again := w.get("/").Header.Get("Content-Security-Policy"); again == csp {
		t.Error("the nonce is the same on two responses")
	}
	for h, want := range map[string]string{
		"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin", "X-Frame-Options": "DENY",
		"Cross-Origin-Opener-Policy": "same-origin",
	} {
		if got := res.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if res.Header.Get("Permissions-Policy") == "" || res.Header.Get("X-Request-Id") == "" {
		t.Error("no Permissions-Policy or X-Request-Id")
	}
	if res.Header.Get("Strict-Transport-Security") != "" {
		t.Error("HSTS over http")
	}
	tls := newWorld(t, storetest.Open(t, store.SQLite), func(c *configs.Config) { c.HTTP.PublicURL = "https://help.example" })
	res = tls.get("/")
	if !strings.HasPrefix(res.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Errorf("no HSTS with an https public URL")
	}
	if c := cookieNamed(res.Cookies(), anonCookie); c == nil || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
		t.Errorf("anonymous CSRF cookie over https: %+v", c)
	}
}

func TestCSRF(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	w := newWorld(t, st)
	cookie, tok := w.anonToken()
	form := func(tok string) url.Values { return url.Values{"lang": {"en"}, "next": {"/"}, "csrf_token": {tok}} }

	for name, res := range map[string]resp{
		"no token":           w.post("/lang", form(""), cookie),
		"wrong token":        w.post("/lang", form(tok+"x"), cookie),
		"no cookie":          w.post("/lang", form(tok)),
		"forged cookie":      w.post("/lang", form("abc.def"), &http.Cookie{Name: anonCookie, Value: "abc.def"}),
		"session, anon form": w.post("/lgpd", url.Values{"csrf_token": {tok}, "revision": {"1"}}, cookie, w.signIn(w.client)),
	} {
		if res.StatusCode != http.StatusForbidden || !strings.Contains(res.Body, "O formulário expirou") {
			t.Errorf("%s: %d", name, res.StatusCode)
		}
	}
	res := w.post("/lang", form(tok), cookie)
	if res.StatusCode != http.StatusSeeOther || cookieNamed(res.Cookies(), "lang").Value != "en" {
		t.Fatalf("right token: %d %v", res.StatusCode, res.Cookies())
	}
	// The header works too (fetch from app.js).
	r := httptest.NewRequest("POST", "/theme", strings.NewReader("theme=dark"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("X-CSRF-Token", tok)
	r.AddCookie(cookie)
	if res := w.do(r); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("header token: %d", res.StatusCode)
	}
	// A session's token is its own.
	maria := w.signIn(w.client)
	page := w.get("/lgpd", maria)
	if got := formToken(t, page.Body); got != w.csrf[maria.Value] {
		t.Fatalf("form token %q is not the session's", got)
	}

	// A cross-origin POST is refused even with the right token.
	r = httptest.NewRequest("POST", "/lang", strings.NewReader(form(tok).Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	r.AddCookie(cookie)
	if res := w.do(r); res.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site POST: %d", res.StatusCode)
	}
	r = httptest.NewRequest("POST", "/lang", strings.NewReader(form(tok).Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Origin", "https://evil.example")
	r.AddCookie(cookie)
	if res := w.do(r); res.StatusCode != http.StatusForbidden {
		t.Fatalf("POST from another origin: %d", res.StatusCode)
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/ok?x=1":                       "/ok?x=1",
		"/tickets/12#c3":                "/tickets/12#c3",
		"/lgpd?next=%2Fdash":            "/lgpd?next=%2Fdash",
		"":                              "/",
		"//evil.com":                    "/",
		"///evil.com":                   "/",
		`/\evil.com`:                    "/",
		`\\evil.com`:                    "/",
		"https://evil.com":              "/",
		"http:evil.com":                 "/",
		"/%2F%2Fevil.com":               "/",
		"/%2f%2fevil.com":               "/",
		"/%5Cevil.com":                  "/",
		"javascript:alert(1)":           "/",
		"JaVaScRiPt:alert(1)":           "/",
		"/\tevil":                       "/",
		"/\r\nSet-Cookie: x=1":          "/",
		"evil.com":                      "/",
		" /ok":                          "/",
		"/" + strings.Repeat("a", 3000): "/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestClientIP(t *testing.T) {
	p, err := parseProxies([]string{"10.0.0.1", "192.168.0.0/16", "::1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, remote string
		xff          []string
		want         string
	}{
		{"no proxy configured for this peer", "203.0.113.9:5000", []string{"1.2.3.4"}, "203.0.113.9"},
		{"trusted proxy, one hop", "10.0.0.1:5000", []string{"198.51.100.7"}, "198.51.100.7"},
		{"client forges the left entries", "10.0.0.1:5000", []string{"6.6.6.6, 198.51.100.7"}, "198.51.100.7"},
		{"chain of trusted proxies", "10.0.0.1:5000", []string{"198.51.100.7, 192.168.4.4"}, "198.51.100.7"},
		{"several headers", "10.0.0.1:5000", []string{"6.6.6.6", "198.51.100.7, 192.168.1.1"}, "198.51.100.7"},
		{"garbage entry", "10.0.0.1:5000", []string{"6.6.6.6, nonsense"}, "10.0.0.1"},
		{"trusted without header", "10.0.0.1:5000", nil, "10.0.0.1"},
		{"all trusted", "10.0.0.1:5000", []string{"192.168.1.1"}, "192.168.1.1"},
		{"IPv6 loopback proxy", "[::1]:5000", []string{"2001:db8::5"}, "2001:db8::5"},
		{"IPv4-mapped peer", "[::ffff:10.0.0.1]:5000", []string{"198.51.100.7"}, "198.51.100.7"},
		{"untrusted peer with XFF", "198.51.100.7:1", []string{"10.0.0.1"}, "198.51.100.7"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.remote
		for _, h := range tc.xff {
			r.Header.Add("X-Forwarded-For", h)
		}
		if got := p.clientIP(r).String(); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
	if _, err := parseProxies([]string{"10.0.0.0/33"}); err == nil {
		t.Error("a bad CIDR is accepted")
	}
}
