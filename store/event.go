package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"
)

// EventChannel is the PostgreSQL NOTIFY channel of the event log; the
// payload is the new event's id.
const EventChannel = "sd_events"

// eventLockKey, with the schema's hash, names the transaction-level
// advisory lock that serialises appends on PostgreSQL ("sdev" in ASCII):
// each schema has its own log, so its own lock.
const eventLockKey int32 = 0x73646576

// Event is one entry of the event log: a change someone should see, as
// the live pages receive it. Data is a JSON object without the event's id
// (the reader adds it); who may receive it is decided at delivery from
// the other columns.
type Event struct {
	bun.BaseModel `bun:"table:events,alias:ev"`

	ID        int64     `bun:"id,pk,autoincrement"`
	Name      string    `bun:"name,notnull"` // the SSE event name: ticket, comment, notification
	Kind      string    `bun:"kind,notnull"` // what happened: created, commented…
	TicketID  *int64    `bun:"ticket_id"`
	CompanyID *int64    `bun:"company_id"`
	UserID    *int64    `bun:"user_id"`          // set: for this user only (a notification)
	Internal  bool      `bun:"internal,notnull"` // staff only
	Data      string    `bun:"data,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
}

// AppendEvent writes e to the log inside q's transaction (AppendEvents).
func (q *Q) AppendEvent(ctx context.Context, e *Event) error {
	return q.AppendEvents(ctx, []*Event{e})
}

// AppendEvents writes es, in order, to the log inside q's transaction.
// On PostgreSQL it first takes a transaction-level advisory lock, so
// appends commit in id order (a sequence alone hands out ids in insert
// order, and a reader that passed id 101 would never see a 100 committed
// later); the NOTIFY it queues is sent at commit. SQLite's single writer
// orders them already.
//
// The lock is held until commit by every writer of the log in turn, so
// it must be the last lock its transaction takes: call this after every
// other write of the transaction, and write nothing after it that could
// wait for another transaction's lock (a row lock, a foreign key's check
// on a row someone holds). A writer holding the log while waiting for a
// row whose holder then appends to the log is a deadlock PostgreSQL
// breaks by aborting one of them (40P01). The events table has no
// foreign keys for the same reason: its inserts wait for no row.
func (q *Q) AppendEvents(ctx context.Context, es []*Event) error {
	if len(es) == 0 {
		return nil
	}
	if q.pg {
		if _, err := q.hotExec(ctx, hotEventLock, eventLockKey); err != nil {
			return fmt.Errorf("store: append event: lock: %w", err)
		}
	}
	for _, e := range es {
		if e.CreatedAt.IsZero() {
			e.CreatedAt = now()
		}
		if err := q.hotInsert(ctx, e, &e.ID); err != nil {
			return fmt.Errorf("store: append event: %w", err)
		}
	}
	if q.pg {
		// The listeners read the log after the id they had, whatever the
		// payload: one notification for the transaction's entries.
		last := strconv.FormatInt(es[len(es)-1].ID, 10)
		if _, err := q.hotExec(ctx, hotEventNotify, EventChannel, last); err != nil {
			return fmt.Errorf("store: append event: notify: %w", err)
		}
	}
	return nil
}

// EventsAfter returns up to limit events with an id above after, oldest
// first.
func (q *Q) EventsAfter(ctx context.Context, after int64, limit int) ([]*Event, error) {
	var es []*Event
	if err := q.db.NewSelect().Model(&es).Where("id > ?", after).Order("id").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: events after %d: %w", after, err)
	}
	return es, nil
}

// EventBounds returns the oldest and the newest id in the log (0, 0 when
// it is empty).
func (q *Q) EventBounds(ctx context.Context) (first, last int64, err error) {
	var lo, hi sql.NullInt64
	err = q.db.NewSelect().Model((*Event)(nil)).ColumnExpr("MIN(id)").ColumnExpr("MAX(id)").Scan(ctx, &lo, &hi)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, 0, fmt.Errorf("store: event bounds: %w", err)
	}
	return lo.Int64, hi.Int64, nil
}

// PruneEvents removes events older than before, always keeping the newest
// one, so a reader can still tell an expired gap (its id below the oldest
// kept) from a quiet log.
func (s *Store) PruneEvents(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.InTx(ctx, func(q *Q) error {
		newest := q.db.NewSelect().Model((*Event)(nil)).ColumnExpr("MAX(id)")
		res, err := q.db.NewDelete().Model((*Event)(nil)).
			Where("created_at < ?", before.UTC()).Where("id < (?)", newest).Exec(ctx)
		if err != nil {
			return err
		}
		n, err = rowsAffected(res)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: prune events: %w", err)
	}
	return n, nil
}
