package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// ErrBadQueue: a queue filter, sort or cursor that cannot be read.
var ErrBadQueue = errors.New("store: bad queue filter")

// Queue sort orders. Each is read from an index in key order and paged by
// a keyset cursor, so page 1,000 costs what page 1 does.
const (
	SortUpdated  = "updated"  // most recently updated first
	SortCreated  = "created"  // newest first
	SortPriority = "priority" // urgent first, then most recently updated
	SortDue      = "due"      // resolution due soonest first, tickets without a due time last
)

// QueueSorts are the sort orders offered, in menu order.
var QueueSorts = []string{SortUpdated, SortCreated, SortPriority, SortDue}

// priorityPhases is the priority order, most urgent first.
var priorityPhases = []string{PriorityUrgent, PriorityHigh, PriorityNormal, PriorityLow}

// QueueFilter narrows and orders the staff queue.
type QueueFilter struct {
	Statuses    []string
	Priorities  []string
	CompanyID   int64
	CategoryID  int64 // the category or its subcategory
	QueueID     int64
	AssigneeID  int64
	Unassigned  bool
	Assigned    bool
	RequesterID int64
	// CreatedFrom and CreatedTo bound created_at (To exclusive); zero: open.
	CreatedFrom, CreatedTo time.Time
	Sort                   string // one of QueueSorts; "" is SortUpdated
	Limit                  int    // 1..MaxTicketLimit; 0 means 50
	After                  *QueueCursor
}

// QueueCursor is a position in one sort order. Orders that are not a plain
// range of one index (priority; due, with its tickets without a due time)
// run as phases, each a range of an index: Phase says which one.
type QueueCursor struct {
	Phase int
	At    time.Time
	ID    int64
}

// String encodes c for a URL: "phase.unixmicro.id".
func (c QueueCursor) String() string {
	return strconv.Itoa(c.Phase) + "." + strconv.FormatInt(c.At.UnixMicro(), 10) + "." + strconv.FormatInt(c.ID, 10)
}

// ParseQueueCursor reads what String wrote.
func ParseQueueCursor(s string) (*QueueCursor, error) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("%w: bad cursor %q", ErrBadQueue, s)
	}
	phase, err1 := strconv.Atoi(parts[0])
	at, err2 := strconv.ParseInt(parts[1], 10, 64)
	id, err3 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || phase < 0 || phase > 8 || id < 0 {
		return nil, fmt.Errorf("%w: bad cursor %q", ErrBadQueue, s)
	}
	return &QueueCursor{Phase: phase, At: time.UnixMicro(at).UTC(), ID: id}, nil
}

// queuePhase is one range of the order: a fixed condition and the key
// columns it is ordered by (a time column, then id).
type queuePhase struct {
	where string
	arg   any
	col   string // "t.updated_at", "t.created_at", "t.resolution_due"
	asc   bool
}

func queuePhases(sort string) ([]queuePhase, error) {
	switch sort {
	case "", SortUpdated:
		return []queuePhase{{col: "t.updated_at"}}, nil
	case SortCreated:
		return []queuePhase{{col: "t.created_at"}}, nil
	case SortPriority:
		ps := make([]queuePhase, len(priorityPhases))
		for i, p := range priorityPhases {
			ps[i] = queuePhase{where: "t.priority = ?", arg: p, col: "t.updated_at"}
		}
		return ps, nil
	case SortDue:
		return []queuePhase{
			{where: "t.resolution_due IS NOT NULL", col: "t.resolution_due", asc: true},
			{where: "t.resolution_due IS NULL", col: "t.updated_at"},
		}, nil
	}
	return nil, fmt.Errorf("%w: unknown sort %q (want %s)", ErrBadQueue, sort, strings.Join(QueueSorts, ", "))
}

