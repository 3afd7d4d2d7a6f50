package store

import (
	"context"
	"fmt"
)

// The ticket page's side reads, kept lean: they run on every view of a
// ticket.

// RequesterTickets lists up to limit tickets of requesterID within scope
// other than exceptID, most recently updated first, without their joined
// rows (the page shows number, subject, status and date).
func (q *Q) RequesterTickets(ctx context.Context, sc Scope, requesterID, exceptID int64, limit int) ([]*Ticket, error) {
	var ts []*Ticket
	sel, err := sc.where(q.db.NewSelect().Model(&ts), "t.company_id")
	if err != nil {
		return nil, err
	}
	err = sel.Where("t.requester_id = ? AND t.id <> ?", requesterID, exceptID).
		OrderExpr("t.updated_at DESC, t.id DESC").Limit(int64(limit)).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: tickets of requester %d: %w", requesterID, err)
	}
	return ts, nil
}

// TicketStatusAudit lists the audit rows of ticket ticketID that may have
// moved its status (its opening, and rows with a status before), oldest
// first: the status history without reading every comment's row.
func (q *Q) TicketStatusAudit(ctx context.Context, ticketID int64) ([]*AuditEntry, error) {
	var es []*AuditEntry
	err := q.db.NewSelect().Model(&es).
		Where(`a.entity = 'ticket' AND a.entity_id = ? AND (a.action = 'create' OR a."before" LIKE '%"status"%')`, ticketID).
		Order("a.id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: status audit of ticket %d: %w", ticketID, err)
	}
	return es, nil
}
