package web_test

// The portal's flows in a real Chromium: what a person does, with the
// mail they receive read from the outbox, and every page reached checked
// with axe-core and photographed in both themes.

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

const testPassword = "cavalo-correto-bateria-grampo"

// Selectors shared by the flows.
const (
	loginEmail    = "#login-email"
	loginPassword = "#login-password"
	loginSubmit   = `form[action="/login"] button[type=submit]`
	logoutSubmit  = `form[action="/logout"] button[type=submit]`
	otpCode       = "#otp-code"
	otpSubmit     = `form[action="/otp"] button[type=submit]`
)

// login signs in with a password and waits for the page it leads to.
func (b *browser) login(email, password string) {
	b.t.Helper()
	b.open("/login")
	b.fill(map[string]string{loginEmail: email, loginPassword: password})
	b.submit(loginSubmit)
}

// logout uses the sign-out button of the header's user menu.
func (b *browser) logout() {
	b.t.Helper()
	// The bell is a details.usermenu too: the user menu is the other one.
	if b.exists("details.usermenu:not(.bell):not([open]) > summary") {
		b.run("open the user menu", chromedp.Click(chromedp.CSS("details.usermenu:not(.bell) > summary")),
			chromedp.WaitVisible(chromedp.CSS(logoutSubmit)))
	}
	b.submit(logoutSubmit)
	b.run("signed out", chromedp.WaitVisible(chromedp.CSS(`a[href^="/login"]`)))
}

// acceptPolicy accepts the privacy policy when the portal asks for it
// (people created by an admin have not accepted it yet).
func (b *browser) acceptPolicy() {
	b.t.Helper()
	b.wantPath("/lgpd")
	b.submit(`form[action="/lgpd"] button[type=submit]`)
}

// TestBrowserAccount is the requester's first day: register, confirm by
// the mailed link, sign in, set up TOTP and keep the recovery codes, sign
// in with a code, then with a recovery code, and switch to English.
func TestBrowserAccount(t *testing.T) {
	browserPaths(t)
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		p := startPortal(t, st)
		co := p.company("Cliente Exemplo", "cliente.example")
		b := newBrowser(t, p.base)
		// The pages are the same on both databases: check and photograph
		// them once.
		check := func(name string, phone bool) {
			if st.Driver() == store.SQLite {
				b.page(name, phone)
			}
		}
		const email = "maria@cliente.example"

		b.open("/")
		check("landing", true)
		b.open("/lgpd/public/" + itoa(co.ID))
		check("lgpd-public", false)
		b.open("/forgot")
		check("forgot", false)
		b.open("/pagina-que-nao-existe")
		check("error-404", false)
		b.open("/login")
		check("login", true)

		// Register: the address first, then the rest of the form.
		b.open("/register")
		check("register", true)
		b.fill(map[string]string{"#reg-email": email})
		b.submit(`form[action="/register"] button[type=submit]`)
		b.run("register details", chromedp.WaitVisible(chromedp.CSS("#reg-name")))
		check("register-details", false)
		b.fill(map[string]string{"#reg-name": "Maria Souza", "#reg-password": testPassword, "#reg-confirm": testPassword})
		if b.exists("#reg-consent") {
			b.check("#reg-consent")
		}
		b.submit(`form[action="/register"] button[type=submit]`)
		check("register-sent", false)

		// Not confirmed yet: the right password does not sign in.
		b.login(email, testPassword)
		if b.path() == "/dashboard" {
			t.Fatal("an unconfirmed account signed in")
		}

		// The link in the mail, as its reader would click it.
		confirm := p.link(p.mailTo(email), "/confirm/")
		b.open(confirm)
		check("confirm", false)
		if b.exists(`form[action^="/confirm/"] button[type=submit]`) {
			b.submit(`form[action^="/confirm/"] button[type=submit]`)
		}

		b.login(email, testPassword)
		b.wantPath("/dashboard")
		check("dashboard", true)

		// TOTP: the secret shown on the page, the code computed here.
		b.open("/meu-perfil")
		check("profile", true)
		b.submit(`form[action="/meu-perfil/totp"] button[type=submit]`)
		b.run("totp page", chromedp.WaitVisible(chromedp.CSS("code.secret")))
		check("totp-setup", false)
		secret := strings.ReplaceAll(b.text("code.secret"), " ", "")
		code, err := totp.GenerateCode(secret, time.Now())
		if err != nil {
			t.Fatalf("totp: %v", err)
		}
		b.fill(map[string]string{"#totp-code": code})
		b.submit(`form[action="/meu-perfil/totp/ativar"] button[type=submit]`)
		b.run("recovery codes", chromedp.WaitVisible(chromedp.CSS("ul.codes code")))
		check("recovery-codes", false)
		codes := value(b, "recovery codes", chromedp.Evaluate[[]string](`[...document.querySelectorAll("ul.codes code")].map(e => e.textContent.trim())`))
		if len(codes) != 10 {
			t.Fatalf("%d recovery codes shown, want 10", len(codes))
		}
		b.submit(`a[href="/meu-perfil#seguranca"]`)
		b.logout()

		// Password, then the authenticator's code. The code of the next
		// step: the one used to enable TOTP cannot be used again.
		b.login(email, testPassword)
		b.wantPath("/otp")
		check("otp", true)
		code, err = totp.GenerateCode(secret, time.Now().Add(30*time.Second))
		if err != nil {
			t.Fatalf("totp: %v", err)
		}
		if b.exists("#otp-m-totp") {
			b.check("#otp-m-totp")
		}
		b.fill(map[string]string{otpCode: code})
		b.submit(otpSubmit)
		b.wantPath("/dashboard")
		b.logout()

		// A recovery code instead of the app.
		b.login(email, testPassword)
		b.wantPath("/otp")
		if b.exists("#otp-m-recovery") {
			b.check("#otp-m-recovery")
		}
		b.fill(map[string]string{otpCode: codes[0]})
		b.submit(otpSubmit)
		b.wantPath("/dashboard")

		// The privacy page a signed-in user reads.
		b.open("/lgpd")
		check("lgpd", false)

		// English on the profile: the pages are in English.
		b.open("/meu-perfil")
		b.run("language", chromedp.SetValue(chromedp.CSS("#p-language"), "en"))
		b.submit(`form[action="/meu-perfil"] button[type=submit]`)
		b.open("/meu-perfil")
		b.waitText("h1", "My profile")
		if lang := value(b, "lang", chromedp.Evaluate[string]("document.documentElement.lang")); lang != "en" {
			t.Errorf("html lang = %q after choosing English", lang)
		}
		check("profile-en", false)
	})
}

