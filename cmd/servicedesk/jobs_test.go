package main

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/jcservicedesk/servicedesk/configs"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// jobsWorld is a database with one ticket whose first response is past
// due and which was closed, as seen by a service whose clock is two days
// ahead: sla check records a breach, retention (1 day) retains it.
type jobsWorld struct {
	st     *store.Store
	later  *ticketing.Service
	ticket *store.Ticket
	client *store.User
}

func newJobsWorld(t *testing.T, st *store.Store) *jobsWorld {
	t.Helper()
	ctx := context.Background()
	svc := ticketing.NewService(st)
	admin := ticketing.SystemActor()
	c, err := svc.CreateCompany(ctx, admin, ticketing.CompanyInput{Name: "Acme", Domains: []string{"acme.example"}})
	if err != nil {
		t.Fatal(err)
	}
	client, err := svc.CreateUser(ctx, admin, ticketing.UserInput{Email: "maria@acme.example", Name: "Maria", Role: store.RoleClient, CompanyID: &c.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateSLAPlan(ctx, admin, ticketing.SLAPlanInput{Name: "Acme", Company: "Acme",
		FirstResponse: time.Hour, Resolution: 8 * time.Hour, Active: true}); err != nil {
		t.Fatal(err)
	}
	tk, err := svc.Create(ctx, client, ticketing.CreateInput{Requester: client, Subject: "Sem rede", Body: "Desde ontem."})
	if err != nil {
		t.Fatal(err)
	}
	if tk.FirstResponseDue == nil {
		t.Fatal("the ticket got no SLA")
	}
	later := ticketing.NewService(st, ticketing.WithClock(func() time.Time { return time.Now().Add(48 * time.Hour) }))
	return &jobsWorld{st: st, later: later, ticket: tk, client: client}
}

func testJobs(w *jobsWorld, cfg configs.JobsConfig, runs chan<- jobRun) *jobs {
	return &jobs{svc: w.later, cfg: cfg, loc: time.UTC, log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		retention: ticketing.RetentionOptions{Policy: ticketing.RetentionPolicy{ClosedTicketDays: 1}},
		onRun:     func(job string, rep any, err error) { runs <- jobRun{job, rep, err} }}
}

type jobRun struct {
	job string
	rep any
	err error
}

// TestJobsRunSLACheckAndRetention: the scheduler records the breach on
// its first SLA tick and runs retention at retention_at (the clock is set
// just before it), then stops with its context.
func TestJobsRunSLACheckAndRetention(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		w := newJobsWorld(t, st)
		// The open ticket breaches to the later clock; a second one,
		// closed now, is two days closed to it and is retained. (A closed
		// ticket has no SLA due.)
		now := ticketing.NewService(st)
		closed, err := now.Create(ctx, w.client, ticketing.CreateInput{Requester: w.client, Subject: "Impressora", Body: "Resolvido."})
		if err != nil {
			t.Fatal(err)
		}
		for _, to := range []string{store.StatusOpen, store.StatusResolved, store.StatusClosed} {
			if _, err := now.SetStatus(ctx, ticketing.SystemActor(), closed.Number, to, ticketing.StatusInput{Solution: "feito", Reason: "feito", Evaluation: "ok", Classification: "outro"}); err != nil {
				t.Fatal(err)
			}
		}
		runs := make(chan jobRun, 100)
		j := testJobs(w, configs.JobsConfig{Enabled: true, SLACheckInterval: 20 * time.Millisecond, RetentionAt: "03:30"}, runs)
		// The first 03:30 (UTC) after the real now, less 200ms: the
		// retention timer fires 200ms after start.
		start := time.Now()
		at := nextDaily(start, 3, 30, time.UTC).Add(-200 * time.Millisecond)
		j.now = func() time.Time { return at.Add(time.Since(start)) }
		done := make(chan error, 1)
		go func() { done <- j.Run(ctx) }()

		var breached, retained bool
		deadline := time.After(30 * time.Second)
		for !breached || !retained {
			select {
			case r := <-runs:
				if r.err != nil {
					t.Fatalf("%s: %v", r.job, r.err)
				}
				switch rep := r.rep.(type) {
				case *ticketing.SLACheckReport:
					breached = breached || rep.Breaches > 0
				case *ticketing.RetentionReport:
					if rep.Total.Tickets != 1 {
						t.Fatalf("retention retained %d tickets", rep.Total.Tickets)
					}
					retained = true
				}
			case <-deadline:
				t.Fatalf("no breach (%v) or retention (%v) within 30s", breached, retained)
			}
		}
		evs, err := st.R().SLAEvents(context.Background(), w.ticket.ID)
		if err != nil || len(evs) == 0 {
			t.Fatalf("sla events: %v %v", evs, err)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

// TestJobsDisabledDoNothing: without jobs.enabled Run only waits for its
// context.
func TestJobsDisabledDoNothing(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	w := newJobsWorld(t, st)
	runs := make(chan jobRun, 1)
	j := testJobs(w, configs.JobsConfig{Enabled: false, SLACheckInterval: time.Millisecond, RetentionAt: "03:30"}, runs)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := j.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if len(runs) != 0 {
		t.Fatal("a disabled scheduler ran a job")
	}
}

// TestTwoSchedulersRecordOneBreach: two serve processes on one
// PostgreSQL (two schedulers on one database) record the breach once.
func TestTwoSchedulersRecordOneBreach(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		w := newJobsWorld(t, st)
		runs := make(chan jobRun, 1000)
		cfg := configs.JobsConfig{Enabled: true, SLACheckInterval: 10 * time.Millisecond, RetentionAt: "03:30"}
		var wg sync.WaitGroup
		for i := 0; i < 2; i++ {
			w2 := *w
			w2.later = ticketing.NewService(st, ticketing.WithClock(func() time.Time { return time.Now().Add(48 * time.Hour) }))
			j := testJobs(&w2, cfg, runs)
			wg.Add(1)
			go func() { defer wg.Done(); _ = j.Run(ctx) }()
		}
		// Wait until the breaches are recorded and 10 more checks ran;
		// then no check may have recorded them again.
		breaches, after := 0, 0
		deadline := time.After(30 * time.Second)
		for after < 10 {
			select {
			case r := <-runs:
				if rep, ok := r.rep.(*ticketing.SLACheckReport); ok {
					breaches += rep.Breaches
					if breaches > 0 {
						after++
					}
				}
			case <-deadline:
				t.Fatalf("breaches %d, checks after %d", breaches, after)
			}
		}
		cancel()
		wg.Wait()
		// Both targets are past due: one first-response and one
		// resolution breach, each recorded once.
		if breaches != 2 {
			t.Fatalf("recorded %d breaches, want 2", breaches)
		}
		evs, err := st.R().SLAEvents(context.Background(), w.ticket.ID)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range evs {
			if e.Kind == store.SLAFirstResponseBreach {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%d first-response breach rows", n)
		}
	})
}

func TestNextDaily(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	sp, _ := time.LoadLocation("America/Sao_Paulo")
	cases := []struct {
		now  time.Time
		h, m int
		loc  *time.Location
		want time.Time
	}{
		// Before today's time: today.
		{time.Date(2026, 12, 1, 2, 0, 0, 0, sp), 3, 30, sp, time.Date(2026, 12, 1, 3, 30, 0, 0, sp)},
		// Exactly at it: tomorrow (strictly after).
		{time.Date(2026, 12, 1, 3, 30, 0, 0, sp), 3, 30, sp, time.Date(2026, 12, 2, 3, 30, 0, 0, sp)},
		// After it: tomorrow.
		{time.Date(2026, 12, 1, 23, 0, 0, 0, sp), 3, 30, sp, time.Date(2026, 12, 2, 3, 30, 0, 0, sp)},
		// A server in UTC: 03:30 São Paulo is 06:30 UTC.
		{time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC), 3, 30, sp, time.Date(2026, 12, 1, 6, 30, 0, 0, time.UTC)},
		// New York springs forward on 8 Mar 2026 at 02:00: 02:30 does not
		// exist and normalises to 03:30 EDT (07:30 UTC).
		{time.Date(2026, 3, 8, 1, 0, 0, 0, ny), 2, 30, ny, time.Date(2026, 3, 8, 7, 30, 0, 0, time.UTC)},
		// The day after the change, 03:30 EDT is 07:30 UTC, 23 hours after
		// 03:30 EST the day before (08:30 UTC on 7 Mar).
		{time.Date(2026, 3, 7, 4, 0, 0, 0, ny), 3, 30, ny, time.Date(2026, 3, 8, 7, 30, 0, 0, time.UTC)},
	}
	for _, c := range cases {
		if got := nextDaily(c.now, c.h, c.m, c.loc); !got.Equal(c.want) {
			t.Errorf("nextDaily(%s, %02d:%02d %s) = %s, want %s", c.now, c.h, c.m, c.loc, got, c.want)
		}
	}
}
