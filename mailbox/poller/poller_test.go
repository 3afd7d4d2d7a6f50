package poller

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/jcservicedesk/servicedesk/mailbox/delivery"
)

func TestAfterActions(t *testing.T) {
	tests := []struct {
		name  string
		caps  imap.CapSet
		after string
		check func(t *testing.T, m *memIMAP)
	}{
		{"seen", capsFull, "seen", func(t *testing.T, m *memIMAP) {
			if st := m.status("INBOX"); *st.NumMessages != 4 || *st.NumUnseen != 0 {
				t.Errorf("INBOX has %d messages, %d unseen; want 4, 0", *st.NumMessages, *st.NumUnseen)
			}
		}},
		{"seen without IDLE", capsBare, "seen", func(t *testing.T, m *memIMAP) {
			if st := m.status("INBOX"); *st.NumUnseen != 0 {
				t.Errorf("%d unseen", *st.NumUnseen)
			}
		}},
		{"move", capsFull, "move:Processed", func(t *testing.T, m *memIMAP) {
			if n := *m.status("INBOX").NumMessages; n != 0 {
				t.Errorf("INBOX still has %d", n)
			}
			if n := *m.status("Processed").NumMessages; n != 4 {
				t.Errorf("Processed has %d, want 4", n)
			}
		}},
		{"move without MOVE", capsNoMove, "move:Processed", func(t *testing.T, m *memIMAP) {
			if n := *m.status("INBOX").NumMessages; n != 0 {
				t.Errorf("INBOX still has %d", n)
			}
			if n := *m.status("Processed").NumMessages; n != 4 {
				t.Errorf("Processed has %d, want 4", n)
			}
		}},
		{"delete", capsFull, "delete", func(t *testing.T, m *memIMAP) {
			if n := *m.status("INBOX").NumMessages; n != 0 {
				t.Errorf("INBOX still has %d", n)
			}
		}},
		{"delete without UIDPLUS", capsBare, "delete", func(t *testing.T, m *memIMAP) {
			if n := *m.status("INBOX").NumMessages; n != 0 {
				t.Errorf("INBOX still has %d", n)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := startIMAP(t, tt.caps, "Processed")
			m.append("INBOX", msg("m1", 100))
			m.append("INBOX", msg("m2", 100), imap.FlagSeen) // a human opened it: still ours
			m.append("INBOX", msg("m3", 5000))
			st := newMemState()
			rec := newRecorder()
			mb := m.mailbox("support")
			mb.After = tt.after
			p := newTestPoller(t, mb, rec, st, nil)
			stop := run(t, p)
			waitFor(t, 5*time.Second, "3 messages", func() bool { return rec.count() == 3 })
			m.append("INBOX", msg("m4", 100)) // arrives while running
			waitFor(t, 5*time.Second, "4 messages", func() bool { return rec.count() == 4 })
			waitFor(t, 5*time.Second, "cursor at 4", func() bool { _, u := st.get("support"); return u == 4 })
			stop()

			for i, env := range rec.envelopes() {
				want := delivery.Envelope{Source: delivery.SourceIMAP, Mailbox: "support", UIDValidity: m.status("INBOX").UIDValidity,
					UID: uint32(i + 1), Recipients: []string{"support@example.com"}}
				if env.Source != want.Source || env.Mailbox != want.Mailbox || env.UID != want.UID ||
					env.UIDValidity != want.UIDValidity || len(env.Recipients) != 1 || env.Recipients[0] != want.Recipients[0] {
					t.Errorf("envelope %d = %+v, want %+v", i, env, want)
				}
				if time.Since(env.ReceivedAt) > time.Minute {
					t.Errorf("envelope %d ReceivedAt = %v", i, env.ReceivedAt)
				}
			}
			for _, id := range []string{"m1", "m2", "m3", "m4"} {
				if n := rec.callsFor(msgID(id)); n != 1 {
					t.Errorf("%s delivered %d times", id, n)
				}
			}
			if v, _ := st.get("support"); v != m.status("INBOX").UIDValidity {
				t.Errorf("cursor uidvalidity %d", v)
			}
			tt.check(t, m)
			if s := p.Status(); !s.Healthy || s.ConsecutiveFailures != 0 || s.LastSuccess.IsZero() {
				t.Errorf("status %+v", s)
			}
		})
	}
}

func TestBatchesInUIDOrder(t *testing.T) {
	m := startIMAP(t, capsFull)
	for i := range 23 {
		m.append("INBOX", msg(fmt.Sprintf("b%02d", i), 200))
	}
	rec := newRecorder()
	st := newMemState()
	p := newTestPoller(t, m.mailbox("support"), rec, st, nil)
	p.batchSize = 5
	run(t, p)
	waitFor(t, 10*time.Second, "23 messages", func() bool { return rec.count() == 23 })
	for i, env := range rec.envelopes() {
		if env.UID != uint32(i+1) {
			t.Fatalf("delivery %d was UID %d: not in UID order", i, env.UID)
		}
	}
	waitFor(t, 5*time.Second, "cursor at 23", func() bool { _, u := st.get("support"); return u == 23 })
}

func TestUIDValidityChange(t *testing.T) {
	m := startIMAP(t, capsFull, "Support")
	m.append("Support", msg("v1", 100))
	m.append("Support", msg("v2", 100))
	rec := newRecorder()
	st := newMemState()
	mb := m.mailbox("support")
	mb.Folder = "Support"
	stop := run(t, newTestPoller(t, mb, rec, st, nil))
	waitFor(t, 5*time.Second, "2 messages", func() bool { return rec.count() == 2 })
	waitFor(t, 5*time.Second, "cursor at 2", func() bool { _, u := st.get("support"); return u == 2 })
	stop()
	oldValidity, _ := st.get("support")

	// The folder is recreated: new UIDVALIDITY, UIDs start again at 1 and
	// the old messages come back with them.
	if err := m.user.Delete("Support"); err != nil {
		t.Fatal(err)
	}
	if err := m.user.Create("Support", nil); err != nil {
		t.Fatal(err)
	}
	m.append("Support", msg("v1", 100))
	m.append("Support", msg("v2", 100))
	m.append("Support", msg("v3", 100))
	run(t, newTestPoller(t, mb, rec, st, nil))
	waitFor(t, 5*time.Second, "v3", func() bool { return rec.count() == 3 })
	waitFor(t, 5*time.Second, "new cursor", func() bool { v, u := st.get("support"); return v != oldValidity && u == 3 })
	for _, id := range []string{"v1", "v2"} {
		if n := rec.callsFor(msgID(id)); n != 2 {
			t.Errorf("%s offered %d times, want 2 (re-delivery after UIDVALIDITY change)", id, n)
		}
	}
}

func TestTemporaryErrorRetries(t *testing.T) {
	m := startIMAP(t, capsFull)
	for _, id := range []string{"t1", "t2", "t3"} {
		m.append("INBOX", msg(id, 100))
	}
	rec := newRecorder()
	st := newMemState()
	var failures atomic.Int32
	var checkErr error
	var checkOnce sync.Once
	rec.fn = func(ctx context.Context, id string, env delivery.Envelope) error {
		if id != msgID("t2") || failures.Load() >= 4 {
			return nil
		}
		failures.Add(1)
		checkOnce.Do(func() {
			// t1 was committed; nothing of t2 may be marked or counted.
			if _, u := st.get("support"); u > 1 {
				checkErr = fmt.Errorf("cursor at %d before t2 was taken", u)
			}
		})
		return errors.New("database is locked")
	}
	p := newTestPoller(t, m.mailbox("support"), rec, st, nil)
	stop := run(t, p)
	// The status is recorded after the deliverer returns: wait for it,
	// not for the deliverer's count (which raced it).
	waitFor(t, 5*time.Second, "unhealthy after 3 failed rounds", func() bool {
		s := p.Status()
		return !s.Healthy && s.ConsecutiveFailures >= 3 && s.LastError != ""
	})
	if st := m.status("INBOX"); *st.NumUnseen != 2 {
		t.Errorf("%d unseen while t2 fails, want 2 (t2 and t3)", *st.NumUnseen)
	}
	if rec.callsFor(msgID("t3")) != 0 {
		t.Error("t3 delivered before t2: skipped past a failing message")
	}
	waitFor(t, 5*time.Second, "all 3", func() bool { return rec.count() == 3 })
	waitFor(t, 5*time.Second, "cursor at 3", func() bool { _, u := st.get("support"); return u == 3 })
	waitFor(t, 5*time.Second, "healthy again", func() bool { return p.Status().Healthy })
	stop()
	if checkErr != nil {
		t.Error(checkErr)
	}
	if st := m.status("INBOX"); *st.NumUnseen != 0 {
		t.Errorf("%d unseen at end", *st.NumUnseen)
	}
	if n := rec.callsFor(msgID("t2")); n != 5 {
		t.Errorf("t2 offered %d times, want 4 failures + 1 success", n)
	}
}

func TestPermanentErrorAdvances(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  error
	}{
		{"reject", &delivery.RejectError{Reason: "unknown sender"}},
		{"wrapped", fmt.Errorf("intake: %w", &delivery.RejectError{Reason: "loop"})},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := startIMAP(t, capsFull)
			for _, id := range []string{"p1", "p2", "p3"} {
				m.append("INBOX", msg(id, 100))
			}
			rec := newRecorder()
			rec.fn = func(_ context.Context, id string, _ delivery.Envelope) error {
				if id == msgID("p2") {
					return tt.err
				}
				return nil
			}
			st := newMemState()
			p := newTestPoller(t, m.mailbox("support"), rec, st, nil)
			run(t, p)
			waitFor(t, 5*time.Second, "cursor at 3", func() bool { _, u := st.get("support"); return u == 3 })
			if *m.status("INBOX").NumUnseen != 0 {
				t.Error("refused message not marked")
			}
			if n := rec.callsFor(msgID("p2")); n != 1 {
				t.Errorf("p2 offered %d times, want 1", n)
			}
			if rec.count() != 2 || !p.Status().Healthy {
				t.Errorf("committed %d, status %+v", rec.count(), p.Status())
			}
		})
	}
}

