package ticketing_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

func id(n int64) *int64 { return &n }

// TestChoosePlan is the old app's scoring, with its B15 fixed: contract
// +4, category +2 (a parent's plan covers its subcategories), priority
// +1; a scoped plan that does not match is out; ties go to the lowest id.
func TestChoosePlan(t *testing.T) {
	const acme, globex = 1, 2
	const hardware, printer, software = 10, 11, 20 // printer is a subcategory of hardware
	const gold = 100
	plan := func(pid int64, company *int64, contract *int64, category *int64, prio string) *store.SLAPlan {
		return &store.SLAPlan{ID: pid, CompanyID: company, ContractID: contract, CategoryID: category, Priority: prio, Active: true}
	}
	ticket := func(company int64, contract, cat, sub *int64, prio string) *store.Ticket {
		return &store.Ticket{CompanyID: company, ContractID: contract, CategoryID: cat, SubcategoryID: sub, Priority: prio}
	}
	inactive := plan(1, id(acme), nil, nil, "")
	inactive.Active = false
	cases := []struct {
		name   string
		plans  []*store.SLAPlan
		ticket *store.Ticket
		want   int64 // 0: no plan
	}{
		{"no plans", nil, ticket(acme, nil, nil, nil, "normal"), 0},
		{"global unscoped applies", []*store.SLAPlan{plan(1, nil, nil, nil, "")}, ticket(acme, nil, nil, nil, "normal"), 1},
		{"other company's plan is out", []*store.SLAPlan{plan(1, id(globex), nil, nil, "")}, ticket(acme, nil, nil, nil, "normal"), 0},
		{"inactive is out", []*store.SLAPlan{inactive}, ticket(acme, nil, nil, nil, "normal"), 0},
		{"priority +1 beats unscoped", []*store.SLAPlan{plan(1, id(acme), nil, nil, ""), plan(2, id(acme), nil, nil, "urgent")},
			ticket(acme, nil, nil, nil, "urgent"), 2},
		{"other priority is out", []*store.SLAPlan{plan(1, id(acme), nil, nil, "urgent")}, ticket(acme, nil, nil, nil, "low"), 0},
		{"category +2 beats priority +1", []*store.SLAPlan{plan(1, id(acme), nil, nil, "high"), plan(2, id(acme), nil, id(hardware), "")},
			ticket(acme, nil, id(hardware), nil, "high"), 2},
		{"parent category covers subcategory (B15)", []*store.SLAPlan{plan(1, nil, nil, id(hardware), "")},
			ticket(acme, nil, id(hardware), id(printer), "normal"), 1},
		{"subcategory plan beats nothing else at the same score: lowest id", []*store.SLAPlan{plan(1, nil, nil, id(hardware), ""), plan(2, nil, nil, id(printer), "")},
			ticket(acme, nil, id(hardware), id(printer), "normal"), 1},
		{"subcategory plan does not cover its parent", []*store.SLAPlan{plan(1, nil, nil, id(printer), "")},
			ticket(acme, nil, id(hardware), nil, "normal"), 0},
		{"other category is out", []*store.SLAPlan{plan(1, nil, nil, id(software), "")}, ticket(acme, nil, id(hardware), nil, "normal"), 0},
		{"contract +4 beats category and priority (+3)", []*store.SLAPlan{plan(1, id(acme), nil, id(hardware), "high"), plan(2, id(acme), id(gold), nil, "")},
			ticket(acme, id(gold), id(hardware), nil, "high"), 2},
		{"contract plan needs the contract", []*store.SLAPlan{plan(1, id(acme), id(gold), nil, "")}, ticket(acme, nil, nil, nil, "normal"), 0},
		{"all three score 7", []*store.SLAPlan{plan(1, id(acme), id(gold), nil, ""), plan(2, id(acme), id(gold), id(hardware), "high")},
			ticket(acme, id(gold), id(hardware), nil, "high"), 2},
		{"tie goes to the lowest id, whatever the order", []*store.SLAPlan{plan(7, nil, nil, nil, "high"), plan(3, id(acme), nil, nil, "high")},
			ticket(acme, nil, nil, nil, "high"), 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := ticketing.ChoosePlan(tc.plans, tc.ticket)
			var gotID int64
			if got != nil {
				gotID = got.ID
			}
			if gotID != tc.want {
				t.Errorf("ChoosePlan = plan %d, want %d", gotID, tc.want)
			}
		})
	}
}

