package store_test

import (
	"context"
	"testing"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/seedload"
	"github.com/jcservicedesk/servicedesk/store/storetest"
)

// BenchmarkSearch times SearchTickets over 10,000 generated tickets with
// 50,000 comments, as staff (every company, internal notes too) and as a
// client's company, for a rare word, a common one with its accent
// dropped, a prefix, a phrase with an exclusion and several words (also
// as a requester who sees only their own tickets):
//
//	go test ./store -run '^$' -bench Search -benchtime 2s
//
// The full-size figures (100,000 tickets, 1,000,000 comments) come from
// go run ./cmd/seedload.
func BenchmarkSearch(b *testing.B) {
	for _, d := range []string{store.SQLite, store.Postgres} {
		b.Run(d, func(b *testing.B) {
			st := storetest.Open(b, d)
			ctx := context.Background()
			res, err := seedload.Seed(ctx, st, seedload.Options{Tickets: 10000, Comments: 50000, Seed: 1, Batch: 1000})
			if err != nil {
				b.Fatal(err)
			}
			if err := st.OptimizeSearch(ctx); err != nil {
				b.Fatal(err)
			}
			if err := st.Analyze(ctx); err != nil {
				b.Fatal(err)
			}
			company := store.CompanyScope(*res.Clients[0].CompanyID)
			for _, c := range []struct {
				name string
				sc   store.Scope
				f    store.SearchFilter
			}{
				{"rare/staff", store.AllCompanies(), store.SearchFilter{Text: "homologação", WithInternal: true}},
				{"common/staff", store.AllCompanies(), store.SearchFilter{Text: "impressao", WithInternal: true}},
				{"common/client", company, store.SearchFilter{Text: "impressao"}},
				{"prefix/staff", store.AllCompanies(), store.SearchFilter{Text: "certif", WithInternal: true}},
				{"phrase-exclude/client", company, store.SearchFilter{Text: `"nota fiscal" -boleto`}},
				{"two-words/staff", store.AllCompanies(), store.SearchFilter{Text: "senha bloqueado", WithInternal: true}},
				// A requester's search: the company's units only (the
				// index knows the company), then the tickets it takes part in.
				{"two-words/client", company, store.SearchFilter{Text: "senha bloqueado"}},
				{"three-words/requester", company, store.SearchFilter{Text: "xml danfe sefaz",
					TicketFilter: store.TicketFilter{InvolvingUserID: res.Clients[0].ID}}},
			} {
				b.Run(c.name, func(b *testing.B) {
					c.f.Limit = 25
					for b.Loop() {
						if _, err := st.R().SearchTickets(ctx, c.sc, c.f); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}
