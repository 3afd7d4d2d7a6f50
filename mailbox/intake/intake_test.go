package intake_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jcservicedesk/servicedesk/mailbox/delivery"
	"github.com/jcservicedesk/servicedesk/mailbox/intake"
	"github.com/jcservicedesk/servicedesk/mailbox/thread"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

func TestNewTicketThenThreadedReply(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := newRig(t, st)
		out := r.deliver(delivery.SourceSMTP, mail("Maria <maria@acme.example>", "Impressora não imprime", "Desde ontem.", "Message-ID: <m1@acme.example>"))
		if out.Action != "ticket" || out.TicketNum == 0 {
			t.Fatalf("first mail: %+v", out)
		}
		v := r.ticket(out.TicketNum)
		if v.Ticket.Subject != "Impressora não imprime" || v.Ticket.Requester.Email != "maria@acme.example" || v.Ticket.CompanyID != r.acme.ID {
			t.Fatalf("ticket: %+v", v.Ticket)
		}
		reply := mail("maria@acme.example", "Re: Impressora não imprime", "Reiniciei e nada.\n\nOn Sun, 29 Nov 2026 at 10:00, Support <support@helpdesk.example> wrote:\n> Pode reiniciar?\n",
			"Message-ID: <m2@acme.example>", "In-Reply-To: <M1@acme.example>", "References: <m1@acme.example>")
		out2 := r.deliver(delivery.SourceIMAP, reply)
		if out2.Action != "comment" || out2.TicketNum != out.TicketNum {
			t.Fatalf("reply: %+v", out2)
		}
		v = r.ticket(out.TicketNum)
		if len(v.Comments) != 1 || v.Comments[0].BodyText != "Reiniciei e nada." {
			t.Fatalf("comment: %+v", v.Comments)
		}
	})
}

func TestSameMessageTwiceChangesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := newRig(t, st)
		raw := mail("maria@acme.example", "Sem internet", "Caiu tudo.", "Message-ID: <dup@acme.example>")
		first := r.deliver(delivery.SourceSMTP, raw)
		// The IMAP copy carries trace headers the SMTP copy lacked.
		again := r.deliver(delivery.SourceIMAP, "Received: from mx by imap; Sun, 29 Nov 2026 10:00:05 +0000\r\nReturn-Path: <maria@acme.example>\r\n"+raw)
		if first.Action != "ticket" || again.Action != "duplicate" || again.TicketNum != first.TicketNum {
			t.Fatalf("first %+v, again %+v", first, again)
		}
		// No Message-ID at all: the content hash still catches it.
		noID := mail("maria@acme.example", "Outra coisa", "Sem id.")
		a, b := r.deliver(delivery.SourcePipe, noID), r.deliver(delivery.SourcePipe, noID)
		if a.Action != "ticket" || b.Action != "duplicate" {
			t.Fatalf("no message-id: %+v %+v", a, b)
		}
		// A Message-ID reused for a different message is not a duplicate.
		reused := mail("joao@acme.example", "Assunto diferente", "Outro texto.", "Message-ID: <dup@acme.example>")
		if c := r.deliver(delivery.SourceSMTP, reused); c.Action != "ticket" {
			t.Fatalf("reused id: %+v", c)
		}
		if n := r.ticketCount(); n != 3 {
			t.Fatalf("tickets = %d, want 3", n)
		}
	})
}

