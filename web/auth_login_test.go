package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jcservicedesk/servicedesk/configs"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

const badLogin = "E-mail ou senha incorretos"

func TestLoginAndLogout(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		aw := newAuthWorld(t, st)
		b := aw.browser()

		res := b.get("/login")
		expect(t, "login page", res, 200, "", `action="/login"`, `autocomplete="current-password"`, `name="remember"`,
			`action="/login/link"`, "Enviar link de acesso por e-mail", "passkey.js")

		// A cookie planted before sign-in is never the session's.
		b.cookies[sessionCookie] = "planted-by-an-attacker"
		res = b.login("maria@acme.example", "wrong password")
		expect(t, "wrong password", res, http.StatusUnauthorized, "", badLogin, `aria-describedby="login-error"`, `role="alert"`)
		res = b.login("nobody@acme.example", testPassword)
		expect(t, "unknown address", res, http.StatusUnauthorized, "", badLogin)

		res = b.login("MARIA@acme.example", testPassword)
		expect(t, "right password", res, http.StatusSeeOther, "/dashboard")
		sess := b.session()
		if sess == "" || sess == "planted-by-an-attacker" {
			t.Fatalf("session cookie %q after sign-in", sess)
		}
		c := cookieNamed(res.Cookies(), sessionCookie)
		if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
			t.Fatalf("session cookie attributes: %+v", c)
		}
		expect(t, "profile", b.get("/meu-perfil"), 200, "", "Maria Silva")

		// Signed in, /login sends to the dashboard.
		expect(t, "login when signed in", b.get("/login"), http.StatusSeeOther, "/dashboard")

		// GET /logout only asks.
		expect(t, "logout page", b.get("/logout"), 200, "", `action="/logout"`)
		expect(t, "still signed in", b.get("/meu-perfil"), 200, "")
		res = b.post("/logout", nil)
		expect(t, "logout", res, http.StatusSeeOther, "/login")
		if b.session() != "" {
			t.Fatal("the session cookie survived logout")
		}
		// The old cookie no longer works: the session ended on the server.
		old := aw.browser()
		old.cookies[sessionCookie] = sess
		expect(t, "old cookie", old.get("/meu-perfil"), http.StatusSeeOther, "/login?next=%2Fmeu-perfil")
		if _, err := aw.svc.Session(context.Background(), sess, ticketing.Client{}); err == nil {
			t.Fatal("the session still exists after logout")
		}
	})
}

func TestLoginLockout(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		aw := newAuthWorld(t, st)
		b := aw.browser()
		for i := 0; i < 5; i++ {
			expect(t, "wrong", b.login("maria@acme.example", "wrong password"), http.StatusUnauthorized, "", badLogin)
		}
		// Locked: even the right password is refused, with the same words.
		expect(t, "locked", b.login("maria@acme.example", testPassword), http.StatusUnauthorized, "", badLogin)
		aw.clock.add(16 * 60e9)
		expect(t, "after the lock", b.login("maria@acme.example", testPassword), http.StatusSeeOther, "/dashboard")
	})
}

func TestLoginRateLimitPerIP(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		aw := newAuthWorld(t, st, func(c *configs.Config) { c.Security.LoginRatePerIP = 3 })
		b := aw.browser()
		for i := 0; i < 3; i++ {
			expect(t, "within the budget", b.login("nobody@acme.example", "x"), http.StatusUnauthorized, "")
		}
		res := b.login("maria@acme.example", testPassword)
		expect(t, "over the budget", res, http.StatusTooManyRequests, "", "Muitas tentativas")
		if res.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
		// The same budget guards the other anonymous forms, each its own.
		for i := 0; i < 3; i++ {
			b.post("/forgot", url.Values{"email": {"x@acme.example"}})
		}
		expect(t, "forgot over the budget", b.post("/forgot", url.Values{"email": {"x@acme.example"}}), http.StatusTooManyRequests, "")

		// Another address is not held back.
		other := aw.browser()
		other.remote = "203.0.113.9:5555"
		expect(t, "other IP", other.login("maria@acme.example", testPassword), http.StatusSeeOther, "/dashboard")

		// The window passes.
		aw.clock.add(rateWindow)
		expect(t, "next window", b.login("maria@acme.example", testPassword), http.StatusSeeOther, "/dashboard")
	})
}

