package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"hash/fnv"
	"log/slog"

	"github.com/uptrace/bun"
)

// lockID is the advisory lock number of a lock name.
func lockID(key string) int64 {
	h := fnv.New64a()
	h.Write([]byte(key)) // a hash never fails to write
	return int64(h.Sum64())
}

// unlockAdvisory releases a session advisory lock held by conn and gives
// conn back to the pool. When the unlock fails, conn is discarded
// instead: a pooled session still holding the lock would block every
// later taker until the process exits.
func unlockAdvisory(conn bun.Conn, id int64, name string) {
	ctx := context.Background()
	var ok bool
	err := conn.QueryRowContext(ctx, "SELECT pg_advisory_unlock(?)", id).Scan(&ok)
	if err == nil && ok {
		if err := conn.Close(); err != nil {
			slog.Warn("store: return lock connection", "lock", name, "err", err)
		}
		return
	}
	if err == nil {
		err = fmt.Errorf("lock was not held")
	}
	slog.Warn("store: unlock failed; closing its connection", "lock", name, "err", err)
	_ = conn.Raw(func(any) error { return driver.ErrBadConn }) // discards the connection, which ends the session
	if err := conn.Close(); err != nil && err != sql.ErrConnDone {
		slog.Warn("store: close lock connection", "lock", name, "err", err)
	}
}

// TryLock takes a cluster-wide advisory lock named key without waiting.
// On PostgreSQL it is held by a dedicated connection until release is
// called (or the process dies); on SQLite, a single-host database, it
// always succeeds.
func (s *Store) TryLock(ctx context.Context, key string) (release func(), ok bool, err error) {
	if s.driver != Postgres {
		return func() {}, true, nil
	}
	id := lockID(key)
	conn, err := s.write.Conn(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("store: lock %s: %w", key, err)
	}
	var got bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock(?)", id).Scan(&got); err != nil {
		conn.Close() // the query failed: nothing is held
		return nil, false, fmt.Errorf("store: lock %s: %w", key, err)
	}
	if !got {
		conn.Close()
		return nil, false, nil
	}
	return func() { unlockAdvisory(conn, id, key) }, true, nil
}

// LockKey serialises transactions on key until the current one ends
// (PostgreSQL advisory transaction lock; SQLite's single writer already
// serialises, so there it does nothing).
func (q *Q) LockKey(ctx context.Context, key string) error {
	if !q.pg {
		return nil
	}
	if _, err := q.hotExec(ctx, hotLockKey, lockID(key)); err != nil {
		return fmt.Errorf("store: lock %s: %w", key, err)
	}
	return nil
}
