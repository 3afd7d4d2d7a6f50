package sender

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// fastConfig polls and backs off in milliseconds.
func fastConfig(ts *testServer) Config {
	return Config{
		Server: ts.host, Port: ts.port, Helo: "sender.test",
		Workers: 2, Batch: 5, Lease: 5 * time.Second, PollInterval: 10 * time.Millisecond,
		BackoffBase: 40 * time.Millisecond, BackoffMax: time.Second, Timeout: 5 * time.Second,
	}
}

func TestRunDeliversAndReusesConnections(t *testing.T) {
	ts := newTestServer(t, serverOpts{})
	q := newMemQueue()
	const n = 30
	for i := range int64(n) {
		q.add(testMessage(i + 1))
	}
	s := New(fastConfig(ts), q, testLogger(t))
	runSender(t, s)
	waitFor(t, 10*time.Second, "all sent", func() bool { return q.countState("sent") == n })
	for i := range int64(n) {
		if c := ts.count(testMessage(i + 1).MessageID); c != 1 {
			t.Errorf("message %d delivered %d times", i+1, c)
		}
	}
	ts.mu.Lock()
	sessions := ts.sessions
	ts.mu.Unlock()
	if sessions > 2 {
		t.Errorf("%d SMTP sessions for %d messages on 2 workers: connections not reused", sessions, n)
	}
	if st := s.Status(); st.LastSuccess.IsZero() || st.ConsecutiveFailures != 0 {
		t.Errorf("Status = %+v", st)
	}
}

func TestRunVerdicts(t *testing.T) {
	tests := []struct {
		name       string
		fail       failure
		refuse     string
		partial    bool // queue implements PartialRecorder
		age        time.Duration
		wantState  string
		wantReason string
		wantCopies int
	}{
		{name: "permanent 550", fail: failure{"mail", 550, 1}, wantState: "failed",
			wantReason: "MAIL FROM: 550 5.0.0 Mailbox unavailable: no such user here"},
		{name: "permanent 554 after data", fail: failure{"data", 554, 1}, wantState: "failed",
			wantReason: "end of DATA: 554 5.0.0 Transaction failed"},
		{name: "partial, recorded", refuse: "bob@customer.test", partial: true, wantState: "sent",
			wantReason: "refused: <bob@customer.test>: 550", wantCopies: 1},
		{name: "partial, plain queue", refuse: "bob@customer.test", wantState: "sent", wantCopies: 1},
		{name: "older than MaxAge", fail: failure{"mail", 451, 1000}, age: 2 * time.Hour, wantState: "failed",
			wantReason: "gave up after 1 attempts: MAIL FROM: 451 4.0.0 Requested action aborted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, serverOpts{})
			if tt.fail.n > 0 {
				ts.failNext(tt.fail.stage, tt.fail.code, tt.fail.n)
			}
			if tt.refuse != "" {
				ts.refuseRcpt(tt.refuse, 550)
			}
			m := testMessage(1, "alice@customer.test", "bob@customer.test")
			m.CreatedAt = time.Now().Add(-tt.age)
			mq := newMemQueue(m)
			var q Queue = mq
			if tt.partial {
				q = partialQueue{mq}
			}
			cfg := fastConfig(ts)
			cfg.MaxAge = time.Hour
			runSender(t, New(cfg, q, testLogger(t)))
			waitFor(t, 10*time.Second, tt.wantState, func() bool { return mq.row(1).state == tt.wantState })
			r := mq.row(1)
			if !strings.Contains(r.reason, tt.wantReason) {
				t.Errorf("reason %q lacks %q", r.reason, tt.wantReason)
			}
			if c := ts.count(m.MessageID); c != tt.wantCopies {
				t.Errorf("relay got %d copies, want %d", c, tt.wantCopies)
			}
		})
	}
}

// TestRunRetryThenSuccess: 451 three times, growing backoff, then delivered once.
func TestRunRetryThenSuccess(t *testing.T) {
	ts := newTestServer(t, serverOpts{})
	ts.failNext("mail", 451, 3)
	q := newMemQueue(testMessage(1))
	cfg := fastConfig(ts)
	s := New(cfg, q, testLogger(t))
	runSender(t, s)
	waitFor(t, 10*time.Second, "sent", func() bool { return q.row(1).state == "sent" })
	r := q.row(1)
	if r.m.Attempts != 4 || len(r.retries) != 3 {
		t.Fatalf("attempts=%d retries=%v, want 4 attempts and 3 retries", r.m.Attempts, r.retries)
	}
	for i, d := range r.retries {
		want := cfg.BackoffBase << i
		lo, hi := time.Duration(float64(want)*0.8)-10*time.Millisecond, time.Duration(float64(want)*1.2)
		if d < lo || d > hi {
			t.Errorf("retry %d after %v, want %v ±20%%", i+1, d, want)
		}
		if i > 0 && d <= r.retries[i-1] {
			t.Errorf("retry %d after %v, not later than the previous %v", i+1, d, r.retries[i-1])
		}
	}
	if c := ts.count(r.m.MessageID); c != 1 {
		t.Errorf("relay got %d copies, want 1", c)
	}
	if st := s.Status(); st.ConsecutiveFailures != 0 || !strings.Contains(st.LastError, "451") {
		t.Errorf("Status = %+v, want 0 failures after success and the 451 as last error", st)
	}
}