func TestPanicInDeliverIsTemporary(t *testing.T) {
	m := startIMAP(t, capsFull)
	m.append("INBOX", msg("x1", 100))
	rec := newRecorder()
	var n atomic.Int32
	rec.fn = func(context.Context, string, delivery.Envelope) error {
		if n.Add(1) == 1 {
			panic("intake bug")
		}
		return nil
	}
	st := newMemState()
	run(t, newTestPoller(t, m.mailbox("support"), rec, st, nil))
	waitFor(t, 5*time.Second, "delivered after the panic", func() bool { return rec.count() == 1 })
	if n.Load() != 2 {
		t.Errorf("offered %d times, want 2", n.Load())
	}
}

func TestIdleWakesPoller(t *testing.T) {
	m := startIMAP(t, capsFull)
	rec := newRecorder()
	mb := m.mailbox("support")
	mb.PollInterval = time.Hour // only IDLE can bring the next message in time
	p := newTestPoller(t, mb, rec, newMemState(), nil)
	idles := countIdle(p)
	run(t, p)
	waitFor(t, 5*time.Second, "IDLE entered", func() bool { return idles.Load() >= 1 })
	start := time.Now()
	m.append("INBOX", msg("idle1", 100))
	waitFor(t, 3*time.Second, "delivery through IDLE", func() bool { return rec.count() == 1 })
	t.Logf("delivered %v after APPEND", time.Since(start))
	// After the delivery, the poller goes back into IDLE.
	waitFor(t, 5*time.Second, "IDLE entered again", func() bool { return idles.Load() >= 2 })
	m.append("INBOX", msg("idle2", 100))
	waitFor(t, 3*time.Second, "second delivery through IDLE", func() bool { return rec.count() == 2 })
}

