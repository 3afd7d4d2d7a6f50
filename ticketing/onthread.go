package ticketing

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jcservicedesk/servicedesk/store"
)

// A person is on a ticket's mail thread when the ticket's own mail shows
// it: they were a To/Cc recipient of a mail we sent on it, or of an
// inbound mail placed on it, or the mail they answer was addressed to
// them. A reply by reply token or References from such a person joins the
// ticket (as a Cc participant when they could not comment on it before);
// from anyone else it opens a new ticket linked to it. Subject tags keep
// their own, stricter sender check (mailbox/intake).

// ThreadClaim is what a reply shows about its sender.
type ThreadClaim struct {
	Address string // the sender's address (From)
	// AuthFailed: sender authentication says the claimed address
	// definitely fails alignment (mailbox/auth's verdict, a DMARC/SPF
	// fail): whoever sent it, it was not the person on the thread.
	AuthFailed bool
	// TokenBound: the reply token it came with was issued to Address.
	TokenBound bool
	// Answered is our record of the message it answers (In-Reply-To /
	// References), when it has one.
	Answered *store.MessageRef
}

// ThreadDecision is whether a sender is on a ticket's thread, and why.
type ThreadDecision struct {
	On        bool
	How       string // store.ThreadSentTo, ThreadInboundCc or ThreadAddressed
	MessageID string // the message that put them on it, as written ("" when not known)
	// Why names the reason a sender is not on the thread.
	Why string
}

// DecideOnThread is the rule itself, pure: row is the sender's address on
// the ticket's thread (nil when it is not there).
func DecideOnThread(c ThreadClaim, row *store.ThreadAddress) ThreadDecision {
	addr := store.NormalizeEmail(c.Address)
	switch {
	case addr == "":
		return ThreadDecision{Why: "no sender address"}
	case c.AuthFailed:
		return ThreadDecision{Why: "sender authentication failed for " + addr}
	case row != nil:
		return ThreadDecision{On: true, How: row.How, MessageID: row.MessageID}
	case c.TokenBound:
		return ThreadDecision{On: true, How: store.ThreadAddressed}
	case c.Answered != nil && c.Answered.Direction == "out" && store.NormalizeEmail(c.Answered.Recipient) == addr:
		// Mail sent before addresses were recorded still counts.
		return ThreadDecision{On: true, How: store.ThreadAddressed, MessageID: c.Answered.OriginalID}
	}
	return ThreadDecision{Why: "sender not on the thread"}
}

// Threaded is how an outcome says a reply joined the ticket by d.
func (d ThreadDecision) Threaded() string {
	id := "<" + strings.Trim(d.MessageID, "<> ") + ">"
	if id == "<>" {
		id = "(unknown)"
	}
	switch d.How {
	case store.ThreadInboundCc:
		return "threaded: on the thread as Cc of message " + id
	case store.ThreadSentTo:
		return "threaded: on the thread as a recipient of our message " + id
	}
	return "threaded: on the thread, answering message " + id + " addressed to them"
}

// Linked is how an outcome says a reply opened ticket-linked-to-number
// instead of acting on it.
func (d ThreadDecision) Linked(number int64) string {
	return fmt.Sprintf("new ticket linked to #%d: %s", number, d.Why)
}

// OnThread decides whether c's sender is on t's thread: one indexed
// lookup. The intake threads by it, and its outcome (kept on the mail's
// row) is what `mail show` explains.
func (tx *Tx) OnThread(ctx context.Context, t *store.Ticket, c ThreadClaim) (ThreadDecision, error) {
	if c.AuthFailed || store.NormalizeEmail(c.Address) == "" {
		return DecideOnThread(c, nil), nil
	}
	row, err := tx.q.ThreadAddress(ctx, t.ID, c.Address)
	if errors.Is(err, store.ErrNotFound) {
		row, err = nil, nil
	}
	if err != nil {
		return ThreadDecision{}, err
	}
	return DecideOnThread(c, row), nil
}

// RecordThread puts addrs on t's thread (how: store.Thread*), as seen on
// message messageID. Mail in and out calls it in the transaction that
// places or queues the message.
func (tx *Tx) RecordThread(ctx context.Context, t *store.Ticket, how, messageID string, addrs []string) error {
	return tx.q.AddThreadAddresses(ctx, t.ID, how, messageID, addrs)
}

// JoinThread makes u, whom d found on t's thread, a participant: a
// colleague of the requester as any participant, anyone else as a Cc
// participant, who sees and answers this ticket's public conversation
// only. Audited as a change by the system, naming how they were on it;
// staff see them among the participants and may remove them.
func (tx *Tx) JoinThread(ctx context.Context, t *store.Ticket, u *store.User, d ThreadDecision) error {
	if !d.On {
		return notAllowedf("%s is not on the thread of ticket #%d", u.Email, t.Number)
	}
	if u.ID == t.RequesterID || u.IsStaff() {
		return nil
	}
	if d.How == store.ThreadAddressed {
		if err := tx.q.AddThreadAddresses(ctx, t.ID, store.ThreadAddressed, d.MessageID, []string{u.Email}); err != nil {
			return err
		}
	}
	via := store.ParticipantMail
	if u.CompanyIDValue() != t.CompanyID {
		via = store.ParticipantCc
	}
	added, err := tx.q.AddParticipantVia(ctx, t.ID, u.ID, via)
	if err != nil || !added {
		return err
	}
	actor := SystemActor()
	if err := tx.q.Audit(ctx, actor, t.CompanyID, "ticket", t.ID, "add_participant", nil,
		map[string]any{"user_id": u.ID, "email": u.Email, "via": "mail thread", "how": d.How, "message_id": d.MessageID, "cc": via == store.ParticipantCc, "joined": via}); err != nil {
		return err
	}
	tx.emit(Event{Kind: EventParticipantAdded, Ticket: t, Actor: actor, User: u})
	return nil
}
