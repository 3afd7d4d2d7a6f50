package ticketing

import (
	"context"
	"errors"
	"fmt"

	"github.com/jcservicedesk/servicedesk/store"
)

// Links between tickets (related, follow-up) and merges. Only staff link
// and merge, and only tickets of one company: a link shows each ticket's
// number and subject on the other, and a merge moves a conversation.

// LinkTickets links ticket a to ticket b with kind store.LinkRelated or
// store.LinkFollowUp (a follows up b). Merged links come from MergeTicket.
func (s *Service) LinkTickets(ctx context.Context, actor *store.User, a, b int64, kind string) error {
	if kind != store.LinkRelated && kind != store.LinkFollowUp {
		return invalidf("unknown link kind %q (want related or follow_up; merge with MergeTicket)", kind)
	}
	return s.TxWith(ctx, func(tx *Tx) error {
		ta, tb, err := tx.linkPair(ctx, actor, a, b)
		if err != nil {
			return err
		}
		uid := actor.ID
		l := &store.TicketLink{TicketID: ta.ID, OtherID: tb.ID, Kind: kind, CreatedAt: tx.s.clock(), CreatedBy: &uid}
		if actor.ID <= 0 {
			l.CreatedBy = nil
		}
		if err := tx.q.AddTicketLink(ctx, l); err != nil {
			return err
		}
		return tx.auditBoth(ctx, actor, ta, tb, "link", map[string]any{"kind": kind})
	})
}

// UnlinkTickets removes the link of kind between a and b.
func (s *Service) UnlinkTickets(ctx context.Context, actor *store.User, a, b int64, kind string) error {
	if kind != store.LinkRelated && kind != store.LinkFollowUp {
		return invalidf("unknown link kind %q (want related or follow_up; a merge is not undone)", kind)
	}
	return s.TxWith(ctx, func(tx *Tx) error {
		ta, tb, err := tx.linkPair(ctx, actor, a, b)
		if err != nil {
			return err
		}
		if err := tx.q.RemoveTicketLink(ctx, ta.ID, tb.ID, kind); err != nil {
			return err
		}
		return tx.auditBoth(ctx, actor, ta, tb, "unlink", map[string]any{"kind": kind})
	})
}

// linkPair loads two distinct tickets of one company that actor (staff)
// may edit.
func (tx *Tx) linkPair(ctx context.Context, actor *store.User, a, b int64) (*store.Ticket, *store.Ticket, error) {
	if actor == nil || !actor.IsStaff() {
		return nil, nil, notAllowedf("only staff link, merge or move between tickets")
	}
	if a == b {
		return nil, nil, invalidf("ticket #%d cannot be linked to itself", a)
	}
	ta, err := tx.load(ctx, actor, a, ActEdit)
	if err != nil {
		return nil, nil, err
	}
	tb, err := tx.load(ctx, actor, b, ActEdit)
	if err != nil {
		return nil, nil, err
	}
	if ta.CompanyID != tb.CompanyID {
		return nil, nil, invalidf("tickets #%d and #%d belong to different companies", a, b)
	}
	return ta, tb, nil
}

// auditBoth writes the same change on both tickets' logs, each naming the
// other.
func (tx *Tx) auditBoth(ctx context.Context, actor *store.User, a, b *store.Ticket, action string, data map[string]any) error {
	for _, p := range [][2]*store.Ticket{{a, b}, {b, a}} {
		d := map[string]any{"other": p[1].Number}
		for k, v := range data {
			d[k] = v
		}
		if err := tx.q.Audit(ctx, actor, p[0].CompanyID, "ticket", p[0].ID, action, nil, d); err != nil {
			return err
		}
	}
	return nil
}

// MergeResult says what a merge moved.
type MergeResult struct {
	From, Into            *store.Ticket
	Comments, Attachments int64
}

// MergeTicket merges ticket from into ticket into: its comments and
// attachments move, its mail thread points at into (replies land there),
// and from is closed with a merged link to into. Both are audited.
func (s *Service) MergeTicket(ctx context.Context, actor *store.User, from, into int64) (*MergeResult, error) {
	var res *MergeResult
	err := s.TxWith(ctx, func(tx *Tx) error {
		tf, ti, err := tx.linkPair(ctx, actor, from, into)
		if err != nil {
			return err
		}
		if err := tx.check(ctx, actor, tf, ActClose); err != nil {
			return err
		}
		if tf.Status == store.StatusClosed {
			return invalidf("ticket #%d is closed; reopen it before merging it", tf.Number)
		}
		if ti.Status == store.StatusClosed {
			return invalidf("ticket #%d is closed; merge into an open ticket", ti.Number)
		}
		if m, err := tx.q.MergedInto(ctx, ti.ID); err != nil {
			return err
		} else if m != 0 {
			return invalidf("ticket #%d was merged into another ticket", ti.Number)
		}
		// The one rule: a new ticket opens before it closes.
		before := tf.Status
		if tf.Status == store.StatusNew {
			tf.Status = store.StatusOpen
		}
		if err := CheckTransition(tf.Status, store.StatusClosed); err != nil {
			return err
		}
		res = &MergeResult{From: tf, Into: ti}
		if res.Comments, res.Attachments, err = tx.q.MoveTicketContent(ctx, tf.ID, ti.ID); err != nil {
			return err
		}
		if err := tx.q.CopyThreadAddresses(ctx, tf.ID, ti.ID); err != nil {
			return err
		}
		now := tx.s.clock()
		tf.Status, tf.ClosedAt = store.StatusClosed, &now
		tf.CloseReason = fmt.Sprintf("merged into #%d", ti.Number)
		if err := tx.slaAfterStatus(ctx, tf, before); err != nil {
			return err
		}
		if err := tx.q.UpdateTicket(ctx, tf); err != nil {
			return err
		}
		if err := tx.q.UpdateTicket(ctx, ti); err != nil { // bump updated_at
			return err
		}
		uid := actor.ID
		l := &store.TicketLink{TicketID: tf.ID, OtherID: ti.ID, Kind: store.LinkMerged, CreatedAt: now, CreatedBy: &uid}
		if actor.ID <= 0 {
			l.CreatedBy = nil
		}
		if err := tx.q.AddTicketLink(ctx, l); err != nil {
			return err
		}
		moved := map[string]any{"comments": res.Comments, "attachments": res.Attachments}
		if err := tx.q.Audit(ctx, actor, tf.CompanyID, "ticket", tf.ID, "merge", map[string]any{"status": before},
			map[string]any{"status": tf.Status, "into": ti.Number, "moved": moved}); err != nil {
			return err
		}
		if err := tx.q.Audit(ctx, actor, ti.CompanyID, "ticket", ti.ID, "merge_in", nil,
			map[string]any{"from": tf.Number, "moved": moved}); err != nil {
			return err
		}
		tx.emit(Event{Kind: EventStatusChanged, Ticket: tf, Actor: actor, FromStatus: before, ToStatus: tf.Status})
		return nil
	})
	return res, err
}

// FollowMerged returns the ticket t was merged into (following a chain of
// merges), or t itself: mail threaded on a merged ticket lands on the
// ticket it went into.
func (tx *Tx) FollowMerged(ctx context.Context, t *store.Ticket) (*store.Ticket, error) {
	for range 8 { // a chain longer than this is a loop
		into, err := tx.q.MergedInto(ctx, t.ID)
		if err != nil || into == 0 {
			return t, err
		}
		next, err := tx.TicketByID(ctx, into)
		if errors.Is(err, ErrNotFound) {
			return t, nil
		} else if err != nil {
			return nil, err
		}
		t = next
	}
	return t, nil
}
