package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"
)

// Queue is a team or inbox that tickets can be routed to.
type Queue struct {
	bun.BaseModel `bun:"table:queues,alias:qu"`

	ID          int64     `bun:"id,pk,autoincrement" json:"id"`
	Name        string    `bun:"name,notnull" json:"name"`
	NameKey     string    `bun:"name_key,notnull" json:"-"`
	Address     string    `bun:"address,notnull" json:"address"`
	Description string    `bun:"description,notnull" json:"description"`
	CreatedAt   time.Time `bun:"created_at,notnull" json:"created_at"`
}

// CreateQueue inserts qu.
func (q *Q) CreateQueue(ctx context.Context, qu *Queue) error {
	qu.NameKey = NameKey(qu.Name)
	qu.CreatedAt = now()
	if _, err := q.db.NewInsert().Model(qu).Exec(ctx); err != nil {
		return conflict(err, "queue "+strconv.Quote(qu.Name))
	}
	return nil
}

// QueueByRef finds a queue by id or name.
func (q *Q) QueueByRef(ctx context.Context, ref string) (*Queue, error) {
	qu := new(Queue)
	sel := q.db.NewSelect().Model(qu)
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		sel.Where("qu.id = ?", id)
	} else {
		sel.Where("qu.name_key = ?", NameKey(ref))
	}
	if err := sel.Scan(ctx); err != nil {
		return nil, notFound(err, "queue "+strconv.Quote(ref))
	}
	return qu, nil
}

// Queues lists every queue by name.
func (q *Q) Queues(ctx context.Context) ([]*Queue, error) {
	var qs []*Queue
	if err := q.db.NewSelect().Model(&qs).OrderExpr("qu.name_key").Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: queues: %w", err)
	}
	return qs, nil
}
