package store_test

import (
	"context"
	"database/sql"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
)

func appendEvent(t *testing.T, s *store.Store, at time.Time) int64 {
	t.Helper()
	e := &store.Event{Name: "ticket", Kind: "created", Data: `{}`, CreatedAt: at}
	if err := s.InTx(context.Background(), func(q *store.Q) error { return q.AppendEvent(context.Background(), e) }); err != nil {
		t.Fatal(err)
	}
	return e.ID
}

func TestEventLog(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		q := s.R()
		if first, last, err := q.EventBounds(ctx); err != nil || first != 0 || last != 0 {
			t.Fatalf("empty log: %d %d %v", first, last, err)
		}
		old := time.Now().Add(-48 * time.Hour)
		var ids []int64
		for i := range 5 {
			at := old
			if i >= 3 {
				at = time.Now()
			}
			ids = append(ids, appendEvent(t, s, at))
		}
		es, err := q.EventsAfter(ctx, ids[1], 2)
		if err != nil || len(es) != 2 || es[0].ID != ids[2] || es[1].ID != ids[3] {
			t.Fatalf("after %d: %+v %v", ids[1], es, err)
		}
		n, err := s.PruneEvents(ctx, time.Now().Add(-24*time.Hour))
		if err != nil || n != 3 {
			t.Fatalf("pruned %d: %v", n, err)
		}
		if first, last, err := q.EventBounds(ctx); err != nil || first != ids[3] || last != ids[4] {
			t.Fatalf("bounds after prune: %d %d %v", first, last, err)
		}
		// However old, the newest entry stays: a reader can still tell a
		// pruned gap from a quiet log.
		if n, err := s.PruneEvents(ctx, time.Now().Add(time.Hour)); err != nil || n != 1 {
			t.Fatalf("pruned %d: %v", n, err)
		}
		if first, last, _ := q.EventBounds(ctx); first != ids[4] || last != ids[4] {
			t.Fatalf("the newest entry went: %d %d", first, last)
		}
	})
}

// TestEventIDsCommitInOrder: transaction B tries to append (and commit)
// while A, which appended first, is still open. B waits for A, so its id
// is above A's and a reader that saw B has seen A: no id commits behind
// one already read.
func TestEventIDsCommitInOrder(t *testing.T) {
	s := storetest.Open(t, store.Postgres)
	ctx := context.Background()
	locks := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(os.Getenv(storetest.PostgresEnv))))
	defer locks.Close()
	var idA, idB int64
	appended, release := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		err := s.InTx(ctx, func(q *store.Q) error {
			e := &store.Event{Name: "ticket", Kind: "a", Data: `{}`}
			if err := q.AppendEvent(ctx, e); err != nil {
				return err
			}
			idA = e.ID
			close(appended)
			<-release
			return nil
		})
		if err != nil {
			t.Error(err)
		}
	}()
	<-appended
	bDone := make(chan struct{})
	go func() {
		defer wg.Done()
		defer close(bDone)
		err := s.InTx(ctx, func(q *store.Q) error {
			e := &store.Event{Name: "ticket", Kind: "b", Data: `{}`}
			err := q.AppendEvent(ctx, e)
			idB = e.ID
			return err
		})
		if err != nil {
			t.Error(err)
		}
	}()
	// B is waiting for the log's lock (the positive signal), not done.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var waiting int
		err := locks.QueryRowContext(ctx, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND classid = $1",
			0x73646576).Scan(&waiting)
		if err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		select {
		case <-bDone:
			t.Fatal("B committed while A held the log")
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("B never waited for the log's lock")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if es, err := s.R().EventsAfter(ctx, 0, 10); err != nil || len(es) != 0 {
		t.Fatalf("uncommitted events visible: %+v %v", es, err)
	}
	close(release)
	wg.Wait()
	if idB <= idA {
		t.Fatalf("B's id %d is not above A's %d", idB, idA)
	}
	es, err := s.R().EventsAfter(ctx, 0, 10)
	if err != nil || len(es) != 2 || es[0].ID != idA || es[1].ID != idB {
		t.Fatalf("log %+v %v", es, err)
	}
}

// TestWatchEvents: an append wakes the watcher (NOTIFY on PostgreSQL, the
// poll on SQLite).
func TestWatchEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx, cancel := context.WithCancel(context.Background())
		woke := make(chan struct{}, 100)
		done := make(chan struct{})
		go func() {
			defer close(done)
			poll := time.Hour // PostgreSQL: only the NOTIFY may wake it
			if s.Driver() == store.SQLite {
				poll = 10 * time.Millisecond
			}
			_ = s.WatchEvents(ctx, store.EventBusOptions{Poll: poll}, func() {
				select {
				case woke <- struct{}{}:
				default:
				}
			})
		}()
		defer func() { cancel(); <-done }()
		select { // listening (PostgreSQL wakes once LISTEN is in place), or the first tick
		case <-woke:
		case <-time.After(10 * time.Second):
			t.Fatal("the watcher never woke after it started")
		}
		for len(woke) > 0 {
			<-woke
		}
		id := appendEvent(t, s, time.Time{})
		select {
		case <-woke:
		case <-time.After(5 * time.Second):
			t.Fatalf("no wake for event %d", id)
		}
	})
}