// TestStatusCountsFailures: a relay that is down shows on /readyz.
func TestStatusCountsFailures(t *testing.T) {
	q := newMemQueue(testMessage(1))
	cfg := Config{Server: "127.0.0.1", Port: freePort(t), PollInterval: 5 * time.Millisecond,
		BackoffBase: time.Millisecond, BackoffMax: 5 * time.Millisecond, Timeout: time.Second}
	s := New(cfg, q, testLogger(t))
	runSender(t, s)
	waitFor(t, 10*time.Second, "3 failures", func() bool { return s.Status().ConsecutiveFailures >= 3 })
	if st := s.Status(); !strings.Contains(st.LastError, "connect") || !st.LastSuccess.IsZero() {
		t.Errorf("Status = %+v", st)
	}
	if st := q.row(1).state; st != "queued" {
		t.Errorf("state %q, want queued for retry", st)
	}
}

// TestCrashBetweenSendAndMark: the relay accepted, the sender died before Sent
// was recorded; after the lease another sender delivers again (at-least-once).
func TestCrashBetweenSendAndMark(t *testing.T) {
	ts := newTestServer(t, serverOpts{})
	m := testMessage(1)
	q := newMemQueue(m)
	cfg := fastConfig(ts)
	cfg.Lease = 300 * time.Millisecond
	cfg.Timeout = 100 * time.Millisecond

	ctxA, crash := context.WithCancel(context.Background())
	defer crash()
	q.sentHook = func(int64) error {
		crash()
		return fmt.Errorf("database is down")
	}
	doneA := make(chan error, 1)
	go func() { doneA <- New(cfg, q, testLogger(t)).Run(ctxA) }()
	select {
	case <-doneA:
	case <-time.After(10 * time.Second):
		t.Fatal("sender A did not stop")
	}
	if c := ts.count(m.MessageID); c != 1 {
		t.Fatalf("relay got %d copies before the crash, want 1", c)
	}
	if r := q.row(1); r.state != "queued" || r.leaseUntil.IsZero() {
		t.Fatalf("after the crash: state %q lease %v, want still claimed", r.state, r.leaseUntil)
	}

	q.mu.Lock()
	q.sentHook = nil
	q.mu.Unlock()
	runSender(t, New(cfg, q, testLogger(t)))
	waitFor(t, 10*time.Second, "sent by B", func() bool { return q.row(1).state == "sent" })
	if c := ts.count(m.MessageID); c != 2 {
		t.Errorf("relay got %d copies, want 2 (at-least-once)", c)
	}
	if a := q.row(1).m.Attempts; a != 2 {
		t.Errorf("attempts %d, want 2", a)
	}
}

// TestTwoSendersShareQueue: two processes on one outbox deliver each message once.
func TestTwoSendersShareQueue(t *testing.T) {
	ts := newTestServer(t, serverOpts{})
	q := newMemQueue()
	const n = 200
	for i := range int64(n) {
		q.add(testMessage(i + 1))
	}
	for _, helo := range []string{"a.sender.test", "b.sender.test"} {
		cfg := fastConfig(ts)
		cfg.Helo, cfg.Workers, cfg.Batch = helo, 3, 7
		runSender(t, New(cfg, q, testLogger(t)))
	}
	waitFor(t, 30*time.Second, "all sent", func() bool { return q.countState("sent") == n })
	for i := range int64(n) {
		if c := ts.count(testMessage(i + 1).MessageID); c != 1 {
			t.Errorf("message %d delivered %d times", i+1, c)
		}
	}
	by := map[string]int{}
	for _, r := range ts.received() {
		by[r.Helo]++
	}
	if by["a.sender.test"] == 0 || by["b.sender.test"] == 0 {
		t.Errorf("deliveries per sender %v: both should have worked", by)
	}
}

// TestWake claims at once instead of waiting for PollInterval.
func TestWake(t *testing.T) {
	ts := newTestServer(t, serverOpts{})
	q := newMemQueue()
	cfg := fastConfig(ts)
	cfg.PollInterval = time.Hour
	s := New(cfg, q, testLogger(t))
	runSender(t, s)
	waitFor(t, 5*time.Second, "first claim", func() bool { q.mu.Lock(); defer q.mu.Unlock(); return q.claims > 0 })
	q.add(testMessage(1))
	s.Wake()
	s.Wake() // never blocks
	waitFor(t, 5*time.Second, "sent after Wake", func() bool { return q.row(1).state == "sent" })
}