func TestReplyTokenSurvivesSubjectChangeAndStrippedReferences(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := newRig(t, st)
		out := r.deliver(delivery.SourceSMTP, mail("maria@acme.example", "VPN", "Não conecta.", "Message-ID: <v1@acme.example>"))
		v := r.ticket(out.TicketNum)
		addr := thread.ReplyAddress("support@helpdesk.example", thread.SignToken(secret, v.Ticket.ID))
		raw := strings.Replace(mail("maria@acme.example", "assunto novo sem tag", "Funcionou!"), "To: Support <support@helpdesk.example>", "To: "+addr, 1)
		got := r.deliver(delivery.SourceSMTP, raw)
		if got.Action != "comment" || got.TicketNum != out.TicketNum || !strings.Contains(got.Reason, "token") {
			t.Fatalf("token reply: %+v", got)
		}
		// A forged token opens a new ticket instead.
		forged := strings.Replace(raw, addr, "support+t1aaaaaaaaaaaaaaaaaaaa@helpdesk.example", 1)
		forged = strings.Replace(forged, "Funcionou!", "Outro", 1)
		if f := r.deliver(delivery.SourceSMTP, forged); f.Action != "ticket" {
			t.Fatalf("forged token: %+v", f)
		}
	})
}

func TestSubjectTagNeedsAnAllowedSender(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := newRig(t, st)
		out := r.deliver(delivery.SourceSMTP, mail("maria@acme.example", "Email lento", "Muito lento."))
		tag := thread.SubjectTag("#", out.TicketNum)
		// A colleague of the same company may comment by tag while the
		// company shares tickets (the portal's rule); once it stops, the
		// colleague's mail opens a ticket of their own.
		col := r.deliver(delivery.SourceSMTP, mail("joao@acme.example", "Re: "+tag+" Email lento", "Aqui também."))
		if col.Action != "comment" || col.TicketNum != out.TicketNum {
			t.Fatalf("colleague: %+v", col)
		}
		ctx := context.Background()
		if err := st.InTx(ctx, func(q *store.Q) error {
			r.acme.ShareTickets = false
			return q.UpdateCompany(ctx, r.acme)
		}); err != nil {
			t.Fatal(err)
		}
		col = r.deliver(delivery.SourceSMTP, mail("joao@acme.example", "Re: "+tag+" Email lento", "Ainda lento."))
		if col.Action != "ticket" || col.TicketNum == out.TicketNum {
			t.Fatalf("colleague, not sharing: %+v", col)
		}
		// A stranger guessing the number gets a ticket of their own.
		str := r.deliver(delivery.SourceSMTP, mail("eve@evil.example", "Re: "+tag+" Email lento", "injected"))
		if str.Action != "ticket" || str.TicketNum == out.TicketNum {
			t.Fatalf("stranger: %+v", str)
		}
		if v := r.ticket(out.TicketNum); len(v.Comments) != 1 {
			t.Fatalf("comments on the original: %d", len(v.Comments))
		}
	})
}

