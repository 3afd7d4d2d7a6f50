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
// transaction that holds the requester's row (a sign-in does, with
// store.LockUser) and then appends to the log, therefore finds the log
// free: had A taken the log's lock before the notification, A would wait
// for B's row while B waited for A's log, and PostgreSQL would abort one
// with 40P01.
func TestEventLogDeadlockUserRow(t *testing.T) {
	s := storetest.Open(t, store.Postgres)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	svc := ticketing.NewService(s)
	var client, tech *store.User
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
	tk, err := svc.Create(ctx, client, ticketing.CreateInput{Requester: client, Subject: "Impressora parada", Body: "Desde ontem.", Source: store.SourceWeb})
	if err != nil {
		t.Fatal(err)
	}
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
			if err := q.LockUser(ctx, client.ID); err != nil {
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
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for blocked := 0; blocked == 0; {
		select {
		case err := <-aDone:
			t.Fatalf("the reply did not wait for the requester's row (no notification?): %v", err)
		case <-ctx.Done():
			t.Fatal("the reply never waited for the requester's row")
		case <-tick.C:
		}
		if err := s.DB().NewRaw("SELECT count(*) FROM pg_stat_activity WHERE ? = ANY(pg_blocking_pids(pid))", bPID).Scan(ctx, &blocked); err != nil {
			t.Fatal(err)
		}
	}
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

func sqlState(err error) string {
	var pe interface{ Field(byte) string }
	if errors.As(err, &pe) {
		return pe.Field('C')
	}
	return ""
}
