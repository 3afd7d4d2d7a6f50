package store_test

import (
	"context"
	"slices"
	"testing"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/seedload"
	"github.com/jcservicedesk/servicedesk/store/storetest"
)

// TestSearchWidensItsWindow: a search looks at the newest tickets first;
// what only old tickets hold, behind thousands of newer ones, is still
// found, and the rules (every word somewhere in the ticket, exclusions,
// internal notes) hold across the window's edge.
func TestSearchWidensItsWindow(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 2,500 tickets")
	}
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newSearchFixture(t, s)
		if _, err := seedload.Seed(context.Background(), s, seedload.Options{Tickets: 2500, Comments: 2500, Seed: 3, Batch: 500}); err != nil {
			t.Fatal(err)
		}
		all := store.AllCompanies()
		for _, c := range []struct {
			name string
			f    store.SearchFilter
			want []int64
		}{
			// "manchada" and "piscando" are only in the fixture's tickets.
			{"old word", store.SearchFilter{Text: "manchada"}, numbers(f.color)},
			{"old prefix", store.SearchFilter{Text: "pisca"}, numbers(f.monitor)},
			// one word in the subject, the other in a comment
			{"words in two units", store.SearchFilter{Text: "consigo anexo"}, numbers(f.password)},
			{"internal only, not allowed", store.SearchFilter{Text: "xyzzy"}, nil},
			{"internal only, allowed", store.SearchFilter{Text: "xyzzy", WithInternal: true}, numbers(f.password)},
			{"excluded", store.SearchFilter{Text: "piscando -cabo"}, nil},
		} {
			t.Run(c.name, func(t *testing.T) {
				if got := hitNumbers(search(t, s, all, c.f)); !slices.Equal(got, c.want) {
					t.Errorf("%q: got %v, want %v", c.f.Text, got, c.want)
				}
			})
		}
		// A common word fills its page from the newest tickets.
		hits := search(t, s, all, store.SearchFilter{Text: "impressora", TicketFilter: store.TicketFilter{Limit: 10}})
		if len(hits) != 10 {
			t.Fatalf("common word: %d hits", len(hits))
		}
		for _, h := range hits {
			if h.Ticket.ID < f.color.ID {
				t.Errorf("common word ranked an old ticket #%d", h.Ticket.Number)
			}
		}
	})
}

// TestSearchLongPrefix: a prefix longer than the prefix indexes finds the
// words it starts, accents folded, and nothing when it starts none.
func TestSearchLongPrefix(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newSearchFixture(t, s)
		all := store.AllCompanies()
		for _, c := range []struct {
			text string
			want []int64
		}{
			{"colori", numbers(f.color)},
			{"Impressã", numbers(f.printer, f.color, f.monitor)},
			{"monit", numbers(f.monitor)},
			{"piscax", nil},
			{"monitor OR colori", numbers(f.monitor, f.color)},
		} {
			got := hitNumbers(search(t, s, all, store.SearchFilter{Text: c.text}))
			slices.Sort(got)
			want := slices.Clone(c.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("%q: got %v, want %v", c.text, got, want)
			}
		}
	})
}
