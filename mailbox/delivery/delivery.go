// Package delivery holds the few types shared by the ways mail comes in
// (SMTP receiver, IMAP poller, gateway pipe) and the intake that turns it
// into ticket changes. The protocol ends import only this package, so they
// know nothing of tickets.
package delivery

import (
	"context"
	"errors"
	"net"
	"time"
)

// Source says which door a message came through.
type Source string

const (
	SourceSMTP Source = "smtp"
	SourceIMAP Source = "imap"
	SourcePipe Source = "pipe"
)

// Envelope is what the transport knows about a message besides its bytes.
type Envelope struct {
	Source     Source
	MailFrom   string   // SMTP reverse path ("" for the null sender)
	Recipients []string // RCPT TO addresses, or the mailbox address for IMAP
	RemoteAddr string
	// SMTP only: the connecting client's IP (RemoteAddr without the port;
	// nil when unknown) and the name it gave in HELO/EHLO. SPF checks
	// MailFrom and Helo against ClientIP.
	ClientIP net.IP
	Helo     string
	// IMAP only: which mailbox and message this was.
	Mailbox     string
	UIDValidity uint32
	UID         uint32
	ReceivedAt  time.Time
}

// Outcome tells the transport what the intake did with a message.
type Outcome struct {
	Action    string // "ticket", "comment", "bounce", "quarantine", "duplicate", "ignored"
	TicketNum int64  // human ticket number when Action is ticket or comment
	Reason    string // why, for quarantine and ignored
	// QuarantineID is the entry that holds the message when Action is
	// quarantine.
	QuarantineID int64
}

// Deliverer commits one message. A nil error is a promise that the message
// is durably stored (as a ticket change, a duplicate of one, or a
// quarantine entry). An error that is Permanent makes the sender give up
// (SMTP 5xx); any other error is temporary (SMTP 451, pipe exit 75) so the
// sender retries and nothing is lost.
type Deliverer interface {
	Deliver(ctx context.Context, env Envelope, raw []byte) (Outcome, error)
}

// DelivererFunc adapts a function to Deliverer.
type DelivererFunc func(ctx context.Context, env Envelope, raw []byte) (Outcome, error)

// Deliver calls f.
func (f DelivererFunc) Deliver(ctx context.Context, env Envelope, raw []byte) (Outcome, error) {
	return f(ctx, env, raw)
}

// RejectError is a permanent refusal (for example mail.unknown_sender is
// "reject"). Transports report it to the sender instead of retrying.
type RejectError struct{ Reason string }

func (e *RejectError) Error() string { return "rejected: " + e.Reason }

// Permanent reports that retrying will not help.
func (e *RejectError) Permanent() bool { return true }

// IsPermanent reports whether err (or an error it wraps) says retrying will
// not help.
func IsPermanent(err error) bool {
	var p interface{ Permanent() bool }
	return errors.As(err, &p) && p.Permanent()
}

// SenderTrust is what the intake learned of a message's sender, for the
// rules that act on it later in the same change (acknowledgements go only
// to senders who proved their address or were known already).
type SenderTrust struct {
	Checked  bool // sender authentication ran
	Verified bool // a DKIM or SPF pass aligned with the From domain
	Known    bool // the sender was a user before this message
}

type trustKey struct{}

// WithSenderTrust returns ctx carrying t; the intake fills t in while the
// change runs.
func WithSenderTrust(ctx context.Context, t *SenderTrust) context.Context {
	return context.WithValue(ctx, trustKey{}, t)
}

// SenderTrustFrom returns the SenderTrust in ctx, or nil.
func SenderTrustFrom(ctx context.Context) *SenderTrust {
	t, _ := ctx.Value(trustKey{}).(*SenderTrust)
	return t
}
