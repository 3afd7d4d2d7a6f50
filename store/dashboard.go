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

// DashboardTickets is one dashboard list: how many tickets it holds and
// the first Limit of them (due: the soonest first; the others: the most
// recently updated first).
//
// Unassigned: tickets of the queues the user is a member of and tickets
// of no queue; a user of no queue sees every unassigned ticket.
func (q *Q) DashboardTickets(ctx context.Context, sc Scope, f DashboardFilter) ([]*Ticket, int, error) {
	limit := f.Limit
	if limit == 0 {
		limit = 10
	}
	if limit < 0 || limit > MaxTicketLimit {
		return nil, 0, fmt.Errorf("store: dashboard: limit %d is not between 1 and %d", f.Limit, MaxTicketLimit)
	}
	var ts []*Ticket
	sel, err := sc.where(q.db.NewSelect().Model(&ts), "t.company_id")
	if err != nil {
		return nil, 0, err
	}
	sel = sel.Where("t.status IN (?)", bun.In(openStatuses))
	order := "t.updated_at DESC, t.id DESC"
	switch f.List {
	case DashMine:
		sel = sel.Where("t.assignee_id = ?", f.UserID)
	case DashUnassigned:
		sel = sel.Where("t.assignee_id IS NULL").Where(`(t.queue_id IS NULL
			OR t.queue_id IN (SELECT qm.queue_id FROM queue_members qm WHERE qm.user_id = ?)
			OR NOT EXISTS (SELECT 1 FROM queue_members qm WHERE qm.user_id = ?))`, f.UserID, f.UserID)
	case DashDue:
		if f.Now.IsZero() {
			return nil, 0, fmt.Errorf("store: dashboard: due needs a time")
		}
		now := f.Now.UTC()
		// The SLA work's warning times say what "soon" is; a paused
		// ticket's clock does not run, unless it already breached.
		sel = sel.Where(`(t.sla_breached_at IS NOT NULL OR (t.sla_paused_at IS NULL AND (
				(t.first_response_at IS NULL AND (t.first_response_warn_at <= ? OR t.first_response_due <= ?))
				OR t.resolution_warn_at <= ? OR t.resolution_due <= ?)))`, now, now, now, now)
		order = "COALESCE(t.sla_breached_at, t.resolution_due, t.first_response_due), t.id"
	case DashRecent:
	default:
		return nil, 0, fmt.Errorf("store: dashboard: unknown list %q", f.List)
	}
	n, err := sel.OrderExpr(order).Limit(int64(limit)).ScanAndCount(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("store: dashboard %s: %w", f.List, err)
	}
	if err := q.loadTicketRelations(ctx, ts); err != nil {
		return nil, 0, err
	}
	return ts, int(n), nil
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