func TestReplyToClosedTicket(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		r := newRig(t, st)
		out := r.deliver(delivery.SourceSMTP, mail("maria@acme.example", "Backup", "Falhou.", "Message-ID: <b1@acme.example>"))
		closeTicket := func(n int64, closedAgo time.Duration) {
			if v := r.ticket(n); v.Ticket.AssigneeID == nil {
				if _, err := r.svc.Assign(ctx, r.tech, n, r.tech); err != nil {
					t.Fatal(err)
				}
			}
			for _, s := range []string{"resolved", "closed"} {
				if _, err := r.svc.SetStatus(ctx, r.tech, n, s, ticketing.StatusInput{Solution: "feito", Reason: "feito", Evaluation: "ok", Classification: "outro"}); err != nil {
					t.Fatal(err)
				}
			}
			err := st.InTx(ctx, func(q *store.Q) error {
				tk, err := q.TicketByNumber(ctx, store.AllCompanies(), n, true)
				if err != nil {
					return err
				}
				at := time.Now().Add(-closedAgo).UTC()
				tk.ClosedAt = &at
				return q.UpdateTicket(ctx, tk)
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		closeTicket(out.TicketNum, 24*time.Hour)
		re := r.deliver(delivery.SourceSMTP, mail("maria@acme.example", "Re: Backup", "Falhou de novo.", "Message-ID: <b2@acme.example>", "In-Reply-To: <b1@acme.example>"))
		if re.Action != "comment" || re.TicketNum != out.TicketNum {
			t.Fatalf("reply within reopen_days: %+v", re)
		}
		if v := r.ticket(out.TicketNum); v.Ticket.Status != "reopened" {
			t.Fatalf("status %s, want reopened", v.Ticket.Status)
		}
		closeTicket(out.TicketNum, 30*24*time.Hour)
		late := r.deliver(delivery.SourceSMTP, mail("maria@acme.example", "Re: Backup", "E agora?", "Message-ID: <b3@acme.example>", "In-Reply-To: <b2@acme.example>"))
		if late.Action != "ticket" || late.TicketNum == out.TicketNum {
			t.Fatalf("late reply: %+v", late)
		}
		v := r.ticket(late.TicketNum)
		old := r.ticket(out.TicketNum)
		if v.Ticket.LinkedTicketID == nil || *v.Ticket.LinkedTicketID != old.Ticket.ID || old.Ticket.Status != "closed" {
			t.Fatalf("new ticket not linked: %+v", v.Ticket)
		}
	})
}

func TestAutomatedMail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := newRig(t, st)
		out := r.deliver(delivery.SourceSMTP, mail("maria@acme.example", "Senha", "Esqueci.", "Message-ID: <p1@acme.example>"))
		// Out-of-office from the requester, answering our mail: an internal
		// note, no status change, no events anyone acts on.
		r.events = nil
		ooo := r.deliver(delivery.SourceSMTP, mail("maria@acme.example", "Resposta automática: Senha", "Estou de férias.",
			"Auto-Submitted: auto-replied", "In-Reply-To: <p1@acme.example>"))
		if ooo.Action != "comment" {
			t.Fatalf("ooo: %+v", ooo)
		}
		v := r.ticket(out.TicketNum)
		if len(v.Comments) != 1 || !v.Comments[0].Internal || v.Ticket.Status != "new" {
			t.Fatalf("ooo on ticket: %+v status %s", v.Comments, v.Ticket.Status)
		}
		for _, ev := range r.events {
			if !ev.Automated {
				t.Fatalf("event %s not marked automated", ev.Kind)
			}
		}
		// An auto-reply that matches nothing opens no ticket.
		before := r.ticketCount()
		lone := r.deliver(delivery.SourceSMTP, mail("bot@other.example", "Automatic reply: hello", "I am away", "Auto-Submitted: auto-replied"))
		if lone.Action != "ignored" || r.ticketCount() != before {
			t.Fatalf("lone auto-reply: %+v", lone)
		}
		// Our own mail coming back is ignored.
		loop := r.deliver(delivery.SourceSMTP, mail("support@helpdesk.example", "[#1] x", "x", "X-JCServiceDesk-Loop: helpdesk.example"))
		if loop.Action != "ignored" {
			t.Fatalf("loop: %+v", loop)
		}
	})
}

func TestBounceMarksAddressAndNotesTicket(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		r := newRig(t, st)
		out := r.deliver(delivery.SourceSMTP, mail("maria@acme.example", "Impressora", "x"))
		v := r.ticket(out.TicketNum)
		// Pretend we sent a notification with this Message-ID.
		if err := st.InTx(ctx, func(q *store.Q) error {
			return q.AddMessageID(ctx, store.MessageRef{MessageID: "out-1@helpdesk.example", OriginalID: "out-1@helpdesk.example", TicketID: v.Ticket.ID, Direction: "out", Recipient: "joao@acme.example"})
		}); err != nil {
			t.Fatal(err)
		}
		dsn := "From: MAILER-DAEMON@mx.acme.example\r\nTo: support@helpdesk.example\r\nSubject: Undelivered Mail Returned to Sender\r\n" +
			"Message-ID: <dsn1@mx.acme.example>\r\nMIME-Version: 1.0\r\n" +
			"Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n" +
			"--B\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you that your message could not be delivered.\r\n" +
			"--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.acme.example\r\n\r\n" +
			"Final-Recipient: rfc822; joao@acme.example\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\r\n" +
			"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: support@helpdesk.example\r\nTo: joao@acme.example\r\nMessage-ID: <out-1@helpdesk.example>\r\nSubject: [#1001] Impressora\r\n" +
			"--B--\r\n"
		got, err := r.in.Deliver(ctx, delivery.Envelope{Source: delivery.SourceSMTP, MailFrom: "", Recipients: []string{"support@helpdesk.example"}}, []byte(dsn))
		if err != nil {
			t.Fatal(err)
		}
		if got.Action != "bounce" || got.TicketNum != out.TicketNum {
			t.Fatalf("bounce: %+v", got)
		}
		if b, _ := st.R().IsBouncing(ctx, "JOAO@acme.example"); !b {
			t.Fatal("address not marked bouncing")
		}
		v = r.ticket(out.TicketNum)
		if len(v.Comments) != 1 || !v.Comments[0].Internal || !strings.Contains(v.Comments[0].BodyText, "joao@acme.example") {
			t.Fatalf("bounce note: %+v", v.Comments)
		}
	})
}

