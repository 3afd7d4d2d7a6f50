package ticketing_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// BenchmarkRetentionRun retains N closed tickets (each with a comment) in
// 10 companies; N is SERVICEDESK_BENCH_RETENTION_TICKETS (default 20,000).
// Each round seeds a fresh database untimed. The 1,000,000-ticket figure:
//
//	SERVICEDESK_BENCH_RETENTION_TICKETS=1000000 go test ./ticketing -run '^$' -bench RetentionRun -benchtime 1x -timeout 60m
//
// SERVICEDESK_BENCH_RETENTION_BATCH sets the batch size. tickets/s is the throughput; peak-heap-MB shows the memory staying flat.
func BenchmarkRetentionRun(b *testing.B) {
	total := 20_000
	if v := os.Getenv("SERVICEDESK_BENCH_RETENTION_TICKETS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("SERVICEDESK_BENCH_RETENTION_TICKETS=%q is not a positive number", v)
		}
		total = n
	}
	for _, d := range []string{store.SQLite, store.Postgres} {
		b.Run(d, func(b *testing.B) {
			if d == store.Postgres && os.Getenv(storetest.PostgresEnv) == "" {
				storetest.SkipOrFail(b, "PostgreSQL benchmarks need "+storetest.PostgresEnv)
			}
			var elapsed time.Duration
			var peak uint64
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				w := seedClosed(b, d, total)
				stop := samplePeakHeap(&peak)
				b.StartTimer()
				t0 := time.Now()
				rep, err := w.svc.RunRetention(context.Background(), w.admin, ticketing.RetentionOptions{
					Policy: ticketing.RetentionPolicy{ClosedTicketDays: 365}, BatchSize: benchBatch()})
				elapsed += time.Since(t0)
				b.StopTimer()
				stop()
				if err != nil {
					b.Fatal(err)
				}
				if rep.Total.Tickets != int64(total) || rep.Total.Comments != int64(total) {
					b.Fatalf("retained %+v, want %d tickets", rep.Total, total)
				}
			}
			b.ReportMetric(float64(total*b.N)/elapsed.Seconds(), "tickets/s")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
		})
	}
}

// seedClosed is a database with total tickets closed 400 days ago.
func seedClosed(b *testing.B, driver string, total int) *world {
	st := storetest.Open(b, driver)
	w := newWorld(b, st)
	ctx := context.Background()
	const companies = 10
	cids := []int64{w.acme.ID, w.globex.ID}
	err := st.InTx(ctx, func(q *store.Q) error {
		for i := 2; i < companies; i++ {
			c := &store.Company{Name: fmt.Sprintf("Company %d", i)}
			if err := q.CreateCompany(ctx, c); err != nil {
				return err
			}
			cids = append(cids, c.ID)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	closed := time.Now().AddDate(0, 0, -400).UTC()
	batch := make([]store.Ticket, 0, 1000)
	for i := 0; i < total; i++ {
		at := closed.Add(-time.Duration(i) * time.Second)
		batch = append(batch, store.Ticket{
			Number: int64(1001 + i), CompanyID: cids[i%companies], RequesterID: w.client.ID,
			Priority: store.PriorityNormal, Status: store.StatusClosed, Subject: fmt.Sprintf("Ticket %d de Maria", i),
			Description: "A impressora do terceiro andar não imprime.", Source: store.SourceEmail,
			CreatedAt: at, UpdatedAt: at, ResolvedAt: &at, ClosedAt: &at,
		})
		if len(batch) == cap(batch) || i == total-1 {
			// One transaction per 1,000 keeps the seeding's memory flat too.
			if err := st.InTx(ctx, func(q *store.Q) error { return q.BulkInsertTickets(ctx, batch) }); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	// Ticket ids run from 1 in a fresh database; 50,000 comments per
	// statement stay within the driver's read timeout.
	for from := int64(1); from <= int64(total); from += 50_000 {
		if err := st.InTx(ctx, func(q *store.Q) error {
			return q.BulkAddComments(ctx, from, from+49_999, w.client.ID, "Continua sem imprimir, Maria")
		}); err != nil {
			b.Fatal(err)
		}
	}
	if err := st.Analyze(ctx); err != nil {
		b.Fatal(err)
	}
	return w
}

// samplePeakHeap records the largest in-use heap until stop is called.
func samplePeakHeap(peak *uint64) (stop func()) {
	var done atomic.Bool
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		var m runtime.MemStats
		for !done.Load() {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > *peak {
				*peak = m.HeapInuse
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	return func() { done.Store(true); <-finished }
}

// benchBatch is SERVICEDESK_BENCH_RETENTION_BATCH: tickets per
// transaction (default 1,000).
func benchBatch() int {
	n, _ := strconv.Atoi(os.Getenv("SERVICEDESK_BENCH_RETENTION_BATCH"))
	return n
}
