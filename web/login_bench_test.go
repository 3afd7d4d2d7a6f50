package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/jcservicedesk/servicedesk/configs"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
)

// benchPortal is the portal on each database, with one confirmed client.
func benchPortal(b *testing.B, driver string) (*portal, string) {
	b.Helper()
	p := startPortal(b, storetest.Open(b, driver), func(c *configs.Config) {
		c.Security.LoginRatePerIP = 1 << 30 // every request comes from one address
	})
	co := p.company("Cliente Bench", "bench.example")
	const email = "carga@bench.example"
	p.accept(p.user(co, email, "Carga"))
	return p, email
}

// accept records that u accepted the company's privacy policy, as the
// /lgpd page would, so pages do not lead there.
func (p *portal) accept(u *store.User) {
	p.t.Helper()
	ctx := context.Background()
	rev, err := p.svc.CurrentRevision(ctx, *u.CompanyID)
	if err == nil {
		_, err = p.svc.Accept(ctx, u, rev.ID, "127.0.0.1", store.ChannelCLI)
	}
	if err != nil {
		p.t.Fatalf("portal: accept the policy: %v", err)
	}
}

// anonForm returns a visitor's CSRF cookie (its value is the form token).
func anonForm(b *testing.B, h http.Handler) *http.Cookie {
	b.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/login", nil))
	for _, c := range w.Result().Cookies() {
		if c.Name == "sd_csrf" {
			return c
		}
	}
	b.Fatalf("GET /login set no sd_csrf cookie (%d)", w.Code)
	return nil
}

// loginPost is one POST /login with the right password.
func loginPost(p *portal, csrf *http.Cookie, email string) *httptest.ResponseRecorder {
	form := url.Values{"email": {email}, "password": {testPassword}, "csrf_token": {csrf.Value}}
	r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.AddCookie(csrf)
	w := httptest.NewRecorder()
	p.h.ServeHTTP(w, r)
	return w
}

// BenchmarkLoginPost is the sign-in POST through the whole handler: argon2id, the session row, the
// audit row and the redirect.
func BenchmarkLoginPost(b *testing.B) {
	for _, driver := range []string{store.SQLite, store.Postgres} {
		b.Run(driver, func(b *testing.B) {
			p, email := benchPortal(b, driver)
			csrf := anonForm(b, p.h)
			for b.Loop() {
				if w := loginPost(p, csrf, email); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/dashboard" {
					b.Fatalf("login: %d to %q", w.Code, w.Header().Get("Location"))
				}
			}
		})
	}
}
