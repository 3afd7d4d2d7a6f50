package intake

import (
	"context"
	"errors"
	"fmt"
	"time"

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
	// guarded: how many more groups run with a savepoint per message
	// from the start, after a group had to be run again (Run's goroutine
	// only).
	guarded int
	// unindexed: a group committed with its search indexing deferred;
	// lastIndex: when the index last caught up (Run's goroutine only).
	unindexed bool
	lastIndex time.Time
}

// searchIndexEvery is how often, at most, the committer brings the search
// index up to date while mail keeps coming (SQLite): new tickets and
// comments are found by search that much later, at worst, and the index
// takes a few hundred messages per FTS5 segment instead of one group's
// two or three, each followed by merges.
const searchIndexEvery = 200 * time.Millisecond

// guardedGroups is how many groups after a failed message take the
// savepoint path at once: a run of refused mail (a spam wave under
// mail.unknown_sender reject) then costs one pass per group, not two.
const guardedGroups = 16

// errRerun aborts a group's transaction without savepoints when one of its
// messages failed: nothing of the group is written, and it runs again with
// a savepoint per message.
var errRerun = errors.New("intake: a message of the group failed; run it again with savepoints")

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
	index := time.NewTimer(time.Hour)
	index.Stop()
	defer index.Stop()
	for {
		var batch []*job
		select {
		case j := <-c.jobs:
			batch = append(batch, j)
		case <-index.C:
			if !c.catchUpSearch(context.WithoutCancel(ctx), in) {
				index.Reset(searchIndexEvery)
			}
			continue
		case <-ctx.Done():
			// Should this fail, Migrate catches up at the next start.
			c.catchUpSearch(context.WithoutCancel(ctx), in)
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
		c.runGroup(context.WithoutCancel(ctx), in, batch)
		if c.unindexed {
			wait := searchIndexEvery - time.Since(c.lastIndex)
			if wait <= 0 && c.catchUpSearch(context.WithoutCancel(ctx), in) {
				continue
			}
			index.Reset(max(wait, searchIndexEvery/4))
		}
	}
}

// catchUpSearch brings the search index up to date with what the groups
// committed, and reports whether it did. A failure is logged and tried
// again soon; the rows stay above the index's mark meanwhile, so nothing
// is lost.
func (c *committer) catchUpSearch(ctx context.Context, in *Intake) bool {
	if !c.unindexed {
		return true
	}
	c.lastIndex = time.Now()
	if err := in.st.IndexSearch(ctx); err != nil {
		in.log.Error("search index: catching up with new mail failed; trying again", "err", err)
		return false
	}
	c.unindexed = false
	return true
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

// runGroup commits a batch in one transaction. A savepoint per message
// would let one fail alone, but costs every message a sub-journal of the
// pages it touches (a quarter of the intake's CPU on SQLite). So a group
// first runs without: when every message succeeds, as nearly all do, that
// is the commit; when one fails, the transaction is rolled back and the
// group runs again with savepoints, so only that message fails.
func (c *committer) runGroup(ctx context.Context, in *Intake, batch []*job) {
	c.unindexed = true // its transaction defers the search index (commitGroup)
	var results []result
	var err error
	if c.guarded > 0 && len(batch) > 1 {
		c.guarded--
	} else {
		// A message alone needs no savepoint: its failure is the group's.
		results, err = in.commitGroup(ctx, batch, false)
		if !errors.Is(err, errRerun) {
			in.finishGroup(batch, results, err)
			return
		}
		c.guarded = guardedGroups
	}
	results, err = in.commitGroup(ctx, batch, true)
	in.finishGroup(batch, results, err)
}

// commitGroup runs batch in one durable transaction, with or without a
// savepoint per message. Without, a failed message aborts the group with
// errRerun, unless it is alone (its failure is then the group's).
func (in *Intake) commitGroup(ctx context.Context, batch []*job, savepoints bool) ([]result, error) {
	results := make([]result, len(batch))
	err := in.st.InTxDurable(ctx, func(q *store.Q) error {
		q.DeferSearchIndex()
		for i, j := range batch {
			if !savepoints {
				r := in.processSafe(ctx, q, j.m)
				switch {
				case r.err != nil && len(batch) > 1:
					return errRerun
				case r.err != nil:
					return r.err
				}
				results[i] = r
				continue
			}
			var r result
			// One savepoint after another, never nested: one name, whose
			// statements are prepared.
			err := q.Savepoint(ctx, store.SavepointName, func() error {
				r = in.processSafe(ctx, q, j.m)
				return r.err
			})
			if err != nil && err != r.err { //nolint:errorlint // the savepoint's own failure, not the message's
				// Its writes may not have been undone: the whole
				// group fails, and its senders try again.
				return err
			}
			if err != nil {
				r = result{err: err}
			}
			results[i] = r
		}
		return nil
	})
	return results, err
}

func (in *Intake) finishGroup(batch []*job, results []result, err error) {
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
