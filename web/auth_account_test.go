package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

func TestRegisterConfirm(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		aw := newAuthWorld(t, st)
		ctx := context.Background()
		b := aw.browser()

		res := b.get("/register")
		expect(t, "step 1", res, 200, "", `name="email"`, `name="step" value="1"`)
		if strings.Contains(res.Body, "Acme") {
			t.Fatal("the registration page names a company before an address is typed")
		}
		res = b.post("/register", url.Values{"email": {"nobody@unknown.example"}, "step": {"1"}})
		expect(t, "unknown domain", res, http.StatusUnprocessableEntity, "", "Não encontramos uma empresa", `aria-describedby="reg-email-err"`)
		res = b.post("/register", url.Values{"email": {"not an address"}, "step": {"1"}})
		expect(t, "bad address", res, http.StatusUnprocessableEntity, "", "e-mail válido")

		res = b.post("/register", url.Values{"email": {"joao@acme.example"}, "step": {"1"}})
		expect(t, "step 2", res, 200, "", "Empresa: Acme", `name="step" value="2"`, `autocomplete="new-password"`)
		if strings.Contains(res.Body, `name="consent"`) {
			t.Fatal("consent asked of a company that does not require it")
		}
		step2 := url.Values{"email": {"joao@acme.example"}, "step": {"2"}, "name": {"João Souza"}, "language": {"en"}}
		weak := cloneForm(step2, "password", "123456", "confirm", "123456")
		expect(t, "weak password", b.post("/register", weak), http.StatusUnprocessableEntity, "", "Senha fraca")
		mismatch := cloneForm(step2, "password", "a long enough password", "confirm", "another long password")
		expect(t, "mismatch", b.post("/register", mismatch), http.StatusUnprocessableEntity, "", "não conferem")

		ok := cloneForm(step2, "password", "a long enough password", "confirm", "a long enough password")
		res = b.post("/register", ok)
		expect(t, "registered", res, 200, "", "Verifique seu e-mail")
		done := res.Body

		// The same address again: the same page (its owner is told by mail).
		res = b.post("/register", ok)
		expect(t, "again", res, 200, "", "Verifique seu e-mail")
		if strip(res.Body) != strip(done) {
			t.Fatal("registering an existing address answers differently")
		}

		// Not confirmed yet: cannot sign in.
		expect(t, "unconfirmed login", b.login("joao@acme.example", "a long enough password"), http.StatusSeeOther, "/resend-confirmation")

		tok := aw.mail.last(t, ticketing.AccountConfirm, "joao@acme.example").Token
		// GETs (mail scanners) never use the token.
		for i := 0; i < 2; i++ {
			expect(t, "confirm page", b.get("/confirm/"+tok), 200, "", `action="/confirm/`+tok+`"`)
		}
		res = b.post("/confirm/"+tok, nil)
		expect(t, "confirm", res, http.StatusSeeOther, "/login")
		expect(t, "flash", b.follow(res), 200, "", "E-mail confirmado")
		expect(t, "confirm again", b.post("/confirm/"+tok, nil), http.StatusGone, "")
		expect(t, "forged", b.post("/confirm/"+tok+"x", nil), http.StatusGone, "")

		res = b.login("joao@acme.example", "a long enough password")
		expect(t, "login", res, http.StatusSeeOther, "/dashboard")
		u, err := st.R().UserByEmail(ctx, store.AllCompanies(), "joao@acme.example")
		if err != nil || u.Language != "en" || u.CompanyIDValue() != aw.acme.ID || u.Role != store.RoleClient {
			t.Fatalf("registered user: %+v, %v", u, err)
		}
	})
}

