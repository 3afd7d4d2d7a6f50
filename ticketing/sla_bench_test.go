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

// BenchmarkSLACheck100kOpen runs `sla check` over 100,000 open tickets
// with a plan: 2,000 of them already warned and waiting for their due
// time (read again on every run), the rest not yet at their warning. The
// first run also records 1,000 breaches, logged apart. Target: ≤ 2 s.
//
//	go test ./ticketing -run '^$' -bench SLACheck -benchtime 5x
func BenchmarkSLACheck100kOpen(b *testing.B) {
	for _, d := range []string{store.SQLite, store.Postgres} {
		if d == store.Postgres && os.Getenv(storetest.PostgresEnv) == "" {
			b.Run(d, func(b *testing.B) { storetest.SkipOrFail(b, "PostgreSQL benchmarks need "+storetest.PostgresEnv) })
			continue
		}
		st := storetest.Open(b, d)
		w := newWorld(b, st)
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Second)
		svc := ticketing.NewService(st, ticketing.WithClock(func() time.Time { return now }))
		plan, err := svc.CreateSLAPlan(ctx, w.admin, ticketing.SLAPlanInput{Name: "24x7", FirstResponse: time.Hour, Resolution: 8 * time.Hour, Active: true})
		if err != nil {
			b.Fatal(err)
		}
		const total, warned, breaching = 100_000, 2_000, 1_000
		err = st.InTx(ctx, func(q *store.Q) error {
			batch := make([]store.Ticket, 0, 1000)
			for i := range total {
				created := now.Add(-10 * time.Minute)
				tk := store.Ticket{Number: int64(1001 + i), CompanyID: w.acme.ID, RequesterID: w.client.ID, SLAPlanID: &plan.ID,
					Priority: store.PriorityNormal, Status: store.StatusOpen, Subject: fmt.Sprintf("Ticket %d", i),
					Source: store.SourceEmail, CreatedAt: created, UpdatedAt: created}
				due, warn := now.Add(50*time.Minute), now.Add(38*time.Minute)
				switch {
				case i < breaching: // first response past due, not recorded yet
					due, warn = now.Add(-time.Minute), now.Add(-13*time.Minute)
				case i < breaching+warned: // warned, due later
					warn = now.Add(-time.Minute)
					at := now.Add(-time.Minute)
					tk.FirstResponseWarnedAt = &at
				}
				res, resWarn := now.Add(7*time.Hour), now.Add(6*time.Hour)
				tk.FirstResponseDue, tk.FirstResponseWarnAt, tk.ResolutionDue, tk.ResolutionWarnAt = &due, &warn, &res, &resWarn
				batch = append(batch, tk)
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
		t0 := time.Now()
		rep, err := svc.CheckSLA(ctx, w.admin, ticketing.SLACheckOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if rep.Breaches != breaching {
			b.Fatalf("first run: %d breaches, want %d", rep.Breaches, breaching)
		}
		b.Logf("%s: first run recorded %d breaches among %d candidates in %s", d, rep.Breaches, rep.Checked, time.Since(t0).Round(time.Millisecond))
		b.Run(d, func(b *testing.B) {
			for b.Loop() {
				rep, err := svc.CheckSLA(ctx, w.admin, ticketing.SLACheckOptions{})
				if err != nil {
					b.Fatal(err)
				}
				if rep.Breaches != 0 || rep.Checked != warned {
					b.Fatalf("steady run: %+v", rep)
				}
			}
		})
	}
}
