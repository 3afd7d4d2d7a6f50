package outbound_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"

	"github.com/jcservicedesk/servicedesk/mailbox/compose"
	"github.com/jcservicedesk/servicedesk/mailbox/outbound"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// accountDesk is a ticketing.Service with the outbound hook and listener,
// a pt-BR company, an English-speaking branded one and three people.
type accountDesk struct {
	desk
	log             *bytes.Buffer
	woke            atomic.Int64
	ptCo, enCo      *store.Company
	ana, bob, carla *store.User // ana: language en in ptCo; bob: no language in enCo; carla: staff, no company
}

func newAccountDesk(t *testing.T, st *store.Store) *accountDesk {
	ctx := context.Background()
	c, err := compose.New()
	if err != nil {
		t.Fatal(err)
	}
	d := &accountDesk{log: &bytes.Buffer{}}
	d.t, d.st = t, st
	ob := outbound.New(outbound.Config{
		From:      compose.Address{Name: "Suporte JC", Email: "support@helpdesk.example"},
		ReplyBase: "support@helpdesk.example", PublicURL: "https://helpdesk.example/", Secret: secret,
		LoopValue: "helpdesk.example", Lang: "pt-BR",
	}, c, slog.New(slog.NewTextHandler(d.log, nil)))
	ob.OnQueued(func() { d.woke.Add(1) })
	d.svc = ticketing.NewService(st, ticketing.WithTxHook(ob.Hook), ticketing.WithListener(ob.Listener))
	err = st.InTx(ctx, func(q *store.Q) error {
		d.ptCo = &store.Company{Name: "Ótica São João", Domains: []string{"otica.example"}}
		d.enCo = &store.Company{Name: "Acme Ltd", Domains: []string{"acme.example"}, Language: "en", BrandPrimary: "#7c3aed"}
		for _, co := range []*store.Company{d.ptCo, d.enCo} {
			if err := q.CreateCompany(ctx, co); err != nil {
				return err
			}
		}
		d.ana = &store.User{Email: "ana@otica.example", Name: "Ana Lima", Role: store.RoleClient, CompanyID: &d.ptCo.ID, Language: "en"}
		d.bob = &store.User{Email: "bob@acme.example", Name: "Bob Stone", Role: store.RoleClient, CompanyID: &d.enCo.ID}
		d.carla = &store.User{Email: "carla@helpdesk.example", Name: "Carla Tech", Role: store.RoleTech}
		for _, u := range []*store.User{d.ana, d.bob, d.carla} {
			if err := q.CreateUser(ctx, u); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// emit queues m the way the account rules do: inside a transaction.
func (d *accountDesk) emit(m ticketing.AccountMail) error {
	return d.svc.TxWith(context.Background(), func(tx *ticketing.Tx) error {
		tx.EmitAccount(&m)
		return nil
	})
}

func htmlPart(t *testing.T, raw []byte) string {
	t.Helper()
	r, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	for {
		p, err := r.NextPart()
		if err != nil {
			t.Fatalf("no html part: %v", err)
		}
		if ct, _, _ := p.Header.(*mail.InlineHeader).ContentType(); ct == "text/html" {
			b, _ := io.ReadAll(p.Body)
			return string(b)
		}
	}
}

// TestAccountMailQueued: every kind becomes one queued mail, in the
// transaction, with no ticket and no threading, in the right language and
// brand, with its link (token included) or code.
func TestAccountMailQueued(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		d := newAccountDesk(t, st)
		now := time.Now()
		client := ticketing.Client{IP: netip.MustParseAddr("::ffff:203.0.113.9"), UserAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"}
		for _, c := range []struct {
			name      string
			m         ticketing.AccountMail
			lang      string // html lang
			subject   string // part of the subject
			text      []string
			brandHex  string
			autoKind  string
			notInText []string
		}{
			{"confirm, the user's language over the company's", ticketing.AccountMail{Kind: ticketing.AccountConfirm, To: d.ana.Email, User: d.ana, Company: d.ptCo, Token: "tok.C1-_", Expires: now.Add(24 * time.Hour)},
				"en", "Confirm your email – Ótica São João", []string{"https://helpdesk.example/confirm/tok.C1-_", "24 hours"}, "", "account", nil},
			{"reset, the asked language over the user's", ticketing.AccountMail{Kind: ticketing.AccountReset, To: d.ana.Email, User: d.ana, Company: d.ptCo, Token: "r3set", Expires: now.Add(2 * time.Hour), Lang: "pt-BR"},
				"pt-BR", "Redefinição de senha", []string{"https://helpdesk.example/reset/r3set", "2 horas", "ignore esta mensagem"}, "", "account", nil},
			{"sign-in link, the company found from the user", ticketing.AccountMail{Kind: ticketing.AccountSignInLink, To: d.bob.Email, User: d.bob, Token: "s1gn", Expires: now.Add(15 * time.Minute)},
				"en", "Your sign-in link – Acme Ltd", []string{"https://helpdesk.example/login/link/s1gn", "15 minutes"}, "#7c3aed", "account", nil},
			{"code, never in the subject", ticketing.AccountMail{Kind: ticketing.AccountLoginCode, To: d.carla.Email, User: d.carla, Code: "402913", Expires: now.Add(10 * time.Minute)},
				"pt-BR", "Seu código de acesso", []string{">402913<", "10 minutos", "https://helpdesk.example/forgot"}, "", "account-code", nil},
			{"new device", ticketing.AccountMail{Kind: ticketing.AccountNewDevice, To: d.bob.Email, User: d.bob, Company: d.enCo, Client: client},
				"en", "New sign-in to your account", []string{"203.0.113.9", "Firefox on Linux", "https://helpdesk.example/forgot"}, "#7c3aed", "account-notice", []string{"Gecko", "::ffff"}},
			{"register attempt", ticketing.AccountMail{Kind: ticketing.AccountRegisterExists, To: d.ana.Email, User: d.ana, Client: client},
				"en", "Someone tried to register with your email", []string{"https://helpdesk.example/login", "https://helpdesk.example/forgot", "203.0.113.9"}, "", "account-notice", nil},
			{"invitation to a new address", ticketing.AccountMail{Kind: ticketing.AccountInvite, To: "Novo@Acme.example", Company: d.enCo, Token: "inv+1/2", Expires: now.Add(7 * 24 * time.Hour)},
				"en", "Your invitation to the Acme Ltd service desk", []string{"https://helpdesk.example/register?invite=inv%2B1%2F2", "7 days"}, "#7c3aed", "account", nil},
		} {
			t.Run(c.m.Kind, func(t *testing.T) {
				woke := d.woke.Load()
				if err := d.emit(c.m); err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				ms := d.take()
				if len(ms) != 1 {
					t.Fatalf("%s: queued %d mails, want 1", c.name, len(ms))
				}
				row := ms[0]
				if row.TicketID != nil || row.Event != c.m.Kind || row.AutoKind != c.autoKind || row.Status != "queued" {
					t.Errorf("%s: row ticket %v event %q auto %q status %q", c.name, row.TicketID, row.Event, row.AutoKind, row.Status)
				}
				if row.Recipients != store.NormalizeEmail(c.m.To) || row.MailFrom != "support@helpdesk.example" {
					t.Errorf("%s: recipients %q from %q", c.name, row.Recipients, row.MailFrom)
				}
				if !strings.Contains(row.Subject, c.subject) || strings.Contains(row.Subject, "[#") {
					t.Errorf("%s: subject %q, want %q", c.name, row.Subject, c.subject)
				}
				if c.m.Code != "" && strings.Contains(row.Subject, c.m.Code) {
					t.Errorf("%s: the code is in the subject %q", c.name, row.Subject)
				}
				h := header(t, row.Raw)
				if id, _ := h.MessageID(); id == "" || id != row.MessageID || !strings.HasSuffix(id, "@helpdesk.example") {
					t.Errorf("%s: Message-ID %q, row %q", c.name, id, row.MessageID)
				}
				for _, k := range []string{"In-Reply-To", "References", "Reply-To", "Precedence"} {
					if h.Has(k) {
						t.Errorf("%s: has %s: %q", c.name, k, h.Get(k))
					}
				}
				if h.Get("Auto-Submitted") != "auto-generated" || h.Get("X-Auto-Response-Suppress") != "All" || h.Get("X-JCServiceDesk-Loop") != "helpdesk.example" {
					t.Errorf("%s: automatic-mail headers %q %q %q", c.name, h.Get("Auto-Submitted"), h.Get("X-Auto-Response-Suppress"), h.Get("X-JCServiceDesk-Loop"))
				}
				text, html := textPart(t, row.Raw), htmlPart(t, row.Raw)
				if c.m.Code != "" && !strings.HasPrefix(text, "Seu código de acesso: "+c.m.Code+"\r\n") {
					t.Errorf("%s: the code is not the text's first line:\n%q", c.name, text)
				}
				for _, w := range c.text {
					if w == ">"+c.m.Code+"<" {
						if !strings.Contains(html, w) || !strings.Contains(text, c.m.Code) {
							t.Errorf("%s: code missing", c.name)
						}
						continue
					}
					if !strings.Contains(text, w) || !strings.Contains(html, strings.ReplaceAll(w, "&", "&amp;")) {
						t.Errorf("%s: %q missing from text or html:\n%s", c.name, w, text)
					}
				}
				for _, w := range c.notInText {
					if strings.Contains(text, w) || strings.Contains(html, w) {
						t.Errorf("%s: %q should not be in the mail", c.name, w)
					}
				}
				if !strings.Contains(html, `<html lang="`+c.lang+`">`) {
					t.Errorf("%s: html not in %s", c.name, c.lang)
				}
				if c.brandHex != "" && !strings.Contains(html, c.brandHex) {
					t.Errorf("%s: html lacks the company's colour %s", c.name, c.brandHex)
				}
				if d.woke.Load() == woke {
					t.Errorf("%s: the sender was not woken", c.name)
				}
			})
		}
	})
}

// TestAccountMailBadInput: an account event that cannot become a mail (no
// token for a link, an unknown kind) fails the transaction: nothing queued.
func TestAccountMailBadInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		d := newAccountDesk(t, st)
		for _, m := range []ticketing.AccountMail{
			{Kind: ticketing.AccountReset, To: d.ana.Email, User: d.ana},
			{Kind: ticketing.AccountLoginCode, To: d.ana.Email, User: d.ana},
			{Kind: "welcome", To: d.ana.Email, User: d.ana, Token: "x"},
			{Kind: ticketing.AccountConfirm, To: "not an address", Token: "x"},
		} {
			if err := d.emit(m); err == nil {
				t.Errorf("%+v: no error", m)
			}
		}
		if err := d.svc.TxWith(context.Background(), func(tx *ticketing.Tx) error { tx.EmitAccount(nil); return nil }); err == nil {
			t.Error("nil mail: no error")
		}
		if ms := d.take(); len(ms) != 0 {
			t.Errorf("queued %d mails, want none", len(ms))
		}
	})
}

