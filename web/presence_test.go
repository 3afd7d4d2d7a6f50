package web

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
)

// recorder is a hub that keeps what presence broadcasts.
type recorder chan broadcast

type broadcast struct {
	topic, event string
	data         string
}

func (r recorder) Broadcast(topic, event string, data any) {
	b, _ := json.Marshal(data)
	r <- broadcast{topic, event, string(b)}
}

// next waits for the next broadcast on topic (a positive signal; fails
// after a few seconds).
func (r recorder) next(t *testing.T, topic string) broadcast {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case b := <-r:
			if b.topic == topic {
				return b
			}
		case <-timeout:
			t.Fatalf("no broadcast on %s", topic)
		}
	}
}

// none reports a broadcast already queued (presence broadcasts while it
// holds its lock, so one caused by a call is queued when the call returns).
func (r recorder) none(t *testing.T, why string) {
	t.Helper()
	select {
	case b := <-r:
		t.Errorf("%s: broadcast %s %s %s", why, b.topic, b.event, b.data)
	default:
	}
}

func beat(user int64, name, tab, state string) presenceMsg {
	return presenceMsg{Kind: presenceBeat, Ticket: 7, User: user, Name: name, Tab: tab, State: state}
}

func TestPresenceTable(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	rec := make(recorder, 64)
	p := newPresence(st, rec, time.Now, slog.New(slog.DiscardHandler))
	defer p.close()
	ctx := context.Background()

	steps := []struct {
		name string
		msg  presenceMsg
		want string // the users broadcast; "" = no broadcast
	}{
		{"Ana opens the ticket", beat(2, "Ana", "a1", stateViewing),
			`[{"id":2,"name":"Ana","state":"viewing"}]`},
		{"Bruno starts a reply", beat(3, "Bruno", "b1", stateReplying),
			`[{"id":3,"name":"Bruno","state":"replying"},{"id":2,"name":"Ana","state":"viewing"}]`},
		{"Ana's heartbeat changes nothing", beat(2, "Ana", "a1", stateViewing), ""},
		{"Ana replies in a second tab", beat(2, "Ana", "a2", stateReplying),
			`[{"id":2,"name":"Ana","state":"replying"},{"id":3,"name":"Bruno","state":"replying"}]`},
		{"Ana closes that tab", presenceMsg{Kind: presenceLeave, Ticket: 7, User: 2, Tab: "a2"},
			`[{"id":3,"name":"Bruno","state":"replying"},{"id":2,"name":"Ana","state":"viewing"}]`},
		{"a leave of a tab never seen", presenceMsg{Kind: presenceLeave, Ticket: 8, User: 2, Tab: "zz"}, ""},
	}
	for _, s := range steps {
		p.local(ctx, s.msg)
		if s.want == "" {
			rec.none(t, s.name)
			continue
		}
		for _, topic := range []string{"ticket:7", "chat:7"} {
			b := rec.next(t, topic)
			if want := `{"topic":"` + topic + `","presence":{"users":` + s.want + `}}`; b.event != "presence" || b.data != want {
				t.Errorf("%s: %s %s, want %s", s.name, b.event, b.data, want)
			}
		}
	}
	if got := p.current(7); len(got) != 2 {
		t.Errorf("current: %+v", got)
	}

	p.local(ctx, presenceMsg{Kind: presenceTyping, Ticket: 7, User: 3, Name: "Bruno"})
	if b := rec.next(t, "chat:7"); b.event != "typing" || b.data != `{"topic":"chat:7","typing":{"user":"Bruno","id":3}}` {
		t.Errorf("typing: %s %s", b.event, b.data)
	}
}

// TestPresenceExpires: without heartbeats an entry goes after the TTL,
// and the others are told.
func TestPresenceExpires(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	rec := make(recorder, 64)
	p := newPresence(st, rec, time.Now, slog.New(slog.DiscardHandler))
	defer p.close()
	p.ttl = 300 * time.Millisecond
	ctx := context.Background()
	p.local(ctx, beat(2, "Ana", "a1", stateViewing))
	rec.next(t, "ticket:7")
	p.ttl = time.Hour
	p.local(ctx, beat(3, "Bruno", "b1", stateViewing))
	rec.next(t, "ticket:7")
	if b := rec.next(t, "ticket:7"); b.data != `{"topic":"ticket:7","presence":{"users":[{"id":3,"name":"Bruno","state":"viewing"}]}}` {
		t.Errorf("after Ana's entry expired: %s", b.data)
	}
}

// TestPresenceAcrossProcesses: two processes on one PostgreSQL schema; a
// heartbeat received by one reaches the other's streams.
func TestPresenceAcrossProcesses(t *testing.T) {
	url := os.Getenv(storetest.PostgresEnv)
	if url == "" {
		storetest.SkipOrFail(t, "presence across processes needs "+storetest.PostgresEnv)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	schema := storetest.NewSchema(t, url)
	open := func() *store.Store {
		s, err := store.Open(ctx, store.Options{Driver: store.Postgres, DSN: url, Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	recA, recB := make(recorder, 256), make(recorder, 256)
	log := slog.New(slog.DiscardHandler)
	a := newPresence(open(), recA, time.Now, log)
	b := newPresence(open(), recB, time.Now, log)
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{}, 2)
	for _, p := range []*presence{a, b} {
		go func() { p.run(wctx); done <- struct{}{} }()
	}
	defer func() {
		stop()
		<-done
		<-done
		a.close()
		b.close()
	}()
	// B listens once a beat of A's reaches it; A's beats go on until then
	// (the first may be sent before B's LISTEN).
	for user := int64(1); ; user++ {
		a.local(ctx, beat(user, "Ana", "a1", stateViewing))
		select {
		case got := <-recB:
			if got.topic != "ticket:7" && got.topic != "chat:7" {
				t.Fatalf("B broadcast on %s", got.topic)
			}
			var d livePresence
			if err := json.Unmarshal([]byte(got.data), &d); err != nil || len(d.Presence.Users) == 0 {
				t.Fatalf("B broadcast %s", got.data)
			}
			return
		case <-time.After(200 * time.Millisecond):
		case <-ctx.Done():
			t.Fatal("B never heard A's heartbeat")
		}
	}
}
