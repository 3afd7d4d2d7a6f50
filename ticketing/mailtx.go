package ticketing

import (
	"context"
	"errors"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
)

// MailIn is what the mail intake may read and write inside a ticket
// transaction besides the ticket changes of Tx: the users and companies it
// places a sender in, threading references, the bounce list, and the
// bodies and attachments of what it just created.
type MailIn interface {
	UserByEmail(ctx context.Context, sc store.Scope, email string) (*store.User, error)
	CompanyByDomain(ctx context.Context, domain string) (*store.Company, error)
	CompanyByName(ctx context.Context, name string) (*store.Company, error)
	CountMailFrom(ctx context.Context, from string, since time.Time) (int, error)
	FindMessageRef(ctx context.Context, ids []string) (store.MessageRef, error)
	AnyOutboundEvent(ctx context.Context, ids []string, event string) (bool, error)
	AddMessageID(ctx context.Context, r store.MessageRef) error
	AddAttachment(ctx context.Context, a *store.Attachment, data []byte) error
	UpdateCommentBodies(ctx context.Context, c *store.Comment) error
	UpdateTicket(ctx context.Context, t *store.Ticket) error
	MarkBouncing(ctx context.Context, email, reason string) error
	ClearBouncing(ctx context.Context, email string) (bool, error)
	OutboxTargetByID(ctx context.Context, id int64) (store.OutboxTarget, error)
}

// MailOut is what the outbound hook may read and write inside a ticket
// transaction: the ticket's company and threading ids, the per-recipient
// counts, the templates, and the outbox it queues into.
type MailOut interface {
	Company(ctx context.Context, id int64) (*store.Company, error)
	MessageIDsOfTicket(ctx context.Context, ticketID int64) ([]string, error)
	CountMailTo(ctx context.Context, to string, since time.Time, autoKind string) (int, error)
	EmailTemplateFor(ctx context.Context, companyID int64, event, lang string) (*store.EmailTemplate, error)
	EmailTemplatesVersion(ctx context.Context) (string, error)
	EnqueueMail(ctx context.Context, m *store.OutboxMail) error
	AddMessageID(ctx context.Context, r store.MessageRef) error
	CountAutoMail(ctx context.Context, since time.Time, autoKind string) (int, error)
	// AddThreadAddresses puts the recipients of a mail queued on a ticket
	// on its thread (store.ThreadSentTo): their replies join it.
	AddThreadAddresses(ctx context.Context, ticketID int64, how, messageID string, addrs []string) error
}

// MailIn gives the intake its queries in tx.
func (tx *Tx) MailIn() MailIn { return tx.q }

// MailOut gives the outbound hook its queries in tx.
func (tx *Tx) MailOut() MailOut { return mailOut{tx.q, tx.mailed} }

// mailOut is the store's queries, noting that the transaction queued mail.
type mailOut struct {
	*store.Q
	mailed *bool
}

func (m mailOut) EnqueueMail(ctx context.Context, row *store.OutboxMail) error {
	if err := m.Q.EnqueueMail(ctx, row); err != nil {
		return err
	}
	if m.mailed != nil {
		*m.mailed = true
	}
	return nil
}

// CreateUser adds a user inside tx without a policy check: the caller
// decided (mail from a company's domain). Audited with actor (nil: the
// system).
func (tx *Tx) CreateUser(ctx context.Context, actor *store.User, in UserInput) (*store.User, error) {
	return CreateUserTx(ctx, tx.q, actor, in, tx.s.clock)
}

// ReplyOutcome is what a requester's reply to a ticket does.
type ReplyOutcome int

const (
	// ReplyComment: the ticket is not closed; the reply is a comment on it.
	ReplyComment ReplyOutcome = iota
	// ReplyReopened: the ticket was closed recently; it is reopened and
	// the reply is a comment on it.
	ReplyReopened
	// ReplyFollowUp: the ticket was closed too long ago (or the sender may
	// not reopen it); the reply opens a new ticket linked to it.
	ReplyFollowUp
)

// ReplyInput says when the reply came and how long a closed ticket stays
// open to replies (mail.reopen_days; 0: never reopen).
type ReplyInput struct {
	At         time.Time
	ReopenDays int
}

// ReplyTo decides, and applies, what a reply from actor to t does: the one
// rule for mail and the portal. On ReplyReopened t is reopened in tx; on
// ReplyFollowUp the caller opens a new ticket linked to t.
func (tx *Tx) ReplyTo(ctx context.Context, actor *store.User, t *store.Ticket, in ReplyInput) (ReplyOutcome, error) {
	if t.Status != store.StatusClosed {
		return ReplyComment, nil
	}
	recent := in.ReopenDays > 0 && t.ClosedAt != nil &&
		in.At.Sub(*t.ClosedAt) <= time.Duration(in.ReopenDays)*24*time.Hour
	if !recent {
		return ReplyFollowUp, nil
	}
	if err := tx.check(ctx, actor, t, ActReopen); errors.Is(err, ErrNotAllowed) {
		return ReplyFollowUp, nil
	} else if err != nil {
		return 0, err
	}
	if err := tx.SetStatus(ctx, actor, t, store.StatusReopened, StatusInput{}); err != nil {
		return 0, err
	}
	return ReplyReopened, nil
}
