package outbound

import (
	"context"
	"fmt"
	"time"

	"github.com/jcservicedesk/servicedesk/mailbox/delivery"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// ackWithheld says whether an acknowledgement must not be sent, and the
// note that tells staff why ("" for none). Anyone can put any address in From, and an acknowledgement repeats
// their subject to it: so it goes only to a sender that proved the address
// (a DKIM or SPF pass aligned with its domain) or that was a user before
// this mail, and to everyone together only AckRatePerHour times an hour.
func (o *Outbound) ackWithheld(ctx context.Context, q ticketing.MailOut, n ticketing.Notice) (note string, withheld bool, err error) {
	if tr := delivery.SenderTrustFrom(ctx); tr != nil && tr.Checked && !tr.Verified && !tr.Known {
		// No note: the opening message's "unverified sender" badge says
		// why, and a note on every such ticket would be noise.
		o.log.Info("not acknowledging: sender unverified and new", "to", n.Address)
		return "", true, nil
	}
	if lim := o.cfg.AckRatePerHour; lim > 0 {
		sent, err := q.CountAutoMail(ctx, o.now().Add(-time.Hour), "auto-replied")
		if err != nil {
			return "", false, err
		}
		if sent >= lim {
			o.log.Warn("not acknowledging: global acknowledgement rate reached", "to", n.Address, "limit", lim)
			return fmt.Sprintf("Acknowledgement to %s not sent: %d acknowledgements to all senders in the last hour (limit mail.ack_rate_per_hour = %d).", n.Address, sent, lim), true, nil
		}
	}
	return "", false, nil
}

// noteWithheld tells staff, in an internal note, why the requester heard
// nothing.
func (o *Outbound) noteWithheld(ctx context.Context, tx *ticketing.Tx, t *store.Ticket, note string) error {
	if _, err := tx.Comment(ctx, ticketing.SystemActor(), t, ticketing.CommentInput{
		Body: note, Internal: true, Source: store.SourceEmail, Automated: true,
	}); err != nil {
		return fmt.Errorf("outbound: note on withheld mail: %w", err)
	}
	return nil
}