// TestAccountMailLimits: resets to one address stop at 10 an hour, logged
// without the token; the owner's sign-in code has its own budget, so a
// stranger asking for resets cannot keep it from them; notices stop at 3.
func TestAccountMailLimits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		d := newAccountDesk(t, st)
		exp := time.Now().Add(2 * time.Hour)
		for i := range 12 {
			if err := d.emit(ticketing.AccountMail{Kind: ticketing.AccountReset, To: d.ana.Email, User: d.ana, Token: "secret-reset-token-" + string(rune('a'+i)), Expires: exp}); err != nil {
				t.Fatal(err)
			}
		}
		if n := len(d.take()); n != 10 {
			t.Errorf("queued %d resets, want 10", n)
		}
		logged := d.log.String()
		if strings.Count(logged, "per-address limit reached") != 2 || !strings.Contains(logged, "kind=reset") {
			t.Errorf("withheld resets not logged:\n%s", logged)
		}
		if strings.Contains(logged, "secret-reset-token") {
			t.Errorf("the log has a token:\n%s", logged)
		}
		if err := d.emit(ticketing.AccountMail{Kind: ticketing.AccountLoginCode, To: d.ana.Email, User: d.ana, Code: "123456", Expires: exp}); err != nil {
			t.Fatal(err)
		}
		if ms := d.take(); len(ms) != 1 || ms[0].Event != ticketing.AccountLoginCode {
			t.Errorf("the sign-in code was withheld behind the resets: %d queued", len(ms))
		}
		for range 4 {
			if err := d.emit(ticketing.AccountMail{Kind: ticketing.AccountRegisterExists, To: d.ana.Email, User: d.ana}); err != nil {
				t.Fatal(err)
			}
		}
		if n := len(d.take()); n != 3 {
			t.Errorf("queued %d register notices, want 3", n)
		}
		if strings.Contains(d.log.String(), "123456") {
			t.Error("the log has the code")
		}
	})
}

