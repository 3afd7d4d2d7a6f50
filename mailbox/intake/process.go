package intake

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jcservicedesk/servicedesk/mailbox/classify"
	"github.com/jcservicedesk/servicedesk/mailbox/delivery"
	"github.com/jcservicedesk/servicedesk/mailbox/parse"
	"github.com/jcservicedesk/servicedesk/mailbox/thread"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// errQuarantine carries a decision to quarantine from inside process.
type errQuarantine struct{ reason string }

func (e *errQuarantine) Error() string { return e.reason }

// process decides what m is and applies it, inside q's transaction.
func (in *Intake) process(ctx context.Context, q *store.Q, m *inbound) result {
	// Exactly once: the same message again changes nothing.
	if dup, err := in.duplicate(ctx, q, m); err != nil {
		return result{err: err}
	} else if dup != nil {
		out := delivery.Outcome{Action: "duplicate", Reason: fmt.Sprintf("already ingested as mail %d (%s)", dup.ID, dup.Action)}
		if dup.ContentHash != m.hash {
			// A copy altered on the way (other bytes, same Message-ID,
			// sender, subject and date): placed once, but every message
			// received keeps its row and raw copy.
			if err := q.InsertMailMessage(ctx, in.record(m, "duplicate", out.Reason, dup.TicketID)); err != nil {
				return result{err: err}
			}
		}
		if dup.TicketID != nil {
			t, err := q.Ticket(ctx, store.AllCompanies(), *dup.TicketID, false)
			if err == nil {
				out.TicketNum = t.Number
			} else if !errors.Is(err, store.ErrNotFound) {
				return result{err: err}
			}
		}
		return result{out: out}
	}
	rec := in.record(m, store.MailIgnored, "", nil)
	in.recordAuth(m, rec)
	// The row goes in now (what the message becomes refers to its id),
	// its raw copy with the outcome at the end (finish).
	if err := q.InsertPendingMail(ctx, rec); err != nil {
		return result{err: err}
	}
	if out, done, err := in.postmaster(ctx, q, m, rec); err != nil {
		var qe *errQuarantine
		if errors.As(err, &qe) {
			return in.quarantineInTx(ctx, q, m, rec, qe.reason)
		}
		return result{err: err}
	} else if done {
		if err := in.finish(ctx, q, rec, out); err != nil {
			return result{err: err}
		}
		return result{out: out}
	}
	var out delivery.Outcome
	ctx = delivery.WithSenderTrust(ctx, &m.trust)
	events, err := in.svc.Within(ctx, q, func(tx *ticketing.Tx) error {
		var err error
		if out, err = in.place(ctx, tx, m, rec); err != nil {
			return err
		}
		if err := in.noteOnTicket(ctx, tx, m, rec, &out); err != nil {
			return err
		}
		// Inside Within, before the event log's append: on PostgreSQL that
		// takes the log's lock, held to the commit, and every other
		// message's transaction waits for it; this row is ours alone.
		return in.finish(ctx, q, rec, out)
	})
	var qe *errQuarantine
	if errors.As(err, &qe) {
		// A decision, not a failure: keep the message in quarantine, and
		// drop the mail row so a re-processed copy is not a duplicate.
		return in.quarantineInTx(ctx, q, m, rec, qe.reason)
	}
	if err != nil {
		return result{err: err}
	}
	return result{out: out, events: events}
}

// finish writes the outcome of a placed message on its row, with the raw
// copy.
func (in *Intake) finish(ctx context.Context, q *store.Q, rec *store.MailMessage, out delivery.Outcome) error {
	rec.Action, rec.Reason = out.Action, out.Reason
	return q.FinishMailMessage(ctx, rec)
}

