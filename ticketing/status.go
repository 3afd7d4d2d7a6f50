package ticketing

import "github.com/jcservicedesk/servicedesk/store"

// Statuses in lifecycle order.
var Statuses = []string{
	store.StatusNew, store.StatusOpen, store.StatusPending,
	store.StatusResolved, store.StatusClosed, store.StatusReopened,
}

// ValidStatus reports whether s is a known status.
func ValidStatus(s string) bool {
	for _, x := range Statuses {
		if x == s {
			return true
		}
	}
	return false
}

// transitions is the state machine:
//
//	new → open → pending ↔ open → resolved → closed
//	resolved | closed → reopened → open | pending | resolved | closed
//
// pending → resolved is allowed too: a ticket waiting on a requester who
// never answers is resolved from pending. A ticket in work (open,
// pending, reopened) may also be closed without being resolved (a
// duplicate, a request withdrawn); closing always takes the evaluation.
var transitions = map[string][]string{
	store.StatusNew:      {store.StatusOpen, store.StatusPending},
	store.StatusOpen:     {store.StatusPending, store.StatusResolved, store.StatusClosed},
	store.StatusPending:  {store.StatusOpen, store.StatusResolved, store.StatusClosed},
	store.StatusResolved: {store.StatusClosed, store.StatusReopened},
	store.StatusClosed:   {store.StatusReopened},
	store.StatusReopened: {store.StatusOpen, store.StatusPending, store.StatusResolved, store.StatusClosed},
}

// CheckTransition returns nil when a ticket may go from one status to the
// other, else a *TransitionError that says why not.
func CheckTransition(from, to string) error {
	if !ValidStatus(to) {
		return &TransitionError{From: from, To: to, Why: "unknown status (want new, open, pending, resolved, closed or reopened)"}
	}
	if from == to {
		return &TransitionError{From: from, To: to, Why: "the ticket is already " + to}
	}
	for _, ok := range transitions[from] {
		if ok == to {
			return nil
		}
	}
	var why string
	switch {
	case to == store.StatusNew:
		why = "a ticket never goes back to new"
	case to == store.StatusClosed:
		why = "only an open, pending or resolved ticket can be closed; open it first"
	case to == store.StatusReopened:
		why = "only a resolved or closed ticket can be reopened"
	case from == store.StatusClosed:
		why = "a closed ticket must be reopened first"
	case from == store.StatusResolved:
		why = "a resolved ticket can only be closed or reopened"
	case to == store.StatusResolved:
		why = "open the ticket before resolving it"
	default:
		why = "not a step of the ticket lifecycle"
	}
	return &TransitionError{From: from, To: to, Why: why}
}