func TestUnknownSenderPolicies(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		r := newRig(t, st, func(c *intake.Config) { c.UnknownSender = intake.UnknownQuarantine })
		out := r.deliver(delivery.SourceSMTP, mail("stranger@nowhere.example", "Hi", "x"))
		if out.Action != "quarantine" || !strings.Contains(out.Reason, "unknown sender") {
			t.Fatalf("quarantine policy: %+v", out)
		}
		held, err := st.R().QuarantineList(ctx, 10)
		if err != nil || len(held) != 1 || held[0].FromAddr != "stranger@nowhere.example" {
			t.Fatalf("quarantine list: %+v %v", held, err)
		}
		_, raw, err := st.R().QuarantineGet(ctx, held[0].ID)
		if err != nil || !strings.Contains(string(raw), "stranger@nowhere.example") {
			t.Fatalf("raw kept: %v", err)
		}
		// Known domain: becomes an unconfirmed client of that company.
		if o := r.deliver(delivery.SourceSMTP, mail("novo@acme.example", "Oi", "x")); o.Action != "ticket" {
			t.Fatalf("known domain: %+v", o)
		}
		u, err := st.R().UserByEmail(ctx, store.AllCompanies(), "novo@acme.example")
		if err != nil || u.ConfirmedAt != nil || u.PasswordHash != "" || u.CompanyIDValue() != r.acme.ID {
			t.Fatalf("created user: %+v %v", u, err)
		}

		rej := newRig(t, storetest.Open(t, st.Driver()), func(c *intake.Config) { c.UnknownSender = intake.UnknownReject })
		_, err = rej.in.Deliver(ctx, delivery.Envelope{Source: delivery.SourceSMTP, MailFrom: "x@nowhere.example"}, []byte(mail("x@nowhere.example", "Hi", "x")))
		if !delivery.IsPermanent(err) {
			t.Fatalf("reject over SMTP: %v", err)
		}
		// Over IMAP the mail is already ours: it is kept, not dropped.
		o := rej.deliver(delivery.SourceIMAP, mail("x@nowhere.example", "Hi", "x"))
		if o.Action != "quarantine" {
			t.Fatalf("reject over IMAP: %+v", o)
		}
	})
}

func TestNotMailAndStaffInternalNote(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := newRig(t, st)
		out := r.deliver(delivery.SourcePipe, "\x00\x01\x02 garbage that is not mail")
		if out.Action != "quarantine" || out.Reason != intake.ReasonNotMail {
			t.Fatalf("not mail: %+v", out)
		}
		tk := r.deliver(delivery.SourceSMTP, mail("maria@acme.example", "Teclado", "x"))
		note := strings.Replace(mail("tech@helpdesk.example", "Re: [#"+fmt.Sprint(tk.TicketNum)+"] Teclado", "Trocar o teclado."),
			"To: Support <support@helpdesk.example>", "To: comment@helpdesk.example", 1)
		got := r.deliver(delivery.SourceSMTP, note)
		if got.Action != "comment" {
			t.Fatalf("staff note: %+v", got)
		}
		v := r.ticket(tk.TicketNum)
		if len(v.Comments) != 1 || !v.Comments[0].Internal {
			t.Fatalf("staff mail to the comment address: %+v", v.Comments)
		}
	})
}

