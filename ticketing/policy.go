package ticketing

import "github.com/jcservicedesk/servicedesk/store"

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
}

// RelationOf works out how u stands to t; participant must be looked up by
// the caller (it needs the database). Colleagues count as the same
// company only when it shares tickets within the company (t.Company must
// be loaded; without it nothing is shared), and a client who moved to
// another company no longer counts as a participant.
func RelationOf(u *store.User, t *store.Ticket, participant bool) Relation {
	ownCompany := u.CompanyID != nil && *u.CompanyID == t.CompanyID
	shares := t.Company != nil && t.Company.ID == t.CompanyID && t.Company.ShareTickets
	return Relation{
		Requester:   u.ID == t.RequesterID,
		Participant: participant && (u.IsStaff() || ownCompany),
		SameCompany: ownCompany && shares,
		Assignee:    t.AssignedTo(u),
		Unassigned:  t.AssigneeID == nil,
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
			return visible
		case ActReopen, ActRate:
			return rel.Requester
		}
	}
	return false
}

func can(u *store.User, t *store.Ticket, participant bool, act Action) error {
	if Allowed(u.Role, u.Disabled, act, RelationOf(u, t, participant)) {
		return nil
	}
	return notAllowedf("%s may not %s ticket #%d", u.Email, act, t.Number)
}
