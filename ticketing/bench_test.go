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

// BenchmarkList50OpenOf100k lists one company's 50 most recent open
// tickets out of 100,000 tickets in 10 companies. The database is seeded
// once, here in the parent, and shared by the rounds of each sub-benchmark.
func BenchmarkList50OpenOf100k(b *testing.B) {
	for _, d := range []string{store.SQLite, store.Postgres} {
		if d == store.Postgres && os.Getenv(storetest.PostgresEnv) == "" {
			b.Run(d, func(b *testing.B) { storetest.SkipOrFail(b, "PostgreSQL benchmarks need "+storetest.PostgresEnv) })
			continue
		}
		w := bigWorld(b, d)
		b.Run(d, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				ts, err := w.svc.List(ctx, w.client, store.TicketFilter{Statuses: []string{store.StatusOpen}, Limit: 50})
				if err != nil {
					b.Fatal(err)
				}
				if len(ts) != 50 {
					b.Fatalf("listed %d", len(ts))
				}
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
		for i := 0; i < total; i++ {
			at := t0.Add(time.Duration(i) * time.Second).UTC()
			batch = append(batch, store.Ticket{
				Number: int64(1001 + i), CompanyID: cids[i%companies], RequesterID: w.client.ID,
				Priority: store.PriorityNormal, Status: statuses[(i/companies)%len(statuses)],
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