func (in *Intake) quarantineInTx(ctx context.Context, q *store.Q, m *inbound, rec *store.MailMessage, reason string) result {
	if err := q.DeleteMailMessage(ctx, rec.ID); err != nil {
		return result{err: err}
	}
	qm := &store.Quarantined{Reason: reason, Source: string(m.env.Source), Envelope: envelopeJSON(m.env), MessageID: m.messageID,
		ContentHash: m.hash, FromAddr: m.from, Subject: m.msg.Subject, RawSize: rec.RawSize, RawGz: rec.RawGz}
	if old, err := q.QuarantineByHash(ctx, m.hash); err == nil {
		return result{out: delivery.Outcome{Action: store.MailQuarantine, Reason: reason + fmt.Sprintf(" (already held as %d)", old.ID), QuarantineID: old.ID}}
	} else if !errors.Is(err, store.ErrNotFound) {
		return result{err: err}
	}
	if err := q.Quarantine(ctx, qm); err != nil {
		return result{err: err}
	}
	in.log.Info("mail quarantined", "id", qm.ID, "reason", reason, "from", m.from, "source", m.env.Source)
	return result{out: delivery.Outcome{Action: store.MailQuarantine, Reason: reason, QuarantineID: qm.ID}}
}

// record is m's mail_messages row.
func (in *Intake) record(m *inbound, action, reason string, ticketID *int64) *store.MailMessage {
	return &store.MailMessage{
		MessageID: m.messageID, ContentHash: m.hash, Source: string(m.env.Source), MailFrom: m.env.MailFrom,
		Recipients: strings.Join(m.env.Recipients, ","), RemoteAddr: m.env.RemoteAddr, Mailbox: m.env.Mailbox,
		UIDValidity: int64(m.env.UIDValidity), UID: int64(m.env.UID), FromAddr: m.from, Subject: m.msg.Subject,
		DateHeader: m.msg.Header.Get("Date"), Kind: string(m.kind.Kind), Action: action, Reason: reason, TicketID: ticketID,
		RawSize: int64(len(m.raw)), RawGz: m.rawGz, ReceivedAt: m.env.ReceivedAt.UTC(),
	}
}

// noteOnTicket leaves an internal note on the ticket m went to about what
// staff should know of how it was read: a Message-ID that an earlier,
// different message had, and the parse warnings that change what the
// ticket shows (parts cut at the limit, the sender taken from Reply-To or
// Return-Path).
func (in *Intake) noteOnTicket(ctx context.Context, tx *ticketing.Tx, m *inbound, rec *store.MailMessage, out *delivery.Outcome) error {
	var lines []string
	if m.reuses != nil {
		lines = append(lines, fmt.Sprintf("This message reuses the Message-ID <%s> of an earlier, different message (mail %d, from %s, %q); it was processed as a new message.",
			m.messageID, m.reuses.ID, m.reuses.FromAddr, m.reuses.Subject))
		out.Reason += fmt.Sprintf("; reuses the Message-ID of mail %d", m.reuses.ID)
	}
	for _, w := range m.msg.Warnings {
		if noteworthy(w) {
			lines = append(lines, "While reading this mail: "+w+".")
		}
	}
	if len(lines) == 0 || rec.TicketID == nil || (out.Action != store.MailTicket && out.Action != store.MailComment) {
		return nil
	}
	t, err := tx.TicketByID(ctx, *rec.TicketID)
	if err != nil {
		return err
	}
	_, err = tx.Comment(ctx, ticketing.SystemActor(), t, ticketing.CommentInput{
		Body: strings.Join(lines, "\n"), Internal: true, Automated: true, Source: store.SourceEmail, MailID: &rec.ID})
	return err
}

