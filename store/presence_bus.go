package store

import (
	"context"
	"fmt"
)

// PresenceChannel is the PostgreSQL NOTIFY channel of presence: who is
// viewing or replying on a ticket. Presence is short-lived and never
// written to a table; each process keeps it in memory and tells the
// others through this channel.
const PresenceChannel = "sd_presence"

// MaxPresencePayload bounds one presence message (PostgreSQL's NOTIFY
// payload limit is 8000 bytes; the schema name travels with it).
const MaxPresencePayload = 7000

// PublishPresence tells the other processes on this database about a
// presence change. On SQLite, where one process serves the portal, it
// does nothing: the caller applies its own changes itself.
func (s *Store) PublishPresence(ctx context.Context, payload string) error {
	if s.driver != Postgres {
		return nil
	}
	if len(payload) > MaxPresencePayload {
		return fmt.Errorf("store: presence message of %d bytes (limit %d)", len(payload), MaxPresencePayload)
	}
	// The schema goes first: processes of other schemas on the same
	// database (tests, tenants) hear the channel too and skip it.
	if _, err := s.write.ExecContext(ctx, "SELECT pg_notify(?, current_schema() || ' ' || ?)", PresenceChannel, payload); err != nil {
		return fmt.Errorf("store: publish presence: %w", err)
	}
	return nil
}

// WatchPresence calls deliver with every presence message published on
// this database's schema (its own process's included) until ctx ends. On
// SQLite it only waits for ctx. A lost connection is re-established by
// the listener; what was published meanwhile is gone, which presence
// tolerates (the next heartbeat, within seconds, says it again). onError,
// when set, is told of connection trouble.
func (s *Store) WatchPresence(ctx context.Context, onError func(error), deliver func(payload string)) error {
	if s.driver != Postgres {
		<-ctx.Done()
		return nil
	}
	return s.watchPresencePostgres(ctx, onError, deliver)
}
