package store_test

import (
	"context"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
)

// TestPresenceBus: two processes on one schema hear each other's
// presence messages through NOTIFY; a process of another schema on the
// same database does not.
func TestPresenceBus(t *testing.T) {
	url := os.Getenv(storetest.PostgresEnv)
	if url == "" {
		storetest.SkipOrFail(t, "the presence bus needs "+storetest.PostgresEnv)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	schema := storetest.NewSchema(t, url)
	open := func(schema string) *store.Store {
		s, err := store.Open(ctx, store.Options{Driver: store.Postgres, DSN: url, Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, b := open(schema), open(schema)
	other := storetest.Open(t, store.Postgres)

	before := goleak.IgnoreCurrent() // the stores' pools; the watcher must leave nothing else behind
	got := make(chan string, 16)
	listening := make(chan struct{})
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- b.WatchPresence(wctx, func(err error) { t.Log(err) }, func(p string) {
			if p == "hello" {
				select {
				case <-listening:
				default:
					close(listening)
				}
				return
			}
			got <- p
		})
	}()
	// The listener is up once a message of ours arrives: say hello until
	// it does.
	for ready := false; !ready; {
		if err := a.PublishPresence(ctx, "hello"); err != nil {
			t.Fatal(err)
		}
		select {
		case <-listening:
			ready = true
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			t.Fatal("the listener never heard hello")
		}
	}
	if err := other.PublishPresence(ctx, "from another schema"); err != nil {
		t.Fatal(err)
	}
	if err := a.PublishPresence(ctx, `{"k":"beat"}`); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-got:
		if p != `{"k":"beat"}` {
			t.Fatalf("heard %q first", p)
		}
	case <-ctx.Done():
		t.Fatal("the beat never arrived")
	}
	big := make([]byte, store.MaxPresencePayload+1)
	if err := a.PublishPresence(ctx, string(big)); err == nil {
		t.Error("an oversized presence message was published")
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := goleak.Find(before); err != nil {
		t.Errorf("the watcher left goroutines: %v", err)
	}
}

// TestPresenceBusSQLite: on SQLite publishing is a no-op and watching
// ends with its context.
func TestPresenceBusSQLite(t *testing.T) {
	s := storetest.Open(t, store.SQLite)
	ctx, cancel := context.WithCancel(context.Background())
	if err := s.PublishPresence(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.WatchPresence(ctx, nil, func(string) { t.Error("SQLite delivered a message") }) }()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
