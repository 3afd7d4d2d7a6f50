package sender

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// renderQueue renders messages queued without bytes and stores them, as
// the outbox does (cmd/servicedesk): render decides the outcome per id.
type renderQueue struct {
	*memQueue
	mu      sync.Mutex
	renders map[int64]int
	render  func(id int64) ([]byte, error)
}

func (q *renderQueue) Render(_ context.Context, m Message) ([]byte, error) {
	q.mu.Lock()
	q.renders[m.ID]++
	q.mu.Unlock()
	raw, err := q.render(m.ID)
	if err != nil {
		return nil, err
	}
	q.memQueue.mu.Lock()
	q.memQueue.byID[m.ID].m.Raw = raw // stored: a retry sends these bytes
	q.memQueue.mu.Unlock()
	return raw, nil
}

func (q *renderQueue) count(id int64) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.renders[id]
}

// TestRunRenders: a message queued without bytes is rendered once on a
// worker, stored, then sent; one that will never render fails with the
// reason, once; a temporary render error is retried; and a queue that
// renders nothing fails such a message rather than sending it empty.
func TestRunRenders(t *testing.T) {
	ts := newTestServer(t, serverOpts{})
	unrendered := func(id int64) Message {
		m := testMessage(id)
		m.Raw = nil
		return m
	}
	var flaky sync.Once
	q := &renderQueue{memQueue: newMemQueue(unrendered(1), unrendered(2), unrendered(3), testMessage(4)), renders: map[int64]int{},
		render: func(id int64) ([]byte, error) {
			switch id {
			case 2:
				return nil, Unrenderable(fmt.Errorf("outbound: cannot render queued mail %d: compose: to: bad address", id))
			case 3:
				var err error
				flaky.Do(func() { err = errors.New("database is locked") })
				if err != nil {
					return nil, err
				}
			}
			return testMessage(id).Raw, nil
		}}
	s := New(fastConfig(ts), q, testLogger(t))
	runSender(t, s)
	waitFor(t, 10*time.Second, "three sent, one failed", func() bool { return q.countState("sent") == 3 && q.countState("failed") == 1 })
	for _, id := range []int64{1, 3, 4} {
		if c := ts.count(testMessage(id).MessageID); c != 1 {
			t.Errorf("message %d delivered %d times", id, c)
		}
	}
	if r := q.row(2); r.reason != "outbound: cannot render queued mail 2: compose: to: bad address" || ts.count(testMessage(2).MessageID) != 0 {
		t.Errorf("unrenderable message: state %s, reason %q, delivered %d", r.state, r.reason, ts.count(testMessage(2).MessageID))
	}
	if c := q.count(2); c != 1 {
		t.Errorf("unrenderable message rendered %d times, want once", c)
	}
	if r := q.row(3); len(r.retries) != 1 || q.count(3) != 2 {
		t.Errorf("temporary render error: %d retries, %d renders (want 1, 2)", len(r.retries), q.count(3))
	}
	if c := q.count(4); c != 0 {
		t.Errorf("a message with its bytes rendered %d times", c)
	}

	plain := newMemQueue(unrendered(5))
	s2 := New(fastConfig(ts), plain, testLogger(t))
	runSender(t, s2)
	waitFor(t, 10*time.Second, "failed", func() bool { return plain.countState("failed") == 1 })
	if ts.count(testMessage(5).MessageID) != 0 {
		t.Error("a message with no bytes was sent")
	}
}
