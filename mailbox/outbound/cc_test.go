package outbound_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jcservicedesk/servicedesk/mailbox/outbound"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// TestTypedCcHasABudget: an address typed as a reply's Cc, with no
// account, gets the acknowledgements' per-address hourly budget; a reply
// past it is not mailed there, and an internal note says so. Staff typed
// as a Cc and notify_to addresses are ours and keep getting mail.
func TestTypedCcHasABudget(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		d := newDesk(t, st, func(c *outbound.Config) {
			c.AckPerHour = 2
			c.NotifyTo = []string{"Boss@helpdesk.example"}
		})
		out := d.deliver("From: maria@acme.example\r\nTo: support@helpdesk.example\r\nSubject: Impressora\r\nMessage-ID: <cc-1@acme.example>\r\n\r\nAjuda.\r\n")
		if out.Action != "ticket" {
			t.Fatalf("%+v", out)
		}
		d.take()
		if err := st.InTx(ctx, func(q *store.Q) error {
			return q.CreateUser(ctx, &store.User{Email: "bia@helpdesk.example", Role: store.RoleTech, Name: "Bia Tech"})
		}); err != nil {
			t.Fatal(err)
		}
		const outsider = "fornecedor@outside.example"
		got := map[string]int{}
		for i := range 4 {
			_, err := d.svc.Comment(ctx, d.tech, out.TicketNum, ticketing.CommentInput{Body: fmt.Sprintf("Resposta %d", i),
				Recipients: &ticketing.ReplyRecipients{To: []string{"maria@acme.example"}, Cc: []string{outsider, "bia@helpdesk.example", "boss@helpdesk.example"}}})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range d.take() {
				got[m.Recipients]++
			}
		}
		// maria is a user, with the budget of users (30 an hour).
		if got[outsider] != 2 || got["maria@acme.example"] != 4 || got["bia@helpdesk.example"] != 4 || got["boss@helpdesk.example"] != 4 {
			t.Fatalf("mails per address %v, want 2 to %s and 4 to maria, bia and boss", got, outsider)
		}
		tk, err := st.R().TicketByNumber(ctx, store.AllCompanies(), out.TicketNum, false)
		if err != nil {
			t.Fatal(err)
		}
		cs, err := st.R().Comments(ctx, tk.ID, true)
		if err != nil {
			t.Fatal(err)
		}
		var notes []string
		for _, c := range cs {
			if c.Internal {
				notes = append(notes, c.BodyText)
			}
		}
		want := "Reply to " + outsider + " (a Cc with no account) not sent"
		if len(notes) != 2 || !strings.Contains(notes[0], want) || !strings.Contains(notes[1], "mail.ack_limit_per_hour = 2") {
			t.Fatalf("notes %q, want two saying %q", notes, want)
		}
	})
}
