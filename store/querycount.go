package store

import (
	"context"
	"sync/atomic"

	"github.com/uptrace/bun"
)

// queryCounter counts the statements sent to the database, for the
// benchmarks' statements-per-message figure and /metrics.
type queryCounter struct{ n atomic.Int64 }

func (c *queryCounter) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	c.n.Add(1)
	return ctx
}

func (c *queryCounter) AfterQuery(context.Context, *bun.QueryEvent) {}

// Statements is how many statements this store has sent through bun
// since it was opened (both pools; prepared hot-path statements too).
func (s *Store) Statements() int64 { return s.queries.n.Load() }
