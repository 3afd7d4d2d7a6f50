package poller

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jcservicedesk/servicedesk/mailbox/delivery"
)

// doneState signals when the cursor reaches target.
type doneState struct {
	*memState
	target uint32
	done   chan struct{}
}

func (s *doneState) SetCursor(ctx context.Context, mb string, v, uid uint32) error {
	err := s.memState.SetCursor(ctx, mb, v, uid)
	if err == nil && uid == s.target {
		close(s.done)
	}
	return err
}

// BenchmarkFetchDeliver measures messages/s fetched from the in-process
// server and handed to a no-op deliverer, marking each \Seen: 1,000
// messages of 5 KB per iteration, connection set-up included.
func BenchmarkFetchDeliver(b *testing.B) {
	const n, size = 1000, 5 << 10
	m := startIMAP(b, capsFull)
	for i := range n {
		m.append("INBOX", msg(fmt.Sprintf("bench%04d", i), size))
	}
	noop := delivery.DelivererFunc(func(context.Context, delivery.Envelope, []byte) (delivery.Outcome, error) {
		return delivery.Outcome{Action: "ticket"}, nil
	})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	mb := m.mailbox("bench")
	mb.PollInterval = time.Hour
	b.SetBytes(n * size)
	b.ResetTimer()
	for range b.N {
		st := &doneState{memState: newMemState(), target: n, done: make(chan struct{})}
		p := New(mb, noop, st, nil, log)
		ctx, cancel := context.WithCancel(context.Background())
		ran := make(chan struct{})
		go func() { p.Run(ctx); close(ran) }()
		select {
		case <-st.done:
		case <-time.After(time.Minute):
			b.Fatal("did not reach the last message")
		}
		cancel()
		<-ran
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "msgs/s")
}