// QueueTickets lists one page of the staff queue within scope and the
// cursor of the next page (nil on the last).
func (q *Q) QueueTickets(ctx context.Context, sc Scope, f QueueFilter) ([]*Ticket, *QueueCursor, error) {
	limit := f.Limit
	if limit == 0 {
		limit = 50
	}
	if limit < 0 || limit > MaxTicketLimit {
		return nil, nil, fmt.Errorf("%w: limit %d is not between 1 and %d", ErrBadQueue, f.Limit, MaxTicketLimit)
	}
	phases, err := queuePhases(f.Sort)
	if err != nil {
		return nil, nil, err
	}
	start := 0
	if f.After != nil {
		if f.After.Phase >= len(phases) {
			return nil, nil, fmt.Errorf("%w: cursor phase %d", ErrBadQueue, f.After.Phase)
		}
		start = f.After.Phase
	}
	var out []*Ticket
	var phaseOf []int // the phase each ticket of out came from
	// One more than the page tells whether a next page exists.
	want := limit + 1
	for i := start; i < len(phases) && len(out) < want; i++ {
		ph := phases[i]
		var ts []*Ticket
		sel, err := sc.where(q.db.NewSelect().Model(&ts), "t.company_id")
		if err != nil {
			return nil, nil, err
		}
		sel = f.apply(sel)
		if ph.where != "" {
			if ph.arg != nil {
				sel = sel.Where(ph.where, ph.arg)
			} else {
				sel = sel.Where(ph.where)
			}
		}
		if f.After != nil && i == f.After.Phase {
			op := "<"
			if ph.asc {
				op = ">"
			}
			sel = sel.Where("("+ph.col+", t.id) "+op+" (?, ?)", f.After.At.UTC(), f.After.ID)
		}
		dir := " DESC"
		if ph.asc {
			dir = ""
		}
		sel = sel.OrderExpr(ph.col + dir + ", t.id" + dir).Limit(int64(want - len(out)))
		if err := sel.Scan(ctx); err != nil {
			return nil, nil, fmt.Errorf("store: queue: %w", err)
		}
		for range ts {
			phaseOf = append(phaseOf, i)
		}
		out = append(out, ts...)
	}
	var next *QueueCursor
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = &QueueCursor{Phase: phaseOf[limit-1], ID: last.ID}
		switch phases[next.Phase].col {
		case "t.created_at":
			next.At = last.CreatedAt
		case "t.resolution_due":
			next.At = *last.ResolutionDue
		default:
			next.At = last.UpdatedAt
		}
	}
	if err := q.loadTicketRelations(ctx, out); err != nil {
		return nil, nil, err
	}
	return out, next, nil
}

func (f QueueFilter) apply(sel *bun.SelectQuery) *bun.SelectQuery {
	if len(f.Statuses) == 1 {
		sel = sel.Where("t.status = ?", f.Statuses[0])
	} else if len(f.Statuses) > 1 {
		sel = sel.Where("t.status IN (?)", bun.In(f.Statuses))
	}
	if len(f.Priorities) == 1 {
		sel = sel.Where("t.priority = ?", f.Priorities[0])
	} else if len(f.Priorities) > 1 {
		sel = sel.Where("t.priority IN (?)", bun.In(f.Priorities))
	}
	if f.CompanyID > 0 {
		sel = sel.Where("t.company_id = ?", f.CompanyID)
	}
	if f.CategoryID > 0 {
		sel = sel.Where("(t.category_id = ? OR t.subcategory_id = ?)", f.CategoryID, f.CategoryID)
	}
	if f.QueueID > 0 {
		sel = sel.Where("t.queue_id = ?", f.QueueID)
	}
	if f.AssigneeID > 0 {
		sel = sel.Where("t.assignee_id = ?", f.AssigneeID)
	}
	if f.Unassigned {
		sel = sel.Where("t.assignee_id IS NULL")
	}
	if f.Assigned {
		sel = sel.Where("t.assignee_id IS NOT NULL")
	}
	if f.RequesterID > 0 {
		sel = sel.Where("t.requester_id = ?", f.RequesterID)
	}
	if !f.CreatedFrom.IsZero() {
		sel = sel.Where("t.created_at >= ?", f.CreatedFrom.UTC())
	}
	if !f.CreatedTo.IsZero() {
		sel = sel.Where("t.created_at < ?", f.CreatedTo.UTC())
	}
	return sel
}

// SavedView is a named queue filter (the query string of the queue page):
// personal (OwnerID set) or shared with all staff (OwnerID nil).
type SavedView struct {
	bun.BaseModel `bun:"table:saved_views,alias:sv"`

	ID        int64     `bun:"id,pk,autoincrement" json:"id"`
	Name      string    `bun:"name,notnull" json:"name"`
	Query     string    `bun:"query,notnull" json:"query"`
	OwnerID   *int64    `bun:"owner_id" json:"owner_id"`
	CreatedAt time.Time `bun:"created_at,notnull" json:"created_at"`
}

// CreateSavedView inserts v.
func (q *Q) CreateSavedView(ctx context.Context, v *SavedView) error {
	v.CreatedAt = now()
	if _, err := q.db.NewInsert().Model(v).Returning("id").Exec(ctx); err != nil {
		return conflict(err, "saved view "+v.Name)
	}
	return nil
}

// SavedViewByID loads one saved view.
func (q *Q) SavedViewByID(ctx context.Context, id int64) (*SavedView, error) {
	v := new(SavedView)
	if err := q.db.NewSelect().Model(v).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "saved view "+strconv.FormatInt(id, 10))
	}
	return v, nil
}

// SavedViewsFor lists userID's views and the shared ones, by name.
func (q *Q) SavedViewsFor(ctx context.Context, userID int64) ([]*SavedView, error) {
	var vs []*SavedView
	err := q.db.NewSelect().Model(&vs).Where("(sv.owner_id IS NULL OR sv.owner_id = ?)", userID).
		OrderExpr("sv.name, sv.id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: saved views: %w", err)
	}
	return vs, nil
}

// DeleteSavedView removes one saved view.
func (q *Q) DeleteSavedView(ctx context.Context, id int64) error {
	if _, err := q.db.NewDelete().Model((*SavedView)(nil)).Where("id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("store: delete saved view: %w", err)
	}
	return nil
}
