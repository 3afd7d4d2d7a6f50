package web

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	gomail "github.com/emersion/go-message/mail"

	"github.com/jcservicedesk/servicedesk/configs"
	"github.com/jcservicedesk/servicedesk/mailbox/compose"
	"github.com/jcservicedesk/servicedesk/mailbox/outbound"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// authWorld is a portal over a real database whose accounts API is real:
// people sign in through the pages, and the account mails ticketing
// queues land in a mailbox the tests read like the person would.
type authWorld struct {
	*world
	clock *testClock
	mail  *mailbox
}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// mailbox reads the account mails from the outbox table, as queued by the
// real outbound hook, the way the person would read them: the link or the
// code in the text part.
type mailbox struct {
	t  testing.TB
	st *store.Store
}

// readMail is what a test takes from a mail.
type readMail struct {
	Token string // of the link
	Code  string // the 6-digit code
	Text  string
}

var (
	mailLink = regexp.MustCompile(`/(?:confirm|reset|login/link)/([A-Za-z0-9._~%-]+)|/register\?invite=([A-Za-z0-9._~%-]+)`)
	mailCode = regexp.MustCompile(`\b(\d{6})\b`)
)

// mails are the outbox rows of kind to the address, newest first.
func (m *mailbox) mails(kind, to string) []*store.OutboxMail {
	m.t.Helper()
	ctx := context.Background()
	list, err := m.st.R().OutboxList(ctx, store.OutboxFilter{Limit: -1})
	if err != nil {
		m.t.Fatal(err)
	}
	var out []*store.OutboxMail
	for _, x := range list {
		if x.Event == kind && strings.Contains(strings.ToLower(x.Recipients), strings.ToLower(to)) {
			out = append(out, x)
		}
	}
	return out
}

