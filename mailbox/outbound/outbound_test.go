package outbound_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"

	"github.com/jcservicedesk/servicedesk/mailbox/compose"
	"github.com/jcservicedesk/servicedesk/mailbox/delivery"
	"github.com/jcservicedesk/servicedesk/mailbox/intake"
	"github.com/jcservicedesk/servicedesk/mailbox/outbound"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

var secret = []byte("round-trip-secret")

// desk is the whole helpdesk in one process: ticket service with the
// outbound hook, and the intake.
type desk struct {
	t    testing.TB
	st   *store.Store
	svc  *ticketing.Service
	in   *intake.Intake
	ob   *outbound.Outbound
	tech *store.User
	sent int64 // outbox rows already handed out by take
	mu   sync.Mutex
}

func newDesk(t testing.TB, st *store.Store, mod ...func(*outbound.Config)) *desk {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	c, err := compose.New()
	if err != nil {
		t.Fatal(err)
	}
	cfg := outbound.Config{
		From: compose.Address{Name: "Suporte JC", Email: "support@helpdesk.example"}, ReplyBase: "support@helpdesk.example",
		PublicURL: "https://helpdesk.example", Secret: secret, LoopValue: "helpdesk.example", Lang: "pt-BR",
	}
	for _, f := range mod {
		f(&cfg)
	}
	ob := outbound.New(cfg, c, log)
	d := &desk{t: t, st: st, ob: ob}
	d.svc = ticketing.NewService(st, ticketing.WithTxHook(ob.Hook))
	err = st.InTx(ctx, func(q *store.Q) error {
		if err := q.CreateCompany(ctx, &store.Company{Name: "Default"}); err != nil {
			return err
		}
		if err := q.CreateCompany(ctx, &store.Company{Name: "Acme", Domains: []string{"acme.example"}}); err != nil {
			return err
		}
		d.tech = &store.User{Email: "tech@helpdesk.example", Role: store.RoleTech, Name: "Ana Tech"}
		return q.CreateUser(ctx, d.tech)
	})
	if err != nil {
		t.Fatal(err)
	}
	d.in = intake.New(intake.Config{
		Addresses: []string{"support@helpdesk.example"}, UnknownSender: intake.UnknownCreate, DefaultCompany: "Default",
		ReopenDays: 14, SubjectTagPrefix: "#", RateLimitPerHour: 30, Secret: secret, LoopValues: []string{"helpdesk.example"},
		MaxMessageBytes: 10 << 20, MaxAttachment: 10 << 20,
	}, d.svc, log)
	return d
}

func (d *desk) deliver(raw string) delivery.Outcome {
	d.t.Helper()
	out, err := d.in.Deliver(context.Background(), delivery.Envelope{Source: delivery.SourceSMTP, MailFrom: "someone@example", Recipients: []string{"support@helpdesk.example"}}, []byte(raw))
	if err != nil {
		d.t.Fatal(err)
	}
	return out
}

// take returns the mails queued since the last call (as if delivered),
// rendered.
func (d *desk) take() []*store.OutboxMail {
	d.t.Helper()
	ms, err := d.st.R().OutboxList(context.Background(), store.OutboxFilter{Limit: 1000})
	if err != nil {
		d.t.Fatal(err)
	}
	var out []*store.OutboxMail
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].ID > d.sent {
			m, err := d.st.R().OutboxGet(context.Background(), ms[i].ID)
			if err != nil {
				d.t.Fatal(err)
			}
			// Rendered after commit, as the sender does (cmd/servicedesk).
			if !m.Rendered() {
				if m.Raw, m.Subject, err = d.ob.Render(m); err != nil {
					d.t.Fatal(err)
				}
			}
			out = append(out, m)
			d.sent = ms[i].ID
		}
	}
	return out
}

func header(t *testing.T, raw []byte) mail.Header {
	t.Helper()
	r, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return r.Header
}

func textPart(t *testing.T, raw []byte) string {
	t.Helper()
	r, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	for {
		p, err := r.NextPart()
		if err != nil {
			t.Fatalf("no text part: %v", err)
		}
		if ct, _, _ := p.Header.(*mail.InlineHeader).ContentType(); ct == "text/plain" {
			b, _ := io.ReadAll(p.Body)
			return string(b)
		}
	}
}

