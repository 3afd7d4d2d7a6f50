package ticketing_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// TestDecideOnThread is the on-the-thread rule as a table.
func TestDecideOnThread(t *testing.T) {
	sentTo := &store.ThreadAddress{Address: "vendor@vendor.example", How: store.ThreadSentTo, MessageID: "<out1@helpdesk.example>"}
	inboundCc := &store.ThreadAddress{Address: "boss@acme.example", How: store.ThreadInboundCc, MessageID: "<req1@acme.example>"}
	ourMailTo := func(addr string) *store.MessageRef {
		return &store.MessageRef{MessageID: "out2@helpdesk.example", OriginalID: "<out2@helpdesk.example>", Direction: "out", Recipient: addr}
	}
	inboundMail := &store.MessageRef{MessageID: "req1@acme.example", OriginalID: "<req1@acme.example>", Direction: "in"}
	cases := []struct {
		name  string
		claim ticketing.ThreadClaim
		row   *store.ThreadAddress
		on    bool
		how   string
		msgID string
		why   string // when not on: a word of the reason
	}{
		{"recipient of our mail", ticketing.ThreadClaim{Address: "Vendor@Vendor.example", Answered: inboundMail}, sentTo,
			true, store.ThreadSentTo, "<out1@helpdesk.example>", ""},
		{"Cc of an inbound mail", ticketing.ThreadClaim{Address: "boss@acme.example", Answered: inboundMail}, inboundCc,
			true, store.ThreadInboundCc, "<req1@acme.example>", ""},
		{"answers our mail that was sent to them (before addresses were recorded)",
			ticketing.ThreadClaim{Address: "maria@acme.example", Answered: ourMailTo("maria@acme.example")}, nil,
			true, store.ThreadAddressed, "<out2@helpdesk.example>", ""},
		{"reply token bound to them", ticketing.ThreadClaim{Address: "maria@acme.example", TokenBound: true}, nil,
			true, store.ThreadAddressed, "", ""},
		{"forwarded to someone new", ticketing.ThreadClaim{Address: "newguy@elsewhere.example", Answered: ourMailTo("maria@acme.example")}, nil,
			false, "", "", "not on the thread"},
		{"a leaked Message-ID used by a stranger", ticketing.ThreadClaim{Address: "spam@bulk.example", Answered: inboundMail}, nil,
			false, "", "", "not on the thread"},
		{"an unbound token names the ticket, not the person", ticketing.ThreadClaim{Address: "spam@bulk.example"}, nil,
			false, "", "", "not on the thread"},
		{"a forged sender claiming an address on the thread", ticketing.ThreadClaim{Address: "vendor@vendor.example", AuthFailed: true, Answered: inboundMail}, sentTo,
			false, "", "", "authentication failed"},
		{"a forged sender with the token bound to the address", ticketing.ThreadClaim{Address: "maria@acme.example", AuthFailed: true, TokenBound: true}, nil,
			false, "", "", "authentication failed"},
		{"no sender", ticketing.ThreadClaim{Answered: inboundMail}, nil, false, "", "", "no sender"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := ticketing.DecideOnThread(c.claim, c.row)
			if d.On != c.on || d.How != c.how || d.MessageID != c.msgID {
				t.Fatalf("got %+v, want on=%v how=%q message=%q", d, c.on, c.how, c.msgID)
			}
			if !c.on && !strings.Contains(d.Why, c.why) {
				t.Fatalf("reason %q, want it to say %q", d.Why, c.why)
			}
		})
	}
	if got := ticketing.DecideOnThread(cases[1].claim, inboundCc).Threaded(); got != "threaded: on the thread as Cc of message <req1@acme.example>" {
		t.Errorf("explanation %q", got)
	}
	if got := ticketing.DecideOnThread(cases[5].claim, nil).Linked(1042); got != "new ticket linked to #1042: sender not on the thread" {
		t.Errorf("explanation %q", got)
	}
}

