package intake

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jcservicedesk/servicedesk/mailbox/auth"
	"github.com/jcservicedesk/servicedesk/mailbox/classify"
	"github.com/jcservicedesk/servicedesk/mailbox/delivery"
	"github.com/jcservicedesk/servicedesk/mailbox/thread"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// Sender policies (mail.sender_policy): what a definite authentication
// failure does to mail from a requester. Most small domains publish no
// DMARC, so the default only flags; "none" never counts against anyone.
const (
	SenderFlag       = "flag"
	SenderQuarantine = "quarantine"
	SenderReject     = "reject"
)

// Quarantine reasons of the staff rule; each is followed by the sender and
// the results, and is what /admin/quarantine shows to staff.
const (
	ReasonStaffFail       = "unauthenticated staff sender"
	ReasonStaffUnverified = "unverified staff sender"
)

// Authenticator checks who really sent a message (*auth.Verifier).
type Authenticator interface {
	Verify(ctx context.Context, env delivery.Envelope, raw []byte, fromDomain string) auth.Result
}

// AuthTempError says a DNS error kept sender authentication from an
// answer: nothing was stored, and the transport asks the sender to retry
// (SMTP 451, pipe exit 75; the IMAP poller tries again on its next pass,
// a bounded number of times).
type AuthTempError struct{ Summary string }

func (e *AuthTempError) Error() string {
	return "sender authentication: DNS temporarily unavailable (" + e.Summary + ")"
}

// authenticate checks m's sender before any transaction (DNS must not
// hold one open). Delivery reports and our own mail come back act as
// nobody, so they are not checked.
func (in *Intake) authenticate(ctx context.Context, m *inbound) error {
	if in.cfg.Auth == nil || m.msg == nil || m.kind.Kind == classify.Bounce || m.kind.Kind == classify.Loop {
		return nil
	}
	_, domain, _ := strings.Cut(m.from, "@")
	r := in.cfg.Auth.Verify(ctx, m.env, m.raw, domain)
	if r.Temporary {
		return &AuthTempError{Summary: r.Summary()}
	}
	m.auth = &r
	return nil
}

// recordAuth puts the verdict on the message's row before it is
// inserted: one statement, not an insert and then an update of it.
func (in *Intake) recordAuth(m *inbound, rec *store.MailMessage) {
	if m.auth == nil {
		return
	}
	rec.AuthVerdict, rec.AuthSummary = m.auth.Verdict(), m.auth.Summary()
}

// checkSender applies the authentication rules once the sender's user is
// known. Staff act by mail only with an aligned pass or a reply token
// bound to their own address; anything else claiming a staff address is
// quarantined, so it is never published nor mailed on. A requester's mail
// is held back only for a definite fail, as mail.sender_policy says.
func (in *Intake) checkSender(ctx context.Context, m *inbound, sender *store.User) error {
	m.trust = delivery.SenderTrust{Checked: m.auth != nil, Verified: m.auth != nil && m.auth.Aligned, Known: !m.newSender}
	if m.auth == nil || m.auth.Aligned {
		return nil
	}
	r := m.auth
	if sender.IsStaff() {
		if in.boundToken(m) {
			return nil
		}
		reason := fmt.Sprintf("%s: %s has no DKIM or SPF pass aligned with its domain and no reply token sent to it", ReasonStaffUnverified, m.from)
		if r.Definite {
			reason = fmt.Sprintf("%s: %s failed sender authentication", ReasonStaffFail, m.from)
		}
		reason += " (" + r.Summary() + "); it did not act as staff and nothing was sent"
		in.log.Warn("mail claiming a staff address held", "from", m.from, "verdict", r.Verdict(), "results", r.Summary(), "message_id", m.messageID)
		return &errQuarantine{reason}
	}
	if !r.Definite {
		return nil
	}
	why := fmt.Sprintf("sender authentication failed for %s (%s)", m.from, r.Summary())
	switch in.cfg.SenderPolicy {
	case SenderQuarantine:
		return &errQuarantine{why + "; mail.sender_policy is quarantine"}
	case SenderReject:
		return &delivery.RejectError{Reason: "sender authentication (DMARC/SPF) failed for " + r.FromDomain}
	}
	return nil
}

// boundToken reports whether m carries a reply token that was sent to its
// sender's own address.
func (in *Intake) boundToken(m *inbound) bool {
	tok, _ := thread.TokenFromRecipients(m.recipients, in.ownBases())
	if tok == "" {
		return false
	}
	_, bound, ok := thread.CheckToken(in.cfg.Secret, tok, m.from)
	return ok && bound
}

// bounceTarget finds which mail of ours a delivery report is about and
// whether the failed address is the one that mail went to. A report that
// comes back to the signed VERP address of one outbox message is about
// that message. Without VERP (a relay that rewrites the envelope sender,
// an IMAP-only install) a quoted Message-ID counts only when the report
// names as failed the recipient that message was actually sent to: anyone
// can forge a report, and must not be able to silence mail to others.
func (in *Intake) bounceTarget(ctx context.Context, q ticketing.MailIn, m *inbound, rep *classify.BounceReport) (ref store.MessageRef, failed, found bool, err error) {
	if in.cfg.BounceAddress != "" {
		if tok, _ := thread.TokenFromRecipients(m.env.Recipients, []string{in.cfg.BounceAddress}); tok != "" {
			if id, ok := thread.VerifyVERP(in.cfg.Secret, tok); ok {
				t, err := q.OutboxTargetByID(ctx, id)
				switch {
				case err == nil && t.TicketID != nil:
					return store.MessageRef{MessageID: t.MessageID, TicketID: *t.TicketID, Direction: "out", Recipient: t.Recipients}, true, true, nil
				case err != nil && !errors.Is(err, store.ErrNotFound):
					return ref, false, false, err
				}
			}
		}
	}
	if rep.OriginalMessageID == "" {
		return ref, false, false, nil
	}
	ref, err = q.FindMessageRef(ctx, []string{thread.NormalizeID(rep.OriginalMessageID)})
	if errors.Is(err, store.ErrNotFound) || (err == nil && ref.Direction != "out") {
		return ref, false, false, nil
	}
	if err != nil {
		return ref, false, false, err
	}
	for _, r := range rep.Recipients {
		if ref.Recipient != "" && strings.EqualFold(store.NormalizeEmail(r), ref.Recipient) {
			failed = true
		}
	}
	return ref, failed, true, nil
}
