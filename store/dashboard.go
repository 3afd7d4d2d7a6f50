package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Dashboard lists: what a technician's start page shows. Each is a count
// and the first tickets of a list, within a scope.
const (
	DashMine       = "mine"       // open tickets assigned to the user
	DashUnassigned = "unassigned" // open, nobody's, in the user's queues
	DashDue        = "due"        // open, SLA warning reached or breached
	DashRecent     = "recent"     // open, most recently updated
)

// DashboardFilter says which dashboard list and for whom.
type DashboardFilter struct {
	List   string
	UserID int64     // the technician (mine, unassigned: their queues)
	Now    time.Time // due: the warning or due time is at or before Now
	Limit  int       // 1..MaxTicketLimit; 0 means 10
}

// openStatuses are the statuses that still need work.
var openStatuses = []string{StatusNew, StatusOpen, StatusPending, StatusReopened}

// DashboardCountCap bounds a dashboard count: past it the card says
// "1000+" (counting 40,000 open tickets on every page view is work
// nobody reads).
const DashboardCountCap = 1000

// DashboardTickets is one dashboard list: how many tickets it holds (at
// most DashboardCountCap) and the first Limit of them (due: the soonest
// first; the others: the most recently updated first).
//
// Unassigned: tickets of the queues the user is a member of and tickets
// of no queue; a user of no queue sees every unassigned ticket. Due: the
// SLA warning time came (it precedes the due time) or a target breached,
// and the clock is not paused; each part is read through its partial
// index.
func (q *Q) DashboardTickets(ctx context.Context, sc Scope, f DashboardFilter) ([]*Ticket, int, error) {
	limit := f.Limit
	if limit == 0 {
		limit = 10
	}
	if limit < 0 || limit > MaxTicketLimit {
		return nil, 0, fmt.Errorf("store: dashboard: limit %d is not between 1 and %d", f.Limit, MaxTicketLimit)
	}
	build := func(model any) (*bun.SelectQuery, error) {
		sel, err := sc.where(q.db.NewSelect().Model(model), "t.company_id")
		if err != nil {
			return nil, err
		}
		sel = sel.Where("t.status IN (?)", bun.In(openStatuses))
		switch f.List {
		case DashMine:
			sel = sel.Where("t.assignee_id = ?", f.UserID)
		case DashUnassigned:
			sel = sel.Where("t.assignee_id IS NULL").Where(`(t.queue_id IS NULL
				OR t.queue_id IN (SELECT qm.queue_id FROM queue_members qm WHERE qm.user_id = ?)
				OR NOT EXISTS (SELECT 1 FROM queue_members qm WHERE qm.user_id = ?))`, f.UserID, f.UserID)
		case DashDue:
			if f.Now.IsZero() {
				return nil, fmt.Errorf("store: dashboard: due needs a time")
			}
			now := f.Now.UTC()
			// SQLite's planner, seeing every open ticket in the SLA work's
			// partial indexes (their times NULL without a plan), would scan
			// the table: the index is named.
			first, resolution := "tickets", "tickets"
			if !q.pg {
				first, resolution = "tickets INDEXED BY tickets_sla_first_response_idx", "tickets INDEXED BY tickets_sla_resolution_idx"
			}
			sel = sel.Where(`t.id IN (
				SELECT id FROM tickets WHERE sla_breached_at IS NOT NULL AND resolved_at IS NULL AND closed_at IS NULL
				UNION SELECT id FROM `+first+` WHERE first_response_warn_at <= ? AND first_response_at IS NULL AND first_response_breached_at IS NULL
				UNION SELECT id FROM `+resolution+` WHERE resolution_warn_at <= ? AND resolved_at IS NULL AND closed_at IS NULL AND resolution_breached_at IS NULL)`, now, now).
				Where("(t.sla_breached_at IS NOT NULL OR t.sla_paused_at IS NULL)")
		case DashRecent:
		default:
			return nil, fmt.Errorf("store: dashboard: unknown list %q", f.List)
		}
		return sel, nil
	}
	var ts []*Ticket
	sel, err := build(&ts)
	if err != nil {
		return nil, 0, err
	}
	order := "t.updated_at DESC, t.id DESC"
	if f.List == DashDue {
		order = "COALESCE(t.sla_breached_at, t.resolution_due, t.first_response_due), t.id"
	}
	if err := sel.OrderExpr(order).Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, 0, fmt.Errorf("store: dashboard %s: %w", f.List, err)
	}
	n := len(ts)
	if n == limit {
		// The count reads at most the cap's worth of index entries.
		cnt, err := build((*Ticket)(nil))
		if err != nil {
			return nil, 0, err
		}
		cnt = cnt.Column("t.id").Limit(DashboardCountCap)
		if err := q.db.NewSelect().TableExpr("(?) AS c", cnt).ColumnExpr("count(*)").Scan(ctx, &n); err != nil {
			return nil, 0, fmt.Errorf("store: dashboard %s count: %w", f.List, err)
		}
	}
	if err := q.loadTicketRelations(ctx, ts); err != nil {
		return nil, 0, err
	}
	return ts, n, nil
}

// AddQueueMember makes a user a member of a queue (its unassigned
// tickets reach their dashboard); already a member is no error.
func (q *Q) AddQueueMember(ctx context.Context, queueID, userID int64) error {
	_, err := q.db.NewRaw("INSERT INTO queue_members (queue_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING", queueID, userID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: add member %d to queue %d: %w", userID, queueID, err)
	}
	return nil
}