func TestReconnectsAfterServerDies(t *testing.T) {
	m := startIMAP(t, capsFull)
	m.append("INBOX", msg("r1", 100))
	rec := newRecorder()
	mb := m.mailbox("support")
	mb.PollInterval = time.Hour
	p := newTestPoller(t, mb, rec, newMemState(), nil)
	run(t, p)
	waitFor(t, 5*time.Second, "r1", func() bool { return rec.count() == 1 })
	waitFor(t, 5*time.Second, "connected", func() bool { return p.Status().Connected })

	m.stop()
	waitFor(t, 10*time.Second, "unhealthy", func() bool {
		s := p.Status()
		return !s.Healthy && !s.Connected && s.ConsecutiveFailures >= 3 && s.LastError != ""
	})
	m.append("INBOX", msg("r2", 100))
	m.restart()
	waitFor(t, 10*time.Second, "r2 after reconnect", func() bool { return rec.count() == 2 })
	waitFor(t, 5*time.Second, "healthy", func() bool { s := p.Status(); return s.Healthy && s.Connected })
}

func TestBadLogin(t *testing.T) {
	m := startIMAP(t, capsFull)
	mb := m.mailbox("support")
	mb.Password = "wrong-password-xyz"
	p := newTestPoller(t, mb, newRecorder(), newMemState(), nil)
	run(t, p)
	waitFor(t, 5*time.Second, "unhealthy", func() bool { return !p.Status().Healthy })
	if s := p.Status(); strings.Contains(s.LastError, "wrong-password-xyz") {
		t.Errorf("status leaks the password: %q", s.LastError)
	}
}

