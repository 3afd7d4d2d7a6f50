package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

var (
	secretText   = regexp.MustCompile(`<code class="secret">([A-Z2-7 ]+)</code>`)
	recoveryItem = regexp.MustCompile(`<li><code>([^<]+)</code></li>`)
)

func TestTOTPSetupAndSignIn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		aw := newAuthWorld(t, st)
		b := aw.browser()
		b.mustLogin("maria@acme.example")

		res := b.post("/meu-perfil/totp", nil)
		expect(t, "begin", res, http.StatusSeeOther, "/meu-perfil/totp")
		res = b.follow(res)
		expect(t, "set-up page", res, 200, "", `src="/meu-perfil/totp.png"`, `autocomplete="one-time-code"`)
		secret := strings.ReplaceAll(secretText.FindStringSubmatch(res.Body)[1], " ", "")
		qr := b.get("/meu-perfil/totp.png")
		if qr.StatusCode != 200 || qr.Header.Get("Content-Type") != "image/png" || !strings.HasPrefix(qr.Body, "\x89PNG") {
			t.Fatalf("QR: %d %s", qr.StatusCode, qr.Header.Get("Content-Type"))
		}
		expect(t, "wrong code", b.post("/meu-perfil/totp/ativar", url.Values{"code": {"000000"}}), http.StatusUnprocessableEntity, "",
			"Código inválido")
		code, err := totp.GenerateCode(secret, aw.clock.now())
		if err != nil {
			t.Fatal(err)
		}
		res = b.post("/meu-perfil/totp/ativar", url.Values{"code": {code}})
		expect(t, "enable", res, 200, "", "Códigos de recuperação", `action="/meu-perfil/recuperacao.txt"`)
		codes := recoveryItem.FindAllStringSubmatch(res.Body, -1)
		if len(codes) != 10 {
			t.Fatalf("%d recovery codes shown", len(codes))
		}
		txt := b.post("/meu-perfil/recuperacao.txt", url.Values{"state": {regexpFind(t, res.Body, `name="state" value="([^"]+)"`)}})
		if txt.StatusCode != 200 || !strings.Contains(txt.Body, codes[0][1]) || !strings.Contains(txt.Header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("recovery .txt: %d %q", txt.StatusCode, txt.Body)
		}
		// The QR is gone once the app is set up.
		expect(t, "QR after", b.get("/meu-perfil/totp.png"), http.StatusNotFound, "")
		b.post("/logout", nil)

		// Password, then the app's code; the cookie changes at each step.
		res = b.login("maria@acme.example", testPassword, "next", "/meu-perfil")
		expect(t, "password step", res, http.StatusSeeOther, "/otp?next=%2Fmeu-perfil")
		pendingCookie := b.session()
		expect(t, "pending is not signed in", b.get("/meu-perfil"), http.StatusSeeOther, "")
		res = b.get("/otp?next=%2Fmeu-perfil")
		expect(t, "otp page", res, 200, "", `value="totp"`, `value="recovery"`, `autocomplete="one-time-code"`)
		expect(t, "bad code", b.post("/otp", url.Values{"method": {"totp"}, "code": {"000000"}, "next": {"/meu-perfil"}}),
			http.StatusUnauthorized, "", "Código inválido")
		aw.clock.add(31 * time.Second) // a new step: a code is never taken twice
		code, _ = totp.GenerateCode(secret, aw.clock.now())
		res = b.post("/otp", url.Values{"method": {"totp"}, "code": {code}, "next": {"/meu-perfil"}})
		expect(t, "totp", res, http.StatusSeeOther, "/meu-perfil")
		full := b.session()
		if full == "" || full == pendingCookie {
			t.Fatal("the cookie did not change after the second factor")
		}
		old := aw.browser()
		old.cookies[sessionCookie] = pendingCookie
		expect(t, "old pending cookie", old.get("/otp"), http.StatusSeeOther, "/login")
		expect(t, "signed in", b.get("/meu-perfil"), 200, "", "restantes: 10")
		b.post("/logout", nil)

		// A recovery code works once.
		b.login("maria@acme.example", testPassword)
		b.get("/otp")
		rc := codes[3][1]
		expect(t, "recovery", b.post("/otp", url.Values{"method": {"recovery"}, "code": {rc}}), http.StatusSeeOther, "/dashboard")
		b.get("/meu-perfil")
		b.post("/logout", nil)
		b.login("maria@acme.example", testPassword)
		b.get("/otp")
		expect(t, "recovery reused", b.post("/otp", url.Values{"method": {"recovery"}, "code": {rc}}), http.StatusUnauthorized, "",
			"Código inválido")
	})
}