func TestRegisterConsentAndExpiry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		aw := newAuthWorld(t, st)
		ctx := context.Background()
		err := st.InTx(ctx, func(q *store.Q) error {
			aw.acme.ConsentRequired = true
			return q.UpdateCompany(ctx, aw.acme)
		})
		if err != nil {
			t.Fatal(err)
		}
		rev, err := aw.svc.AddRevision(ctx, aw.admin, ticketing.RevisionInput{CompanyID: aw.acme.ID, Title: "Privacidade", Body: "Texto.", Publish: true})
		if err != nil {
			t.Fatal(err)
		}
		b := aw.browser()
		b.get("/register")
		res := b.post("/register", url.Values{"email": {"ana@acme.example"}, "step": {"1"}})
		expect(t, "step 2 with consent", res, 200, "", `name="consent"`, "/lgpd/public/"+strconv.FormatInt(aw.acme.ID, 10), "Li e aceito")
		form := url.Values{"email": {"ana@acme.example"}, "step": {"2"}, "name": {"Ana"}, "password": {"a long enough password"},
			"confirm": {"a long enough password"}, "revision": {strconv.FormatInt(rev.ID, 10)}}
		expect(t, "no consent", b.post("/register", form), http.StatusUnprocessableEntity, "", "aceitar a política")
		form.Set("consent", "1")
		expect(t, "consent", b.post("/register", form), 200, "", "Verifique seu e-mail")
		u, err := st.R().UserByEmail(ctx, store.AllCompanies(), "ana@acme.example")
		if err != nil {
			t.Fatal(err)
		}
		consents, err := st.R().ConsentsOfUser(ctx, u.ID)
		if err != nil || len(consents) != 1 || consents[0].RevisionID != rev.ID {
			t.Fatalf("consents: %+v %v", consents, err)
		}

		// The link lasts 24 hours.
		tok := aw.mail.last(t, ticketing.AccountConfirm, "ana@acme.example").Token
		aw.clock.add(25 * time.Hour)
		expect(t, "expired confirm", b.post("/confirm/"+tok, nil), http.StatusGone, "")
	})
}

func TestForgotReset(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		aw := newAuthWorld(t, st)
		b := aw.browser()
		expect(t, "forgot page", b.get("/forgot"), 200, "", `action="/forgot"`, `autocomplete="username"`)
		known := b.post("/forgot", url.Values{"email": {"maria@acme.example"}})
		unknown := b.post("/forgot", url.Values{"email": {"nobody@acme.example"}})
		expect(t, "forgot known", known, 200, "", "Verifique seu e-mail")
		if strip(known.Body) != strip(unknown.Body) || unknown.StatusCode != known.StatusCode {
			t.Fatal("/forgot tells known from unknown addresses")
		}
		if aw.mail.count(ticketing.AccountReset, "nobody@acme.example") != 0 {
			t.Fatal("a reset mail to an unknown address")
		}
		// A signed-in session of Maria's, which the reset must end.
		other := aw.browser()
		other.mustLogin("maria@acme.example")

		// Lock the account: the reset lifts the lock.
		for i := 0; i < 5; i++ {
			b.login("maria@acme.example", "wrong password")
		}
		tok := aw.mail.last(t, ticketing.AccountReset, "maria@acme.example").Token
		expect(t, "reset page", b.get("/reset/"+tok), 200, "", `autocomplete="new-password"`)
		expect(t, "reset weak", b.post("/reset/"+tok, url.Values{"password": {"12345678"}, "confirm": {"12345678"}}),
			http.StatusUnprocessableEntity, "", "Senha fraca")
		expect(t, "reset mismatch", b.post("/reset/"+tok, url.Values{"password": {"new long password 1"}, "confirm": {"new long password 2"}}),
			http.StatusUnprocessableEntity, "", "não conferem")
		res := b.post("/reset/"+tok, url.Values{"password": {"new long password 1"}, "confirm": {"new long password 1"}})
		expect(t, "reset", res, http.StatusSeeOther, "/login")
		expect(t, "reset reused", b.post("/reset/"+tok, url.Values{"password": {"new long password 2"}, "confirm": {"new long password 2"}}),
			http.StatusGone, "")
		expect(t, "the other session ended", other.get("/meu-perfil"), http.StatusSeeOther, "/login?next=%2Fmeu-perfil")
		expect(t, "old password", b.login("maria@acme.example", testPassword), http.StatusUnauthorized, "", badLogin)
		expect(t, "new password (lock lifted)", b.login("maria@acme.example", "new long password 1"), http.StatusSeeOther, "/dashboard")

		// A reset link expires after 2 hours.
		b2 := aw.browser()
		b2.get("/forgot")
		b2.post("/forgot", url.Values{"email": {"tech@helpdesk.example"}})
		tok = aw.mail.last(t, ticketing.AccountReset, "tech@helpdesk.example").Token
		aw.clock.add(2*time.Hour + time.Minute)
		expect(t, "expired reset", b2.post("/reset/"+tok, url.Values{"password": {"new long password 3"}, "confirm": {"new long password 3"}}),
			http.StatusGone, "")
	})
}

