package ticketing

import (
	"context"

	"github.com/jcservicedesk/servicedesk/store"
)

// EventKind names a ticket change that others (mail, notifications, SSE)
// react to.
type EventKind string

const (
	EventCreated          EventKind = "created"
	EventCommented        EventKind = "commented"
	EventStatusChanged    EventKind = "status_changed"
	EventAssigned         EventKind = "assigned"
	EventResolved         EventKind = "resolved"
	EventClosed           EventKind = "closed"
	EventReopened         EventKind = "reopened"
	EventRated            EventKind = "rated"
	EventParticipantAdded EventKind = "participant_added"
)

// Event describes one change, as committed.
type Event struct {
	Kind       EventKind
	Ticket     *store.Ticket
	Actor      *store.User
	Comment    *store.Comment // for EventCommented
	FromStatus string
	ToStatus   string
	Assignee   *store.User // for EventAssigned
	User       *store.User // for EventParticipantAdded
	SLAKind    string      // for EventSLAWarning and EventSLABreach: a store.SLA* kind
	// Automated marks changes caused by automated mail (auto-replies,
	// bounces): nobody is told about them automatically.
	Automated bool
}

// TxHook runs inside the transaction of a change, so what it writes (an
// outbox row, a notification) commits with it or not at all.
type TxHook func(ctx context.Context, tx *Tx, ev Event) error

// Listener is told after a change has committed. Listeners are called
// from many goroutines at once and must not block.
type Listener func(ev Event)
