package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/seedload"
	"github.com/jcservicedesk/servicedesk/store/storetest"
)

// BenchmarkDashboard times the staff dashboard's four lists read
// together (DashboardLists) over 20,000 generated tickets, most of them
// open and assigned:
//
//	go test ./store -run '^$' -bench Dashboard -benchtime 2s
func BenchmarkDashboard(b *testing.B) {
	for _, d := range []string{store.SQLite, store.Postgres} {
		b.Run(d, func(b *testing.B) {
			st := storetest.Open(b, d)
			ctx := context.Background()
			res, err := seedload.Seed(ctx, st, seedload.Options{Tickets: 20000, Seed: 1, Batch: 1000})
			if err != nil {
				b.Fatal(err)
			}
			if err := st.Analyze(ctx); err != nil {
				b.Fatal(err)
			}
			f := store.DashboardFilter{UserID: res.Techs[0].ID, Now: time.Now(), Limit: 5}
			lists := []string{store.DashMine, store.DashUnassigned, store.DashDue, store.DashRecent}
			for b.Loop() {
				ls, err := st.R().DashboardLists(ctx, store.AllCompanies(), f, lists...)
				if err != nil {
					b.Fatal(err)
				}
				if len(ls) != len(lists) || len(ls[3].Tickets) != 5 {
					b.Fatalf("lists %+v", ls)
				}
			}
		})
	}
}