// reply builds a client's reply to our mail the way Gmail or Outlook
// quote it, with the subject edited.
func reply(t *testing.T, client string, from string, ours []byte, newText, newSubject string, keepRefs bool) string {
	h := header(t, ours)
	msgID, _ := h.MessageID()
	replyTo, _ := h.AddressList("Reply-To")
	quoted := textPart(t, ours)
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s-%d@client.example>\r\n",
		from, replyTo[0].Address, newSubject, time.Now().UTC().Format(time.RFC1123Z), client, time.Now().UnixNano())
	if keepRefs {
		fmt.Fprintf(&b, "In-Reply-To: <%s>\r\nReferences: <%s>\r\n", msgID, msgID)
	}
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	b.WriteString(newText + "\r\n\r\n")
	switch client {
	case "gmail":
		b.WriteString("On Sun, Nov 29, 2026 at 10:00 AM Suporte JC <support@helpdesk.example> wrote:\r\n")
		for _, l := range strings.Split(quoted, "\n") {
			b.WriteString("> " + strings.TrimRight(l, "\r") + "\r\n")
		}
	case "outlook":
		b.WriteString("________________________________\r\nDe: Suporte JC <support@helpdesk.example>\r\nEnviado: domingo, 29 de novembro de 2026 10:00\r\nPara: Maria <maria@acme.example>\r\nAssunto: chamado\r\n\r\n")
		b.WriteString(strings.ReplaceAll(quoted, "\n", "\r\n"))
	}
	return b.String()
}

// TestRoundTrip: our reply, answered from Gmail and Outlook with the
// subject changed (and once with References stripped, as some systems
// do), lands on the same ticket with the quote stripped.
func TestRoundTrip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		d := newDesk(t, st)
		first := d.deliver("From: Maria <maria@acme.example>\r\nTo: support@helpdesk.example\r\nSubject: Impressora não imprime\r\nMessage-ID: <Orig.123@Acme.example>\r\n\r\nDesde ontem.\r\n")
		if first.Action != "ticket" {
			t.Fatalf("first: %+v", first)
		}
		acks := d.take()
		if len(acks) != 1 || acks[0].Event != "created" || acks[0].Recipients != "maria@acme.example" {
			t.Fatalf("ack: %+v", acks)
		}
		ackHdr := header(t, acks[0].Raw)
		if irt := ackHdr.Get("In-Reply-To"); irt != "<Orig.123@Acme.example>" {
			t.Fatalf("ack In-Reply-To %q: must thread on the requester's original, as written", irt)
		}
		if _, err := d.svc.Assign(ctx, d.tech, first.TicketNum, d.tech); err != nil {
			t.Fatal(err)
		}
		for i, tc := range []struct {
			client   string
			keepRefs bool
		}{{"gmail", true}, {"outlook", true}, {"gmail", false}} {
			if _, err := d.svc.Comment(ctx, d.tech, first.TicketNum, ticketing.CommentInput{Body: fmt.Sprintf("Pode reiniciar? (%d)", i)}); err != nil {
				t.Fatal(err)
			}
			var ours *store.OutboxMail
			for _, m := range d.take() {
				if m.Event == "commented" && m.Recipients == "maria@acme.example" {
					ours = m
				}
			}
			if ours == nil {
				t.Fatal("no mail to the requester for the comment")
			}
			answer := fmt.Sprintf("Reiniciei e funcionou %d.", i)
			out := d.deliver(reply(t, tc.client, "Maria <maria@acme.example>", ours.Raw, answer, "assunto trocado pelo cliente", tc.keepRefs))
			if out.Action != "comment" || out.TicketNum != first.TicketNum {
				t.Fatalf("%s reply (refs %v): %+v", tc.client, tc.keepRefs, out)
			}
			v, err := d.svc.Get(ctx, d.tech, first.TicketNum)
			if err != nil {
				t.Fatal(err)
			}
			last := v.Comments[len(v.Comments)-1]
			if last.BodyText != answer {
				t.Fatalf("%s reply stored as %q, want the new text only", tc.client, last.BodyText)
			}
		}
	})
}

