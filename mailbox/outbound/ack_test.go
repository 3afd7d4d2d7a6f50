package outbound_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/jcservicedesk/servicedesk/mailbox/auth"
	"github.com/jcservicedesk/servicedesk/mailbox/auth/authtest"
	"github.com/jcservicedesk/servicedesk/mailbox/delivery"
	"github.com/jcservicedesk/servicedesk/mailbox/intake"
	"github.com/jcservicedesk/servicedesk/mailbox/outbound"
	"github.com/jcservicedesk/servicedesk/mailbox/thread"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// authDesk is a desk whose intake checks senders against a DNS server of
// the test's own: acme.example signs its mail, other.example publishes
// nothing.
func authDesk(t *testing.T, st *store.Store, mod ...func(*outbound.Config)) (*desk, *authtest.Key) {
	dns := authtest.Start(t)
	key := dns.NewKey(t, "acme.example", "k1")
	d := newDesk(t, st, mod...)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	d.in = intake.New(intake.Config{
		Addresses: []string{"support@helpdesk.example"}, UnknownSender: intake.UnknownCreate, DefaultCompany: "Default",
		SubjectTagPrefix: "#", Secret: secret, LoopValues: []string{"helpdesk.example"}, MaxMessageBytes: 10 << 20,
		Auth: auth.New(auth.Config{}, auth.NewResolver(dns.Addr), log), SenderPolicy: intake.SenderFlag,
	}, d.svc, log)
	return d, key
}

func TestAcknowledgementsOnlyToProvenSenders(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		d, key := authDesk(t, st)
		if err := st.InTx(ctx, func(q *store.Q) error {
			acme, err := q.CompanyByName(ctx, "Acme")
			if err != nil {
				return err
			}
			return q.CreateUser(ctx, &store.User{Email: "known@acme.example", Role: store.RoleClient, Name: "Known", CompanyID: &acme.ID})
		}); err != nil {
			t.Fatal(err)
		}
		msg := func(from, id string) string {
			return fmt.Sprintf("From: %s\r\nTo: support@helpdesk.example\r\nSubject: Pedido %s\r\nMessage-ID: <%s@x>\r\n\r\nAjuda.\r\n", from, id, id)
		}
		cases := []struct {
			name, from, raw string
			ack             bool
		}{
			{"a stranger nobody can verify", "victim@other.example", msg("victim@other.example", "a1"), false},
			{"a known user, unsigned", "known@acme.example", msg("known@acme.example", "a2"), true},
			{"a new sender with an aligned DKIM pass", "nova@acme.example", string(key.Sign(t, []byte(msg("nova@acme.example", "a3")))), true},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				out := d.deliver(c.raw)
				if out.Action != store.MailTicket {
					t.Fatalf("outcome %+v", out)
				}
				var acks []*store.OutboxMail
				for _, m := range d.take() {
					if m.Event == ticketing.NoticeAck && m.Recipients == c.from {
						acks = append(acks, m)
					}
				}
				if got := len(acks) == 1; got != c.ack {
					t.Fatalf("%d acknowledgements to %s, want ack=%v", len(acks), c.from, c.ack)
				}
				if !c.ack {
					// The opening message's badge says why; no note.
					tk, _ := st.R().TicketByNumber(ctx, store.AllCompanies(), out.TicketNum, false)
					if ma, err := st.R().MailAuthOfTicket(ctx, tk.ID); err != nil || ma[0].Verdict != store.MailAuthNone {
						t.Fatalf("opening mail verdict %+v %v, want none", ma, err)
					}
					return
				}
				// The reply token in it is bound to its recipient.
				h := header(t, acks[0].Raw)
				_, tok := thread.SplitSubaddress(h.Get("Reply-To"))
				if _, bound, ok := thread.CheckToken(secret, tok, c.from); !ok || !bound {
					t.Errorf("Reply-To token %q not bound to %s", tok, c.from)
				}
				if _, _, ok := thread.CheckToken(secret, tok, "mallory@evil.example"); ok {
					t.Errorf("Reply-To token %q verifies for someone else", tok)
				}
			})
		}
	})
}

func TestGlobalAcknowledgementRate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		d, key := authDesk(t, st, func(c *outbound.Config) { c.AckRatePerHour = 2 })
		acks := 0
		var last delivery.Outcome
		for i := range 3 {
			from := fmt.Sprintf("p%d@acme.example", i)
			raw := fmt.Sprintf("From: %s\r\nTo: support@helpdesk.example\r\nSubject: Pedido %d\r\nMessage-ID: <g%d@acme.example>\r\n\r\nAjuda.\r\n", from, i, i)
			last = d.deliver(string(key.Sign(t, []byte(raw))))
			for _, m := range d.take() {
				if m.Event == ticketing.NoticeAck {
					acks++
				}
			}
		}
		if acks != 2 {
			t.Fatalf("%d acknowledgements with ack_rate_per_hour 2, want 2", acks)
		}
		ctx := context.Background()
		tk, _ := st.R().TicketByNumber(ctx, store.AllCompanies(), last.TicketNum, false)
		cs, _ := st.R().Comments(ctx, tk.ID, true)
		if len(cs) != 1 || !strings.Contains(cs[0].BodyText, "mail.ack_rate_per_hour = 2") {
			t.Fatalf("third ticket notes %+v, want the global limit named", cs)
		}
	})
}
