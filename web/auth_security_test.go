package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/jcservicedesk/servicedesk/configs"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
)

// Every state-changing route of the sign-in and profile pages refuses a
// request without the right CSRF token, and changes nothing.
func TestAuthCSRFRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		aw := newAuthWorld(t, st)
		anonymousPOSTs := []string{"/login", "/login/link", "/login/link/x", "/register", "/confirm/x", "/resend-confirmation",
			"/forgot", "/reset/x", "/logout", "/webauthn/login/begin", "/webauthn/login/finish"}
		signedInPOSTs := []string{"/logout", "/meu-perfil", "/meu-perfil/senha", "/meu-perfil/avatar", "/meu-perfil/notificacoes",
			"/meu-perfil/totp", "/meu-perfil/totp/ativar", "/meu-perfil/totp/desativar", "/meu-perfil/recuperacao",
			"/meu-perfil/recuperacao.txt", "/meu-perfil/codigo-email", "/meu-perfil/passkeys/1/remover",
			"/meu-perfil/sessoes/x/encerrar", "/meu-perfil/sessoes/encerrar-outras", "/meu-perfil/dados/apagar",
			"/webauthn/register/begin", "/webauthn/register/finish", "/meu-perfil/confirmar"}
		anon := aw.browser()
		anon.get("/login")
		for _, p := range anonymousPOSTs {
			for _, tok := range []string{"", "forged"} {
				res := anon.post(p, url.Values{"csrf_token": {tok}, "email": {"maria@acme.example"}, "password": {testPassword}})
				expect(t, "anonymous POST "+p+" token "+tok, res, http.StatusForbidden, "")
			}
		}
		if anon.session() != "" {
			t.Fatal("a refused sign-in set a session")
		}
		b := aw.browser()
		b.mustLogin("maria@acme.example")
		anonToken := anon.csrf
		for _, p := range signedInPOSTs {
			for _, tok := range []string{"", "forged", anonToken} {
				res := b.post(p, url.Values{"csrf_token": {tok}, "name": {"Changed"}, "on": {"1"}})
				expect(t, "signed-in POST "+p, res, http.StatusForbidden, "")
			}
		}
		u, _ := st.R().UserByEmail(context.Background(), store.AllCompanies(), "maria@acme.example")
		if u.Name != "Maria Silva" || u.EmailOTP {
			t.Fatal("a refused POST changed the profile")
		}
		expect(t, "still signed in", b.get("/meu-perfil"), 200, "")

		// A cross-site form post is refused even with a token.
		b.header.Set("Sec-Fetch-Site", "cross-site")
		expect(t, "cross-site", b.post("/meu-perfil", url.Values{"name": {"Changed"}}), http.StatusForbidden, "")
	})
}

// Who reaches what: anonymous visitors, pending sessions, signed-in people.
func TestAuthRouteAccess(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		aw := newAuthWorld(t, st)
		anon := aw.browser()
		for _, tc := range []struct {
			path, location string
			status         int
		}{
			{"/login", "", 200}, {"/register", "", 200}, {"/forgot", "", 200}, {"/resend-confirmation", "", 200},
			{"/reset/x", "", 200}, {"/confirm/x", "", 200}, {"/login/link/x", "", 200},
			{"/otp", "/login", 303}, {"/logout", "/login", 303},
			{"/meu-perfil", "/login?next=%2Fmeu-perfil", 303}, {"/meu-perfil/totp", "/login?next=%2Fmeu-perfil%2Ftotp", 303},
			{"/meu-perfil/dados.json", "/login?next=%2Fmeu-perfil%2Fdados.json", 303}, {"/avatar/1", "/login?next=%2Favatar%2F1", 303},
		} {
			expect(t, "anonymous GET "+tc.path, anon.get(tc.path), tc.status, tc.location)
		}
		for _, role := range []string{"admin@helpdesk.example", "tech@helpdesk.example", "maria@acme.example"} {
			b := aw.browser()
			b.mustLogin(role)
			for _, p := range []string{"/login", "/register", "/forgot", "/otp", "/login/link/x"} {
				expect(t, role+" GET "+p, b.get(p), http.StatusSeeOther, "/dashboard")
			}
			expect(t, role+" profile", b.get("/meu-perfil"), 200, "", "Meu perfil")
			if role != "maria@acme.example" && strings.Contains(b.get("/meu-perfil").Body, `value="new_ticket"`) == false {
				t.Errorf("%s: staff notices missing", role)
			}
			if role == "maria@acme.example" && strings.Contains(b.get("/meu-perfil").Body, `value="sla_breach"`) {
				t.Error("a requester is offered staff notices")
			}
		}
	})
}

// The company's IP allow-list holds at sign-in and on every request, and
// X-Forwarded-For counts only from a trusted proxy.
func TestAuthIPAllowList(t *testing.T) {
	for _, proxied := range []bool{false, true} {
		name := "direct"
		if proxied {
			name = "behind a trusted proxy"
		}
		t.Run(name, func(t *testing.T) { testIPAllowList(t, proxied) })
	}
}

func testIPAllowList(t *testing.T, proxied bool) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		aw := newAuthWorld(t, st, func(c *configs.Config) {
			if proxied {
				c.HTTP.TrustedProxies = []string{"127.0.0.1/32"}
			}
		})
		ctx := context.Background()
		err := st.InTx(ctx, func(q *store.Q) error {
			aw.acme.AllowedIPs = []string{"203.0.113.0/24"}
			return q.UpdateCompany(ctx, aw.acme)
		})
		if err != nil {
			t.Fatal(err)
		}
		// from sets where a browser's requests come from.
		from := func(b *browser, ip string) {
			if proxied {
				b.remote = "127.0.0.1:9000"
				b.header.Set("X-Forwarded-For", ip)
			} else {
				b.remote = ip + ":9000"
			}
		}
		outside := aw.browser()
		from(outside, "198.51.100.7")
		expect(t, "outside", outside.login("maria@acme.example", testPassword), http.StatusForbidden, "", "não permite acesso")
		// Staff have no company list.
		expect(t, "staff outside", outside.login("tech@helpdesk.example", testPassword), http.StatusSeeOther, "/dashboard")

		inside := aw.browser()
		from(inside, "203.0.113.9")
		expect(t, "inside", inside.login("maria@acme.example", testPassword), http.StatusSeeOther, "/dashboard")
		expect(t, "inside page", inside.get("/meu-perfil"), 200, "")
		// The same cookie from outside: refused on that request.
		from(inside, "198.51.100.7")
		expect(t, "cookie from outside", inside.get("/meu-perfil"), http.StatusForbidden, "")

		if !proxied {
			// An untrusted peer's X-Forwarded-For is ignored.
			spoof := aw.browser()
			spoof.remote = "198.51.100.7:9000"
			spoof.header.Set("X-Forwarded-For", "203.0.113.9")
			expect(t, "spoofed XFF", spoof.login("maria@acme.example", testPassword), http.StatusForbidden, "")
		}
	})
}