// TestCcParticipantSeesPublicConversationOnly: someone from outside the
// requester's company who joined by the thread sees that ticket's public
// conversation, never its internal notes or any other ticket, and stays
// a recipient of our replies until staff remove them.
func TestCcParticipantSeesPublicConversationOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		tk := w.create(t)
		other := w.create(t)
		if _, err := w.svc.Comment(ctx, w.tech, tk.Number, ticketing.CommentInput{Body: "internal: the vendor owes us", Internal: true}); err != nil {
			t.Fatal(err)
		}
		var vendor *store.User
		err := w.svc.TxWith(ctx, func(tx *ticketing.Tx) error {
			var err error
			vendor, err = tx.CreateUser(ctx, ticketing.SystemActor(), ticketing.UserInput{Email: "ana@vendor.example", Name: "Ana", Unconfirmed: true, Contact: true})
			if err != nil {
				return err
			}
			t1, err := tx.TicketByID(ctx, tk.ID)
			if err != nil {
				return err
			}
			if err := tx.RecordThread(ctx, t1, store.ThreadInboundCc, "<req@acme.example>", []string{"ana@vendor.example", "eve@globex.example"}); err != nil {
				return err
			}
			// Before joining, the contact may not comment.
			if err := tx.Can(ctx, vendor, t1, ticketing.ActComment); !errors.Is(err, ticketing.ErrNotAllowed) {
				t.Errorf("contact could comment before joining: %v", err)
			}
			d, err := tx.OnThread(ctx, t1, ticketing.ThreadClaim{Address: vendor.Email})
			if err != nil {
				return err
			}
			if !d.On || d.How != store.ThreadInboundCc {
				t.Errorf("decision %+v", d)
			}
			// Eve of Globex, a customer of another company, joins too.
			if err := tx.JoinThread(ctx, t1, w.outsider, d); err != nil {
				return err
			}
			return tx.JoinThread(ctx, t1, vendor, d)
		})
		if err != nil {
			t.Fatal(err)
		}
		if ts, err := w.svc.List(ctx, vendor, store.TicketFilter{Limit: 10}); err != nil || len(ts) != 0 {
			t.Fatalf("a contact lists %d tickets (%v), want none", len(ts), err)
		}
		for _, u := range []*store.User{vendor, w.outsider} {
			v, err := w.svc.Get(ctx, u, tk.Number)
			if err != nil {
				t.Fatalf("%s cannot see the ticket they joined: %v", u.Email, err)
			}
			for _, c := range v.Comments {
				if c.Internal {
					t.Fatalf("%s sees an internal note", u.Email)
				}
			}
			if _, err := w.svc.Get(ctx, u, other.Number); !errors.Is(err, ticketing.ErrNotFound) && !errors.Is(err, ticketing.ErrNotAllowed) {
				t.Fatalf("%s sees another ticket: %v", u.Email, err)
			}
			if _, err := w.svc.Comment(ctx, u, tk.Number, ticketing.CommentInput{Body: "Internal?", Internal: true}); !errors.Is(err, ticketing.ErrNotAllowed) {
				t.Fatalf("%s wrote an internal note: %v", u.Email, err)
			}
			if _, err := w.svc.Comment(ctx, u, tk.Number, ticketing.CommentInput{Body: "Peça enviada hoje."}); err != nil {
				t.Fatalf("%s cannot answer: %v", u.Email, err)
			}
		}
		// Our reply keeps them as recipients.
		notices := func() map[string]bool {
			got := map[string]bool{}
			err := w.svc.TxWith(ctx, func(tx *ticketing.Tx) error {
				t1, err := tx.TicketByID(ctx, tk.ID)
				if err != nil {
					return err
				}
				ns, err := tx.Notices(ctx, ticketing.Event{Kind: ticketing.EventCommented, Ticket: t1, Actor: w.tech,
					Comment: &store.Comment{BodyText: "Resolvido"}}, ticketing.NotifyConfig{})
				for _, n := range ns {
					got[n.Address] = true
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		if got := notices(); !got["ana@vendor.example"] || !got["eve@globex.example"] || !got["maria@acme.example"] {
			t.Fatalf("reply recipients %v, want the requester and both Cc participants", got)
		}
		// Staff see who was added, and remove them.
		v, err := w.svc.Get(ctx, w.tech, tk.Number)
		if err != nil {
			t.Fatal(err)
		}
		shown := map[string]bool{}
		for _, u := range v.Participants {
			shown[u.Email] = true
		}
		if !shown["ana@vendor.example"] || !shown["eve@globex.example"] {
			t.Fatalf("participants shown to staff %v, want both Cc participants", shown)
		}
		if err := w.svc.RemoveParticipant(ctx, w.tech, tk.Number, vendor); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Get(ctx, vendor, tk.Number); err == nil {
			t.Fatal("a removed Cc participant still sees the ticket")
		}
		if got := notices(); got["ana@vendor.example"] {
			t.Fatal("a removed Cc participant is still mailed")
		}
	})
}

// BenchmarkOnThread is the lookup every reply by token or References
// makes: one primary-key read.
func BenchmarkOnThread(b *testing.B) {
	st := storetest.Open(b, store.SQLite)
	ctx := context.Background()
	w := newWorld(b, st)
	tk := w.create(b)
	err := w.svc.TxWith(ctx, func(tx *ticketing.Tx) error {
		t1, err := tx.TicketByID(ctx, tk.ID)
		if err != nil {
			return err
		}
		return tx.RecordThread(ctx, t1, store.ThreadInboundCc, "<b@acme.example>", []string{"ana@vendor.example", "boss@acme.example"})
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		err := w.svc.TxWith(ctx, func(tx *ticketing.Tx) error {
			d, err := tx.OnThread(ctx, tk, ticketing.ThreadClaim{Address: "ana@vendor.example"})
			if err == nil && !d.On {
				b.Fatal("not on the thread")
			}
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
