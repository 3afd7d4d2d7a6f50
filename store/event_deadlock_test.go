package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// TestEventLogDeadlockUserRow: the event log's advisory lock is the last
// lock a ticket change takes. A staff reply (A) locks the ticket, writes
// the comment and the requester's notification (whose foreign key waits
// for the requester's row, here held by B), and only then the log. B, a
// transaction that holds the requester's row FOR UPDATE (as deleting the
// user does) and then appends to the log, therefore finds the log
// free: had A taken the log's lock before the notification, A would wait
// for B's row while B waited for A's log, and PostgreSQL would abort one
// with 40P01.
func TestEventLogDeadlockUserRow(t *testing.T) {
	s := storetest.Open(t, store.Postgres)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	svc := ticketing.NewService(s)
	client, tech, tk := newTicketOfClient(t, ctx, s, svc)
	_, before, err := s.R().EventBounds(ctx)
	if err != nil {
		t.Fatal(err)
	}

	holding := make(chan int64)    // B holds the requester's row; its backend
	proceed := make(chan struct{}) // B may append now
	bDone := make(chan error, 1)   // B committed (or failed)
	bEvent := &store.Event{Name: "notification", Kind: "account", UserID: &client.ID, Data: `{}`}
	go func() {
		bDone <- s.InTx(ctx, func(q *store.Q) error {
			// The lock a user's deletion takes (LockUser's NO KEY UPDATE
			// lets foreign keys through).
			if _, err := q.DB().NewRaw("SELECT id FROM users WHERE id = ? FOR UPDATE", client.ID).Exec(ctx); err != nil {
				return err
			}
			pid, err := q.BackendPID(ctx)
			if err != nil {
				return err
			}
			holding <- pid
			select {
			case <-proceed:
			case <-ctx.Done():
				return ctx.Err()
			}
			return q.AppendEvent(ctx, bEvent)
		})
	}()
	var bPID int64
	select {
	case bPID = <-holding:
	case err := <-bDone:
		t.Fatalf("B: %v", err)
	}
	aDone := make(chan error, 1)
	go func() {
		_, err := svc.Comment(ctx, tech, tk.Number, ticketing.CommentInput{Body: "Trocamos o toner.", Source: store.SourceWeb})
		aDone <- err
	}()
	// A's notification waits for B's row: PostgreSQL says so.
	waitBlockedBy(t, ctx, s, bPID, aDone)
	close(proceed)
	errB, errA := <-bDone, <-aDone
	for name, err := range map[string]error{"B (user row, then the log)": errB, "A (the reply)": errA} {
		if err != nil {
			t.Errorf("%s: %v (deadlock: %v, retryable: %v)", name, err, sqlState(err) == "40P01", store.IsRetryable(err))
		}
	}
	if t.Failed() {
		return
	}
	// Both committed, the log in commit order: B's entry, then A's.
	es, err := s.R().EventsAfter(ctx, before, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) < 3 || es[0].ID != bEvent.ID {
		t.Fatalf("log after %d: %+v, want B's entry %d first and then the reply's", before, es, bEvent.ID)
	}
	notified := false
	for _, e := range es[1:] {
		notified = notified || (e.Name == ticketing.LiveNotification && e.UserID != nil && *e.UserID == client.ID)
	}
	if !notified {
		t.Errorf("the reply wrote no notification for the requester: %+v", es)
	}
}

