package ticketing_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// Benchmarks run on both databases:
//
//	go test ./ticketing -run '^$' -bench . -benchtime 2s
//
// (set SERVICEDESK_TEST_POSTGRES_URL for the PostgreSQL half).

func eachDB(b *testing.B, fn func(b *testing.B, w *world)) {
	for _, d := range []string{store.SQLite, store.Postgres} {
		b.Run(d, func(b *testing.B) {
			st := storetest.Open(b, d)
			fn(b, newWorld(b, st))
		})
	}
}

func BenchmarkCreateTicket(b *testing.B) {
	eachDB(b, func(b *testing.B, w *world) {
		ctx := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			_, err := w.svc.Create(ctx, w.client, ticketing.CreateInput{Requester: w.client, Subject: "Impressora não imprime", Body: "Desde ontem."})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkAddComment(b *testing.B) {
	eachDB(b, func(b *testing.B, w *world) {
		ctx := context.Background()
		tk := w.create(b)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			_, err := w.svc.Comment(ctx, w.client, tk.Number, ticketing.CommentInput{Body: "Mais uma informação."})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkQueue50Of100k lists 50 tickets out of 100,000 in 10 companies,
// as the portal's list pages do: the client's view (their company's open
// tickets) and the staff queue (every company; tech and admin have the
// same scope), unfiltered, by status, assigned to me, and the second page
// by keyset. The database is seeded once per driver, here in the parent,
// and shared by the rounds of each sub-benchmark. Target: ≤ 2 ms each.
//
//	go test ./ticketing -run '^$' -bench Queue -benchtime 2s
func BenchmarkQueue50Of100k(b *testing.B) {
	for _, d := range []string{store.SQLite, store.Postgres} {
		if d == store.Postgres && os.Getenv(storetest.PostgresEnv) == "" {
			b.Run(d, func(b *testing.B) { storetest.SkipOrFail(b, "PostgreSQL benchmarks need "+storetest.PostgresEnv) })
			continue
		}
		b.Run(d, func(b *testing.B) {
			w := bigWorld(b, d)
			ctx := context.Background()
			first, err := w.svc.List(ctx, w.tech, store.TicketFilter{Limit: 50})
			if err != nil || len(first) != 50 {
				b.Fatalf("first page: %d, %v", len(first), err)
			}
			page2 := first[49].Cursor()
			open := []string{store.StatusOpen}
			for _, c := range []struct {
				name  string
				actor *store.User
				f     store.TicketFilter
			}{
				{"client_open", w.client, store.TicketFilter{Statuses: open, Limit: 50}},
				{"staff_all", w.admin, store.TicketFilter{Limit: 50}},
				{"staff_open", w.tech, store.TicketFilter{Statuses: open, Limit: 50}},
				{"staff_mine", w.tech, store.TicketFilter{AssigneeID: w.tech.ID, Limit: 50}},
				{"staff_all_page2", w.tech, store.TicketFilter{After: &page2, Limit: 50}},
			} {
				b.Run(c.name, func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						ts, err := w.svc.List(ctx, c.actor, c.f)
						if err != nil {
							b.Fatal(err)
						}
						if len(ts) != 50 {
							b.Fatalf("listed %d", len(ts))
						}
					}
				})
			}
		})
	}
}

func bigWorld(b *testing.B, driver string) *world {
	st := storetest.Open(b, driver)
	w := newWorld(b, st)
	ctx := context.Background()
	const total, companies = 100_000, 10
	var cids []int64
	err := st.InTx(ctx, func(q *store.Q) error {
		cids = append(cids, w.acme.ID, w.globex.ID)
		for i := 2; i < companies; i++ {
			c := &store.Company{Name: fmt.Sprintf("Company %d", i)}
			if err := q.CreateCompany(ctx, c); err != nil {
				return err
			}
			cids = append(cids, c.ID)
		}
		statuses := ticketing.Statuses
		batch := make([]store.Ticket, 0, 1000)
		t0 := time.Now().Add(-1000 * time.Hour)
		// A third of the tickets are the tech's, a third tech2's.
		assignees := []*int64{&w.tech.ID, &w.tech2.ID, nil}
		for i := 0; i < total; i++ {
			at := t0.Add(time.Duration(i) * time.Second).UTC()
			batch = append(batch, store.Ticket{
				Number: int64(1001 + i), CompanyID: cids[i%companies], RequesterID: w.client.ID,
				AssigneeID: assignees[(i/7)%len(assignees)],
				Priority:   store.PriorityNormal, Status: statuses[(i/companies)%len(statuses)],
				Subject: fmt.Sprintf("Ticket %d", i), Source: store.SourceEmail, CreatedAt: at, UpdatedAt: at,
			})
			if len(batch) == cap(batch) || i == total-1 {
				if err := q.BulkInsertTickets(ctx, batch); err != nil {
					return err
				}
				batch = batch[:0]
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := st.Analyze(ctx); err != nil {
		b.Fatal(err)
	}
	return w
}