// noteworthy reports a parse warning that changes what the ticket shows:
// content left out at the part limit, or a sender that is not the From.
func noteworthy(w string) bool {
	l := strings.ToLower(w)
	for _, s := range []string{"too many parts", "part limit", "reply-to", "return-path"} {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

// duplicate finds an earlier copy of m: the same content hash, or the same
// Message-ID with the same sender, subject and date (a copy that a gateway
// altered on the way). A Message-ID reused for a different message is not
// a duplicate.
func (in *Intake) duplicate(ctx context.Context, q *store.Q, m *inbound) (*store.MailMessage, error) {
	// Two copies of one message committing at once on PostgreSQL (SMTP
	// and IMAP, one altered by a gateway): the second waits for the first.
	if m.messageID != "" {
		if err := q.LockKey(ctx, "mail:"+m.messageID); err != nil {
			return nil, err
		}
	}
	m.reuses = nil
	// One query for both: the same content hash, or the same Message-ID.
	cands, err := q.MailsForDuplicate(ctx, m.hash, m.messageID)
	if err != nil {
		return nil, err
	}
	var same []*store.MailMessage
	for _, d := range cands {
		if d.ContentHash == m.hash {
			return d, nil
		}
		if d.MessageID == m.messageID {
			same = append(same, d)
		}
	}
	for _, d := range same {
		if d.FromAddr == m.from && d.Subject == m.msg.Subject && d.DateHeader == m.msg.Header.Get("Date") {
			return d, nil
		}
	}
	if len(same) > 0 {
		m.reuses = same[0]
	}
	return nil, nil
}

// place decides and applies: bounce, loop, comment on a ticket, or a new
// ticket.
func (in *Intake) place(ctx context.Context, tx *ticketing.Tx, m *inbound, rec *store.MailMessage) (delivery.Outcome, error) {
	q := tx.MailIn()
	switch m.kind.Kind {
	case classify.Loop:
		return delivery.Outcome{Action: store.MailIgnored, Reason: "our own mail came back (" + m.kind.Reason + ")"}, nil
	case classify.Bounce:
		return in.bounce(ctx, tx, m, rec)
	case classify.Complaint:
		return in.complaint(ctx, tx, m)
	}
	if m.from == "" {
		return delivery.Outcome{}, &errQuarantine{"no sender address: mail is answered to its From, and this one names none"}
	}
	if in.ownAddress(m.from) {
		return delivery.Outcome{Action: store.MailIgnored, Reason: "sent from one of our own addresses"}, nil
	}
	automated := m.kind.Automated()
	// The tickets it answers come first: whether its sender is on their
	// thread decides before the unknown-sender policy does.
	m.joined, m.related, m.newSender = nil, nil, false // a retried transaction decides again
	cands, err := in.candidates(ctx, tx, m)
	if err != nil {
		return delivery.Outcome{}, err
	}
	sender, err := in.sender(ctx, tx, m, automated, onThread(cands))
	if err != nil {
		return delivery.Outcome{}, err
	}
	if sender == nil { // automated mail from nobody we know
		return delivery.Outcome{Action: store.MailIgnored, Reason: string(m.kind.Kind) + " from an unknown sender"}, nil
	}
	if err := in.checkSender(ctx, m, sender); err != nil {
		return delivery.Outcome{}, err
	}
	if lim := in.cfg.RateLimitPerHour; lim > 0 && !sender.IsStaff() {
		n, err := q.CountMailFrom(ctx, m.from, m.env.ReceivedAt.Add(-time.Hour))
		if err != nil {
			return delivery.Outcome{}, err
		}
		if n > lim { // this message is already counted
			return delivery.Outcome{}, &errQuarantine{fmt.Sprintf("sender over the rate limit (mail.rate_limit_per_hour): %d messages from %s in the last hour (mail loop?)", n, m.from)}
		}
	}
	if m.kind.Kind == classify.Human {
		// Mail from an address proves it works again.
		if _, err := q.ClearBouncing(ctx, m.from); err != nil {
			return delivery.Outcome{}, err
		}
	}
	internal, err := in.internalNote(ctx, q, m, sender)
	if err != nil {
		return delivery.Outcome{}, err
	}
	t, via, err := in.findTicket(ctx, tx, m, sender, cands)
	if err != nil {
		return delivery.Outcome{}, err
	}
	if t != nil {
		if t.Status == store.StatusClosed && !internal {
			if automated {
				rec.TicketID = &t.ID
				return delivery.Outcome{Action: store.MailIgnored, TicketNum: t.Number, Reason: string(m.kind.Kind) + " to a closed ticket"}, nil
			}
			// Reopen or follow up: the one rule, in ticketing.
			what, err := tx.ReplyTo(ctx, sender, t, ticketing.ReplyInput{At: m.env.ReceivedAt, ReopenDays: in.cfg.ReopenDays})
			if err != nil {
				return delivery.Outcome{}, err
			}
			if what == ticketing.ReplyFollowUp {
				return in.newTicket(ctx, tx, m, rec, sender, &t.ID)
			}
		}
		return in.comment(ctx, tx, m, rec, sender, t, via, internal)
	}
	if m.kind.Kind == classify.AutoReply {
		// Never open a ticket from an auto-reply: that is how loops start.
		return delivery.Outcome{Action: store.MailIgnored, Reason: "auto-reply that matches no ticket (" + m.kind.Reason + ")"}, nil
	}
	return in.newTicket(ctx, tx, m, rec, sender, nil)
}

func (in *Intake) ownAddress(a string) bool {
	base, _ := thread.SplitSubaddress(a)
	for _, own := range append([]string{in.cfg.CommentAddress}, in.cfg.Addresses...) {
		if own != "" && strings.EqualFold(base, own) {
			return true
		}
	}
	return false
}

// sender finds or creates the user who sent m. It returns nil, nil for
// automated mail from someone unknown (nobody is created for it).
//
// Someone from outside every customer who is on the thread of a ticket
// the mail answers (onThread) becomes a contact, whatever
// mail.unknown_sender says: address and name, no company, no password.
func (in *Intake) sender(ctx context.Context, tx *ticketing.Tx, m *inbound, automated, onThread bool) (*store.User, error) {
	q := tx.MailIn()
	u, err := q.UserByEmail(ctx, store.AllCompanies(), m.from)
	if err == nil {
		if u.Disabled {
			return nil, &errQuarantine{"sender " + m.from + " is a disabled user: mail from disabled users is not taken"}
		}
		return u, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if automated {
		return nil, nil
	}
	_, domain, _ := strings.Cut(m.from, "@")
	company, err := q.CompanyByDomain(ctx, domain)
	if errors.Is(err, store.ErrNotFound) && onThread {
		m.newSender = true
		return tx.CreateUser(ctx, ticketing.SystemActor(), ticketing.UserInput{
			Email: m.from, Name: m.msg.From.Name, Role: store.RoleClient, Unconfirmed: true, Contact: true,
		})
	}
	if errors.Is(err, store.ErrNotFound) {
		switch in.cfg.UnknownSender {
		case UnknownCreate:
			company, err = q.CompanyByName(ctx, in.cfg.DefaultCompany)
		case UnknownReject:
			return nil, &delivery.RejectError{Reason: "sender " + m.from + " not allowed by mail.unknown_sender (reject): not a customer of this helpdesk"}
		default:
			return nil, &errQuarantine{"unknown sender " + m.from + " not allowed by mail.unknown_sender (quarantine): not a known user or customer domain"}
		}
	}
	if err != nil {
		return nil, err
	}
	cid := company.ID
	m.newSender = true
	// Known domain: a client of that company, unconfirmed, no password.
	return tx.CreateUser(ctx, ticketing.SystemActor(), ticketing.UserInput{
		Email: m.from, Name: m.msg.From.Name, Role: in.cfg.DefaultRole, CompanyID: &cid, Unconfirmed: true,
	})
}

// findTicket threads m: by the tickets it answers (cands: reply token,
// then In-Reply-To/References), where the sender may comment or is on the
// thread, then by a subject tag the sender may use. It returns how it
// matched. A ticket answered by someone not on its thread is kept in
// m.related: the new ticket is linked to it.
func (in *Intake) findTicket(ctx context.Context, tx *ticketing.Tx, m *inbound, sender *store.User, cands []candidate) (*store.Ticket, string, error) {
	// A ticket merged into another hands its mail to that one; the
	// sender must be allowed there.
	allowed := func(t *store.Ticket) bool {
		return tx.Can(ctx, sender, t, ticketing.ActComment) == nil
	}
	for _, c := range cands {
		if allowed(c.t) {
			return c.t, c.via, nil
		}
		if c.d.On {
			if !m.kind.Automated() {
				if err := tx.JoinThread(ctx, c.t, sender, c.d); err != nil {
					return nil, "", err
				}
			}
			m.joined = &c.d
			return c.t, c.via, nil
		}
		if m.related == nil {
			m.related = &c
		}
	}
	for _, n := range thread.FindSubjectTags(in.cfg.SubjectTagPrefix, m.msg.Subject) {
		t, err := tx.TicketByNumber(ctx, n)
		if err == nil {
			t, err = tx.FollowMerged(ctx, t)
		}
		if errors.Is(err, ticketing.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, "", err
		}
		// A stranger cannot inject comments by guessing numbers.
		if allowed(t) {
			m.related = nil
			return t, "subject tag", nil
		}
	}
	return nil, "", nil
}

func (in *Intake) ownBases() []string {
	own := append([]string(nil), in.cfg.Addresses...)
	if in.cfg.CommentAddress != "" {
		own = append(own, in.cfg.CommentAddress)
	}
	return own
}

func (in *Intake) toCommentAddress(m *inbound) bool {
	if in.cfg.CommentAddress == "" {
		return false
	}
	for _, r := range m.recipients {
		base, _ := thread.SplitSubaddress(r)
		if strings.EqualFold(base, in.cfg.CommentAddress) {
			return true
		}
	}
	return false
}

// internalNote decides whether staff mail is an internal note: sent to the
// comment address, or a reply to one of our internal-note mails (a tech
// pressing Reply on a note must not publish it to the requester).
func (in *Intake) internalNote(ctx context.Context, q ticketing.MailIn, m *inbound, sender *store.User) (bool, error) {
	if !sender.IsStaff() {
		return false, nil
	}
	if in.toCommentAddress(m) {
		return true, nil
	}
	return q.AnyOutboundEvent(ctx, in.references(m), ticketing.NoticeInternal)
}

func (in *Intake) references(m *inbound) []string {
	return thread.ParseReferences(strings.Join(m.msg.Header.Values("In-Reply-To"), " "), strings.Join(m.msg.Header.Values("References"), " "))
}

func (in *Intake) comment(ctx context.Context, tx *ticketing.Tx, m *inbound, rec *store.MailMessage, sender *store.User, t *store.Ticket, via string, internal bool) (delivery.Outcome, error) {
	body := m.msg.NewText
	if strings.TrimSpace(body) == "" {
		body = m.msg.Text
	}
	input := ticketing.CommentInput{Body: body, BodyHTML: m.msg.NewHTML, Source: store.SourceEmail,
		MessageID: m.msg.MessageID, MailID: &rec.ID}
	actor := sender
	if m.kind.Automated() {
		// An auto-reply or list copy on a ticket is kept as an internal
		// note: it changes no status and tells nobody.
		actor = ticketing.SystemActor()
		input.Internal, input.Automated = true, true
		input.Body = fmt.Sprintf("[%s from %s]\n\n%s", m.kind.Kind, m.from, body)
	} else if internal {
		input.Internal = true
	}
	if strings.TrimSpace(input.Body) == "" && len(m.msg.Attachments) > 0 {
		input.Body = "(attachments only)"
	}
	if strings.TrimSpace(input.Body) == "" && strings.TrimSpace(input.BodyHTML) == "" {
		input.Body = "(empty message)"
	}
	c, err := tx.Comment(ctx, actor, t, input)
	if err != nil {
		return delivery.Outcome{}, err
	}
	if len(m.msg.Attachments) > 0 {
		if err := in.attach(ctx, tx, m, t, &c.ID, sender, &c.BodyHTML, &c.BodyText); err != nil {
			return delivery.Outcome{}, err
		}
		if err := tx.MailIn().UpdateCommentBodies(ctx, c); err != nil {
			return delivery.Outcome{}, err
		}
	}
	if err := in.addParticipants(ctx, tx, m, t); err != nil {
		return delivery.Outcome{}, err
	}
	if err := in.recordThread(ctx, tx, m, t, input.Internal); err != nil {
		return delivery.Outcome{}, err
	}
	if err := tx.MailIn().AddMessageID(ctx, store.MessageRef{MessageID: m.messageID, OriginalID: m.msg.MessageID, TicketID: t.ID, Direction: "in"}); err != nil {
		return delivery.Outcome{}, err
	}
	rec.TicketID, rec.CommentID = &t.ID, &c.ID
	reason := "threaded by " + via
	if m.joined != nil {
		reason = m.joined.Threaded() + " (by " + via + ")"
	}
	return delivery.Outcome{Action: store.MailComment, TicketNum: t.Number, Reason: reason}, nil
}

func (in *Intake) newTicket(ctx context.Context, tx *ticketing.Tx, m *inbound, rec *store.MailMessage, sender *store.User, linked *int64) (delivery.Outcome, error) {
	subject := strings.TrimSpace(m.msg.Subject)
	if subject == "" {
		subject = "(no subject)"
	}
	in2 := ticketing.CreateInput{
		Requester: sender, Subject: subject, Body: m.msg.Text, BodyHTML: m.msg.HTML, Source: store.SourceEmail,
		MessageID: m.msg.MessageID, LinkedTicket: linked, Automated: m.kind.Automated(),
	}
	if m.related != nil && linked == nil {
		in2.RelatedTo = &m.related.t.ID
	}
	if sender.CompanyID == nil {
		// Staff need not belong to a company; what they open by mail goes
		// to the default one.
		c, err := tx.MailIn().CompanyByName(ctx, in.cfg.DefaultCompany)
		if err != nil {
			return delivery.Outcome{}, err
		}
		in2.CompanyID = c.ID
	}
	t, err := tx.Create(ctx, sender, in2)
	if err != nil {
		return delivery.Outcome{}, err
	}
	if len(m.msg.Attachments) > 0 {
		// Inline images now point at stored attachments; save the bodies.
		if err := in.attach(ctx, tx, m, t, nil, sender, &t.DescriptionHTML, &t.Description); err != nil {
			return delivery.Outcome{}, err
		}
		if err := tx.MailIn().UpdateTicket(ctx, t); err != nil {
			return delivery.Outcome{}, err
		}
	}
	if err := in.addParticipants(ctx, tx, m, t); err != nil {
		return delivery.Outcome{}, err
	}
	if err := in.recordThread(ctx, tx, m, t, false); err != nil {
		return delivery.Outcome{}, err
	}
	if err := tx.MailIn().AddMessageID(ctx, store.MessageRef{MessageID: m.messageID, OriginalID: m.msg.MessageID, TicketID: t.ID, Direction: "in"}); err != nil {
		return delivery.Outcome{}, err
	}
	rec.TicketID = &t.ID
	reason := "new ticket"
	switch {
	case linked != nil:
		reason = "new ticket: reply to a ticket closed too long ago"
	case in2.RelatedTo != nil:
		reason = m.related.d.Linked(m.related.t.Number) + " (by " + m.related.via + ")"
	}
	return delivery.Outcome{Action: store.MailTicket, TicketNum: t.Number, Reason: reason}, nil
}

// attach stores the message's attachments on the ticket and points inline
// images at them; an attachment over the size limit is named in the text
// (the raw message still has it).
func (in *Intake) attach(ctx context.Context, tx *ticketing.Tx, m *inbound, t *store.Ticket, commentID *int64, sender *store.User, html, text *string) error {
	urls := map[string]string{}
	var omitted []string
	for _, a := range m.msg.Attachments {
		if a.Omitted {
			omitted = append(omitted, fmt.Sprintf("%s (%d bytes)", a.Filename, a.Size))
			continue
		}
		st := &store.Attachment{TicketID: t.ID, CommentID: commentID, Filename: a.Filename, ContentType: a.ContentType,
			ContentID: a.ContentID, Inline: a.Inline}
		if sender != nil && sender.ID > 0 {
			st.UploadedBy = &sender.ID
		}
		if err := tx.MailIn().AddAttachment(ctx, st, a.Data); err != nil {
			return err
		}
		if a.ContentID != "" {
			urls[a.ContentID] = in.cfg.AttachmentURL(st.ID)
		}
	}
	if len(urls) > 0 && *html != "" {
		*html = parse.RewriteCIDs(*html, urls)
	}
	if len(omitted) > 0 {
		*text += "\n\n[Not stored, over the attachment size limit (kept in the original message): " + strings.Join(omitted, ", ") + "]"
	}
	return nil
}

// addParticipants brings Cc'd and To'd colleagues of the ticket's company
// (and staff) into the ticket. Strangers are not added. A database error
// fails the message (the transaction is spoiled by it anyway).
func (in *Intake) addParticipants(ctx context.Context, tx *ticketing.Tx, m *inbound, t *store.Ticket) error {
	if m.kind.Automated() {
		return nil
	}
	for _, a := range append(append([]parse.Address{}, m.msg.To...), m.msg.Cc...) {
		email := store.NormalizeEmail(a.Email)
		if email == "" || email == m.from || in.ownAddress(email) {
			continue
		}
		u, err := tx.MailIn().UserByEmail(ctx, store.AllCompanies(), email)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("participant %s: %w", email, err)
		}
		if u.Disabled {
			continue
		}
		if err := tx.AddParticipant(ctx, ticketing.SystemActor(), t, u); errors.Is(err, ticketing.ErrNotAllowed) {
			continue // someone of another company: not brought in
		} else if err != nil {
			return fmt.Errorf("participant %s: %w", email, err)
		}
	}
	return nil
}

// complaint handles an ARF feedback report: a recipient told their
// provider our mail is unwanted, so mail to them stops the way it does for
// a bounce. It never opens a ticket; a not-spam report suppresses nothing.
func (in *Intake) complaint(ctx context.Context, tx *ticketing.Tx, m *inbound) (delivery.Outcome, error) {
	rep, ok := classify.ParseComplaint(m.raw)
	if !ok {
		return delivery.Outcome{Action: store.MailBounce, Reason: "complaint without a readable report (" + m.kind.Reason + ")"}, nil
	}
	out := delivery.Outcome{Action: store.MailBounce, Reason: fmt.Sprintf("complaint (%s) for %s", rep.FeedbackType, strings.Join(rep.Recipients, ", "))}
	switch {
	case len(rep.Recipients) == 0:
		out.Reason = fmt.Sprintf("complaint (%s) naming no recipient; no address suppressed", rep.FeedbackType)
	case !rep.Suppress():
		out.Reason += " (not-spam; no address suppressed)"
	default:
		// Only a complaint about a mail we sent counts, and only for the
		// address we sent it to: a forged report must not switch anyone's
		// mail off (the rule bounceTarget applies to bounces).
		q := tx.MailIn()
		ref, err := q.FindMessageRef(ctx, []string{thread.NormalizeID(rep.OriginalMessageID)})
		switch {
		case rep.OriginalMessageID == "" || errors.Is(err, store.ErrNotFound) || (err == nil && ref.Direction != "out"):
			out.Reason += " (not about a mail we sent; no address suppressed)"
			return out, nil
		case err != nil:
			return delivery.Outcome{}, err
		}
		marked := 0
		for _, a := range rep.Recipients {
			if ref.Recipient == "" || !strings.EqualFold(store.NormalizeEmail(a), ref.Recipient) {
				continue
			}
			if err := q.MarkBouncing(ctx, a, "complaint: "+rep.FeedbackType); err != nil {
				return delivery.Outcome{}, fmt.Errorf("suppress complainant %s: %w", a, err)
			}
			marked++
		}
		if marked == 0 {
			out.Reason += " (not the recipient of that mail; no address suppressed)"
			return out, nil
		}
		out.Reason += " (suppressed)"
	}
	return out, nil
}

// bounce records a delivery failure: it marks the failed addresses as
// bouncing and notes it on the ticket whose mail bounced.
func (in *Intake) bounce(ctx context.Context, tx *ticketing.Tx, m *inbound, rec *store.MailMessage) (delivery.Outcome, error) {
	q := tx.MailIn()
	rep, ok := classify.ParseBounce(m.raw)
	if !ok {
		return delivery.Outcome{Action: store.MailBounce, Reason: "bounce without a readable report (" + m.kind.Reason + ")"}, nil
	}
	out := delivery.Outcome{Action: store.MailBounce, Reason: fmt.Sprintf("%s for %s", rep.Action, strings.Join(rep.Recipients, ", "))}
	// Only a report about a mail we sent counts, and only for the address
	// we sent it to (bounceTarget, in auth.go).
	ref, failed, found, err := in.bounceTarget(ctx, q, m, rep)
	if err != nil {
		return delivery.Outcome{}, err
	}
	if !found {
		out.Reason += " (not about a mail we sent; no address marked)"
		return out, nil
	}
	if rep.Permanent && failed {
		if err := q.MarkBouncing(ctx, ref.Recipient, strings.TrimSpace(rep.Status+" "+rep.Diagnostic)); err != nil {
			return delivery.Outcome{}, err
		}
	}
	t, err := tx.TicketByID(ctx, ref.TicketID)
	if err != nil {
		return delivery.Outcome{}, err
	}
	note := rep.Summary() // delays and success notices say so and mark nothing
	c, err := tx.Comment(ctx, ticketing.SystemActor(), t, ticketing.CommentInput{
		Body: strings.TrimSpace(note), Internal: true, Source: store.SourceEmail, MessageID: m.msg.MessageID, MailID: &rec.ID, Automated: true})
	if err != nil {
		return delivery.Outcome{}, err
	}
	rec.TicketID, rec.CommentID = &t.ID, &c.ID
	out.TicketNum = t.Number
	return out, nil
}