// TestAutoResponderLoopStops puts two kinds of auto-responder against the
// helpdesk: one that says it is automatic and one that does not (and even
// drops our threading headers). Each answers every mail we send it, for a
// bounded number of rounds. Our side must stop: at most one automatic
// reply per conversation, and never more than the per-recipient limit.
func TestAutoResponderLoopStops(t *testing.T) {
	for _, tc := range []struct {
		name            string
		headers         string
		threads         bool
		maxMailsToRobot int
	}{
		{"well-behaved", "Auto-Submitted: auto-replied\r\n", true, 1},
		{"no headers, threads", "", true, 1},
		{"no headers, new subject each time", "", false, 3}, // AckPerHour
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDesk(t, storetest.Open(t, store.SQLite))
			total := 0
			inbox := []string{"From: robot@robots.example\r\nTo: support@helpdesk.example\r\nSubject: Olá\r\nMessage-ID: <r0@robots.example>\r\n\r\nPreciso de ajuda.\r\n"}
			for round := 0; round < 20 && len(inbox) > 0; round++ {
				for _, raw := range inbox {
					d.deliver(raw)
				}
				inbox = nil
				for _, m := range d.take() {
					if m.Recipients != "robot@robots.example" {
						continue
					}
					total++
					h := header(t, m.Raw)
					id, _ := h.MessageID()
					var b strings.Builder
					subject := "Re: " + h.Get("Subject")
					if !tc.threads {
						subject = fmt.Sprintf("Resposta %d", round)
					}
					fmt.Fprintf(&b, "From: robot@robots.example\r\nTo: support@helpdesk.example\r\nSubject: %s\r\nMessage-ID: <r%d-%d@robots.example>\r\n%s", subject, round, total, tc.headers)
					if tc.threads {
						fmt.Fprintf(&b, "In-Reply-To: <%s>\r\n", id)
					}
					b.WriteString("\r\nEstou fora do escritório.\r\n")
					inbox = append(inbox, b.String())
				}
			}
			if total > tc.maxMailsToRobot {
				t.Fatalf("we sent the auto-responder %d mails, want at most %d", total, tc.maxMailsToRobot)
			}
			if total == 0 {
				t.Fatal("no acknowledgement at all: the test proves nothing")
			}
		})
	}
}

// TestReplyToInternalNoteStaysInternal: a tech who presses Reply on the
// mail of an internal note writes another internal note, not a public
// comment mailed to the requester.
func TestReplyToInternalNoteStaysInternal(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		d := newDesk(t, st)
		first := d.deliver("From: Maria <maria@acme.example>\r\nTo: support@helpdesk.example\r\nSubject: Reembolso\r\nMessage-ID: <r1@acme.example>\r\n\r\nQuero reembolso.\r\n")
		if _, err := d.svc.Assign(ctx, d.tech, first.TicketNum, d.tech); err != nil {
			t.Fatal(err)
		}
		lead := &store.User{Email: "lead@helpdesk.example", Role: store.RoleSupervisor, Name: "Lead"}
		if err := st.InTx(ctx, func(q *store.Q) error { return q.CreateUser(ctx, lead) }); err != nil {
			t.Fatal(err)
		}
		d.take()
		if _, err := d.svc.Comment(ctx, lead, first.TicketNum, ticketing.CommentInput{Body: "Não dar reembolso.", Internal: true}); err != nil {
			t.Fatal(err)
		}
		var note *store.OutboxMail
		for _, m := range d.take() {
			if m.Recipients == "maria@acme.example" {
				t.Fatalf("the requester was mailed an internal note: %s", m.Event)
			}
			if m.Event == "internal_note" && m.Recipients == "tech@helpdesk.example" {
				note = m
			}
		}
		if note == nil {
			t.Fatal("the assignee got no internal-note mail")
		}
		out := d.deliver(reply(t, "gmail", "Ana Tech <tech@helpdesk.example>", note.Raw, "Concordo, ela está blefando.", "Re: nota", true))
		if out.Action != "comment" || out.TicketNum != first.TicketNum {
			t.Fatalf("reply: %+v", out)
		}
		v, err := d.svc.Get(ctx, d.tech, first.TicketNum)
		if err != nil {
			t.Fatal(err)
		}
		last := v.Comments[len(v.Comments)-1]
		if !last.Internal {
			t.Fatalf("the reply to an internal note became public: %+v", last)
		}
		for _, m := range d.take() {
			if m.Recipients == "maria@acme.example" {
				t.Fatalf("the requester was mailed about it: %s", m.Event)
			}
		}
	})
}