func TestRateLimitStopsLoops(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := newRig(t, st, func(c *intake.Config) { c.RateLimitPerHour = 3 })
		var last delivery.Outcome
		for i := 0; i < 5; i++ {
			last = r.deliver(delivery.SourceSMTP, mail("robot@acme.example", fmt.Sprintf("Alert %d", i), "disk full"))
		}
		if last.Action != "quarantine" || !strings.Contains(last.Reason, "rate limit") {
			t.Fatalf("5th message: %+v", last)
		}
		if n := r.ticketCount(); n != 3 {
			t.Fatalf("tickets = %d, want 3", n)
		}
	})
}

// TestConcurrentDeliveriesExactlyOnce sends many messages, each twice, from
// many goroutines at once: every message becomes exactly one ticket.
func TestConcurrentDeliveriesExactlyOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := newRig(t, st, func(c *intake.Config) { c.RateLimitPerHour = 0 })
		const n = 40
		var wg sync.WaitGroup
		errs := make(chan error, 2*n)
		for i := 0; i < n; i++ {
			raw := []byte(mail("maria@acme.example", fmt.Sprintf("Pedido %d", i), "x", fmt.Sprintf("Message-ID: <c%d@acme.example>", i)))
			for copyNo := 0; copyNo < 2; copyNo++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := r.in.Deliver(context.Background(), delivery.Envelope{Source: delivery.SourceSMTP, MailFrom: "maria@acme.example"}, raw); err != nil {
						errs <- err
					}
				}()
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if got := r.ticketCount(); got != n {
			t.Fatalf("tickets = %d, want %d", got, n)
		}
		counts, _ := st.R().CountMail(context.Background())
		if counts["ticket"] != n {
			t.Fatalf("mail rows: %v", counts)
		}
	})
}

// TestStoreDownIsTemporary: when the database is gone the intake returns
// an error (the SMTP receiver answers 451), never a false success.
func TestStoreDownIsTemporary(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	r := newRig(t, st)
	st.Close()
	_, err := r.in.Deliver(context.Background(), delivery.Envelope{Source: delivery.SourceSMTP}, []byte(mail("maria@acme.example", "x", "y")))
	if err == nil || delivery.IsPermanent(err) {
		t.Fatalf("err = %v, want a temporary error", err)
	}
	if errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

// TestStrangersInTheDefaultCompanyStayApart: with unknown_sender create,
// unrelated senders share the (isolated) default company; one cannot
// comment on another's ticket by guessing its number, nor be Cc'd in.
func TestStrangersInTheDefaultCompanyStayApart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := newRig(t, st)
		victim := r.deliver(delivery.SourceSMTP, mail("victim@gmail.example", "Minha senha", "ajuda"))
		tag := thread.SubjectTag("#", victim.TicketNum)
		attack := r.deliver(delivery.SourceSMTP, mail("attacker@evil.example", "Re: "+tag, "injected", "Cc: attacker2@evil.example"))
		if attack.Action != "ticket" || attack.TicketNum == victim.TicketNum {
			t.Fatalf("stranger got onto the ticket: %+v", attack)
		}
		v := r.ticket(victim.TicketNum)
		if len(v.Comments) != 0 || len(v.Participants) != 0 {
			t.Fatalf("victim's ticket changed: %d comments, %d participants", len(v.Comments), len(v.Participants))
		}
		attacker, err := st.R().UserByEmail(context.Background(), store.AllCompanies(), "attacker@evil.example")
		if err != nil {
			t.Fatal(err)
		}
		ts, err := r.svc.List(context.Background(), attacker, store.TicketFilter{})
		if err != nil || len(ts) != 1 || ts[0].Number != attack.TicketNum {
			t.Fatalf("attacker lists %d tickets (%v)", len(ts), err)
		}
	})
}

