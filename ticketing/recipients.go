package ticketing

import (
	"context"
	"slices"

	"github.com/jcservicedesk/servicedesk/store"
)

// maxExtraCc bounds the addresses typed on one reply.
const maxExtraCc = 10

// ReplyRecipients is who a public staff reply is mailed to, when the
// technician chose (CommentInput.Recipients; nil mails everyone who
// follows, as before). Staff who follow the ticket are told either way:
// the choice is about the people outside.
type ReplyRecipients struct {
	// To are the chosen addresses among the requester and the ticket's
	// participants outside staff; anyone else here is refused.
	To []string
	// Cc are addresses typed for this reply. One that belongs to an
	// active requester-side user of the ticket's company is added to the
	// ticket as a participant (when the actor may manage participants) (they follow it from now on, and may see it
	// as any Cc'd colleague can); any other address gets this reply only,
	// and no account and no access.
	Cc []string
}

// chosen reports whether address a was picked.
func (r *ReplyRecipients) chosen(a string) bool {
	a = store.NormalizeEmail(a)
	return slices.Contains(r.To, a) || slices.Contains(r.Cc, a)
}

// ReplyCandidates are the people a public reply goes to by default: the
// requester and the ticket's participants outside staff, requester first.
func ReplyCandidates(t *store.Ticket, requester *store.User, participants []*store.User) []*store.User {
	var out []*store.User
	if requester != nil {
		out = append(out, requester)
	}
	for _, p := range participants {
		if p.ID == t.RequesterID || p.IsStaff() {
			continue
		}
		if p.CompanyIDValue() != t.CompanyID { // moved to another company: no longer follows
			continue
		}
		out = append(out, p)
	}
	return out
}

// resolveRecipients checks a reply's recipients against ticket t and
// returns them normalized, after adding the typed addresses policy lets
// follow the ticket as participants.
func (tx *Tx) resolveRecipients(ctx context.Context, actor *store.User, t *store.Ticket, in CommentInput) (*ReplyRecipients, error) {
	r := in.Recipients
	if r == nil {
		return nil, nil
	}
	if in.Internal || !actor.IsStaff() {
		return nil, invalidf("only a public reply by staff picks its recipients")
	}
	requester, err := tx.q.User(ctx, store.AllCompanies(), t.RequesterID)
	if err != nil {
		return nil, err
	}
	participants, err := tx.q.Participants(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, u := range ReplyCandidates(t, requester, participants) {
		known[store.NormalizeEmail(u.Email)] = true
	}
	out := &ReplyRecipients{}
	for _, a := range r.To {
		n, err := NormalizeAddress(a)
		if err != nil {
			return nil, err
		}
		if !known[n] {
			return nil, invalidf("%s is neither the requester nor a participant of ticket #%d; type it as a Cc", n, t.Number)
		}
		if !slices.Contains(out.To, n) {
			out.To = append(out.To, n)
		}
	}
	for _, a := range r.Cc {
		n, err := NormalizeAddress(a)
		if err != nil {
			return nil, err
		}
		if known[n] {
			if !slices.Contains(out.To, n) {
				out.To = append(out.To, n)
			}
			continue
		}
		if slices.Contains(out.Cc, n) {
			continue
		}
		if len(out.Cc) == maxExtraCc {
			return nil, invalidf("at most %d extra Cc addresses per reply", maxExtraCc)
		}
		out.Cc = append(out.Cc, n)
		u, err := tx.q.UserByEmail(ctx, store.AllCompanies(), n)
		if err != nil {
			continue // not ours: this reply only
		}
		if u.IsStaff() || u.Disabled || u.CompanyIDValue() != t.CompanyID || can(actor, t, participation{}, ActManageParticipant) != nil {
			continue // staff are told as staff; other companies' people see none of this ticket
		}
		if err := tx.AddParticipant(ctx, actor, t, u); err != nil {
			return nil, err
		}
	}
	return out, nil
}