// TestAckLimitIsConfigurableAndVisible: the acknowledgement cap is
// Config.AckPerHour (mail.ack_limit_per_hour), and a ticket whose
// acknowledgement was withheld says so in an internal note, which mails
// nobody.
func TestAckLimitIsConfigurableAndVisible(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		d := newDesk(t, st, func(c *outbound.Config) { c.AckPerHour = 2 })
		var tickets []int64
		for i := range 3 {
			out := d.deliver(fmt.Sprintf("From: maria@acme.example\r\nTo: support@helpdesk.example\r\nSubject: Pedido %d\r\nMessage-ID: <ack-%d@acme.example>\r\n\r\nAjuda.\r\n", i, i))
			if out.Action != "ticket" {
				t.Fatalf("mail %d: %+v", i, out)
			}
			tickets = append(tickets, out.TicketNum)
		}
		acks := 0
		for _, m := range d.take() {
			if m.Recipients == "maria@acme.example" && m.Event == ticketing.NoticeAck {
				acks++
			}
		}
		if acks != 2 {
			t.Fatalf("%d acknowledgements with ack_limit_per_hour 2, want 2", acks)
		}
		notes := func(num int64) []*store.Comment {
			tk, err := st.R().TicketByNumber(ctx, store.AllCompanies(), num, false)
			if err != nil {
				t.Fatal(err)
			}
			cs, err := st.R().Comments(ctx, tk.ID, true)
			if err != nil {
				t.Fatal(err)
			}
			var out []*store.Comment
			for _, c := range cs {
				if c.Internal {
					out = append(out, c)
				}
			}
			return out
		}
		if n := notes(tickets[1]); len(n) != 0 {
			t.Errorf("acknowledged ticket has notes: %+v", n)
		}
		n := notes(tickets[2])
		if len(n) != 1 || !strings.Contains(n[0].BodyText, "Acknowledgement to maria@acme.example not sent") || !strings.Contains(n[0].BodyText, "mail.ack_limit_per_hour = 2") {
			t.Fatalf("withheld acknowledgement: notes %+v, want one saying so", n)
		}
		if m := d.take(); len(m) != 0 {
			t.Errorf("the note mailed someone: %+v", m)
		}
	})
}

// TestBrokenTemplateDoesNotAbortTheChange: a stored override that fails at
// send time (here, a field that does not exist: Validate would refuse it,
// but a template valid when set can meet data it did not expect) gives the
// default mail; the ticket change commits. A text-only override renders
// both parts.
func TestBrokenTemplateDoesNotAbortTheChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		d := newDesk(t, st)
		err := st.InTx(ctx, func(q *store.Q) error {
			if err := q.SetEmailTemplate(ctx, &store.EmailTemplate{Event: ticketing.NoticeAck, Language: "pt-BR",
				Subject: "Recebido: {{.TicketSubject}}", BodyText: "{{.NoSuchField}}"}); err != nil {
				return err
			}
			return q.SetEmailTemplate(ctx, &store.EmailTemplate{Event: ticketing.NoticeCommented, Language: "pt-BR",
				BodyText: "Nova resposta de {{.ActorName}}:\n\n{{.Comment}}"})
		})
		if err != nil {
			t.Fatal(err)
		}
		out := d.deliver("From: maria@acme.example\r\nTo: support@helpdesk.example\r\nSubject: Impressora\r\nMessage-ID: <tpl-1@acme.example>\r\n\r\nNao imprime.\r\n")
		if out.Action != "ticket" {
			t.Fatalf("the ticket was not created: %+v", out)
		}
		ms := d.take()
		if len(ms) != 1 || ms[0].Event != ticketing.NoticeAck {
			t.Fatalf("queued %+v, want the acknowledgement", ms)
		}
		if !strings.Contains(textPart(t, ms[0].Raw), "foi recebido") {
			t.Errorf("acknowledgement is not the default:\n%s", textPart(t, ms[0].Raw))
		}
		if _, err := d.svc.Comment(ctx, d.tech, out.TicketNum, ticketing.CommentInput{Body: "Reinicie o spooler."}); err != nil {
			t.Fatal(err)
		}
		ms = d.take()
		if len(ms) != 1 {
			t.Fatalf("queued %d mails for the comment, want 1", len(ms))
		}
		raw := string(ms[0].Raw)
		if !strings.Contains(textPart(t, ms[0].Raw), "Nova resposta de Ana Tech:") || !strings.Contains(raw, "Nova resposta de Ana Tech:") {
			t.Errorf("text-only override not used for both parts:\n%s", raw)
		}
		if strings.Contains(raw, "adicionou") {
			t.Errorf("the HTML part keeps the default wording:\n%s", raw)
		}
	})
}

