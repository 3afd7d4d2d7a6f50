package intake

import (
	"context"
	"errors"
	"fmt"

	"github.com/jcservicedesk/servicedesk/mailbox/delivery"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// job is one message waiting for the group committer.
type job struct {
	m    *inbound
	done chan result
}

type result struct {
	out    delivery.Outcome
	events []ticketing.Event
	err    error
}

// maxGroup bounds how many messages share one commit.
const maxGroup = 64

// ErrStopped is returned for a message that was waiting for the group
// committer when Run returned; nothing of it was written, so the transport
// answers "try again later".
var ErrStopped = errors.New("intake: stopped")

// committer is one Run of the group committer.
type committer struct {
	jobs    chan *job
	stopped chan struct{} // closed once Run no longer takes jobs
}

// Run is the group committer on SQLite: it takes every message waiting (up
// to maxGroup), processes each inside its own savepoint of one transaction,
// and commits them with a single fsync. It returns nil when ctx ends, after
// the group in progress committed; start it before the transports and stop
// it after them. On PostgreSQL, where each message has its own concurrent
// transaction, Run only waits for ctx.
func (in *Intake) Run(ctx context.Context) error {
	ctx, unlabel := withStage(ctx, "commit") // CPU profiles: the group commits are the commit stage
	defer unlabel()
	if in.st.Driver() != store.SQLite {
		<-ctx.Done()
		return nil
	}
	c := &committer{jobs: make(chan *job, 256), stopped: make(chan struct{})}
	in.mu.Lock()
	if in.group != nil {
		in.mu.Unlock()
		return errors.New("intake: Run called twice")
	}
	in.group = c
	in.mu.Unlock()
	defer func() {
		in.mu.Lock()
		in.group = nil
		in.mu.Unlock()
		close(c.stopped)
	}()
	for {
		var batch []*job
		select {
		case j := <-c.jobs:
			batch = append(batch, j)
		case <-ctx.Done():
			return nil
		}
	more:
		for len(batch) < maxGroup {
			select {
			case j := <-c.jobs:
				batch = append(batch, j)
			default:
				break more
			}
		}
		in.runGroup(context.WithoutCancel(ctx), batch)
	}
}

// commit places m in the database, durably: through the group committer
// while Run runs, else in a transaction of its own.
func (in *Intake) commit(ctx context.Context, m *inbound) (delivery.Outcome, error) {
	in.mu.Lock()
	c := in.group
	in.mu.Unlock()
	if c == nil {
		return in.commitAlone(ctx, m)
	}
	j := &job{m: m, done: make(chan result, 1)}
	select {
	case c.jobs <- j:
	case <-c.stopped:
		return delivery.Outcome{}, ErrStopped
	case <-ctx.Done():
		return delivery.Outcome{}, ctx.Err()
	}
	select {
	case r := <-j.done:
		return r.out, r.err
	case <-c.stopped:
		// Run finishes a group before it stops: a job taken has its
		// answer already; one still queued was never written.
		select {
		case r := <-j.done:
			return r.out, r.err
		default:
			return delivery.Outcome{}, ErrStopped
		}
	case <-ctx.Done():
		// The commit may still happen; a retry then finds a duplicate.
		return delivery.Outcome{}, ctx.Err()
	}
}

func (in *Intake) commitAlone(ctx context.Context, m *inbound) (delivery.Outcome, error) {
	for attempt := 1; ; attempt++ {
		var r result
		err := in.st.InTxDurable(ctx, func(q *store.Q) error {
			r = in.processSafe(ctx, q, m)
			return r.err
		})
		// Two copies of one message, or two first mails of one new
		// sender, committing at once: the loser hits a unique index; the
		// next pass sees the duplicate or the user.
		if (errors.Is(err, store.ErrConflict) || store.IsRetryable(err)) && attempt < 3 {
			continue
		}
		if err != nil {
			return delivery.Outcome{}, err
		}
		in.svc.Publish(r.events)
		return r.out, nil
	}
}

func (in *Intake) runGroup(ctx context.Context, batch []*job) {
	results := make([]result, len(batch))
	err := in.st.InTxDurable(ctx, func(q *store.Q) error {
		for i, j := range batch {
			var r result
			err := q.Savepoint(ctx, fmt.Sprintf("mail_%d", i), func() error {
				r = in.processSafe(ctx, q, j.m)
				return r.err
			})
			if err != nil {
				r = result{err: err}
			}
			results[i] = r
		}
		return nil
	})
	for i, j := range batch {
		r := results[i]
		if err != nil {
			r = result{err: err}
		} else if r.err == nil {
			in.svc.Publish(r.events)
		}
		j.done <- r
	}
}

// processSafe is process with a panic turned into the message's own
// failure: a bug tripped by one message must not take the daemon (and
// every other message of its group) down, and counts as an attempt.
func (in *Intake) processSafe(ctx context.Context, q *store.Q, m *inbound) (r result) {
	defer func() {
		if p := recover(); p != nil {
			in.log.Error("panic while placing mail", "panic", p, "message_id", m.messageID)
			r = result{err: fmt.Errorf("intake: panic: %v", p)}
		}
	}()
	return in.process(ctx, q, m)
}