// TestForgedBounceSilencesNobody: a delivery report that is not about a
// mail we sent (anyone can forge one) marks no address as bouncing.
func TestForgedBounceSilencesNobody(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := newRig(t, st)
		dsn := "From: MAILER-DAEMON@evil.example\r\nTo: support@helpdesk.example\r\nSubject: Undelivered Mail Returned to Sender\r\n" +
			"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n" +
			"--B\r\nContent-Type: text/plain\r\n\r\nfailed\r\n" +
			"--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; evil.example\r\n\r\n" +
			"Final-Recipient: rfc822; boss@acme.example\r\nAction: failed\r\nStatus: 5.1.1\r\n" +
			"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <made-up@helpdesk.example>\r\n--B--\r\n"
		out, err := r.in.Deliver(context.Background(), delivery.Envelope{Source: delivery.SourceSMTP, MailFrom: ""}, []byte(dsn))
		if err != nil || out.Action != "bounce" {
			t.Fatalf("forged bounce: %+v %v", out, err)
		}
		if b, _ := st.R().IsBouncing(context.Background(), "boss@acme.example"); b {
			t.Fatal("a forged report marked an address as bouncing")
		}
	})
}

// The group committer is a component: Deliver works before Run starts
// and after it returns (each message alone), concurrently during it, and
// Run returns nil once its context ends.
func TestRunIsAnExplicitComponent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := newRig(t, st)
		in := intake.New(r.cfg, r.svc, nil)
		env := delivery.Envelope{Source: delivery.SourcePipe, Recipients: []string{"support@helpdesk.example"}}
		deliver := func(n string) {
			t.Helper()
			out, err := in.Deliver(context.Background(), env, []byte(mail("maria@acme.example", "Run "+n, "x", "Message-ID: <run-"+n+"@acme.example>")))
			if err != nil || out.Action != "ticket" {
				t.Fatalf("deliver %s: %+v %v", n, out, err)
			}
		}
		deliver("before")
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- in.Run(ctx) }()
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Go(func() { deliver(fmt.Sprint("during-", i)) })
		}
		wg.Wait()
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run: %v", err)
		}
		deliver("after")
	})
}

// Mail committed by the group committer is found by search soon after
// (its indexing is batched, searchIndexEvery), and what is still behind
// when Run stops is indexed at once.
func TestGroupCommittedMailIsSearchable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := newRig(t, st)
		in := intake.New(r.cfg, r.svc, nil)
		env := delivery.Envelope{Source: delivery.SourcePipe, Recipients: []string{"support@helpdesk.example"}}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- in.Run(ctx) }()
		stop := sync.OnceValue(func() error { cancel(); return <-done })
		t.Cleanup(func() { _ = stop() })
		find := func(word string) int {
			t.Helper()
			hits, err := st.R().SearchTickets(context.Background(), store.AllCompanies(), store.SearchFilter{Text: word})
			if err != nil {
				t.Fatal(err)
			}
			return len(hits)
		}
		deliver := func(subject, id string) {
			t.Helper()
			out, err := in.Deliver(context.Background(), env, []byte(mail("maria@acme.example", subject, "corpo", "Message-ID: <"+id+"@acme.example>")))
			if err != nil || out.Action != "ticket" {
				t.Fatalf("deliver: %+v %v", out, err)
			}
		}
		deliver("Scanner travado", "search-1")
		deadline := time.Now().Add(10 * time.Second)
		for find("scanner") != 1 {
			if time.Now().After(deadline) {
				t.Fatal("a group-committed ticket was not found by search within 10 s")
			}
			time.Sleep(20 * time.Millisecond)
		}
		// Stopping Run indexes what is left, at once.
		deliver("Teclado molhado", "search-2")
		if err := stop(); err != nil {
			t.Fatalf("Run: %v", err)
		}
		if n := find("teclado"); n != 1 {
			t.Fatalf("after Run stopped: %d hits for the last ticket, want 1", n)
		}
	})
}