func TestResendConfirmationNeutral(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		aw := newAuthWorld(t, st)
		b := aw.browser()
		expect(t, "form", b.get("/resend-confirmation"), 200, "", `action="/resend-confirmation"`)
		var bodies []string
		for _, email := range []string{"maria@acme.example", "nobody@acme.example"} {
			res := b.post("/resend-confirmation", url.Values{"email": {email}})
			expect(t, "resend "+email, res, 200, "", "Verifique seu e-mail")
			bodies = append(bodies, strip(res.Body))
			// The old app's GET ?email= link answers the same.
			res = b.get("/resend-confirmation?email=" + url.QueryEscape(email))
			expect(t, "resend GET "+email, res, 200, "", "Verifique seu e-mail")
			bodies = append(bodies, strip(res.Body))
		}
		for _, x := range bodies[1:] {
			if x != bodies[0] {
				t.Fatal("/resend-confirmation answers differently")
			}
		}
	})
}

func TestSignInLink(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		aw := newAuthWorld(t, st)
		b := aw.browser()
		b.get("/login")
		known := b.post("/login/link", url.Values{"email": {"maria@acme.example"}})
		unknown := b.post("/login/link", url.Values{"email": {"nobody@acme.example"}})
		expect(t, "link sent", known, 200, "", "Verifique seu e-mail")
		if strip(known.Body) != strip(unknown.Body) {
			t.Fatal("the sign-in link answer tells known from unknown addresses")
		}
		tok := aw.mail.last(t, ticketing.AccountSignInLink, "maria@acme.example").Token
		for i := 0; i < 2; i++ {
			expect(t, "link page", b.get("/login/link/"+tok), 200, "", `action="/login/link/`+tok+`"`)
		}
		res := b.post("/login/link/"+tok, nil)
		expect(t, "link used", res, http.StatusSeeOther, "/dashboard")
		first := b.session()
		if first == "" {
			t.Fatal("no session after the link")
		}
		b.post("/logout", url.Values{"csrf_token": {csrfOf(t, b, "/meu-perfil")}})
		b.get("/login")
		expect(t, "link reused", b.post("/login/link/"+tok, nil), http.StatusGone, "")

		// 15 minutes.
		b.post("/login/link", url.Values{"email": {"maria@acme.example"}})
		tok = aw.mail.last(t, ticketing.AccountSignInLink, "maria@acme.example").Token
		aw.clock.add(16 * time.Minute)
		expect(t, "link expired", b.post("/login/link/"+tok, nil), http.StatusGone, "")
	})
}

// csrfOf loads path and returns its form token.
func csrfOf(t testing.TB, b *browser, path string) string {
	t.Helper()
	b.get(path)
	return b.csrf
}

func cloneForm(v url.Values, kv ...string) url.Values {
	out := url.Values{}
	for k, x := range v {
		out[k] = append([]string(nil), x...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out.Set(kv[i], kv[i+1])
	}
	return out
}

// strip drops what differs between two renders of the same page: the
// CSRF token and the CSP nonce.
func strip(body string) string {
	body = csrfInput.ReplaceAllString(body, "")
	return nonceAttr.ReplaceAllString(body, "")
}

func TestRegisterByInvitation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		aw := newAuthWorld(t, st)
		ctx := context.Background()
		tok, err := aw.svc.CreateInvite(ctx, aw.admin, "Acme", "", 0)
		if err != nil {
			t.Fatal(err)
		}
		b := aw.browser()
		res := b.get("/register?invite=" + url.QueryEscape(tok))
		expect(t, "invitation", res, 200, "", "Empresa: Acme", `name="step" value="2"`, `name="invite" value="`+tok+`"`)
		form := url.Values{"email": {"guest@gmail.example"}, "step": {"2"}, "invite": {tok}, "name": {"Convidado"},
			"password": {"a long enough password"}, "confirm": {"a long enough password"}}
		expect(t, "registered", b.post("/register", form), 200, "", "Verifique seu e-mail")
		u, err := st.R().UserByEmail(ctx, store.AllCompanies(), "guest@gmail.example")
		if err != nil || u.CompanyIDValue() != aw.acme.ID {
			t.Fatalf("invited user: %+v %v", u, err)
		}
		// Used once.
		expect(t, "invitation reused", b.get("/register?invite="+url.QueryEscape(tok)), http.StatusGone, "", "convite")
		expect(t, "forged invitation", b.get("/register?invite=forged"), http.StatusGone, "", "convite")
	})
}
