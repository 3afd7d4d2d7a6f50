package intake

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"mime"
	"strings"
	"time"

	"github.com/jcservicedesk/servicedesk/mailbox/classify"
	"github.com/jcservicedesk/servicedesk/mailbox/delivery"
	"github.com/jcservicedesk/servicedesk/store"
)

// Mail for postmaster@ and abuse@ (RFC 5321 4.5.1, RFC 2142) is forwarded,
// whole, to mail.postmaster_address through the outbox rather than opened
// as a ticket: it is about the mail system (delivery reports, blocklist
// notices, abuse complaints) and comes from strangers, so as a ticket it
// would meet the unknown-sender policy (held or refused, the very mail
// RFC 5321 says must get through) and its sender would be sent an
// acknowledgement (backscatter to a complaint desk). Forwarded as a
// message/rfc822 attachment, the report reaches a person with every header
// intact, as abuse desks need it.

// EventPostmasterForward is the outbox event of a forwarded message.
const EventPostmasterForward = "postmaster_forward"

// postmasterRoles are the local parts forwarded.
var postmasterRoles = []string{"postmaster", "abuse"}

// postmasterRecipients lists the recipients of m that are postmaster@ or
// abuse@ at one of the helpdesk's domains (or a bare "postmaster").
func (in *Intake) postmasterRecipients(m *inbound) []string {
	var out []string
	for _, r := range m.recipients {
		local, domain, ok := strings.Cut(r, "@")
		if !ok {
			if r == "postmaster" {
				out = append(out, r)
			}
			continue
		}
		for _, role := range postmasterRoles {
			if local == role && in.ownDomain(domain) {
				out = append(out, r)
			}
		}
	}
	return out
}

func (in *Intake) ownDomain(domain string) bool {
	for _, own := range in.ownBases() {
		if _, d, _ := strings.Cut(strings.ToLower(own), "@"); d == domain {
			return true
		}
	}
	return false
}

// alsoForHelpdesk reports whether m is addressed to a helpdesk address as
// well (then it is placed as usual, besides being forwarded). An IMAP
// mailbox's own address does not count: every message in it has that.
func (in *Intake) alsoForHelpdesk(m *inbound) bool {
	rcpts := m.recipients
	if m.env.Source == delivery.SourceIMAP {
		rcpts = m.headerRecipients
	}
	for _, r := range rcpts {
		if in.ownAddress(r) {
			return true
		}
	}
	return false
}

// postmaster forwards m when it is for postmaster@ or abuse@. It reports
// whether m is done with (it was for nobody else).
func (in *Intake) postmaster(ctx context.Context, q *store.Q, m *inbound, rec *store.MailMessage) (delivery.Outcome, bool, error) {
	roles := in.postmasterRecipients(m)
	if len(roles) == 0 {
		return delivery.Outcome{}, false, nil
	}
	only := !in.alsoForHelpdesk(m)
	to := store.NormalizeEmail(in.cfg.PostmasterAddress)
	if to == "" || in.ownAddress(to) || in.cfg.FromAddress == "" {
		if only {
			return delivery.Outcome{}, true, &errQuarantine{"mail for " + strings.Join(roles, ", ") +
				" held: mail.postmaster_address is not set to an address outside the helpdesk"}
		}
		return delivery.Outcome{}, false, nil
	}
	if m.kind.Kind == classify.Loop {
		return delivery.Outcome{Action: store.MailIgnored, Reason: "our own mail came back (" + m.kind.Reason + ")"}, true, nil
	}
	raw := in.forwardMessage(m, roles, to)
	row := &store.OutboxMail{Event: EventPostmasterForward, AutoKind: "auto-forwarded", MailFrom: in.cfg.FromAddress,
		Recipients: to, Subject: raw.subject, MessageID: raw.messageID, Raw: raw.bytes}
	if err := q.EnqueueMail(ctx, row); err != nil {
		return delivery.Outcome{}, false, err
	}
	if !only {
		return delivery.Outcome{}, false, nil
	}
	return delivery.Outcome{Action: store.MailForwarded, Reason: "for " + strings.Join(roles, ", ") + ": forwarded to mail.postmaster_address " + to}, true, nil
}

type forwarded struct {
	subject, messageID string
	bytes              []byte
}

// forwardMessage wraps m, untouched, for the postmaster.
func (in *Intake) forwardMessage(m *inbound, roles []string, to string) forwarded {
	subject := "[" + strings.Join(roles, ", ") + "] " + strings.Join(strings.Fields(m.msg.Subject), " ")
	_, domain, _ := strings.Cut(in.cfg.FromAddress, "@")
	msgID := fmt.Sprintf("<postmaster-%s@%s>", m.hash[:min(24, len(m.hash))], domain)
	boundary := "servicedesk-forward-" + m.hash[:min(16, len(m.hash))]
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: %s\r\n", in.cfg.FromAddress, to,
		mime.QEncoding.Encode("utf-8", subject), time.Now().UTC().Format(time.RFC1123Z), msgID)
	b.WriteString("Auto-Submitted: auto-forwarded\r\n")
	if len(in.cfg.LoopValues) > 0 {
		fmt.Fprintf(&b, "%s: %s\r\n", classify.LoopHeader, in.cfg.LoopValues[0])
	}
	fmt.Fprintf(&b, "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n", boundary)
	fmt.Fprintf(&b, "--%s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n", boundary)
	fmt.Fprintf(&b, "Mail for %s, from %s (envelope sender <%s>, received by %s on %s), forwarded as it came: attached.\r\n",
		strings.Join(roles, ", "), cmp.Or(m.from, "(no From)"), m.env.MailFrom, m.env.Source, m.env.ReceivedAt.UTC().Format(time.RFC1123Z))
	fmt.Fprintf(&b, "\r\n--%s\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment; filename=\"original.eml\"\r\n\r\n", boundary)
	b.Write(m.raw)
	if !bytes.HasSuffix(m.raw, []byte("\n")) {
		b.WriteString("\r\n")
	}
	fmt.Fprintf(&b, "--%s--\r\n", boundary)
	return forwarded{subject: subject, messageID: msgID, bytes: b.Bytes()}
}
