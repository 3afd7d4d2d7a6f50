package auth

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingResolver answers TXT lookups from a table and counts the
// questions that reach it.
type countingResolver struct {
	asked atomic.Int32
	gate  chan struct{}  // when set, each answer waits for it
	txt   map[string]any // []string, or an error
}

func (r *countingResolver) LookupTXT(ctx context.Context, name string) ([]string, error) {
	r.asked.Add(1)
	if r.gate != nil {
		<-r.gate
	}
	switch v := r.txt[name].(type) {
	case []string:
		return v, nil
	case error:
		return nil, v
	}
	return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func (r *countingResolver) LookupMX(context.Context, string) ([]*net.MX, error) { return nil, nil }
func (r *countingResolver) LookupIPAddr(context.Context, string) ([]net.IPAddr, error) {
	return nil, nil
}
func (r *countingResolver) LookupAddr(context.Context, string) ([]string, error) { return nil, nil }

func TestCachingResolver(t *testing.T) {
	timeout := &net.DNSError{Err: "i/o timeout", Name: "slow.example", IsTimeout: true}
	tests := []struct {
		name      string
		lookup    string
		after     time.Duration // between the two lookups
		wantAsked int32
		wantErr   bool
	}{
		{"answer kept", "ok.example", time.Minute, 1, false},
		{"answer expires", "ok.example", 6 * time.Minute, 2, false},
		{"no such name kept", "missing.example", 30 * time.Second, 1, true},
		{"no such name expires", "missing.example", 2 * time.Minute, 2, true},
		{"timeout never kept", "slow.example", 0, 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &countingResolver{txt: map[string]any{"ok.example": []string{"v=spf1 -all"}, "slow.example": timeout}}
			now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
			c := NewCachingResolver(r, DefaultCacheConfig).(*cachingResolver)
			c.now = func() time.Time { return now }
			for i := range 2 {
				got, err := c.LookupTXT(context.Background(), tt.lookup)
				if (err != nil) != tt.wantErr {
					t.Fatalf("lookup %d: %v, %v", i, got, err)
				}
				if !tt.wantErr && (len(got) != 1 || got[0] != "v=spf1 -all") {
					t.Fatalf("lookup %d: %v", i, got)
				}
				var de *net.DNSError
				if tt.wantErr && (!errors.As(err, &de) || de.IsNotFound == de.IsTimeout) {
					t.Fatalf("lookup %d: error %v lost its kind", i, err)
				}
				now = now.Add(tt.after)
			}
			if n := r.asked.Load(); n != tt.wantAsked {
				t.Fatalf("the server was asked %d times, want %d", n, tt.wantAsked)
			}
		})
	}
}

// Concurrent lookups of one name share one question; a full cache makes
// room.
func TestCachingResolverSharesAndBounds(t *testing.T) {
	r := &countingResolver{gate: make(chan struct{}), txt: map[string]any{"ok.example": []string{"x"}}}
	c := NewCachingResolver(r, CacheConfig{TTL: time.Minute, NegativeTTL: time.Minute, MaxEntries: 2}).(*cachingResolver)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := c.LookupTXT(context.Background(), "ok.example"); err != nil {
				t.Error(err)
			}
		})
	}
	for r.asked.Load() == 0 {
		time.Sleep(time.Millisecond) // until the one question is on its way
	}
	close(r.gate)
	wg.Wait()
	if n := r.asked.Load(); n != 1 {
		t.Fatalf("8 concurrent lookups asked %d times, want 1", n)
	}
	for _, name := range []string{"a.example", "b.example", "c.example"} {
		_, _ = c.LookupTXT(context.Background(), name)
	}
	c.mu.Lock()
	n := len(c.m)
	c.mu.Unlock()
	if n > 2 {
		t.Fatalf("cache holds %d entries, limit 2", n)
	}
}

// A caller whose deadline passes gets a timeout as the resolver reports
// one (SPF maps it to temperror, not permerror), and the query it started
// goes on for the others: a cancelled first caller fails nobody else.
func TestCachingResolverDeadlines(t *testing.T) {
	r := &countingResolver{gate: make(chan struct{}), txt: map[string]any{"ok.example": []string{"v=spf1 -all"}}}
	c := NewCachingResolver(r, DefaultCacheConfig)
	first, cancel := context.WithCancel(context.Background())
	firstDone := make(chan error, 1)
	go func() {
		_, err := c.LookupTXT(first, "ok.example")
		firstDone <- err
	}()
	for r.asked.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	otherDone := make(chan error, 1)
	go func() {
		txt, err := c.LookupTXT(context.Background(), "OK.example.") // the same name
		if err == nil && (len(txt) != 1 || txt[0] != "v=spf1 -all") {
			err = errors.New("wrong answer")
		}
		otherDone <- err
	}()
	cancel()
	err := <-firstDone
	var de *net.DNSError
	if !errors.As(err, &de) || !de.IsTimeout || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller: %#v, want a *net.DNSError timeout wrapping context.Canceled", err)
	}
	close(r.gate)
	if err := <-otherDone; err != nil {
		t.Fatalf("the other caller: %v", err)
	}
	if n := r.asked.Load(); n != 1 {
		t.Fatalf("asked %d times, want 1", n)
	}
	// Too large to keep: asked again.
	big := &countingResolver{txt: map[string]any{"big.example": []string{strings.Repeat("x", 5000)}}}
	c = NewCachingResolver(big, DefaultCacheConfig)
	for range 2 {
		if _, err := c.LookupTXT(context.Background(), "big.example"); err != nil {
			t.Fatal(err)
		}
	}
	if n := big.asked.Load(); n != 2 {
		t.Fatalf("a 5,000-byte answer was cached (asked %d times)", n)
	}
}