// TestAccountMailCompanyOverride: a company's override of an account mail
// is used for its people, the default for everyone else.
func TestAccountMailCompanyOverride(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		d := newAccountDesk(t, st)
		err := st.InTx(ctx, func(q *store.Q) error {
			return q.SetEmailTemplate(ctx, &store.EmailTemplate{CompanyID: &d.enCo.ID, Event: ticketing.AccountConfirm, Language: "en",
				Subject: "Welcome to Acme", BodyText: "Confirm here: {{.ActionURL}} (valid {{.ValidFor}})"})
		})
		if err != nil {
			t.Fatal(err)
		}
		exp := time.Now().Add(24 * time.Hour)
		for _, u := range []*store.User{d.bob, d.ana} {
			if err := d.emit(ticketing.AccountMail{Kind: ticketing.AccountConfirm, To: u.Email, User: u, Token: "t-" + u.Name[:3], Expires: exp}); err != nil {
				t.Fatal(err)
			}
		}
		ms := d.take()
		if len(ms) != 2 {
			t.Fatalf("queued %d, want 2", len(ms))
		}
		if ms[0].Subject != "Welcome to Acme" || !strings.Contains(textPart(t, ms[0].Raw), "Confirm here: https://helpdesk.example/confirm/t-Bob (valid 24 hours)") {
			t.Errorf("override not used for Acme: %q\n%s", ms[0].Subject, textPart(t, ms[0].Raw))
		}
		if !strings.HasPrefix(ms[1].Subject, "Confirm your email") {
			t.Errorf("override leaked to another company: %q", ms[1].Subject)
		}
	})
}
