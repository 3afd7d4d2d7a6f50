package ticketing

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
)

// visible loads ticket number for reading as actor may see it (ActView),
// and says whether actor may see its internal side.
func (s *Service) visible(ctx context.Context, q *store.Q, actor *store.User, number int64) (*store.Ticket, bool, error) {
	if actor == nil {
		return nil, false, notAllowedf("no actor")
	}
	t, err := ticketInReach(ctx, q, actor, number, false)
	if err != nil {
		return nil, false, err
	}
	participant, err := participationOf(ctx, q, actor, t)
	if err != nil {
		return nil, false, err
	}
	if err := can(actor, t, participant, ActView); err != nil {
		return nil, false, err
	}
	return t, can(actor, t, participant, ActViewInternal) == nil, nil
}

// staffVisible is visible for what only staff may read (the original
// mails): anyone else is told the ticket is not there, so a requester
// cannot probe for it.
func (s *Service) staffVisible(ctx context.Context, q *store.Q, actor *store.User, number int64) (*store.Ticket, error) {
	t, internal, err := s.visible(ctx, q, actor, number)
	if err != nil {
		return nil, err
	}
	if !actor.IsStaff() || !internal {
		return nil, notFoundf("ticket #%d", number)
	}
	return t, nil
}

// TicketMails lists the ingested mails that became ticket number or its
// comments (without their bytes), for staff; anyone else gets
// ErrNotFound.
func (s *Service) TicketMails(ctx context.Context, actor *store.User, number int64) ([]*store.MailMessage, error) {
	q := s.st.R()
	t, err := s.staffVisible(ctx, q, actor, number)
	if err != nil {
		return nil, err
	}
	return q.TicketMails(ctx, t.ID)
}

// MailSource returns the original message (.eml) mailID of ticket
// number: staff only, and only a mail that became that ticket or one of
// its comments. Anything else is ErrNotFound.
func (s *Service) MailSource(ctx context.Context, actor *store.User, number, mailID int64) (*store.MailMessage, []byte, error) {
	ms, err := s.TicketMails(ctx, actor, number)
	if err != nil {
		return nil, nil, err
	}
	for _, m := range ms {
		if m.ID == mailID {
			_, raw, err := s.st.R().MailRaw(ctx, mailID)
			if err != nil {
				return nil, nil, mapStoreErr(err)
			}
			return m, raw, nil
		}
	}
	return nil, nil, notFoundf("mail %d of ticket #%d", mailID, number)
}

// StatusChange is one step of a ticket's status history.
type StatusChange struct {
	At      time.Time `json:"at"`
	ActorID *int64    `json:"actor_id,omitempty"`
	// Actor names who did it: the user's name, else the address the
	// audit row kept; "" for the system.
	Actor string `json:"actor"`
	From  string `json:"from"` // "" for the opening
	To    string `json:"to"`
	// Reason is the solution of a resolve and, for staff, the reason of
	// a close; "" otherwise.
	Reason string `json:"reason,omitempty"`
	// MergedInto is the ticket number a merge moved it into (staff only).
	MergedInto int64 `json:"merged_into,omitempty"`
}

// StatusHistory lists the status changes of ticket number from the audit
// log (every row whose status before and after differ), oldest first, as actor may see them: a requester never gets the
// close reason or the merge target, and never the evaluation (which has
// audit rows of its own, not read here).
func (s *Service) StatusHistory(ctx context.Context, actor *store.User, number int64) ([]StatusChange, error) {
	q := s.st.R()
	t, internal, err := s.visible(ctx, q, actor, number)
	if err != nil {
		return nil, err
	}
	rows, err := q.TicketStatusAudit(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	names := map[int64]string{}
	var out []StatusChange
	for _, e := range rows {
		var before, after struct {
			Status   string `json:"status"`
			Solution string `json:"solution"`
			Reason   string `json:"reason"`
			Into     int64  `json:"into"`
		}
		// Any row that moved the status (a status change, a take, a
		// merge…) says so with a status before and after; the opening
		// has one after. Other rows, the evaluation's among them, do not.
		if e.Action != "create" && !strings.Contains(e.Before, `"status"`) {
			continue
		}
		if e.Before != "" {
			_ = json.Unmarshal([]byte(e.Before), &before) // rows we wrote; a bad one shows as blank
		}
		if e.After != "" {
			_ = json.Unmarshal([]byte(e.After), &after)
		}
		if after.Status == "" || (e.Action != "create" && before.Status == after.Status) {
			continue
		}
		c := StatusChange{At: e.CreatedAt, ActorID: e.ActorID, From: before.Status, To: after.Status}
		switch after.Status {
		case store.StatusResolved:
			c.Reason = after.Solution
		case store.StatusClosed:
			if internal {
				c.Reason = after.Reason
			}
		}
		if internal {
			c.MergedInto = after.Into
		}
		c.Actor = e.ActorEmail
		if e.ActorEmail == store.SystemActorEmail {
			c.Actor = ""
		}
		if e.ActorID != nil {
			name, ok := names[*e.ActorID]
			if !ok {
				if u, err := q.User(ctx, store.AllCompanies(), *e.ActorID); err == nil {
					name = u.Name
				}
				names[*e.ActorID] = name
			}
			if name != "" {
				c.Actor = name
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// RequesterRecent lists up to limit other tickets of ticket number's
// requester, most recently updated first, keeping only those actor may
// open.
func (s *Service) RequesterRecent(ctx context.Context, actor *store.User, number int64, limit int) ([]*store.Ticket, error) {
	q := s.st.R()
	t, _, err := s.visible(ctx, q, actor, number)
	if err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 5
	}
	ts, err := q.RequesterTickets(ctx, actor.Scope(), t.RequesterID, t.ID, limit)
	if err != nil {
		return nil, err
	}
	out := make([]*store.Ticket, 0, len(ts))
	for _, o := range ts {
		participant, err := participationOf(ctx, q, actor, o)
		if err != nil {
			return nil, err
		}
		if can(actor, o, participant, ActView) != nil {
			continue
		}
		if !actor.IsStaff() {
			redactInternal(o)
		}
		out = append(out, o)
	}
	return out, nil
}
