package intake_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/jcservicedesk/servicedesk/mailbox/auth"
	"github.com/jcservicedesk/servicedesk/mailbox/auth/authtest"
	"github.com/jcservicedesk/servicedesk/mailbox/delivery"
	"github.com/jcservicedesk/servicedesk/mailbox/intake"
	"github.com/jcservicedesk/servicedesk/mailbox/thread"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
)

// authZone is the DNS the authentication tests see: the helpdesk's domain
// signs and publishes p=reject; acme.example publishes nothing; the
// forger's target forged.example has p=reject and no key.
func authZone(t *testing.T) (*authtest.Server, *authtest.Key) {
	s := authtest.Start(t)
	key := s.NewKey(t, "helpdesk.example", "sel")
	s.SetTXT("_dmarc.helpdesk.example", "v=DMARC1; p=reject")
	s.SetTXT("helpdesk.example", "v=spf1 ip4:127.0.0.1 -all")
	s.SetTXT("_dmarc.forged.example", "v=DMARC1; p=reject")
	s.SetTXT("_dmarc.flaky.example", authtest.ServFail)
	return s, key
}

func withAuth(s *authtest.Server, policy string) func(*intake.Config) {
	return func(c *intake.Config) {
		c.Auth = auth.New(auth.Config{TrustedAuthServID: "mx.helpdesk.example"}, auth.NewResolver(s.Addr), slog.New(slog.NewTextHandler(io.Discard, nil)))
		c.SenderPolicy = policy
		c.BounceAddress = "bounce@helpdesk.example"
	}
}

func (r *rig) deliverEnv(env delivery.Envelope, raw string) (delivery.Outcome, error) {
	r.t.Helper()
	if env.Recipients == nil {
		env.Recipients = []string{"support@helpdesk.example"}
	}
	return r.in.Deliver(context.Background(), env, []byte(raw))
}

func smtpFrom(ip net.IP, mailFrom string) delivery.Envelope {
	return delivery.Envelope{Source: delivery.SourceSMTP, MailFrom: mailFrom, ClientIP: ip, Helo: "client.example"}
}

var (
	ourIP     = net.IPv4(127, 0, 0, 1)
	strangeIP = net.IPv4(192, 0, 2, 9)
)