// TestShutdownReleases: on stop, the in-flight message is finished and marked,
// the rest of the claim is handed back for immediate retry.
func TestShutdownReleases(t *testing.T) {
	ts := newTestServer(t, serverOpts{delay: 100 * time.Millisecond})
	q := newMemQueue()
	for i := range int64(10) {
		q.add(testMessage(i + 1))
	}
	cfg := fastConfig(ts)
	cfg.Workers, cfg.Batch = 1, 10
	stop := runSender(t, New(cfg, q, testLogger(t)))
	waitFor(t, 5*time.Second, "first delivery", func() bool { return len(ts.received()) > 0 })
	stop()
	sent, released := 0, 0
	for i := range int64(10) {
		r := q.row(i + 1)
		switch {
		case r.state == "sent":
			sent++
		case r.state == "queued" && r.leaseUntil.IsZero() && r.reason == "sender stopped before delivery":
			released++
		default:
			t.Errorf("message %d: state %q lease %v reason %q", i+1, r.state, r.leaseUntil, r.reason)
		}
	}
	if got := len(ts.received()); got != sent || sent+released != 10 {
		t.Errorf("relay got %d, %d marked sent, %d released; want every delivery marked", got, sent, released)
	}
}

// TestConnectionReuse: an unfinished transaction is RSET before the next
// message, and a connection the relay dropped while idle is replaced without
// costing the message an attempt.
func TestConnectionReuse(t *testing.T) {
	tests := []struct {
		name         string
		opts         serverOpts
		fail         failure
		deferRcpt    string        // answered 451
		pause        time.Duration // between the two messages
		wantSessions int
		wantAttempts int // of the second message
	}{
		// alice is accepted, later@ deferred: without RSET alice would stay
		// in the envelope of the next message.
		{name: "RSET after a deferred recipient", deferRcpt: "later@customer.test", wantSessions: 1, wantAttempts: 1},
		{name: "RSET after a refused sender", fail: failure{"mail", 550, 1}, wantSessions: 1, wantAttempts: 1},
		{name: "relay dropped idle connection", opts: serverOpts{idle: 100 * time.Millisecond},
			pause: 300 * time.Millisecond, wantSessions: 2, wantAttempts: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, tt.opts)
			if tt.fail.n > 0 {
				ts.failNext(tt.fail.stage, tt.fail.code, tt.fail.n)
			}
			if tt.deferRcpt != "" {
				ts.refuseRcpt(tt.deferRcpt, 451)
			}
			q := newMemQueue(testMessage(1, "alice@customer.test", "later@customer.test"))
			cfg := fastConfig(ts)
			cfg.Workers, cfg.BackoffBase = 1, time.Hour
			s := New(cfg, q, testLogger(t))
			runSender(t, s)
			waitFor(t, 5*time.Second, "first message handled", func() bool { return q.row(1).m.Attempts == 1 && q.row(1).leaseUntil.IsZero() })
			time.Sleep(tt.pause)
			q.add(testMessage(2, "bob@customer.test"))
			s.Wake()
			waitFor(t, 5*time.Second, "second message sent", func() bool { return q.row(2).state == "sent" })
			for _, r := range ts.received() {
				if messageID(r.Data) == q.row(2).m.MessageID && !slices.Equal(r.To, []string{"bob@customer.test"}) {
					t.Errorf("second message went to %v, want only bob", r.To)
				}
			}
			if a := q.row(2).m.Attempts; a != tt.wantAttempts {
				t.Errorf("second message took %d attempts, want %d", a, tt.wantAttempts)
			}
			ts.mu.Lock()
			defer ts.mu.Unlock()
			if ts.sessions != tt.wantSessions {
				t.Errorf("%d SMTP sessions, want %d", ts.sessions, tt.wantSessions)
			}
		})
	}
}

// TestLeaseEndingSkips: a claimed message whose lease could end mid-delivery
// is not started; it comes back after the lease and is delivered once.
func TestLeaseEndingSkips(t *testing.T) {
	ts := newTestServer(t, serverOpts{delay: 40 * time.Millisecond})
	q := newMemQueue()
	const n = 6
	for i := range int64(n) {
		q.add(testMessage(i + 1))
	}
	cfg := fastConfig(ts)
	// Each message may start only in the first 100ms of its claim.
	cfg.Workers, cfg.Batch, cfg.Lease, cfg.Timeout = 1, n, 1100*time.Millisecond, time.Second
	runSender(t, New(cfg, q, testLogger(t)))
	waitFor(t, 20*time.Second, "all sent", func() bool { return q.countState("sent") == n })
	again := 0
	for i := range int64(n) {
		r := q.row(i + 1)
		if c := ts.count(r.m.MessageID); c != 1 {
			t.Errorf("message %d delivered %d times", i+1, c)
		}
		if r.m.Attempts > 1 {
			again++
		}
	}
	if again == 0 {
		t.Errorf("no message was skipped and re-claimed; the start window was not applied")
	}
}
