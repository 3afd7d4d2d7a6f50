package ticketing_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// setSharing sets whether c's clients see each other's tickets.
func setSharing(t *testing.T, w *world, c *store.Company, share bool) {
	t.Helper()
	if _, err := w.svc.UpdateCompany(context.Background(), w.admin, c.Name, func(in *ticketing.CompanyInput) {
		in.ShareTickets = share
	}); err != nil {
		t.Fatal(err)
	}
}

// TestSearchFollowsThePolicy: every actor finds exactly the matching
// tickets it may view, and never through an internal note unless it may
// read internal notes.
func TestSearchFollowsThePolicy(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		open := func(requester *store.User, subject string) *store.Ticket {
			t.Helper()
			tk, err := w.svc.Create(ctx, requester, ticketing.CreateInput{Requester: requester, Subject: subject, Body: "Detalhes."})
			if err != nil {
				t.Fatal(err)
			}
			return tk
		}
		own := open(w.client, "Impressão falhando")
		colleagues := open(w.colleague, "Impressão colorida")
		invited := open(w.colleague, "Impressão do contrato")
		globex := open(w.outsider, "Impressão da Globex")
		if _, err := w.svc.Comment(ctx, w.tech, own.Number, ticketing.CommentInput{Body: "Senha do cofre xyzzy", Internal: true}); err != nil {
			t.Fatal(err)
		}
		if err := w.svc.AddParticipant(ctx, w.tech, invited.Number, w.client); err != nil {
			t.Fatal(err)
		}
		found := func(actor *store.User, q string) []int64 {
			t.Helper()
			hits, err := w.svc.Search(ctx, actor, q, store.TicketFilter{})
			if err != nil {
				t.Fatalf("%s searches %q: %v", actor.Email, q, err)
			}
			var ns []int64
			for _, h := range hits {
				// Whatever search returns, the actor may open.
				if _, err := w.svc.Get(ctx, actor, h.Ticket.Number); err != nil {
					t.Errorf("%s found #%d it may not view: %v", actor.Email, h.Ticket.Number, err)
				}
				ns = append(ns, h.Ticket.Number)
			}
			slices.Sort(ns)
			return ns
		}
		nums := func(ts ...*store.Ticket) []int64 {
			var ns []int64
			for _, t := range ts {
				ns = append(ns, t.Number)
			}
			slices.Sort(ns)
			return ns
		}
		for _, share := range []bool{true, false} {
			setSharing(t, w, w.acme, share)
			for _, c := range []struct {
				actor *store.User
				q     string
				want  []*store.Ticket
			}{
				{w.tech, "impressao", []*store.Ticket{own, colleagues, invited, globex}},
				{w.admin, "IMPRESSÃO", []*store.Ticket{own, colleagues, invited, globex}},
				{w.outsider, "impressao", []*store.Ticket{globex}},
				{w.tech, "xyzzy", []*store.Ticket{own}},
				{w.superv, "xyzzy", []*store.Ticket{own}},
				{w.client, "xyzzy", nil},
				{w.colleague, "xyzzy", nil},
				{w.client, "impressao -xyzzy", func() []*store.Ticket {
					if share {
						return []*store.Ticket{own, colleagues, invited}
					}
					return []*store.Ticket{own, invited}
				}()},
				{w.client, "impressao", func() []*store.Ticket {
					if share {
						return []*store.Ticket{own, colleagues, invited}
					}
					return []*store.Ticket{own, invited} // its own and the one it was added to
				}()},
				{w.colleague, "impres", func() []*store.Ticket {
					if share {
						return []*store.Ticket{own, colleagues, invited}
					}
					return []*store.Ticket{colleagues, invited}
				}()},
			} {
				if got := found(c.actor, c.q); !slices.Equal(got, nums(c.want...)) {
					t.Errorf("sharing %v: %s searches %q: %v, want %v", share, c.actor.Email, c.q, got, nums(c.want...))
				}
			}
		}

		// Bad searches are invalid input; a disabled user may not search.
		for _, q := range []string{"", "  ", "-impressao", `""`} {
			if _, err := w.svc.Search(ctx, w.tech, q, store.TicketFilter{}); !errors.Is(err, ticketing.ErrInvalid) {
				t.Errorf("search %q: err = %v, want ErrInvalid", q, err)
			}
		}
		disabled := *w.client
		disabled.Disabled = true
		if _, err := w.svc.Search(ctx, &disabled, "impressao", store.TicketFilter{}); !errors.Is(err, ticketing.ErrNotAllowed) {
			t.Errorf("disabled: err = %v", err)
		}
		// Narrowing as List does.
		hits, err := w.svc.Search(ctx, w.tech, "impressao", store.TicketFilter{CompanyID: w.globex.ID})
		if err != nil || len(hits) != 1 || hits[0].Ticket.ID != globex.ID {
			t.Errorf("company filter: %v %v", hits, err)
		}
	})
}