// memLocker is one advisory lock table shared by "processes".
type memLocker struct {
	mu      sync.Mutex
	held    map[string]bool
	refused atomic.Int32 // TryLock calls that found the lock held
}

func (l *memLocker) TryLock(_ context.Context, key string) (func(), bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held[key] {
		l.refused.Add(1)
		return nil, false, nil
	}
	l.held[key] = true
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			delete(l.held, key)
			l.mu.Unlock()
		})
	}, true, nil
}

func TestLockerOnePollerAtATime(t *testing.T) {
	m := startIMAP(t, capsFull)
	for i := range 20 {
		m.append("INBOX", msg(fmt.Sprintf("l%02d", i), 100))
	}
	lk := &memLocker{held: map[string]bool{}}
	st := newMemState() // the shared database
	shared := newRecorder()
	var byA, byB atomic.Int32
	deliverer := func(n *atomic.Int32) delivery.Deliverer {
		return delivery.DelivererFunc(func(ctx context.Context, env delivery.Envelope, raw []byte) (delivery.Outcome, error) {
			n.Add(1)
			return shared.Deliver(ctx, env, raw)
		})
	}
	mb := m.mailbox("support")
	pa := newTestPoller(t, mb, deliverer(&byA), st, lk)
	pb := newTestPoller(t, mb, deliverer(&byB), st, lk)
	stopA := run(t, pa)
	waitFor(t, 5*time.Second, "A connected", func() bool { return pa.Status().Connected })
	stopB := run(t, pb)
	waitFor(t, 5*time.Second, "20 messages", func() bool { return shared.count() == 20 })
	// B has tried for the lock, and been refused, after the 20 were in:
	// several chances to misbehave.
	refusedAt20 := lk.refused.Load()
	waitFor(t, 5*time.Second, "B refused the lock 3 more times", func() bool { return lk.refused.Load() >= refusedAt20+3 })
	if byB.Load() != 0 || byA.Load() != 20 {
		t.Fatalf("A delivered %d, B %d; want 20 and 0", byA.Load(), byB.Load())
	}
	if s := pb.Status(); s.Connected || !s.Healthy {
		t.Errorf("standby status %+v: want not connected, healthy", s)
	}

	// A stops (process exit): B takes over.
	stopA()
	m.append("INBOX", msg("after-failover", 100))
	waitFor(t, 5*time.Second, "B delivers after failover", func() bool { return shared.count() == 21 })
	stopB()
	if byB.Load() != 1 {
		t.Errorf("B delivered %d, want 1", byB.Load())
	}
}

func TestGroupIsolatesFailures(t *testing.T) {
	m := startIMAP(t, capsFull)
	m.append("INBOX", msg("g1", 100))
	rec := newRecorder()
	st := newMemState()

	good := newTestPoller(t, m.mailbox("good"), rec, st, nil)
	deadMB := m.mailbox("dead")
	deadMB.Port = 1 // nothing listens there
	dead := newTestPoller(t, deadMB, rec, st, nil)
	badMB := m.mailbox("bad")
	badMB.After = "archive"
	bad := newTestPoller(t, badMB, rec, st, nil)

	g := NewGroup(good, dead, bad)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()

	waitFor(t, 5*time.Second, "good mailbox delivers", func() bool { return rec.count() == 1 })
	waitFor(t, 5*time.Second, "dead mailbox unhealthy", func() bool { return !dead.Status().Healthy })
	m.append("INBOX", msg("g2", 100))
	waitFor(t, 5*time.Second, "good keeps going", func() bool { return rec.count() == 2 })

	ss := g.Statuses()
	if len(ss) != 3 || ss[0].Mailbox != "good" || !ss[0].Healthy || ss[1].Healthy || ss[2].Healthy {
		t.Errorf("statuses %+v", ss)
	}
	cancel()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "archive") {
			t.Errorf("Group.Run = %v, want the configuration error", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Group.Run did not return")
	}
}

func TestBackoff(t *testing.T) {
	for _, tt := range []struct {
		n        int
		min, max time.Duration
	}{
		{1, 500 * time.Millisecond, time.Second},
		{2, time.Second, 2 * time.Second},
		{5, 8 * time.Second, 16 * time.Second},
		{9, 128 * time.Second, 256 * time.Second},
		{10, 150 * time.Second, 300 * time.Second},
		{50, 150 * time.Second, 300 * time.Second},
	} {
		for range 100 {
			if d := backoff(tt.n, time.Second, 5*time.Minute); d < tt.min || d > tt.max {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", tt.n, d, tt.min, tt.max)
			}
		}
	}
}
