package web_test

// The portal under test: the real web.Server over a real store and a
// ticketing.Service wired as `servicedesk serve` wires it (the outbound
// hook queues every mail in the outbox), on a real listener that the
// browser opens as http://localhost:PORT (a WebAuthn relying party
// cannot be an IP address).

import (
	"context"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/emersion/go-message/mail"

	"github.com/jcservicedesk/servicedesk/configs"
	"github.com/jcservicedesk/servicedesk/mailbox/compose"
	"github.com/jcservicedesk/servicedesk/mailbox/outbound"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
	"github.com/jcservicedesk/servicedesk/web"
)

// portal is a running portal and what the tests reach behind it.
type portal struct {
	t             testing.TB
	st            *store.Store
	svc           *ticketing.Service
	cfg           *configs.Config
	base          string       // http://localhost:PORT
	h             http.Handler // the portal's handler, for benchmarks without the network
	srv           *web.Server  // the portal, for tests that run its live hub
	admin         *store.User  // the seeded admin
	adminPassword string
	ob            *outbound.Outbound // renders queued mail, as the sender does after commit
}

// startPortal seeds st as `servicedesk serve` does and serves the portal
// until the test ends.
func startPortal(t testing.TB, st *store.Store, edit ...func(*configs.Config)) *portal {
	t.Helper()
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("portal: listen: %v", err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	base := "http://localhost:" + port

	cfg := configs.Defaults()
	cfg.HTTP.PublicURL = base
	for _, e := range edit {
		e(cfg)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}

	boot := ticketing.NewService(st)
	seeded, err := boot.Seed(ctx, ticketing.SeedInput{Company: cfg.Admin.Company, Email: cfg.Admin.Email, Name: cfg.Admin.Name})
	if err != nil {
		t.Fatalf("portal: seed: %v", err)
	}
	key, err := boot.SecretKey(ctx, cfg.Security.SecretKey)
	if err != nil {
		t.Fatalf("portal: secret key: %v", err)
	}
	c, err := compose.New()
	if err != nil {
		t.Fatalf("portal: compose: %v", err)
	}
	ob := outbound.New(outbound.Config{
		From:       compose.Address{Name: "JC Service Desk", Email: "support@localhost"},
		ReplyBase:  cfg.Mail.MainAddress(),
		PublicURL:  base,
		TagPrefix:  cfg.Mail.SubjectTagPrefix,
		Secret:     key,
		LoopValue:  "localhost",
		AckPerHour: cfg.Mail.AckLimitPerHour,
		Lang:       cfg.UI.Language,
		Zone:       cfg.Location(),
	}, c, log)
	sec := cfg.Security
	svc := ticketing.NewService(st, ticketing.WithTxHook(ob.Hook), ticketing.WithListener(ob.Listener),
		ticketing.WithLocation(cfg.Location()),
		ticketing.WithAccounts(ticketing.AccountConfig{
			Secret:           key,
			SessionLifetime:  sec.SessionLifetime,
			RememberLifetime: sec.RememberLifetime,
			IdleTimeout:      sec.IdleTimeout,
			Require2FARoles:  sec.Require2FARoles,
			HashConcurrency:  sec.PasswordHashConcurrency,
		}))
	srv, err := web.New(web.Deps{Cfg: cfg, Svc: svc, Log: log})
	if err != nil {
		t.Fatalf("portal: web.New: %v", err)
	}
	h := srv.Handler()
	hs := &http.Server{Handler: h}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	return &portal{t: t, st: st, svc: svc, cfg: cfg, base: base, h: h, srv: srv, admin: seeded.Admin, adminPassword: seeded.Password, ob: ob}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// company creates a company whose addresses at domain register
// themselves, with a published privacy policy that requires consent.
func (p *portal) company(name, domain string) *store.Company {
	p.t.Helper()
	ctx := context.Background()
	co, err := p.svc.CreateCompany(ctx, p.admin, ticketing.CompanyInput{Name: name, Domains: []string{domain}, ConsentRequired: true})
	if err != nil {
		p.t.Fatalf("portal: company: %v", err)
	}
	if _, err := p.svc.AddRevision(ctx, p.admin, ticketing.RevisionInput{CompanyID: co.ID, Title: "Política de privacidade",
		Body: "# Política de privacidade\n\nTratamos seus dados apenas para atender seus chamados.\n", Publish: true}); err != nil {
		p.t.Fatalf("portal: policy: %v", err)
	}
	return co
}

// mailTo returns the newest queued mail to addr, parsed: what its
// recipient would read.
func (p *portal) mailTo(addr string) *sentMail {
	p.t.Helper()
	ctx := context.Background()
	list, err := p.st.R().OutboxList(ctx, store.OutboxFilter{Limit: 100})
	if err != nil {
		p.t.Fatalf("outbox: %v", err)
	}
	for _, m := range list { // newest first
		if !strings.Contains(strings.ToLower(m.Recipients), strings.ToLower(addr)) {
			continue
		}
		return parseMail(p.t, p.rawOf(m.ID))
	}
	p.t.Fatalf("outbox: no mail to %s", addr)
	return nil
}

// rawOf is the bytes of outbox mail id, rendered as the sender would
// render them if they are not yet.
func (p *portal) rawOf(id int64) []byte {
	p.t.Helper()
	m, err := p.st.R().OutboxGet(context.Background(), id)
	if err != nil {
		p.t.Fatalf("outbox: %v", err)
	}
	raw, _, err := p.ob.Render(m)
	if err != nil {
		p.t.Fatalf("outbox %d: render: %v", id, err)
	}
	return raw
}

// sentMail is a mail as its reader sees it.
type sentMail struct {
	Subject string
	Text    string // the text/plain part
	HTML    string // the text/html part
}

// parseMail reads the .eml bytes with go-message, as a mail client does.
func parseMail(t testing.TB, raw []byte) *sentMail {
	t.Helper()
	r, err := mail.CreateReader(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatalf("mail: %v", err)
	}
	m := &sentMail{}
	if m.Subject, err = r.Header.Subject(); err != nil {
		t.Fatalf("mail subject: %v", err)
	}
	for {
		part, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("mail part: %v", err)
		}
		h, ok := part.Header.(*mail.InlineHeader)
		if !ok {
			continue
		}
		ct, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
		body, err := io.ReadAll(part.Body)
		if err != nil {
			t.Fatalf("mail body: %v", err)
		}
		switch ct {
		case "text/plain":
			m.Text += string(body)
		case "text/html":
			m.HTML += string(body)
		}
	}
	return m
}

var linkRE = regexp.MustCompile(`https?://[^\s"<>]+`)

// link returns the first link in the mail's text whose path starts with
// prefix, as a path the browser can open.
func (p *portal) link(m *sentMail, prefix string) string {
	p.t.Helper()
	for _, l := range linkRE.FindAllString(m.Text+"\n"+m.HTML, -1) {
		l = strings.TrimRight(l, ".,;)>")
		if path, ok := strings.CutPrefix(l, p.base); ok && strings.HasPrefix(path, prefix) {
			return path
		}
	}
	p.t.Fatalf("mail %q has no %s%s… link:\n%s", m.Subject, p.base, prefix, m.Text)
	return ""
}