func TestLoginNextIsLocal(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		aw := newAuthWorld(t, st)
		for _, tc := range []struct{ next, want string }{
			{"/lgpd", "/lgpd"},
			{"/meu-perfil?x=1#senha", "/meu-perfil?x=1#senha"},
			{"//evil.example/", "/dashboard"},
			{"https://evil.example/", "/dashboard"},
			{`/\evil.example`, "/dashboard"},
			{"/%2F%2Fevil.example", "/dashboard"},
			{"javascript:alert(1)", "/dashboard"},
			{"", "/dashboard"},
		} {
			b := aw.browser()
			page := b.get("/login?next=" + url.QueryEscape(tc.next))
			if strings.Contains(page.Body, "evil.example") {
				t.Errorf("next=%q: the login form carries it", tc.next)
			}
			res := b.login("maria@acme.example", testPassword, "next", tc.next)
			expect(t, "next="+tc.next, res, http.StatusSeeOther, tc.want)
		}
	})
}

func TestLoginUnconfirmed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		aw := newAuthWorld(t, st)
		ctx := context.Background()
		err := st.InTx(ctx, func(q *store.Q) error {
			u, err := q.UserByEmail(ctx, store.AllCompanies(), "maria@acme.example")
			if err != nil {
				return err
			}
			u.ConfirmedAt = nil
			return q.UpdateUser(ctx, u)
		})
		if err != nil {
			t.Fatal(err)
		}
		b := aw.browser()
		// The wrong password says nothing about the confirmation.
		expect(t, "wrong password", b.login("maria@acme.example", "wrong password"), http.StatusUnauthorized, "", badLogin)
		res := b.login("maria@acme.example", testPassword)
		expect(t, "right password", res, http.StatusSeeOther, "/resend-confirmation")
		expect(t, "resend page", b.follow(res), 200, "", "Confirme seu e-mail antes de entrar", `action="/resend-confirmation"`)
	})
}

func TestOldReadmePaths(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		aw := newAuthWorld(t, st)
		b := aw.browser()
		expect(t, "GET /auth/login", b.get("/auth/login?next=%2Flgpd"), http.StatusPermanentRedirect, "/login?next=%2Flgpd")
		expect(t, "GET /auth/reset", b.get("/auth/reset/abc"), http.StatusPermanentRedirect, "/reset/abc")
		for _, p := range []string{"register", "forgot", "otp", "logout"} {
			expect(t, "GET /auth/"+p, b.get("/auth/"+p), http.StatusPermanentRedirect, "/"+p)
		}
		b.get("/login")
		res := b.post("/auth/login", url.Values{"email": {"maria@acme.example"}, "password": {testPassword}})
		expect(t, "POST /auth/login", res, http.StatusTemporaryRedirect, "/login")
	})
}

func TestLoginRememberAndWeakPassword(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		aw := newAuthWorld(t, st)
		ctx := context.Background()

		b := aw.browser()
		res := b.login("maria@acme.example", testPassword)
		short := cookieNamed(res.Cookies(), sessionCookie).MaxAge
		r := aw.browser()
		res = r.login("maria@acme.example", testPassword, "remember", "1")
		long := cookieNamed(res.Cookies(), sessionCookie).MaxAge
		if short <= 0 || short > int((8*time.Hour).Seconds()) || long < int((29*24*time.Hour).Seconds()) {
			t.Fatalf("cookie lifetimes: %d s without remember, %d s with", short, long)
		}

		// An old weak password (the Flask .env's) still signs in, then asks
		// for a new one.
		hash, err := ticketing.HashPassword("admin123")
		if err != nil {
			t.Fatal(err)
		}
		err = st.InTx(ctx, func(q *store.Q) error {
			u, err := q.UserByEmail(ctx, store.AllCompanies(), "admin@helpdesk.example")
			if err != nil {
				return err
			}
			u.PasswordHash = hash
			return q.UpdateUser(ctx, u)
		})
		if err != nil {
			t.Fatal(err)
		}
		w := aw.browser()
		res = w.login("admin@helpdesk.example", "admin123")
		expect(t, "weak password", res, http.StatusSeeOther, "/meu-perfil#senha")
		expect(t, "asked to change", w.follow(res), 200, "", "não atende")
	})
}
