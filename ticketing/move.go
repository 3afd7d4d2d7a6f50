package ticketing

import (
	"context"

	"github.com/jcservicedesk/servicedesk/store"
)

// MoveComment moves a misplaced comment, with its attachments and its
// mail, to ticket number to (staff only, within one company: a comment
// never crosses to another customer). Both tickets are audited.
func (s *Service) MoveComment(ctx context.Context, actor *store.User, commentID, to int64) (*store.Ticket, error) {
	var target *store.Ticket
	err := s.TxWith(ctx, func(tx *Tx) error {
		c, src, err := tx.staffComment(ctx, actor, commentID)
		if err != nil {
			return err
		}
		if target, err = tx.load(ctx, actor, to, ActEdit); err != nil {
			return err
		}
		if target.ID == src.ID {
			return invalidf("comment %d is already on ticket #%d", c.ID, src.Number)
		}
		if target.CompanyID != src.CompanyID {
			return invalidf("tickets #%d and #%d belong to different companies", src.Number, target.Number)
		}
		return tx.moveComment(ctx, actor, c, src, target, "move_comment")
	})
	return target, err
}

// SplitComment makes a comment that is really a new request into a new
// ticket of the same company and requester (the comment's author when a
// client of that company wrote it): the comment, its attachments and mail
// move there, its text becomes the description, and the two are linked
// as related. subject "" takes the old ticket's.
func (s *Service) SplitComment(ctx context.Context, actor *store.User, commentID int64, subject string) (*store.Ticket, error) {
	var nt *store.Ticket
	err := s.TxWith(ctx, func(tx *Tx) error {
		c, src, err := tx.staffComment(ctx, actor, commentID)
		if err != nil {
			return err
		}
		requester, err := tx.q.User(ctx, store.AllCompanies(), src.RequesterID)
		if err != nil {
			return err
		}
		if c.AuthorID != nil && *c.AuthorID != src.RequesterID {
			if a, err := tx.q.User(ctx, store.AllCompanies(), *c.AuthorID); err == nil && !a.IsStaff() && a.CompanyIDValue() == src.CompanyID {
				requester = a
			}
		}
		if subject == "" {
			subject = src.Subject
		}
		nt, err = tx.Create(ctx, actor, CreateInput{Requester: requester, CompanyID: src.CompanyID, Subject: subject,
			Body: c.BodyText, BodyHTML: c.BodyHTML, Priority: src.Priority, Source: ticketSource(c.Source),
			CategoryID: src.CategoryID, SubcategoryID: src.SubcategoryID})
		if err != nil {
			return err
		}
		if err := tx.moveComment(ctx, actor, c, src, nt, "split_comment"); err != nil {
			return err
		}
		uid := actor.ID
		return tx.q.AddTicketLink(ctx, &store.TicketLink{TicketID: src.ID, OtherID: nt.ID, Kind: store.LinkRelated,
			CreatedAt: tx.s.clock(), CreatedBy: &uid})
	})
	return nt, err
}

// staffComment loads a comment and its ticket for a staff member who may
// edit that ticket.
func (tx *Tx) staffComment(ctx context.Context, actor *store.User, id int64) (*store.Comment, *store.Ticket, error) {
	if actor == nil || !actor.IsStaff() || actor.ID <= 0 {
		return nil, nil, notAllowedf("only staff move comments between tickets")
	}
	c, t, err := tx.commentTicket(ctx, actor, id)
	if err != nil {
		return nil, nil, err
	}
	return c, t, tx.check(ctx, actor, t, ActEdit)
}

func (tx *Tx) moveComment(ctx context.Context, actor *store.User, c *store.Comment, from, to *store.Ticket, action string) error {
	if err := tx.q.MoveComment(ctx, c.ID, to.ID); err != nil {
		return err
	}
	for _, t := range []*store.Ticket{from, to} {
		if err := tx.q.UpdateTicket(ctx, t); err != nil { // bump updated_at
			return err
		}
	}
	data := map[string]any{"comment_id": c.ID, "internal": c.Internal}
	if err := tx.q.Audit(ctx, actor, from.CompanyID, "ticket", from.ID, action, map[string]any{"comment_id": c.ID},
		map[string]any{"to": to.Number}); err != nil {
		return err
	}
	data["from"] = from.Number
	return tx.q.Audit(ctx, actor, to.CompanyID, "ticket", to.ID, action+"_in", nil, data)
}