func TestStaffMustAuthenticate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		dns, key := authZone(t)
		r := newRig(t, st, withAuth(dns, intake.SenderFlag))
		opened, err := r.deliverEnv(delivery.Envelope{Source: delivery.SourceIMAP}, mail("maria@acme.example", "Impressora", "não imprime"))
		if err != nil || opened.Action != store.MailTicket {
			t.Fatalf("opening mail: %+v %v", opened, err)
		}
		v := r.ticket(opened.TicketNum)
		tag := "[#" + strconv.FormatInt(opened.TicketNum, 10) + "] "
		bound := thread.ReplyAddress("support@helpdesk.example", thread.SignTokenFor(secret, v.Ticket.ID, "tech@helpdesk.example"))
		boundMaria := thread.ReplyAddress("support@helpdesk.example", thread.SignTokenFor(secret, v.Ticket.ID, "maria@acme.example"))
		unbound := thread.ReplyAddress("support@helpdesk.example", thread.SignToken(secret, v.Ticket.ID))

		cases := []struct {
			name   string
			env    delivery.Envelope
			raw    string
			acts   bool   // a comment by the tech appears
			reason string // else: quarantined with a reason starting so
		}{
			{"forged over SMTP, SPF fail and p=reject", smtpFrom(strangeIP, "tech@helpdesk.example"),
				mail("Tech <tech@helpdesk.example>", tag+"pay here", "click http://evil.example"), false, intake.ReasonStaffFail},
			{"DKIM of another domain over IMAP", delivery.Envelope{Source: delivery.SourceIMAP},
				string(dns.NewKey(t, "evil.example", "s").Sign(t, []byte(mail("tech@helpdesk.example", tag+"x", "y", "Message-ID: <f2@evil.example>")))), false, intake.ReasonStaffUnverified},
			{"unsigned over IMAP (no SPF possible)", delivery.Envelope{Source: delivery.SourceIMAP},
				mail("tech@helpdesk.example", tag+"hi", "unsigned", "Message-ID: <u1@x>"), false, intake.ReasonStaffUnverified},
			{"unbound old token does not authenticate", delivery.Envelope{Source: delivery.SourceIMAP, Recipients: []string{unbound}},
				mail("tech@helpdesk.example", "Re: hi", "old token", "Message-ID: <u2@x>"), false, intake.ReasonStaffUnverified},
			{"token bound to someone else", delivery.Envelope{Source: delivery.SourceIMAP, Recipients: []string{boundMaria}},
				mail("tech@helpdesk.example", "Re: hi", "maria's token", "Message-ID: <u3@x>"), false, intake.ReasonStaffUnverified},
			{"DKIM aligned", delivery.Envelope{Source: delivery.SourceIMAP},
				string(key.Sign(t, []byte(mail("tech@helpdesk.example", tag+"fixed", "signed reply", "Message-ID: <s1@helpdesk.example>")))), true, ""},
			{"SPF aligned", smtpFrom(ourIP, "tech@helpdesk.example"),
				mail("tech@helpdesk.example", tag+"spf", "spf reply", "Message-ID: <s2@helpdesk.example>"), true, ""},
			{"token bound to the tech", delivery.Envelope{Source: delivery.SourceIMAP, Recipients: []string{bound}},
				mail("tech@helpdesk.example", "Re: whatever", "bound reply", "Message-ID: <s3@x>"), true, ""},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				before := len(r.ticket(opened.TicketNum).Comments)
				out, err := r.deliverEnv(c.env, c.raw)
				if err != nil {
					t.Fatal(err)
				}
				after := r.ticket(opened.TicketNum).Comments
				if c.acts {
					if out.Action != store.MailComment || len(after) != before+1 || after[len(after)-1].AuthorID == nil || *after[len(after)-1].AuthorID != r.tech.ID {
						t.Fatalf("did not act as the tech: %+v", out)
					}
					return
				}
				if out.Action != store.MailQuarantine || !strings.HasPrefix(out.Reason, c.reason) {
					t.Fatalf("outcome %+v, want quarantine %q", out, c.reason)
				}
				if len(after) != before {
					t.Fatalf("a comment was added: %+v", after[len(after)-1])
				}
				held, _, err := st.R().QuarantineGet(context.Background(), out.QuarantineID)
				if err != nil || !strings.Contains(held.Reason, "tech@helpdesk.example") {
					t.Fatalf("quarantine entry %+v %v", held, err)
				}
			})
		}
		got, err := st.R().MailAuthOfTicket(context.Background(), v.Ticket.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got[0].Verdict != store.MailAuthNone {
			t.Errorf("opening mail verdict %+v, want none", got[0])
		}
		pass := 0
		for _, a := range got {
			if a.Verdict == store.MailAuthPass {
				pass++
			}
		}
		if pass != 2 { // DKIM and SPF; the bound-token reply itself verified nothing
			t.Errorf("verdicts %+v, want two passes", got)
		}
	})
}

func TestSenderPolicy(t *testing.T) {
	forged := mail("ceo@forged.example", "Transfer", "urgent", "Message-ID: <p1@evil.example>")
	// Over IMAP only the trusted receiving host can say it failed.
	forgedAR := "Authentication-Results: mx.helpdesk.example; spf=fail smtp.mailfrom=forged.example; dmarc=fail header.from=forged.example\r\n" + forged
	imap := delivery.Envelope{Source: delivery.SourceIMAP}
	cases := []struct {
		policy string
		env    delivery.Envelope
		raw    string
		action string
		reject bool
	}{
		{intake.SenderFlag, smtpFrom(strangeIP, "ceo@forged.example"), forged, store.MailTicket, false},
		{intake.SenderFlag, imap, forgedAR, store.MailTicket, false},
		{intake.SenderQuarantine, smtpFrom(strangeIP, "ceo@forged.example"), forged, store.MailQuarantine, false},
		{intake.SenderQuarantine, imap, forgedAR, store.MailQuarantine, false},
		{intake.SenderQuarantine, imap, forged, store.MailTicket, false}, // no verdict without SPF
		{intake.SenderReject, smtpFrom(strangeIP, "ceo@forged.example"), forged, "", true},
		{intake.SenderReject, imap, forgedAR, store.MailQuarantine, false}, // already accepted: kept
	}
	dns, _ := authZone(t)
	for _, c := range cases {
		t.Run(c.policy+"/"+string(c.env.Source)+"/"+strconv.Itoa(len(c.raw)), func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, st *store.Store) {
				r := newRig(t, st, withAuth(dns, c.policy))
				out, err := r.deliverEnv(c.env, c.raw)
				if c.reject {
					if !delivery.IsPermanent(err) {
						t.Fatalf("want a permanent refusal, got %+v %v", out, err)
					}
					return
				}
				if err != nil || out.Action != c.action {
					t.Fatalf("outcome %+v %v, want %s", out, err, c.action)
				}
				// A requester whose domain publishes nothing is never held.
				plain, err := r.deliverEnv(delivery.Envelope{Source: delivery.SourceIMAP}, mail("maria@acme.example", "Oi", "x"))
				if err != nil || plain.Action != store.MailTicket {
					t.Fatalf("unverifiable requester: %+v %v", plain, err)
				}
			})
		})
	}
}

