package intake_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/jcservicedesk/servicedesk/mailbox/delivery"
	"github.com/jcservicedesk/servicedesk/mailbox/intake"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
)

// TestRepliesFromThePeopleOnTheThread walks one conversation: a request
// with a vendor in Cc, the vendor's answer (Cc'ing a colleague of theirs),
// that colleague's answer, and a stranger using the request's Message-ID.
// With mail.unknown_sender create the stranger opens a ticket linked to
// the request; with quarantine the stranger is held; the people on the
// thread land on the ticket either way.
func TestRepliesFromThePeopleOnTheThread(t *testing.T) {
	for _, policy := range []string{intake.UnknownCreate, intake.UnknownQuarantine} {
		t.Run(policy, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, st *store.Store) {
				ctx := context.Background()
				r := newRig(t, st, func(c *intake.Config) { c.UnknownSender = policy })
				req := r.deliver(delivery.SourceSMTP, mail("Maria <maria@acme.example>", "Impressora parada", "Não imprime.",
					"Message-ID: <req1@acme.example>", "Cc: Ana Vendas <ana@vendor.example>"))
				if req.Action != store.MailTicket {
					t.Fatalf("request: %+v", req)
				}
				steps := []struct {
					name   string
					raw    string
					action string
					reason string // prefix of the outcome (what `mail show` explains)
				}{
					{"the vendor in Cc answers", mail("Ana Vendas <ana@vendor.example>", "Re: Impressora parada", "A peça chega amanhã.",
						"Message-ID: <ana1@vendor.example>", "In-Reply-To: <req1@acme.example>", "Cc: carlos@vendor.example, maria@acme.example"),
						store.MailComment, "threaded: on the thread as Cc of message <req1@acme.example>"},
					{"the vendor's colleague she Cc'd answers", mail("carlos@vendor.example", "Re: Impressora parada", "Confirmo.",
						"Message-ID: <carlos1@vendor.example>", "In-Reply-To: <ana1@vendor.example>", "References: <req1@acme.example> <ana1@vendor.example>"),
						store.MailComment, "threaded: on the thread as Cc of message <ana1@vendor.example>"},
					{"the requester answers as always", mail("maria@acme.example", "Re: Impressora parada", "Obrigada.",
						"Message-ID: <req2@acme.example>", "In-Reply-To: <carlos1@vendor.example>"),
						store.MailComment, "threaded by references"},
				}
				for _, s := range steps {
					out := r.deliver(delivery.SourceSMTP, s.raw)
					if out.Action != s.action || out.TicketNum != req.TicketNum || !strings.HasPrefix(out.Reason, s.reason) {
						t.Fatalf("%s: %+v, want %s on #%d with %q", s.name, out, s.action, req.TicketNum, s.reason)
					}
				}
				v := r.ticket(req.TicketNum)
				if len(v.Comments) != 3 {
					t.Fatalf("comments %d, want 3", len(v.Comments))
				}
				cc := map[string]bool{}
				for _, u := range v.Participants {
					cc[u.Email] = true
				}
				if !cc["ana@vendor.example"] || !cc["carlos@vendor.example"] {
					t.Fatalf("participants %v, want the vendor's two people", cc)
				}
				for _, addr := range []string{"ana@vendor.example", "carlos@vendor.example"} {
					u, err := st.R().UserByEmail(ctx, store.AllCompanies(), addr)
					if err != nil || u.CompanyID != nil || u.Role != store.RoleClient || u.PasswordHash != "" {
						t.Fatalf("%s: want a contact without company or password, got %+v %v", addr, u, err)
					}
				}
				rows, err := st.R().MailsByMessageID(ctx, "ana1@vendor.example")
				if err != nil || len(rows) != 1 || !strings.HasPrefix(rows[0].Reason, "threaded: on the thread as Cc of message <req1@acme.example>") {
					t.Fatalf("the mail's stored decision: %+v %v", rows, err)
				}

				// A stranger with the request's Message-ID (leaked, or a
				// forward to someone new) does not act on the ticket.
				before := r.ticketCount()
				out := r.deliver(delivery.SourceSMTP, mail("Spammer <spam@bulk.example>", "Re: Impressora parada", "Compre já.",
					"Message-ID: <spam1@bulk.example>", "In-Reply-To: <req1@acme.example>"))
				if got := len(r.ticket(req.TicketNum).Comments); got != 3 {
					t.Fatalf("the stranger's mail reached the ticket (%d comments)", got)
				}
				if policy == intake.UnknownQuarantine {
					if out.Action != store.MailQuarantine || r.ticketCount() != before {
						t.Fatalf("stranger under quarantine: %+v, tickets %d → %d", out, before, r.ticketCount())
					}
					return
				}
				want := "new ticket linked to #" + itoa(req.TicketNum) + ": sender not on the thread"
				if out.Action != store.MailTicket || out.TicketNum == req.TicketNum || !strings.HasPrefix(out.Reason, want) || r.ticketCount() != before+1 {
					t.Fatalf("stranger: %+v, want a new ticket, %q", out, want)
				}
				for _, n := range []int64{req.TicketNum, out.TicketNum} {
					links := r.ticket(n).Links
					if len(links) != 1 || links[0].Kind != store.LinkRelated {
						t.Fatalf("links of #%d: %+v, want one related link", n, links)
					}
				}
				// The stranger is no participant of the request, and a
				// later reply of theirs is still not on its thread.
				for _, u := range r.ticket(req.TicketNum).Participants {
					if u.Email == "spam@bulk.example" {
						t.Fatal("the stranger became a participant")
					}
				}
			})
		})
	}
}