// slaWorld is a world whose clock the test moves.
type slaWorld struct {
	*world
	mu  sync.Mutex
	now time.Time
}

func newSLAWorld(t *testing.T, st *store.Store, start time.Time) *slaWorld {
	w := &slaWorld{world: newWorld(t, st), now: start}
	sp, _ := time.LoadLocation("America/Sao_Paulo")
	w.svc = ticketing.NewService(st, ticketing.WithLocation(sp), ticketing.WithClock(func() time.Time {
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.now
	}), ticketing.WithListener(func(ev ticketing.Event) {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.events = append(w.events, ev)
	}))
	return w
}

func (w *slaWorld) set(t time.Time) { w.mu.Lock(); w.now = t; w.mu.Unlock() }

func (w *slaWorld) countEvents(kind ticketing.EventKind) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, ev := range w.events {
		if ev.Kind == kind {
			n++
		}
	}
	return n
}

func TestSLALifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		sp, _ := time.LoadLocation("America/Sao_Paulo")
		// Tuesday 1 Dec 2026, 16:00 in São Paulo.
		w := newSLAWorld(t, st, time.Date(2026, 12, 1, 16, 0, 0, 0, sp))
		cal, err := w.svc.CreateCalendar(ctx, w.admin, ticketing.CalendarInput{Name: "Comercial", TimeZone: "America/Sao_Paulo",
			Week:           ticketing.CalendarWeek{1: {"09:00-18:00"}, 2: {"09:00-18:00"}, 3: {"09:00-18:00"}, 4: {"09:00-18:00"}, 5: {"09:00-18:00"}},
			BrazilNational: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.CreateSLAPlan(ctx, w.client, ticketing.SLAPlanInput{Name: "x", Resolution: time.Hour}); !errors.Is(err, ticketing.ErrNotAllowed) {
			t.Fatalf("a client created a plan: %v", err)
		}
		if _, err := w.svc.CreateSLAPlan(ctx, w.admin, ticketing.SLAPlanInput{Name: "Padrão Acme", Company: "Acme",
			FirstResponse: 4 * time.Hour, Resolution: 18 * time.Hour, Calendar: cal.Name, Active: true, NotifySupervisors: true}); err != nil {
			t.Fatal(err)
		}
		tk := w.create(t)
		// 16:00 Tue + 4 business hours: 2h today, 2h from Wed 09:00 = Wed 11:00.
		wantFirst := time.Date(2026, 12, 2, 11, 0, 0, 0, sp)
		// + 18h: 2h Tue, 9h Wed, 7h Thu = Thu 16:00.
		wantRes := time.Date(2026, 12, 3, 16, 0, 0, 0, sp)
		if tk.SLAPlanID == nil || tk.FirstResponseDue == nil || !tk.FirstResponseDue.Equal(wantFirst) || !tk.ResolutionDue.Equal(wantRes) {
			t.Fatalf("due = %v / %v, want %s / %s", tk.FirstResponseDue, tk.ResolutionDue, wantFirst, wantRes)
		}
		// A ticket of another company gets no plan.
		other, err := w.svc.Create(ctx, w.outsider, ticketing.CreateInput{Requester: w.outsider, Subject: "Oi"})
		if err != nil || other.SLAPlanID != nil {
			t.Fatalf("globex ticket: plan %v, err %v", other.SLAPlanID, err)
		}

		// Wed 10:30: past 80 % of the first-response target (Wed 10:12).
		w.set(time.Date(2026, 12, 2, 10, 30, 0, 0, sp))
		rep, err := w.svc.CheckSLA(ctx, w.admin, ticketing.SLACheckOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Warnings != 1 || rep.Breaches != 0 {
			t.Fatalf("first check: %+v", rep)
		}
		// Wed 12:00: first response breached; the same run again records nothing.
		w.set(time.Date(2026, 12, 2, 12, 0, 0, 0, sp))
		dry, err := w.svc.CheckSLA(ctx, w.admin, ticketing.SLACheckOptions{DryRun: true})
		if err != nil || dry.Breaches != 1 {
			t.Fatalf("dry run: %+v, %v", dry, err)
		}
		for i := range 2 {
			rep, err = w.svc.CheckSLA(ctx, w.admin, ticketing.SLACheckOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if want := 1 - i; rep.Breaches != want {
				t.Fatalf("check %d: %d breaches, want %d (%+v)", i+1, rep.Breaches, want, rep)
			}
		}
		if n := w.countEvents(ticketing.EventSLABreach); n != 1 {
			t.Fatalf("%d breach events, want 1", n)
		}
		evs, err := st.R().SLAEvents(ctx, tk.ID)
		if err != nil || len(evs) != 2 {
			t.Fatalf("sla events: %v, %v", evs, err)
		}

		// Waiting on the requester pauses the clock: pending from Wed 12:00
		// to Thu 12:00 is 9 business hours, so resolution moves from
		// Thu 16:00 to Fri 16:00.
		if _, err := w.svc.SetStatus(ctx, w.admin, tk.Number, store.StatusPending, ticketing.StatusInput{}); err != nil {
			t.Fatal(err)
		}
		w.set(time.Date(2026, 12, 3, 12, 0, 0, 0, sp))
		if rep, err := w.svc.CheckSLA(ctx, w.admin, ticketing.SLACheckOptions{}); err != nil || rep.Checked != 0 {
			t.Fatalf("paused ticket checked: %+v, %v", rep, err)
		}
		if _, err := w.svc.Comment(ctx, w.client, tk.Number, ticketing.CommentInput{Body: "Segue o log."}); err != nil {
			t.Fatal(err)
		}
		v, err := w.svc.Get(ctx, w.admin, tk.Number)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := v.Ticket.ResolutionDue, time.Date(2026, 12, 4, 16, 0, 0, 0, sp); v.Ticket.SLAPausedAt != nil || !got.Equal(want) {
			t.Fatalf("after resume: due %v (paused %v), want %s", got, v.Ticket.SLAPausedAt, want)
		}
		// An agent's pause and resume are staff-only and audited.
		if _, err := w.svc.PauseSLA(ctx, w.client, tk.Number); !errors.Is(err, ticketing.ErrNotAllowed) {
			t.Fatalf("client paused the SLA: %v", err)
		}
		if _, err := w.svc.PauseSLA(ctx, w.tech, tk.Number); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.PauseSLA(ctx, w.tech, tk.Number); !errors.Is(err, ticketing.ErrInvalid) {
			t.Fatalf("paused twice: %v", err)
		}
		if _, err := w.svc.ResumeSLA(ctx, w.tech, tk.Number); err != nil {
			t.Fatal(err)
		}
	})
}

// TestSLACheckConcurrent runs two checks at once: one records, the other
// records nothing (it finds the lease held, or nothing left to record).
func TestSLACheckConcurrent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		sp, _ := time.LoadLocation("America/Sao_Paulo")
		w := newSLAWorld(t, st, time.Date(2026, 12, 1, 10, 0, 0, 0, sp))
		if _, err := w.svc.CreateSLAPlan(ctx, w.admin, ticketing.SLAPlanInput{Name: "24x7", Resolution: time.Hour, Active: true}); err != nil {
			t.Fatal(err)
		}
		for range 20 {
			w.create(t)
		}
		w.set(time.Date(2026, 12, 1, 12, 0, 0, 0, sp))
		var wg sync.WaitGroup
		reps := make([]*ticketing.SLACheckReport, 2)
		errs := make([]error, 2)
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				reps[i], errs[i] = w.svc.CheckSLA(ctx, w.admin, ticketing.SLACheckOptions{BatchSize: 3})
			}()
		}
		wg.Wait()
		total := 0
		for i := range 2 {
			if errs[i] != nil && !errors.Is(errs[i], ticketing.ErrJobRunning) {
				t.Fatal(errs[i])
			}
			if reps[i] != nil {
				total += reps[i].Breaches
			}
		}
		if total != 20 {
			t.Fatalf("%d breaches recorded by two concurrent checks, want 20 (%v %v)", total, errs[0], errs[1])
		}
		if n := w.countEvents(ticketing.EventSLABreach); n != 20 {
			t.Fatalf("%d breach events, want 20", n)
		}
	})
}

