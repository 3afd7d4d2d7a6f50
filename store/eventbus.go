package store

import (
	"context"
	"time"
)

// EventBusOptions tunes WatchEvents.
type EventBusOptions struct {
	// Poll is how often SQLite's log is read (default 100 ms), and on
	// PostgreSQL how often it is read anyway, in case a notification was
	// lost (default 10 s).
	Poll time.Duration
	// OnError is told of a lost or failed connection (PostgreSQL); nil
	// ignores them.
	OnError func(error)
}

// WatchEvents calls wake whenever the event log may hold events the
// caller has not read, until ctx ends: on PostgreSQL on each NOTIFY of
// EventChannel, after every reconnect (events committed while the
// connection was down sent notifications nobody heard) and every
// o.Poll; on SQLite every o.Poll. wake must not block for long; the
// caller reads the log from its last seen id, so a wake too many costs
// one query and a wake never loses anything.
func (s *Store) WatchEvents(ctx context.Context, o EventBusOptions, wake func()) error {
	if s.driver == Postgres {
		if o.Poll <= 0 {
			o.Poll = 10 * time.Second
		}
		return s.watchPostgres(ctx, o, wake)
	}
	if o.Poll <= 0 {
		o.Poll = 100 * time.Millisecond
	}
	t := time.NewTicker(o.Poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			wake()
		}
	}
}
