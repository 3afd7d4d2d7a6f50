package store

import (
	"context"
	"fmt"
	"hash/fnv"
)

// TryLock takes a cluster-wide advisory lock named key without waiting.
// On PostgreSQL it is held by a dedicated connection until release is
// called (or the process dies); on SQLite, a single-host database, it
// always succeeds.
func (s *Store) TryLock(ctx context.Context, key string) (release func(), ok bool, err error) {
	if s.driver != Postgres {
		return func() {}, true, nil
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(key))
	id := int64(h.Sum64())
	conn, err := s.write.Conn(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("store: lock %s: %w", key, err)
	}
	var got bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock(?)", id).Scan(&got); err != nil {
		conn.Close()
		return nil, false, fmt.Errorf("store: lock %s: %w", key, err)
	}
	if !got {
		conn.Close()
		return nil, false, nil
	}
	return func() {
		_, _ = conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock(?)", id)
		conn.Close()
	}, true, nil
}

// LockKey serialises transactions on key until the current one ends
// (PostgreSQL advisory transaction lock; SQLite's single writer already
// serialises, so there it does nothing).
func (q *Q) LockKey(ctx context.Context, key string) error {
	if !q.pg {
		return nil
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(key))
	if _, err := q.db.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", int64(h.Sum64())); err != nil {
		return fmt.Errorf("store: lock %s: %w", key, err)
	}
	return nil
}
