package sender

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	const base, max = time.Minute, time.Hour
	tests := []struct {
		attempts int
		jitter   float64
		want     time.Duration
	}{
		{1, 0, time.Minute},
		{2, 0, 2 * time.Minute},
		{3, 0, 4 * time.Minute},
		{7, 0, time.Hour}, // 64m capped
		{1000, 0, time.Hour},
		{0, 0, time.Minute},
		{1, 1, 72 * time.Second},
		{1, -1, 48 * time.Second},
		{1000, 1, 72 * time.Minute},
	}
	for _, tt := range tests {
		if got := backoff(base, max, tt.attempts, tt.jitter); got != tt.want {
			t.Errorf("backoff(attempts=%d, jitter=%v) = %v, want %v", tt.attempts, tt.jitter, got, tt.want)
		}
	}
}

func TestConfigDefaultsAndValidation(t *testing.T) {
	c := Config{Server: "relay.test", UseSSL: true}.withDefaults()
	if c.Port != 465 || c.Workers != 4 || c.Batch != 50 || c.Lease != 5*time.Minute || c.PollInterval != 5*time.Second ||
		c.MaxAge != 48*time.Hour || c.BackoffBase != time.Minute || c.BackoffMax != time.Hour || c.Timeout != time.Minute || c.Helo == "" {
		t.Errorf("defaults: %+v", c)
	}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("cfg", "config", Config{Username: "agent", Password: "s3cret"})
	if strings.Contains(logged.String(), "s3cret") || !strings.Contains(logged.String(), "agent") {
		t.Errorf("logged config: %s", logged.String())
	}
	bad := []Config{
		{},
		{Server: "relay.test", UseTLS: true, UseSSL: true},
		{SuppressSend: true},
	}
	for _, c := range bad {
		if err := New(c, newMemQueue(), nil).Run(context.Background()); err == nil {
			t.Errorf("Run(%+v) = nil, want a configuration error", c)
		}
	}
}

// TestSuppressSend writes exact .eml files and never connects.
func TestSuppressSend(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var conns atomic.Int32
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			c.Close()
		}
	}()
	dir := filepath.Join(t.TempDir(), "outbox")
	msgs := []Message{testMessage(1), testMessage(2), testMessage(3)}
	q := newMemQueue(msgs...)
	cfg := Config{Server: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, SuppressSend: true, OutboxDir: dir,
		PollInterval: 10 * time.Millisecond}
	s := New(cfg, q, testLogger(t))
	runSender(t, s)
	waitFor(t, 5*time.Second, "all marked sent", func() bool { return q.countState("sent") == len(msgs) })
	extra := testMessage(4)
	if err := s.SendNow(context.Background(), extra); err != nil {
		t.Fatalf("SendNow: %v", err)
	}
	msgs = append(msgs, extra)

	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	raws := map[string][]byte{}
	for _, m := range msgs {
		raws[strconv.FormatInt(m.ID, 10)] = m.Raw
	}
	name := regexp.MustCompile(`^\d{8}T\d{6}\.\d{9}Z-(\d+)\.eml$`)
	var ids []string
	for _, e := range entries {
		mm := name.FindStringSubmatch(e.Name())
		if mm == nil {
			t.Errorf("unexpected file %q (temp file left behind?)", e.Name())
			continue
		}
		ids = append(ids, mm[1])
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if want := raws[mm[1]]; string(data) != string(want) {
			t.Errorf("%s: got %q, want %q", e.Name(), data, want)
		}
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []string{"1", "2", "3", "4"}) {
		t.Errorf("files for ids %v, want 1-4", ids)
	}
	time.Sleep(20 * time.Millisecond) // let a stray connection show up
	if n := conns.Load(); n != 0 {
		t.Errorf("%d connections to the relay, want none", n)
	}
}
