package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
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

// DashboardList is one dashboard list read: how many tickets it holds
// (at most DashboardCountCap) and the first of them.
type DashboardList struct {
	List    string
	Count   int
	Tickets []*Ticket
}

// DashboardLists reads dashboard lists (f.List is not used; lists names
// them, in the order returned): for each, how many tickets it holds (at
// most DashboardCountCap) and the first Limit of them (due: the soonest
// first; the others: the most recently updated first). One query reads
// every list's first tickets and count, then one read per kind of
// relation serves all of them: a dashboard is a handful of round trips,
// not a handful per card.
//
// Unassigned: tickets of the queues the user is a member of and tickets
// of no queue; a user of no queue sees every unassigned ticket. Due: the
// SLA warning time came (it precedes the due time) or a target breached,
// and the clock is not paused; each part is read through its partial
// index.
func (q *Q) DashboardLists(ctx context.Context, sc Scope, f DashboardFilter, lists ...string) ([]DashboardList, error) {
	limit := f.Limit
	if limit == 0 {
		limit = 10
	}
	if limit < 0 || limit > MaxTicketLimit {
		return nil, fmt.Errorf("store: dashboard: limit %d is not between 1 and %d", f.Limit, MaxTicketLimit)
	}
	if len(lists) == 0 {
		return nil, nil
	}
	// Each list is a branch: its first tickets, each row carrying the
	// list's index and capped count (an uncorrelated subquery, computed
	// once per branch). A list with no ticket has no row and counts 0.
	branches := make([]string, len(lists))
	for i, list := range lists {
		f.List = list
		rows, err := q.dashboardSelect(sc, f)
		if err != nil {
			return nil, err
		}
		order := "t.updated_at DESC, t.id DESC"
		if list == DashDue {
			order = "COALESCE(t.sla_breached_at, t.resolution_due, t.first_response_due), t.id"
		}
		rows = rows.OrderExpr(order).Limit(int64(limit))
		cnt, err := q.dashboardSelect(sc, f)
		if err != nil {
			return nil, err
		}
		// The count reads at most the cap's worth of index entries.
		cnt = cnt.Column("t.id").Limit(DashboardCountCap)
		branches[i] = fmt.Sprintf("SELECT %d AS dash_list, (SELECT count(*) FROM (%s) c) AS dash_count, b.* FROM (%s) b",
			i, cnt.String(), rows.String())
	}
	var rows []struct {
		Ticket `bun:",extend"`
		List   int `bun:"dash_list"`
		Count  int `bun:"dash_count"`
	}
	if err := q.db.NewRaw(strings.Join(branches, " UNION ALL ")).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("store: dashboard: %w", err)
	}
	out := make([]DashboardList, len(lists))
	var all []*Ticket
	for i, list := range lists {
		out[i].List = list
	}
	for i := range rows {
		r := &rows[i]
		t := r.Ticket
		out[r.List].Count = r.Count
		out[r.List].Tickets = append(out[r.List].Tickets, &t)
		all = append(all, &t)
	}
	// UNION ALL keeps no order: each list is sorted again as it was read.
	for i := range out {
		if lists[i] == DashDue {
			slices.SortFunc(out[i].Tickets, func(a, b *Ticket) int {
				return cmp.Or(compareTime(dueOrder(a), dueOrder(b)), cmp.Compare(a.ID, b.ID))
			})
		} else {
			slices.SortFunc(out[i].Tickets, func(a, b *Ticket) int {
				return cmp.Or(b.UpdatedAt.Compare(a.UpdatedAt), cmp.Compare(b.ID, a.ID))
			})
		}
	}
	if err := q.loadTicketRelations(ctx, all); err != nil {
		return nil, err
	}
	return out, nil
}

// dueOrder is the time the due list sorts by, nil (last, as NULLs sort
// last ascending on PostgreSQL) when none is set.
func dueOrder(t *Ticket) *time.Time {
	switch {
	case t.SLABreachedAt != nil:
		return t.SLABreachedAt
	case t.ResolutionDue != nil:
		return t.ResolutionDue
	default:
		return t.FirstResponseDue
	}
}

func compareTime(a, b *time.Time) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	return a.Compare(*b)
}

// dashboardSelect is the tickets of list f.List within sc (every
// column of the model unless told otherwise).
func (q *Q) dashboardSelect(sc Scope, f DashboardFilter) (*bun.SelectQuery, error) {
	sel, err := sc.where(q.db.NewSelect().Model((*Ticket)(nil)), "t.company_id")
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

// AddQueueMember makes a user a member of a queue (its unassigned
// tickets reach their dashboard); already a member is no error.
func (q *Q) AddQueueMember(ctx context.Context, queueID, userID int64) error {
	_, err := q.db.NewRaw("INSERT INTO queue_members (queue_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING", queueID, userID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: add member %d to queue %d: %w", userID, queueID, err)
	}
	return nil
}
