package ticketing

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
)

// companyActive refuses a new ticket for a company switched off
// (company update --active=false).
func (tx *Tx) companyActive(ctx context.Context, companyID int64) error {
	c, err := tx.q.Company(ctx, companyID)
	if err != nil {
		return mapStoreErr(err)
	}
	if !c.Active {
		return notAllowedf("company %q is inactive and cannot open new tickets; ask your administrator", c.Name)
	}
	return nil
}

// ReopenInput is a requester's (or technician's) "reopen" from the portal.
type ReopenInput struct {
	Body       string // why; the comment on the reopened ticket, or the follow-up's description
	ReopenDays int    // mail.reopen_days: the same rule a mailed reply follows
}

// Reopen reopens resolved or closed ticket number under the rule mail
// follows: a resolved ticket, or one closed within ReopenDays, is reopened
// (with Body as a comment when given); one closed longer ago gets a new
// follow-up ticket linked to it, which is returned instead.
func (s *Service) Reopen(ctx context.Context, actor *store.User, number int64, in ReopenInput) (*store.Ticket, ReplyOutcome, error) {
	var (
		out     *store.Ticket
		outcome ReplyOutcome
	)
	err := s.TxWith(ctx, func(tx *Tx) error {
		t, err := tx.load(ctx, actor, number, ActReopen)
		if err != nil {
			return err
		}
		switch t.Status {
		case store.StatusResolved:
			if err := tx.SetStatus(ctx, actor, t, store.StatusReopened, StatusInput{}); err != nil {
				return err
			}
			outcome = ReplyReopened
		case store.StatusClosed:
			if outcome, err = tx.ReplyTo(ctx, actor, t, ReplyInput{At: s.clock(), ReopenDays: in.ReopenDays}); err != nil {
				return err
			}
		default:
			return invalidf("ticket #%d is %s; only resolved or closed tickets can be reopened", t.Number, t.Status)
		}
		if outcome == ReplyFollowUp {
			requester := t.Requester
			if requester == nil || requester.ID != t.RequesterID {
				if requester, err = tx.q.User(ctx, store.AllCompanies(), t.RequesterID); err != nil {
					return err
				}
			}
			body := in.Body
			if body == "" {
				body = "Continuação do chamado #" + strconv.FormatInt(t.Number, 10) + "."
			}
			id := t.ID
			out, err = tx.Create(ctx, actor, CreateInput{Requester: requester, CompanyID: t.CompanyID,
				Subject: t.Subject, Body: body, CategoryID: t.CategoryID, SubcategoryID: t.SubcategoryID,
				Priority: t.Priority, Source: store.SourceWeb, LinkedTicket: &id})
			return err
		}
		out = t
		if in.Body != "" {
			_, err = tx.Comment(ctx, actor, t, CommentInput{Body: in.Body, Source: store.SourceWeb})
		}
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	if !actor.IsStaff() {
		redactInternal(out)
	}
	return out, outcome, nil
}

// RatedThisCycle reports whether t was rated after it was last resolved
// or closed: one rating per cycle (a reopened ticket may be rated again
// once it is done again).
func RatedThisCycle(t *store.Ticket) bool {
	if t.RatedAt == nil {
		return false
	}
	for _, at := range []*time.Time{t.ResolvedAt, t.ClosedAt} {
		if at != nil && t.RatedAt.Before(*at) {
			return false
		}
	}
	return t.ResolvedAt != nil || t.ClosedAt != nil
}

func conflictf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrConflict}, args...)...)
}