// TestTemplateCacheSeesChanges: overrides are cached, yet a template set or
// reset by another process (here, a transaction of its own, as the CLI's)
// is used by the very next mail.
func TestTemplateCacheSeesChanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		d := newDesk(t, st)
		out := d.deliver("From: maria@acme.example\r\nTo: support@helpdesk.example\r\nSubject: Cache\r\nMessage-ID: <cache-1@acme.example>\r\n\r\nOi.\r\n")
		d.take()
		set := func(text string) {
			t.Helper()
			err := st.InTx(ctx, func(q *store.Q) error {
				if text == "" {
					_, err := q.ResetEmailTemplate(ctx, 0, ticketing.NoticeCommented, "pt-BR")
					return err
				}
				return q.SetEmailTemplate(ctx, &store.EmailTemplate{Event: ticketing.NoticeCommented, Language: "pt-BR", BodyText: text})
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		mailText := func(i int) string {
			t.Helper()
			if _, err := d.svc.Comment(ctx, d.tech, out.TicketNum, ticketing.CommentInput{Body: fmt.Sprint("Resposta ", i)}); err != nil {
				t.Fatal(err)
			}
			ms := d.take()
			if len(ms) != 1 {
				t.Fatalf("comment %d queued %d mails, want 1", i, len(ms))
			}
			return textPart(t, ms[0].Raw)
		}
		for i, step := range []struct{ set, want string }{
			{"Versão A: {{.Comment}}", "Versão A: Resposta 0"},
			{"", "Resposta 1"}, // the same cached key, still version A: must not be used
			{"Versão B: {{.Comment}}", "Versão B: Resposta 2"},
			{"Versão C: {{.Comment}}", "Versão C: Resposta 3"},
		} {
			set(step.set)
			got := mailText(i)
			if !strings.Contains(got, step.want) || (step.set == "" && strings.Contains(got, "Versão")) {
				t.Errorf("step %d: mail text %q, want %q", i, got, step.want)
			}
		}
	})
}

// TestOurRecipientsAreOnTheThread: every address we mail on a ticket's
// conversation is recorded on its thread in the outbox transaction, with
// the Message-ID of that mail; internal notes (to staff) are not.
func TestOurRecipientsAreOnTheThread(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		d := newDesk(t, st)
		first := d.deliver("From: Maria <maria@acme.example>\r\nTo: support@helpdesk.example\r\nSubject: Rede lenta\r\nMessage-ID: <t1@acme.example>\r\n\r\nLenta.\r\n")
		acks := d.take()
		if len(acks) != 1 {
			t.Fatalf("acks %+v", acks)
		}
		if _, err := d.svc.Comment(ctx, d.tech, first.TicketNum, ticketing.CommentInput{Body: "nota", Internal: true}); err != nil {
			t.Fatal(err)
		}
		d.take()
		v, err := d.svc.Get(ctx, d.tech, first.TicketNum)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := st.R().ThreadAddresses(ctx, v.Ticket.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || rows[0].Address != "maria@acme.example" || rows[0].How != store.ThreadSentTo || rows[0].MessageID != acks[0].MessageID {
			t.Fatalf("thread %+v, want maria as the recipient of %s only", rows, acks[0].MessageID)
		}
	})
}