// TestForgedSenderIsNotOnTheThread: mail that claims the address of
// someone on the thread but definitely fails sender authentication (the
// auth verdict) is treated as from a stranger.
func TestForgedSenderIsNotOnTheThread(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		dns, _ := authZone(t)
		r := newRig(t, st, withAuth(dns, intake.SenderFlag))
		req, err := r.deliverEnv(delivery.Envelope{Source: delivery.SourceIMAP}, mail("maria@acme.example", "Contrato", "Segue.",
			"Message-ID: <c1@acme.example>", "Cc: boss@forged.example"))
		if err != nil || req.Action != store.MailTicket {
			t.Fatalf("request: %+v %v", req, err)
		}
		// forged.example publishes p=reject and signs nothing: a mail from
		// it over SMTP from a stranger's IP fails DMARC, definitely.
		out, err := r.deliverEnv(smtpFrom(strangeIP, "boss@forged.example"), mail("boss@forged.example", "Re: Contrato", "Pague este boleto.",
			"Message-ID: <f1@evil.example>", "In-Reply-To: <c1@acme.example>"))
		if err != nil {
			t.Fatal(err)
		}
		if out.Action != store.MailTicket || out.TicketNum == req.TicketNum || !strings.Contains(out.Reason, "sender authentication failed") {
			t.Fatalf("forged reply: %+v, want a new linked ticket naming the failed authentication", out)
		}
		if n := len(r.ticket(req.TicketNum).Comments); n != 0 {
			t.Fatalf("the forged reply reached the ticket (%d comments)", n)
		}
	})
}

// TestSubjectTagKeepsItsSenderCheck: someone on the thread who writes a
// new mail with only the ticket's subject tag (no token, no References)
// is not threaded by it: the tag alone never admits a stranger.
func TestSubjectTagKeepsItsSenderCheck(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := newRig(t, st)
		req := r.deliver(delivery.SourceSMTP, mail("maria@acme.example", "Rede", "Caiu.", "Message-ID: <n1@acme.example>", "Cc: ana@vendor.example"))
		out := r.deliver(delivery.SourceSMTP, mail("spam@bulk.example", "[#"+itoa(req.TicketNum)+"] Rede", "Injeção.", "Message-ID: <n2@bulk.example>"))
		if out.Action != store.MailTicket || out.TicketNum == req.TicketNum || out.Reason != "new ticket" {
			t.Fatalf("subject tag from a stranger: %+v, want a new unlinked ticket", out)
		}
		if links := r.ticket(out.TicketNum).Links; len(links) != 0 {
			t.Fatalf("a subject tag linked tickets: %+v", links)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestThreadFollowsAMerge: after a merge, someone on the merged ticket's
// thread who answers its mail lands on the ticket it went into.
func TestThreadFollowsAMerge(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := newRig(t, st, func(c *intake.Config) { c.UnknownSender = intake.UnknownQuarantine })
		a := r.deliver(delivery.SourceSMTP, mail("maria@acme.example", "VPN", "Cai.", "Message-ID: <m1@acme.example>", "Cc: ana@vendor.example"))
		b := r.deliver(delivery.SourceSMTP, mail("maria@acme.example", "VPN de novo", "Cai sempre.", "Message-ID: <m2@acme.example>"))
		if _, err := r.svc.Assign(context.Background(), r.tech, a.TicketNum, r.tech); err != nil {
			t.Fatal(err)
		}
		if _, err := r.svc.MergeTicket(context.Background(), r.tech, a.TicketNum, b.TicketNum); err != nil {
			t.Fatal(err)
		}
		out := r.deliver(delivery.SourceSMTP, mail("ana@vendor.example", "Re: VPN", "Atualizem o firmware.",
			"Message-ID: <m3@vendor.example>", "In-Reply-To: <m1@acme.example>"))
		if out.Action != store.MailComment || out.TicketNum != b.TicketNum || !strings.HasPrefix(out.Reason, "threaded: on the thread as Cc") {
			t.Fatalf("reply to the merged ticket's mail: %+v, want a comment on #%d", out, b.TicketNum)
		}
	})
}