// TestSLAResolvedTicketNeverBreaches: a ticket resolved before anyone
// answered it publicly (a duplicate, solved by phone) is done; its first
// response target must not breach later and mail the supervisors.
func TestSLAResolvedTicketNeverBreaches(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		sp, _ := time.LoadLocation("America/Sao_Paulo")
		w := newSLAWorld(t, st, time.Date(2026, 12, 1, 10, 0, 0, 0, sp))
		if _, err := w.svc.CreateSLAPlan(ctx, w.admin, ticketing.SLAPlanInput{Name: "24x7", Company: "Acme",
			FirstResponse: time.Hour, Resolution: 8 * time.Hour, Active: true, NotifySupervisors: true}); err != nil {
			t.Fatal(err)
		}
		tk := w.create(t)
		for _, to := range []string{store.StatusOpen, store.StatusResolved} {
			if _, err := w.svc.SetStatus(ctx, w.admin, tk.Number, to, ticketing.StatusInput{Solution: "feito", Reason: "feito", Evaluation: "ok", Classification: "outro"}); err != nil {
				t.Fatal(err)
			}
		}
		w.set(time.Date(2026, 12, 1, 12, 0, 0, 0, sp))
		rep, err := w.svc.CheckSLA(ctx, w.admin, ticketing.SLACheckOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Warnings != 0 || rep.Breaches != 0 || rep.Checked != 0 {
			t.Fatalf("resolved ticket: %+v", rep)
		}
	})
}

