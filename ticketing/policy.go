package ticketing

import (
	"context"
	"errors"

	"github.com/jcservicedesk/servicedesk/store"
)

// Action is something an actor does to a ticket.
type Action string

const (
	ActView              Action = "view"
	ActViewInternal      Action = "view_internal"
	ActComment           Action = "comment"
	ActCommentInternal   Action = "comment_internal"
	ActTake              Action = "take"     // assign an unassigned ticket to oneself
	ActTransfer          Action = "transfer" // assign to someone else
	ActChangeStatus      Action = "change_status"
	ActResolve           Action = "resolve"
	ActClose             Action = "close"
	ActReopen            Action = "reopen"
	ActRate              Action = "rate"
	ActManageParticipant Action = "manage_participants"
	ActEdit              Action = "edit" // category, priority, subject
)

// Relation is how the actor stands to the ticket.
type Relation struct {
	Requester   bool
	Participant bool
	SameCompany bool
	Assignee    bool
	Unassigned  bool
	// CcParticipant: brought in from outside the requester's company by
	// answering the mail thread (store.ParticipantCc). Such a person sees
	// and answers that ticket's public conversation, which reaches them by
	// mail anyway, and nothing else.
	CcParticipant bool
}

// RelationOf works out how u stands to t; participant must be looked up by
// the caller (it needs the database). Colleagues count as the same
// company only when it shares tickets within the company (t.Company must
// be loaded; without it nothing is shared), and a client who moved to
// another company no longer counts as a participant.
func RelationOf(u *store.User, t *store.Ticket, participant bool) Relation {
	return relationOf(u, t, participation{participant: participant})
}

// participation is how a user follows a ticket (store.Q.Participation).
type participation struct {
	participant bool
	via         string
}

func relationOf(u *store.User, t *store.Ticket, p participation) Relation {
	participant := p.participant
	ownCompany := u.CompanyID != nil && *u.CompanyID == t.CompanyID
	shares := t.Company != nil && t.Company.ID == t.CompanyID && t.Company.ShareTickets
	return Relation{
		Requester:   u.ID == t.RequesterID,
		Participant: participant && (u.IsStaff() || ownCompany),
		SameCompany: ownCompany && shares,
		Assignee:    t.AssignedTo(u),
		Unassigned:  t.AssigneeID == nil,
		// Only a client: staff see everything anyway.
		CcParticipant: participant && p.via == store.ParticipantCc && !u.IsStaff(),
	}
}

// Allowed is the one place that says who may do what. It is pure: a table
// of role × action × relation, tested as such.
func Allowed(role string, disabled bool, act Action, rel Relation) bool {
	if disabled {
		return false
	}
	switch role {
	case store.RoleAdmin, store.RoleSupervisor:
		// Rating belongs to the requester, even when staff opened it for
		// themselves.
		if act == ActRate {
			return rel.Requester
		}
		return true
	case store.RoleTech:
		switch act {
		case ActView, ActViewInternal, ActComment, ActCommentInternal, ActReopen, ActManageParticipant:
			return true
		case ActTake:
			return rel.Unassigned
		case ActEdit:
			return rel.Assignee || rel.Unassigned
		case ActTransfer, ActChangeStatus, ActResolve, ActClose:
			return rel.Assignee
		case ActRate:
			return rel.Requester
		}
	case store.RoleClient:
		// A client sees only tickets of their own company (or ones they
		// were explicitly brought into) and never internal notes.
		visible := rel.SameCompany || rel.Requester || rel.Participant
		switch act {
		case ActView, ActComment:
			return visible || rel.CcParticipant
		case ActReopen, ActRate:
			return rel.Requester
		}
	}
	return false
}

func can(u *store.User, t *store.Ticket, p participation, act Action) error {
	if Allowed(u.Role, u.Disabled, act, relationOf(u, t, p)) {
		return nil
	}
	return notAllowedf("%s may not %s ticket #%d", u.Email, act, t.Number)
}

// participationOf looks up how actor follows t (staff need not: they see
// everything).
func participationOf(ctx context.Context, q *store.Q, actor *store.User, t *store.Ticket) (participation, error) {
	if actor.IsStaff() {
		return participation{}, nil
	}
	ok, via, err := q.Participation(ctx, t.ID, actor.ID)
	return participation{participant: ok, via: via}, err
}

// ticketInReach loads ticket number within actor's company scope, or,
// for a client, a ticket of another company they answered from outside
// (a Cc participant: the policy then allows its public conversation
// only). Anything else is ErrNotFound, as if it did not exist.
func ticketInReach(ctx context.Context, q *store.Q, actor *store.User, number int64, forUpdate bool) (*store.Ticket, error) {
	t, err := q.TicketByNumber(ctx, actor.Scope(), number, forUpdate)
	if err == nil || actor.IsStaff() || !(errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrNoScope)) {
		return t, mapStoreErr(err)
	}
	other, oerr := q.TicketByNumber(ctx, store.AllCompanies(), number, forUpdate)
	if oerr != nil {
		return nil, notFoundf("ticket #%d", number)
	}
	ok, via, perr := q.Participation(ctx, other.ID, actor.ID)
	if perr != nil {
		return nil, perr
	}
	if !ok || via != store.ParticipantCc {
		return nil, notFoundf("ticket #%d", number)
	}
	return other, nil
}

// scopeOf is the company scope for reading t's parts as actor: a Cc
// participant reads the ticket's own company's rows of that ticket.
func scopeOf(actor *store.User, t *store.Ticket) store.Scope {
	if actor.IsStaff() {
		return store.AllCompanies()
	}
	return store.CompanyScope(t.CompanyID)
}
