package store_test

import (
	"context"
	"testing"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/seedload"
	"github.com/jcservicedesk/servicedesk/store/storetest"
)

// BenchmarkQueue times a page of the staff queue over 20,000 generated
// tickets for every sort order, on the first page and deep in the order
// (the keyset cursor of page 200 costs what page 1 does), unfiltered and
// with the open-and-unassigned filter of the first tab:
//
//	go test ./store -run '^$' -bench Queue -benchtime 2s
func BenchmarkQueue(b *testing.B) {
	for _, d := range []string{store.SQLite, store.Postgres} {
		b.Run(d, func(b *testing.B) {
			st := storetest.Open(b, d)
			ctx := context.Background()
			if _, err := seedload.Seed(ctx, st, seedload.Options{Tickets: 20000, Comments: 0, Seed: 1, Batch: 1000}); err != nil {
				b.Fatal(err)
			}
			if err := st.Analyze(ctx); err != nil {
				b.Fatal(err)
			}
			open := []string{store.StatusNew, store.StatusOpen, store.StatusPending, store.StatusReopened}
			for _, sort := range store.QueueSorts {
				for _, tab := range []struct {
					name string
					f    store.QueueFilter
				}{
					{"all", store.QueueFilter{}},
					{"unassigned", store.QueueFilter{Statuses: open, Unassigned: true}},
				} {
					f := tab.f
					f.Sort, f.Limit = sort, 50
					// The cursor of page 200 (or the last page there is).
					deep := f
					for range 200 {
						_, next, err := st.R().QueueTickets(ctx, store.AllCompanies(), deep)
						if err != nil {
							b.Fatal(err)
						}
						if next == nil {
							break
						}
						deep.After = next
					}
					for _, c := range []struct {
						name string
						f    store.QueueFilter
					}{{"first", f}, {"deep", deep}} {
						b.Run(sort+"/"+tab.name+"/"+c.name, func(b *testing.B) {
							for b.Loop() {
								if _, _, err := st.R().QueueTickets(ctx, store.AllCompanies(), c.f); err != nil {
									b.Fatal(err)
								}
							}
						})
					}
				}
			}
		})
	}
}
