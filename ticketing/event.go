package ticketing

import (
	"context"
	"net/netip"
	"time"

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
	// EventAccount is an account mail (confirmation, reset, sign-in code…):
	// no ticket, Event.Account says what to send.
	EventAccount EventKind = "account"
)

// Kinds of AccountMail.
const (
	AccountConfirm        = "confirm"         // confirm the address: link /confirm/<token>, 24 h
	AccountReset          = "reset"           // password reset: link /reset/<token>, 2 h
	AccountLoginCode      = "login_code"      // the 6-digit sign-in code, 10 min
	AccountSignInLink     = "signin_link"     // passwordless sign-in: link /login/link/<token>, 15 min
	AccountNewDevice      = "new_device"      // a sign-in from a device not seen before
	AccountRegisterExists = "register_exists" // someone tried to register this address again
	AccountInvite         = "invite"          // invitation to register: link /register?invite=<token>
)

// AccountMail is what an EventAccount asks mail to send to one person.
type AccountMail struct {
	Kind    string         // one of the Account* kinds
	To      string         // the address
	User    *store.User    // the account; nil for an invitation to a new address
	Company *store.Company // for the brand; may be nil (staff)
	Token   string         // the link token (confirm, reset, signin_link, invite)
	Code    string         // the code (login_code)
	Expires time.Time      // when the link or code stops working
	Client  Client         // who asked (new_device, register_exists): IP and browser
	Lang    string         // pt-BR or en; "" = the user's or the default
}

// Client is who is asking, as the web sees them; the CLI leaves it empty.
type Client struct {
	IP        netip.Addr
	UserAgent string
}

// Event describes one change, as committed.
type Event struct {
	Kind       EventKind
	Ticket     *store.Ticket
	Actor      *store.User
	Comment    *store.Comment // for EventCommented
	FromStatus string
	ToStatus   string
	Assignee   *store.User  // for EventAssigned
	User       *store.User  // for EventParticipantAdded
	SLAKind    string       // for EventSLAWarning and EventSLABreach: a store.SLA* kind
	Account    *AccountMail // for EventAccount
	// Recipients is the choice of a public staff reply (EventCommented);
	// nil tells everyone who follows.
	Recipients *ReplyRecipients
	// Automated marks changes caused by automated mail (auto-replies,
	// bounces): nobody is told about them automatically.
	Automated bool
	// mailed is set by the transaction that emitted the event when it
	// queued mail (nil: an event made elsewhere, which may have).
	mailed *bool
}

// MayHaveQueuedMail reports whether the transaction that made ev may have
// queued mail: false only when it is known that it queued none. The
// sender's wake-up after each change is for those that did (a ticket
// whose acknowledgement was withheld queues nothing, and a claim that
// finds nothing is three statements).
func (ev Event) MayHaveQueuedMail() bool { return ev.mailed == nil || *ev.mailed }

// TxHook runs inside the transaction of a change, so what it writes (an
// outbox row, a notification) commits with it or not at all.
type TxHook func(ctx context.Context, tx *Tx, ev Event) error

// Listener is told after a change has committed. Listeners are called
// from many goroutines at once and must not block.
type Listener func(ev Event)