// newTicketOfClient makes a client, a technician and a ticket of the
// client's.
func newTicketOfClient(t *testing.T, ctx context.Context, s *store.Store, svc *ticketing.Service) (client, tech *store.User, tk *store.Ticket) {
	t.Helper()
	err := s.InTx(ctx, func(q *store.Q) error {
		c := &store.Company{Name: "Acme", Domains: []string{"acme.example"}}
		if err := q.CreateCompany(ctx, c); err != nil {
			return err
		}
		cid := c.ID
		client = &store.User{Email: "maria@acme.example", Name: "Maria", Role: store.RoleClient, CompanyID: &cid}
		tech = &store.User{Email: "ana@help.example", Name: "Ana", Role: store.RoleTech}
		for _, u := range []*store.User{client, tech} {
			if err := q.CreateUser(ctx, u); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	tk, err = svc.Create(ctx, client, ticketing.CreateInput{Requester: client, Subject: "Impressora parada", Body: "Desde ontem.", Source: store.SourceWeb})
	if err != nil {
		t.Fatal(err)
	}
	return client, tech, tk
}

// waitBlockedBy returns once a backend waits for a lock held by pid, as
// PostgreSQL reports it (pg_blocking_pids); it fails the test if done
// receives first (the transaction it waited for never waited).
func waitBlockedBy(t *testing.T, ctx context.Context, s *store.Store, pid int64, done <-chan error) {
	t.Helper()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for blocked := 0; blocked == 0; {
		select {
		case err := <-done:
			t.Fatalf("finished without waiting for backend %d: %v", pid, err)
		case <-ctx.Done():
			t.Fatalf("nobody waited for backend %d", pid)
		case <-tick.C:
		}
		if err := s.DB().NewRaw("SELECT count(*) FROM pg_stat_activity WHERE ? = ANY(pg_blocking_pids(pid))", pid).Scan(ctx, &blocked); err != nil {
			t.Fatal(err)
		}
	}
}

// TestEventLogDeadlockTicketRow: two changes of one ticket. In the order
// every change takes (the ticket's row, then the log) the second waits for
// the first and both commit, their entries in commit order. The other
// order in one of them (the log, then the ticket's row) is the deadlock
// the rule prevents: PostgreSQL aborts one with 40P01, which
// store.IsRetryable recognises (the mail intake retries it; a web request
// would show an error).
func TestEventLogDeadlockTicketRow(t *testing.T) {
	s := storetest.Open(t, store.Postgres)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tk := seedTicket(t, s)
	lockTicket := func(q *store.Q) error { _, err := q.Ticket(ctx, store.AllCompanies(), tk.ID, true); return err }
	entry := func() *store.Event {
		return &store.Event{Name: "ticket", Kind: "commented", TicketID: &tk.ID, Data: `{}`}
	}
	// run is one change in a transaction of its own: first, then (after
	// the test lets it go on) second; it reports its backend once first
	// is done.
	type change struct {
		pid  chan int64
		next chan struct{}
		done chan error
		e    *store.Event
	}
	run := func(first, second func(q *store.Q, e *store.Event) error) *change {
		c := &change{pid: make(chan int64, 1), next: make(chan struct{}), done: make(chan error, 1), e: entry()}
		go func() {
			c.done <- s.InTx(ctx, func(q *store.Q) error {
				if err := q.ExecTest(ctx, "SET LOCAL deadlock_timeout = '20ms'"); err != nil {
					return err
				}
				if err := first(q, c.e); err != nil {
					return err
				}
				pid, err := q.BackendPID(ctx)
				if err != nil {
					return err
				}
				c.pid <- pid
				select {
				case <-c.next:
				case <-ctx.Done():
					return ctx.Err()
				}
				return second(q, c.e)
			})
		}()
		return c
	}
	rowFirst := func(q *store.Q, e *store.Event) error { return lockTicket(q) }
	logAfter := func(q *store.Q, e *store.Event) error { return q.AppendEvent(ctx, e) }
	logFirst := func(q *store.Q, e *store.Event) error { return q.AppendEvent(ctx, e) }
	rowAfter := func(q *store.Q, e *store.Event) error { return lockTicket(q) }

	t.Run("one order", func(t *testing.T) {
		// A holds the row and the log; B asks for the row, and waits.
		rowAndLog := func(q *store.Q, e *store.Event) error {
			if err := lockTicket(q); err != nil {
				return err
			}
			return q.AppendEvent(ctx, e)
		}
		nothing := func(*store.Q, *store.Event) error { return nil }
		a := run(rowAndLog, nothing)
		aPID := <-a.pid
		b := run(rowFirst, logAfter)
		waitBlockedBy(t, ctx, s, aPID, b.done)
		close(a.next)
		if err := <-a.done; err != nil {
			t.Fatalf("A: %v", err)
		}
		<-b.pid
		close(b.next)
		if err := <-b.done; err != nil {
			t.Fatalf("B: %v", err)
		}
		if a.e.ID >= b.e.ID {
			t.Errorf("entries out of commit order: A %d, B %d", a.e.ID, b.e.ID)
		}
	})
	t.Run("the other order deadlocks", func(t *testing.T) {
		// A holds the log, B the row; then each asks for the other's.
		a := run(logFirst, rowAfter)
		b := run(rowFirst, logAfter)
		<-a.pid
		<-b.pid
		close(a.next)
		close(b.next)
		errA, errB := <-a.done, <-b.done
		failed := 0
		for _, err := range []error{errA, errB} {
			if err == nil {
				continue
			}
			failed++
			if sqlState(err) != "40P01" || !store.IsRetryable(err) {
				t.Errorf("want a retryable deadlock (40P01), got %v", err)
			}
		}
		if failed != 1 {
			t.Errorf("%d of the two failed (A: %v, B: %v), want one deadlock", failed, errA, errB)
		}
	})
}

func sqlState(err error) string {
	var pe interface{ Field(byte) string }
	if errors.As(err, &pe) {
		return pe.Field('C')
	}
	return ""
}

// TestLockUserLetsReferencesIn: a sign-in's LockUser queues the next
// sign-in of the same user, but not a reply that refers to the user (the
// notification's foreign key takes KEY SHARE, which NO KEY UPDATE allows).
func TestLockUserLetsReferencesIn(t *testing.T) {
	s := storetest.Open(t, store.Postgres)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	svc := ticketing.NewService(s)
	client, tech, tk := newTicketOfClient(t, ctx, s, svc)
	holding := make(chan int64)
	release := make(chan struct{})
	bDone := make(chan error, 1)
	go func() {
		bDone <- s.InTx(ctx, func(q *store.Q) error {
			if err := q.LockUser(ctx, client.ID); err != nil {
				return err
			}
			pid, err := q.BackendPID(ctx)
			if err != nil {
				return err
			}
			holding <- pid
			select {
			case <-release:
			case <-ctx.Done():
				return ctx.Err()
			}
			return nil
		})
	}()
	var bPID int64
	select {
	case bPID = <-holding:
	case err := <-bDone:
		t.Fatalf("B: %v", err)
	}
	// The reply (a comment and the requester's notification) commits
	// while B still holds the row.
	if _, err := svc.Comment(ctx, tech, tk.Number, ticketing.CommentInput{Body: "Trocamos o toner.", Source: store.SourceWeb}); err != nil {
		t.Fatalf("reply while the requester's row is locked: %v", err)
	}
	// Another sign-in of the same user waits for B.
	cDone := make(chan error, 1)
	go func() {
		cDone <- s.InTx(ctx, func(q *store.Q) error { return q.LockUser(ctx, client.ID) })
	}()
	waitBlockedBy(t, ctx, s, bPID, cDone)
	close(release)
	if err := <-bDone; err != nil {
		t.Fatalf("B: %v", err)
	}
	if err := <-cDone; err != nil {
		t.Fatalf("C: %v", err)
	}
}
