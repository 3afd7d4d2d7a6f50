package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
)

// TestQueueKeysetPaging walks every sort order page by page while new
// tickets arrive: every ticket that existed at the start is seen exactly
// once, in the order's sequence, and no ticket is seen twice.
func TestQueueKeysetPaging(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		var company, requester int64
		base := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
		var all []*store.Ticket
		prios := []string{store.PriorityLow, store.PriorityNormal, store.PriorityHigh, store.PriorityUrgent}
		insert := func(q *store.Q, i int, at time.Time) *store.Ticket {
			n, err := q.NextTicketNumber(ctx)
			if err != nil {
				t.Fatal(err)
			}
			tk := &store.Ticket{Number: n, CompanyID: company, RequesterID: requester, Priority: prios[i%4],
				Status: store.StatusOpen, Subject: "t", Source: "cli", CreatedAt: at}
			if i%3 != 0 { // a third without a due time
				due := base.Add(time.Duration(i%7) * time.Hour).Add(time.Duration(i) * 1234 * time.Microsecond)
				tk.ResolutionDue = &due
			}
			if err := q.CreateTicket(ctx, tk); err != nil {
				t.Fatal(err)
			}
			return tk
		}
		err := s.InTx(ctx, func(q *store.Q) error {
			c := &store.Company{Name: "Keyset Co"}
			if err := q.CreateCompany(ctx, c); err != nil {
				return err
			}
			company = c.ID
			u := &store.User{Email: "req@keyset.example", Role: store.RoleClient, CompanyID: &company}
			if err := q.CreateUser(ctx, u); err != nil {
				return err
			}
			requester = u.ID
			for i := range 61 {
				// Groups of three share a time: ties are broken by id.
				at := base.Add(time.Duration(i/3) * 1500 * time.Microsecond)
				all = append(all, insert(q, i, at))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		rank := func(p string) int { return slices.Index([]string{"urgent", "high", "normal", "low"}, p) }
		desc := func(a, b time.Time, ai, bi int64) int {
			if c := b.Compare(a); c != 0 {
				return c
			}
			return int(bi - ai)
		}
		orders := map[string]func(a, b *store.Ticket) int{
			store.SortUpdated: func(a, b *store.Ticket) int { return desc(a.UpdatedAt, b.UpdatedAt, a.ID, b.ID) },
			store.SortCreated: func(a, b *store.Ticket) int { return desc(a.CreatedAt, b.CreatedAt, a.ID, b.ID) },
			store.SortPriority: func(a, b *store.Ticket) int {
				if c := rank(a.Priority) - rank(b.Priority); c != 0 {
					return c
				}
				return desc(a.UpdatedAt, b.UpdatedAt, a.ID, b.ID)
			},
			store.SortDue: func(a, b *store.Ticket) int {
				switch {
				case a.ResolutionDue != nil && b.ResolutionDue != nil:
					if c := a.ResolutionDue.Compare(*b.ResolutionDue); c != 0 {
						return c
					}
					return int(a.ID - b.ID)
				case a.ResolutionDue != nil:
					return -1
				case b.ResolutionDue != nil:
					return 1
				}
				return desc(a.UpdatedAt, b.UpdatedAt, a.ID, b.ID)
			},
		}
		extra := 1000
		for _, sort := range store.QueueSorts {
			t.Run(sort, func(t *testing.T) {
				want := slices.Clone(all)
				slices.SortFunc(want, orders[sort])
				original := map[int64]bool{}
				for _, tk := range all {
					original[tk.ID] = true
				}
				seen := map[int64]bool{}
				var got []int64
				var after *store.QueueCursor
				for page := 0; ; page++ {
					if page > 40 {
						t.Fatal("paging does not end")
					}
					f := store.QueueFilter{Sort: sort, Limit: 7, CompanyID: company, Statuses: []string{store.StatusOpen}}
					if after != nil {
						// Through the URL form, as the queue page does.
						var err error
						if f.After, err = store.ParseQueueCursor(after.String()); err != nil {
							t.Fatal(err)
						}
					}
					ts, next, err := s.R().QueueTickets(ctx, store.AllCompanies(), f)
					if err != nil {
						t.Fatal(err)
					}
					for _, tk := range ts {
						if seen[tk.ID] {
							t.Fatalf("page %d: ticket %d seen twice", page, tk.ID)
						}
						seen[tk.ID] = true
						if original[tk.ID] {
							got = append(got, tk.ID)
						}
					}
					// A ticket arrives between two pages.
					if err := s.InTx(ctx, func(q *store.Q) error {
						extra++
						insert(q, extra, time.Now().UTC().Truncate(time.Microsecond))
						return nil
					}); err != nil {
						t.Fatal(err)
					}
					if next == nil {
						break
					}
					after = next
				}
				var wantIDs []int64
				for _, tk := range want {
					wantIDs = append(wantIDs, tk.ID)
				}
				if !slices.Equal(got, wantIDs) {
					t.Fatalf("order %s:\n got %v\nwant %v", sort, got, wantIDs)
				}
			})
		}
		if _, _, err := s.R().QueueTickets(ctx, store.AllCompanies(), store.QueueFilter{Sort: "nope"}); err == nil {
			t.Fatal("an unknown sort was accepted")
		}
		if _, err := store.ParseQueueCursor("1.x.3"); err == nil {
			t.Fatal("a bad cursor was accepted")
		}
	})
}
