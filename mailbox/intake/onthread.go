package intake

import (
	"context"
	"errors"

	"github.com/jcservicedesk/servicedesk/mailbox/thread"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// candidate is a ticket that a reply names by its reply token or its
// References, with whether the sender is on that ticket's mail thread
// (ticketing.OnThread, the one rule).
type candidate struct {
	t   *store.Ticket
	via string // "token" or "references"
	d   ticketing.ThreadDecision
}

// candidates finds the tickets m answers, by reply token and then by
// In-Reply-To/References (after merges), each decided for m's sender.
// They are looked up before the sender is known: someone on the thread is
// threaded even when mail.unknown_sender would hold back a stranger.
func (in *Intake) candidates(ctx context.Context, tx *ticketing.Tx, m *inbound) ([]candidate, error) {
	claim := ticketing.ThreadClaim{Address: m.from, AuthFailed: authFailed(m)}
	var out []candidate
	add := func(id int64, via string, c ticketing.ThreadClaim) error {
		t, err := tx.TicketByID(ctx, id)
		if err == nil {
			t, err = tx.FollowMerged(ctx, t)
		}
		if errors.Is(err, ticketing.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		d, err := tx.OnThread(ctx, t, c)
		if err != nil {
			return err
		}
		out = append(out, candidate{t: t, via: via, d: d})
		return nil
	}
	if tok, _ := thread.TokenFromRecipients(m.recipients, in.ownBases()); tok != "" {
		if id, bound, ok := thread.CheckToken(in.cfg.Secret, tok, m.from); ok {
			c := claim
			c.TokenBound = bound
			if err := add(id, "token", c); err != nil {
				return nil, err
			}
		}
	}
	if refs := in.references(m); len(refs) > 0 {
		ref, err := tx.MailIn().FindMessageRef(ctx, refs)
		if err == nil {
			c := claim
			c.Answered = &ref
			if err := add(ref.TicketID, "references", c); err != nil {
				return nil, err
			}
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	return out, nil
}

// authFailed is the sender-authentication hook of the thread rule: a
// claimed address that definitely fails alignment (mailbox/auth) is not
// the person on the thread, whoever sent it.
func authFailed(m *inbound) bool {
	return m.auth != nil && m.auth.Definite && !m.auth.Aligned
}

func onThread(cs []candidate) bool {
	for _, c := range cs {
		if c.d.On {
			return true
		}
	}
	return false
}

// recordThread puts the To/Cc of a message placed on t on its thread.
// Automated mail and internal notes are not the conversation: their
// recipients are not.
func (in *Intake) recordThread(ctx context.Context, tx *ticketing.Tx, m *inbound, t *store.Ticket, internal bool) error {
	if m.kind.Automated() || internal {
		return nil
	}
	addrs := make([]string, 0, len(m.headerRecipients))
	for _, a := range m.headerRecipients {
		if a != m.from && !in.ownAddress(a) {
			addrs = append(addrs, a)
		}
	}
	return tx.RecordThread(ctx, t, store.ThreadInboundCc, m.msg.MessageID, addrs)
}