// TestBrowserPasskey adds a passkey on the profile with Chromium's
// virtual authenticator, and signs in with it without a password.
func TestBrowserPasskey(t *testing.T) {
	browserPaths(t)
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		p := startPortal(t, st)
		co := p.company("Cliente Exemplo", "cliente.example")
		const email = "joao@cliente.example"
		p.user(co, email, "João Lima")
		b := newBrowser(t, p.base)
		b.virtualAuthenticator()

		b.login(email, testPassword)
		b.acceptPolicy()
		b.wantPath("/dashboard")
		b.open("/meu-perfil")
		b.run("passkey form", chromedp.WaitVisible(chromedp.CSS("#pk-name")))
		b.fill(map[string]string{"#pk-name": "Notebook"})
		// The ceremony runs in passkey.js; the page reloads with the
		// new key in the table.
		b.submit(`form[data-passkey=register] button[type=submit]`)
		b.waitText("#seguranca", "Notebook")
		if st.Driver() == store.SQLite {
			b.page("profile-passkey", false)
		}
		b.logout()

		b.open("/login")
		b.run("passkey button", chromedp.WaitVisible(chromedp.CSS(`button[data-passkey=login]`)))
		b.submit(`button[data-passkey=login]`)
		b.wantPath("/dashboard")
	})
}

// virtualAuthenticator gives the tab a platform authenticator that holds
// resident keys and verifies its user by itself.
func (b *browser) virtualAuthenticator() {
	b.t.Helper()
	b.run("virtual authenticator", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
			Options: &webauthn.VirtualAuthenticatorOptions{
				Protocol:                    webauthn.AuthenticatorProtocolCtap2,
				Ctap2version:                webauthn.Ctap2versionCtap21,
				Transport:                   webauthn.AuthenticatorTransportInternal,
				HasResidentKey:              true,
				HasUserVerification:         true,
				IsUserVerified:              true,
				AutomaticPresenceSimulation: true,
			},
		})
		return err
	}))
}

// TestBrowserNoJavaScript signs in and registers with scripts off: the
// forms are plain HTML forms.
func TestBrowserNoJavaScript(t *testing.T) {
	browserPaths(t)
	st := storetest.Open(t, store.SQLite)
	p := startPortal(t, st)
	co := p.company("Cliente Exemplo", "cliente.example")
	p.user(co, "ana@cliente.example", "Ana Reis")
	b := newBrowser(t, p.base)
	b.noJS(true)

	b.login("ana@cliente.example", testPassword)
	b.acceptPolicy()
	b.wantPath("/dashboard")
	b.logout()

	b.open("/register")
	b.fill(map[string]string{"#reg-email": "bia@cliente.example"})
	b.submit(`form[action="/register"] button[type=submit]`)
	b.run("register details", chromedp.WaitVisible(chromedp.CSS("#reg-name")))
	b.fill(map[string]string{"#reg-name": "Bia Reis", "#reg-password": testPassword, "#reg-confirm": testPassword})
	if b.exists("#reg-consent") {
		b.check("#reg-consent")
	}
	b.submit(`form[action="/register"] button[type=submit]`)
	p.link(p.mailTo("bia@cliente.example"), "/confirm/")
}

// TestBrowserSeededAdmin signs in as the admin that a first
// `servicedesk serve` creates, with the password it printed.
func TestBrowserSeededAdmin(t *testing.T) {
	browserPaths(t)
	st := storetest.Open(t, store.SQLite)
	p := startPortal(t, st)
	if p.adminPassword == "" {
		t.Fatal("seeding printed no password")
	}
	b := newBrowser(t, p.base)
	b.login(p.admin.Email, p.adminPassword)
	b.wantPath("/dashboard")
}

// user creates a confirmed user of the company at the address's domain
// with testPassword, as an admin does with the CLI.
func (p *portal) user(co *store.Company, email, name string) *store.User {
	p.t.Helper()
	u, err := p.svc.CreateUser(context.Background(), p.admin, ticketing.UserInput{Email: email, Name: name, Password: testPassword, Role: "client", CompanyID: &co.ID})
	if err != nil {
		p.t.Fatalf("portal: user: %v", err)
	}
	return u
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
