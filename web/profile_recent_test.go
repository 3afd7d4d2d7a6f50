package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// TestProfilePasskeyNeedsRecentAuth: minutes after signing in, the
// profile asks for the password before a passkey; the ceremony is
// refused until then, and allowed after it.
func TestProfilePasskeyNeedsRecentAuth(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		aw := newAuthWorld(t, st)
		b := aw.browser()
		b.mustLogin("maria@acme.example")
		expect(t, "fresh: the register form", b.get("/meu-perfil"), 200, "", `data-passkey="register"`)
		key := newSoftKey(t)

		aw.clock.add(ticketing.RecentAuthWindow + time.Minute)
		page := b.get("/meu-perfil")
		expect(t, "later: the confirm form", page, 200, "", `action="/meu-perfil/confirmar"`)
		if strings.Contains(page.Body, `data-passkey="register"`) {
			t.Fatal("the register form is offered without a recent sign-in")
		}
		if res := b.fetch("/webauthn/register/begin", []byte(`{"name":"Notebook"}`)); res.StatusCode != http.StatusForbidden {
			t.Fatalf("register begin without a recent sign-in: %d %s", res.StatusCode, res.Body)
		}
		expect(t, "wrong password", b.post("/meu-perfil/confirmar", url.Values{"secret": {"not my password"}}),
			http.StatusUnprocessableEntity, "")
		expect(t, "confirm", b.post("/meu-perfil/confirmar", url.Values{"secret": {testPassword}}), http.StatusSeeOther, "/meu-perfil#seguranca")
		b.get("/meu-perfil")
		res := b.fetch("/webauthn/register/begin", []byte(`{"name":"Notebook"}`))
		expect(t, "register begin after confirming", res, 200, "", `"challenge"`)
		// (A ceremony outlives neither its cookie nor the window;
		// ticketing's AddPasskey checks the window again.)
		expect(t, "register finish", b.fetch("/webauthn/register/finish", key.create(res.Body)), 200, "", `"redirect"`)
	})
}

// TestProfileEmailCodeOffNeedsPassword: the e-mail code goes off only
// with the current password.
func TestProfileEmailCodeOffNeedsPassword(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		aw := newAuthWorld(t, st)
		b := aw.browser()
		b.mustLogin("maria@acme.example")
		expect(t, "on", b.post("/meu-perfil/codigo-email", url.Values{"on": {"1"}}), http.StatusSeeOther, "/meu-perfil#seguranca")
		expect(t, "the off form asks for the password", b.get("/meu-perfil"), 200, "", `id="eotp-off-pw"`)
		expect(t, "off without the password", b.post("/meu-perfil/codigo-email", url.Values{"on": {"0"}}), http.StatusUnprocessableEntity, "")
		expect(t, "off with a wrong one", b.post("/meu-perfil/codigo-email", url.Values{"on": {"0"}, "password": {"wrong one"}}),
			http.StatusUnprocessableEntity, "")
		if u, _ := st.R().UserByEmail(t.Context(), store.AllCompanies(), "maria@acme.example"); !u.EmailOTP {
			t.Fatal("the code went off without the password")
		}
		expect(t, "off", b.post("/meu-perfil/codigo-email", url.Values{"on": {"0"}, "password": {testPassword}}), http.StatusSeeOther, "/meu-perfil#seguranca")
		if u, _ := st.R().UserByEmail(t.Context(), store.AllCompanies(), "maria@acme.example"); u.EmailOTP {
			t.Fatal("the code stayed on")
		}
	})
}

// TestProfileResetSaysPasskeysWent: the page after a reset tells the
// person their sessions ended and passkeys were removed.
func TestProfileResetSaysPasskeysWent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		aw := newAuthWorld(t, st)
		b := aw.browser()
		b.get("/forgot")
		b.post("/forgot", url.Values{"email": {"maria@acme.example"}})
		tok := aw.mail.last(t, ticketing.AccountReset, "maria@acme.example").Token
		b.get("/reset/" + tok)
		res := b.post("/reset/"+tok, url.Values{"password": {"new long password 1"}, "confirm": {"new long password 1"}})
		expect(t, "reset", res, http.StatusSeeOther, "/login")
		expect(t, "the notice", b.follow(res), 200, "", "chaves de acesso foram removidas")
	})
}