func TestOTPAttemptsAndEmailCode(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		aw := newAuthWorld(t, st)
		b := aw.browser()
		b.mustLogin("maria@acme.example")
		expect(t, "email otp on", b.post("/meu-perfil/codigo-email", url.Values{"on": {"1"}}), http.StatusSeeOther, "/meu-perfil#seguranca")
		b.get("/meu-perfil")
		b.post("/logout", nil)

		res := b.login("maria@acme.example", testPassword)
		expect(t, "password step", res, http.StatusSeeOther, "/otp")
		// E-mail is the only method: the code was sent at once.
		expect(t, "otp page", b.get("/otp"), 200, "", `action="/otp/send"`, `value="email"`, "código de 6 dígitos")
		first := aw.mail.last(t, ticketing.AccountLoginCode, "maria@acme.example").Code
		expect(t, "resend at once", b.post("/otp/send", nil), http.StatusTooManyRequests, "", "Muitas tentativas")
		aw.clock.add(61 * time.Second)
		expect(t, "resend later", b.post("/otp/send", nil), 200, "", "código de 6 dígitos")
		code := aw.mail.last(t, ticketing.AccountLoginCode, "maria@acme.example").Code
		if code == first && aw.mail.count(ticketing.AccountLoginCode, "maria@acme.example") < 2 {
			t.Fatal("no second code mailed")
		}
		if len(code) != 6 {
			t.Fatalf("code %q", code)
		}
		expect(t, "email code", b.post("/otp", url.Values{"method": {"email"}, "code": {code}}), http.StatusSeeOther, "/dashboard")
		b.get("/meu-perfil")
		b.post("/logout", nil)

		// Five wrong codes: the pending session ends, back to /login.
		b.login("maria@acme.example", testPassword)
		b.get("/otp")
		var last resp
		for i := 0; i < 6; i++ {
			last = b.post("/otp", url.Values{"method": {"email"}, "code": {"999999"}})
			if last.StatusCode == http.StatusSeeOther {
				break
			}
		}
		expect(t, "attempts exhausted", last, http.StatusSeeOther, "/login")
		expect(t, "message", b.follow(last), 200, "", "Tentativas esgotadas")
		if b.session() != "" {
			t.Fatal("the pending session cookie survived")
		}
	})
}

func TestTOTPDisableAndRegenerate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		aw := newAuthWorld(t, st)
		b := aw.browser()
		b.mustLogin("maria@acme.example")
		b.post("/meu-perfil/totp", nil)
		res := b.get("/meu-perfil/totp")
		secret := strings.ReplaceAll(secretText.FindStringSubmatch(res.Body)[1], " ", "")
		code, _ := totp.GenerateCode(secret, aw.clock.now())
		first := recoveryItem.FindAllStringSubmatch(b.post("/meu-perfil/totp/ativar", url.Values{"code": {code}}).Body, -1)
		b.get("/meu-perfil")

		expect(t, "regenerate, wrong password", b.post("/meu-perfil/recuperacao", url.Values{"password": {"nope"}}),
			http.StatusUnprocessableEntity, "", "Senha atual incorreta")
		res = b.post("/meu-perfil/recuperacao", url.Values{"password": {testPassword}})
		again := recoveryItem.FindAllStringSubmatch(res.Body, -1)
		if res.StatusCode != 200 || len(again) != 10 || again[0][1] == first[0][1] {
			t.Fatalf("regenerate: %d, %d codes", res.StatusCode, len(again))
		}
		// The old codes are gone.
		b.get("/meu-perfil")
		b.post("/logout", nil)
		b.login("maria@acme.example", testPassword)
		b.get("/otp")
		expect(t, "old recovery code", b.post("/otp", url.Values{"method": {"recovery"}, "code": {first[0][1]}}), http.StatusUnauthorized, "")
		expect(t, "new recovery code", b.post("/otp", url.Values{"method": {"recovery"}, "code": {again[0][1]}}), http.StatusSeeOther, "/dashboard")
		b.get("/meu-perfil")

		expect(t, "disable, wrong password", b.post("/meu-perfil/totp/desativar", url.Values{"password": {"nope"}}),
			http.StatusUnprocessableEntity, "", "Senha atual incorreta")
		expect(t, "disable", b.post("/meu-perfil/totp/desativar", url.Values{"password": {testPassword}}), http.StatusSeeOther, "/meu-perfil#seguranca")
		b.get("/meu-perfil")
		b.post("/logout", nil)
		expect(t, "no second step", b.login("maria@acme.example", testPassword), http.StatusSeeOther, "/dashboard")
	})
}

func TestEmailCodeOnceAndExpiry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		aw := newAuthWorld(t, st)
		b := aw.browser()
		b.mustLogin("maria@acme.example")
		b.post("/meu-perfil/codigo-email", url.Values{"on": {"1"}})
		b.get("/meu-perfil")
		b.post("/logout", nil)

		b.login("maria@acme.example", testPassword)
		b.get("/otp")
		code := aw.mail.last(t, ticketing.AccountLoginCode, "maria@acme.example").Code
		expect(t, "code", b.post("/otp", url.Values{"method": {"email"}, "code": {code}}), http.StatusSeeOther, "/dashboard")
		b.get("/meu-perfil")
		b.post("/logout", nil)

		// The same code in the next sign-in: refused.
		aw.clock.add(2 * time.Minute)
		b.login("maria@acme.example", testPassword)
		b.get("/otp")
		fresh := aw.mail.last(t, ticketing.AccountLoginCode, "maria@acme.example").Code
		if fresh != code {
			expect(t, "used code", b.post("/otp", url.Values{"method": {"email"}, "code": {code}}), http.StatusUnauthorized, "", "Código inválido")
		}
		// Ten minutes later the fresh code has expired too (and so has the
		// pending session): back to /login.
		aw.clock.add(11 * time.Minute)
		res := b.post("/otp", url.Values{"method": {"email"}, "code": {fresh}})
		if res.StatusCode == http.StatusSeeOther && res.Header.Get("Location") == "/dashboard" {
			t.Fatal("an expired code signed in")
		}
	})
}
