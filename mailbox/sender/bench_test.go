package sender

import (
	"log/slog"
	"testing"
	"time"
)

// BenchmarkBurst sends 10,000 small queued messages through 8 connections to
// an in-process go-smtp server and checks none arrived twice.
// Run: go test -run '^$' -bench Burst -benchtime 1x ./mailbox/sender/
func BenchmarkBurst(b *testing.B) {
	const n = 10000
	ts := newTestServer(b, serverOpts{})
	log := slog.New(slog.DiscardHandler)
	var total time.Duration
	iter := 0
	for range b.N {
		b.StopTimer()
		q := newMemQueue()
		for i := range n {
			q.add(testMessage(int64(iter*n + i + 1)))
		}
		cfg := Config{Server: ts.host, Port: ts.port, Helo: "bench.test", Workers: 8, Batch: 50,
			PollInterval: 10 * time.Millisecond, Timeout: 10 * time.Second}
		s := New(cfg, q, log)
		b.StartTimer()
		start := time.Now()
		stop := runSender(b, s)
		waitFor(b, 5*time.Minute, "burst sent", func() bool {
			q.mu.Lock()
			defer q.mu.Unlock()
			return q.sent == n
		})
		total += time.Since(start)
		b.StopTimer()
		stop()
		iter++
	}
	b.ReportMetric(float64(n*iter)/total.Seconds(), "mails/s")
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if len(ts.byMsgID) != n*iter {
		b.Errorf("server saw %d distinct Message-IDs, want %d", len(ts.byMsgID), n*iter)
	}
	for id, c := range ts.byMsgID {
		if c != 1 {
			b.Errorf("%s delivered %d times", id, c)
		}
	}
}