// last is the latest mail of kind to the address, read; the test fails
// when there is none.
func (m *mailbox) last(t testing.TB, kind, to string) readMail {
	t.Helper()
	list := m.mails(kind, to)
	if len(list) == 0 {
		t.Fatalf("no %s mail to %s in the outbox", kind, to)
	}
	full, err := m.st.R().OutboxGet(context.Background(), list[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	text := mailText(t, full.Raw)
	rm := readMail{Text: text}
	if sm := mailLink.FindStringSubmatch(text); sm != nil {
		tok := sm[1] + sm[2]
		if u, err := url.PathUnescape(tok); err == nil {
			tok = u
		}
		rm.Token = tok
	}
	if sm := mailCode.FindStringSubmatch(text); sm != nil {
		rm.Code = sm[1]
	}
	return rm
}

func (m *mailbox) count(kind, to string) int { return len(m.mails(kind, to)) }

// mailText is the text/plain part of a raw mail, decoded.
func mailText(t testing.TB, raw []byte) string {
	t.Helper()
	r, err := gomail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("reading a queued mail: %v", err)
	}
	for {
		p, err := r.NextPart()
		if err != nil {
			break
		}
		if h, ok := p.Header.(*gomail.InlineHeader); ok {
			if ct, _, _ := h.ContentType(); ct == "text/plain" {
				b, _ := io.ReadAll(p.Body)
				return string(b)
			}
		}
	}
	t.Fatalf("no text part in\n%s", raw)
	return ""
}

func newAuthWorld(t testing.TB, st *store.Store, edit ...func(*configs.Config)) *authWorld {
	t.Helper()
	ctx := context.Background()
	aw := &authWorld{clock: &testClock{t: time.Now()}, mail: &mailbox{t: t, st: st}}
	w := &world{t: t, st: st, logs: &strings.Builder{}, csrf: map[string]string{}}
	aw.world = w
	cfg := configs.Defaults()
	cfg.Security.LoginRatePerIP = 1000
	for _, e := range edit {
		e(cfg)
	}
	composer, err := compose.New()
	if err != nil {
		t.Fatal(err)
	}
	ob := outbound.New(outbound.Config{From: compose.Address{Name: "JC Service Desk", Email: "support@helpdesk.example"},
		ReplyBase: "support@helpdesk.example", PublicURL: cfg.HTTP.PublicURL, Secret: []byte("test secret of the outbound mails"),
		Lang: "pt-BR", AccountPerHour: 1000, Zone: cfg.Location()}, composer, slog.New(slog.DiscardHandler))
	w.svc = ticketing.NewService(st, ticketing.WithClock(aw.clock.now), ticketing.WithTxHook(ob.Hook),
		ticketing.WithAccounts(ticketing.AccountConfig{SessionLifetime: cfg.Security.SessionLifetime,
			RememberLifetime: cfg.Security.RememberLifetime, IdleTimeout: cfg.Security.IdleTimeout,
			Require2FARoles: cfg.Security.Require2FARoles, HashConcurrency: 2}))
	confirmed := time.Now().Add(-time.Hour)
	hash, err := ticketing.HashPassword(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	err = st.InTx(ctx, func(q *store.Q) error {
		w.acme = &store.Company{Name: "Acme", Domains: []string{"acme.example"}}
		if err := q.CreateCompany(ctx, w.acme); err != nil {
			return err
		}
		mk := func(email, name, role string, c *store.Company) *store.User {
			u := &store.User{Email: email, Role: role, Name: name, Language: "pt-BR", ConfirmedAt: &confirmed, PasswordHash: hash}
			if c != nil {
				id := c.ID
				u.CompanyID = &id
			}
			if err := q.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			return u
		}
		w.admin = mk("admin@helpdesk.example", "Ana Admin", store.RoleAdmin, nil)
		w.tech = mk("tech@helpdesk.example", "Téo Técnico", store.RoleTech, nil)
		w.client = mk("maria@acme.example", "Maria Silva", store.RoleClient, w.acme)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	w.srv, err = New(Deps{Cfg: cfg, Svc: w.svc, Log: slog.New(slog.NewTextHandler(syncWriter{w.logs}, nil)), Now: aw.clock.now})
	if err != nil {
		t.Fatal(err)
	}
	w.h = w.srv.Handler()
	return aw
}

// browser is one visitor: it keeps cookies as a browser does and the CSRF
// token of the last page it saw.
type browser struct {
	t       testing.TB
	w       *authWorld
	cookies map[string]string
	csrf    string
	remote  string // RemoteAddr
	header  http.Header
}

func (aw *authWorld) browser() *browser {
	return &browser{t: aw.t, w: aw, cookies: map[string]string{}, remote: "198.51.100.7:40000",
		header: http.Header{"User-Agent": {"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"}}}
}

func (b *browser) do(method, path string, body io.Reader, ctype string) resp {
	b.t.Helper()
	r := httptest.NewRequest(method, path, body)
	r.RemoteAddr = b.remote
	for k, v := range b.header {
		r.Header[k] = v
	}
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	for name, v := range b.cookies {
		r.AddCookie(&http.Cookie{Name: name, Value: v})
	}
	rec := httptest.NewRecorder()
	b.w.h.ServeHTTP(rec, r)
	res := rec.Result()
	raw, _ := io.ReadAll(res.Body)
	out := resp{res, string(raw)}
	for _, c := range res.Cookies() {
		if c.MaxAge < 0 || c.Value == "" {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c.Value
		}
	}
	if m := csrfInput.FindStringSubmatch(out.Body); m != nil {
		b.csrf = m[1]
	}
	return out
}

func (b *browser) get(path string) resp {
	b.t.Helper()
	return b.do("GET", path, nil, "")
}

// post sends a form with the page's CSRF token (unless form has one).
func (b *browser) post(path string, form url.Values) resp {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf_token"]; !ok {
		form.Set("csrf_token", b.csrf)
	}
	return b.do("POST", path, strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
}

// follow GETs the redirect's target.
func (b *browser) follow(res resp) resp {
	b.t.Helper()
	loc := res.Header.Get("Location")
	if loc == "" {
		b.t.Fatalf("no redirect: %d\n%s", res.StatusCode, res.Body)
	}
	loc, _, _ = strings.Cut(loc, "#") // browsers keep the fragment to themselves
	return b.get(loc)
}

// login signs in through the form; it returns the POST's response.
func (b *browser) login(email, password string, extra ...string) resp {
	b.t.Helper()
	b.get("/login")
	form := url.Values{"email": {email}, "password": {password}}
	for i := 0; i+1 < len(extra); i += 2 {
		form.Set(extra[i], extra[i+1])
	}
	return b.post("/login", form)
}

// mustLogin signs in and fails the test unless it reached the dashboard.
func (b *browser) mustLogin(email string) {
	b.t.Helper()
	res := b.login(email, testPassword)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/dashboard" {
		b.t.Fatalf("login %s: %d %s\n%s", email, res.StatusCode, res.Header.Get("Location"), res.Body)
	}
	b.get("/meu-perfil") // a page with the session's CSRF token
}

func (b *browser) session() string { return b.cookies[sessionCookie] }

func expect(t testing.TB, what string, res resp, status int, location string, contains ...string) {
	t.Helper()
	if res.StatusCode != status {
		t.Fatalf("%s: status %d, want %d\n%s", what, res.StatusCode, status, res.Body)
	}
	if location != "" && res.Header.Get("Location") != location {
		t.Fatalf("%s: Location %q, want %q", what, res.Header.Get("Location"), location)
	}
	for _, c := range contains {
		if !strings.Contains(res.Body, c) {
			t.Fatalf("%s: no %q in\n%s", what, c, res.Body)
		}
	}
}

var nonceAttr = regexp.MustCompile(`nonce="[^"]*"`)