func TestAuthDNSErrorIsTemporary(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	dns, _ := authZone(t)
	r := newRig(t, st, withAuth(dns, intake.SenderFlag))
	out, err := r.deliverEnv(delivery.Envelope{Source: delivery.SourceSMTP}, mail("x@flaky.example", "Oi", "x"))
	var te *intake.AuthTempError
	if !errors.As(err, &te) || delivery.IsPermanent(err) {
		t.Fatalf("want a temporary error, got %+v %v", out, err)
	}
	if n := r.ticketCount(); n != 0 {
		t.Fatalf("%d tickets after a temporary failure", n)
	}
}

func TestBounceMatching(t *testing.T) {
	dsn := func(rcpt, finalRecipient, quotedID string) (delivery.Envelope, string) {
		var fr string
		if finalRecipient != "" {
			fr = "Final-Recipient: rfc822; " + finalRecipient + "\r\n"
		}
		return delivery.Envelope{Source: delivery.SourceSMTP, Recipients: []string{rcpt}},
			"From: MAILER-DAEMON@mx.acme.example\r\nTo: " + rcpt + "\r\nSubject: Undelivered Mail Returned to Sender\r\n" +
				"Message-ID: <dsn-" + strconv.Itoa(len(rcpt+finalRecipient+quotedID)) + finalRecipient + "@mx.acme.example>\r\nMIME-Version: 1.0\r\n" +
				"Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n" +
				"--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n" +
				"--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.acme.example\r\n\r\n" +
				fr + "Action: failed\r\nStatus: 5.1.1\r\n" +
				"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <" + quotedID + ">\r\n--B--\r\n"
	}
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		dns, _ := authZone(t)
		r := newRig(t, st, withAuth(dns, intake.SenderFlag))
		opened := r.deliver(delivery.SourceIMAP, mail("maria@acme.example", "Impressora", "x"))
		tid := r.ticket(opened.TicketNum).Ticket.ID
		var joao, ana store.OutboxMail
		if err := st.InTx(ctx, func(q *store.Q) error {
			for _, m := range []*store.OutboxMail{&joao, &ana} {
				*m = store.OutboxMail{TicketID: &tid, Event: "comment", AutoKind: "auto-generated", MailFrom: "support@helpdesk.example", Subject: "s", Raw: []byte("x")}
			}
			joao.Recipients, joao.MessageID = "joao@acme.example", "<out-joao@helpdesk.example>"
			ana.Recipients, ana.MessageID = "ana@acme.example", "<out-ana@helpdesk.example>"
			for _, m := range []*store.OutboxMail{&joao, &ana} {
				if err := q.EnqueueMail(ctx, m); err != nil {
					return err
				}
				if err := q.AddMessageID(ctx, store.MessageRef{MessageID: thread.NormalizeID(m.MessageID), OriginalID: m.MessageID, TicketID: tid, Direction: "out", Recipient: m.Recipients}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		verp := func(id int64) string { return thread.VERPAddress(secret, "bounce@helpdesk.example", id) }
		cases := []struct {
			name, rcpt, final, quoted string
			marked                    string // the address marked bouncing, "" none
		}{
			{"quoted id, someone else named as failed", "support@helpdesk.example", "boss@acme.example", "out-joao@helpdesk.example", ""},
			{"quoted id, no failed recipient named", "support@helpdesk.example", "", "out-joao@helpdesk.example", ""},
			{"forged VERP token", "bounce+v1aaaaaaaaaaaaaaaaaaaa@helpdesk.example", "ana@acme.example", "", ""},
			{"quoted id with its recipient", "support@helpdesk.example", "joao@acme.example", "out-joao@helpdesk.example", "joao@acme.example"},
			{"VERP, report names nobody", verp(ana.ID), "", "", "ana@acme.example"},
		}
		var want []string // marked so far, as the cases run in order
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				env, raw := dsn(c.rcpt, c.final, c.quoted)
				out, err := r.deliverEnv(env, raw)
				if err != nil || out.Action != store.MailBounce {
					t.Fatalf("bounce: %+v %v", out, err)
				}
				bouncing, err := st.R().BouncingAddresses(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if c.marked != "" {
					want = append(want, c.marked)
				}
				slices.Sort(bouncing)
				slices.Sort(want)
				if !slices.Equal(bouncing, want) {
					t.Fatalf("bouncing %v, want %v", bouncing, want)
				}
			})
		}
	})
}
