package store

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// ExplainTickets returns the query plan of Tickets(sc, f), one line per
// plan row: EXPLAIN QUERY PLAN on SQLite, EXPLAIN on PostgreSQL.
func (q *Q) ExplainTickets(ctx context.Context, sc Scope, f TicketFilter) ([]string, error) {
	var ts []*Ticket
	sel, err := q.ticketsQuery(sc, f, &ts)
	if err != nil {
		return nil, err
	}
	prefix := "EXPLAIN QUERY PLAN "
	if q.pg {
		prefix = "EXPLAIN "
	}
	rows, err := q.db.QueryContext(ctx, prefix+sel.String())
	if err != nil {
		return nil, fmt.Errorf("explain: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		if q.pg {
			var line string
			if err := rows.Scan(&line); err != nil {
				return nil, err
			}
			out = append(out, line)
			continue
		}
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			return nil, err
		}
		out = append(out, detail)
	}
	return out, rows.Err()
}

// DB is the write pool, for tests that read the schema itself.
func (s *Store) DB() *bun.DB { return s.write }

// MigrationLockKey is the advisory lock number of schema's migrations.
func MigrationLockKey(schema string) int64 { return migrationLockKey(schema) }

// BackendPID is the PostgreSQL backend serving q's transaction, so a
// test can see who waits for it (pg_blocking_pids).
func (q *Q) BackendPID(ctx context.Context) (int64, error) {
	var pid int64
	err := q.db.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid)
	return pid, err
}

// ExecTest runs a statement in q's transaction (a test's SET LOCAL).
func (q *Q) ExecTest(ctx context.Context, query string, args ...any) error {
	_, err := q.db.ExecContext(ctx, query, args...)
	return err
}

// DB is q's connection or transaction, for tests that write by hand.
func (q *Q) DB() bun.IDB { return q.db }
