package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
)

// TestOutboxClaims: claims never overlap, a lapsed lease is claimed again,
// and the late marks of the first claimant no longer count.
func TestOutboxClaims(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		const n = 40
		err := s.InTx(ctx, func(q *store.Q) error {
			for i := 0; i < n; i++ {
				m := &store.OutboxMail{MailFrom: "support@x.example", Recipients: fmt.Sprintf("r%d@x.example", i),
					MessageID: fmt.Sprintf("m%d@x.example", i), Raw: []byte("Subject: x\r\n\r\nx")}
				if err := q.EnqueueMail(ctx, m); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// Four claimants at once: every row once.
		var mu sync.Mutex
		seen := map[int64]int{}
		var wg sync.WaitGroup
		for i := 0; i < 4; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					rows, err := s.ClaimMail(ctx, 7, time.Hour)
					if err != nil {
						t.Error(err)
						return
					}
					if len(rows) == 0 {
						return
					}
					mu.Lock()
					for _, r := range rows {
						seen[r.ID]++
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(seen) != n {
			t.Fatalf("claimed %d distinct rows, want %d", len(seen), n)
		}
		for id, c := range seen {
			if c != 1 {
				t.Fatalf("row %d claimed %d times", id, c)
			}
		}

		// A lapsed lease: the row is claimed again with a new token.
		var one *store.OutboxMail
		err = s.InTx(ctx, func(q *store.Q) error {
			one = &store.OutboxMail{MailFrom: "a@x.example", Recipients: "b@x.example", MessageID: "late@x.example", Raw: []byte("x")}
			return q.EnqueueMail(ctx, one)
		})
		if err != nil {
			t.Fatal(err)
		}
		first, err := s.ClaimMail(ctx, 1, time.Millisecond)
		if err != nil || len(first) != 1 {
			t.Fatalf("first claim: %v %v", first, err)
		}
		time.Sleep(20 * time.Millisecond)
		second, err := s.ClaimMail(ctx, 1, time.Hour)
		if err != nil || len(second) != 1 || second[0].ID != first[0].ID || second[0].ClaimToken == first[0].ClaimToken || second[0].Attempts != 2 {
			t.Fatalf("second claim: %+v %v", second, err)
		}
		if err := s.MailRetry(ctx, first[0].ID, first[0].ClaimToken, time.Now(), "late"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a lapsed claim's mark counted: %v", err)
		}
		if err := s.MailSent(ctx, second[0].ID, second[0].ClaimToken); err != nil {
			t.Fatal(err)
		}
		got, err := s.R().OutboxGet(ctx, one.ID)
		if err != nil || got.Status != store.OutboxSent {
			t.Fatalf("status %+v %v", got, err)
		}
	})
}

// TestOutboxRendered: a row queued without bytes is claimed with its
// render input; its bytes are stored under the claim only, and storing
// them drops the input (lists never carry either).
func TestOutboxRendered(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		m := &store.OutboxMail{MailFrom: "support@x.example", Recipients: "r@x.example", Subject: "[#1] x",
			MessageID: "jc.1@x.example", RenderInput: `{"v":1}`}
		if err := s.InTx(ctx, func(q *store.Q) error { return q.EnqueueMail(ctx, m) }); err != nil {
			t.Fatal(err)
		}
		claimed, err := s.ClaimMail(ctx, 1, time.Hour)
		if err != nil || len(claimed) != 1 || claimed[0].Rendered() || claimed[0].RenderInput != `{"v":1}` {
			t.Fatalf("claimed %+v %v", claimed, err)
		}
		if err := s.MailRendered(ctx, m.ID, "not-the-claim", []byte("x"), "y"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("stored under another claim: %v", err)
		}
		raw := []byte("Subject: [#1] y\r\n\r\nbody")
		if err := s.MailRendered(ctx, m.ID, claimed[0].ClaimToken, raw, "[#1] y"); err != nil {
			t.Fatal(err)
		}
		got, err := s.R().OutboxGet(ctx, m.ID)
		if err != nil || !got.Rendered() || string(got.Raw) != string(raw) || got.Subject != "[#1] y" || got.RenderInput != "" || got.Status != store.OutboxSending {
			t.Fatalf("after render: %+v %v", got, err)
		}
		list, err := s.R().OutboxList(ctx, store.OutboxFilter{})
		if err != nil || len(list) != 1 || list[0].Raw != nil || list[0].RenderInput != "" {
			t.Fatalf("list %+v %v", list, err)
		}
	})
}