// A refused SLA command says what was refused, not another area's words.
func TestSLARefusalSaysSLA(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newSLAWorld(t, st, time.Now())
		_, err := w.svc.CheckSLA(context.Background(), w.tech, ticketing.SLACheckOptions{})
		if !errors.Is(err, ticketing.ErrNotAllowed) || !strings.Contains(err.Error(), "SLA") {
			t.Fatalf("tech ran sla check: %v", err)
		}
	})
}

// TestSLAResolvedTimeDoesNotCount: the time a ticket spent resolved is
// not the helpdesk's; reopened a day later, it is not breached at once.
func TestSLAResolvedTimeDoesNotCount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
		w := newSLAWorld(t, st, start)
		if _, err := w.svc.CreateSLAPlan(ctx, w.admin, ticketing.SLAPlanInput{Name: "24x7", Company: "Acme",
			Resolution: 8 * time.Hour, Active: true, NotifySupervisors: true}); err != nil {
			t.Fatal(err)
		}
		tk := w.create(t)
		w.set(start.Add(time.Hour))
		for _, to := range []string{store.StatusOpen, store.StatusResolved} {
			if _, err := w.svc.SetStatus(ctx, w.admin, tk.Number, to, ticketing.StatusInput{Solution: "feito", Reason: "feito", Evaluation: "ok", Classification: "outro"}); err != nil {
				t.Fatal(err)
			}
		}
		w.set(start.Add(20 * time.Hour))
		if _, err := w.svc.SetStatus(ctx, w.client, tk.Number, store.StatusReopened, ticketing.StatusInput{}); err != nil {
			t.Fatal(err)
		}
		w.set(start.Add(21 * time.Hour))
		rep, err := w.svc.CheckSLA(ctx, w.admin, ticketing.SLACheckOptions{})
		if err != nil {
			t.Fatal(err)
		}
		v, err := w.svc.Get(ctx, w.admin, tk.Number)
		if err != nil {
			t.Fatal(err)
		}
		// 1 h open before resolving, 7 h left after reopening at +20 h.
		if want := start.Add(27 * time.Hour); rep.Breaches != 0 || v.Ticket.ResolutionDue == nil || !v.Ticket.ResolutionDue.Equal(want) {
			t.Fatalf("after reopening: %+v, resolution due %v, want %s", rep, v.Ticket.ResolutionDue, want)
		}
	})
}
