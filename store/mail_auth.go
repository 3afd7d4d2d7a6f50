package store

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// Sender-authentication verdicts stored on mail_messages.auth_verdict
// (mailbox/auth decides them).
const (
	MailAuthPass = "pass"
	MailAuthFail = "fail"
	MailAuthNone = "none"
)

// MailAuth is the authentication result of one ingested message.
type MailAuth struct {
	CommentID *int64 `bun:"comment_id"` // nil: the mail that opened the ticket
	Verdict   string `bun:"auth_verdict"`
	Summary   string `bun:"auth_summary"`
}

// MailAuthOfTicket returns the authentication results of the mail that
// became the ticket and its comments, by comment id (0 for the opening
// mail). Mail from before the check has no entry.
func (q *Q) MailAuthOfTicket(ctx context.Context, ticketID int64) (map[int64]MailAuth, error) {
	var rows []MailAuth
	err := q.db.NewSelect().Table("mail_messages").Column("comment_id", "auth_verdict", "auth_summary").
		Where("ticket_id = ?", ticketID).Where("auth_verdict <> ''").
		Where("(comment_id IS NOT NULL OR action = ?)", MailTicket).
		Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("store: mail auth of ticket %d: %w", ticketID, err)
	}
	out := make(map[int64]MailAuth, len(rows))
	for _, r := range rows {
		var id int64
		if r.CommentID != nil {
			id = *r.CommentID
		}
		out[id] = r
	}
	return out, nil
}

// OutboxTarget is to whom and about which ticket an outbox message was
// sent: what a bounce matched by its VERP envelope sender is about.
type OutboxTarget struct {
	ID         int64  `bun:"id"`
	TicketID   *int64 `bun:"ticket_id"`
	Recipients string `bun:"recipients"`
	MessageID  string `bun:"message_id"`
}

// OutboxTargetByID returns the target of outbox message id, without its
// bytes.
func (q *Q) OutboxTargetByID(ctx context.Context, id int64) (OutboxTarget, error) {
	var t OutboxTarget
	err := q.db.NewSelect().Table("mail_outbox").Column("id", "ticket_id", "recipients", "message_id").
		Where("id = ?", id).Scan(ctx, &t)
	if err != nil {
		return t, notFound(err, "outbox mail "+strconv.FormatInt(id, 10))
	}
	return t, nil
}

// CountAutoMail counts automatic mails of autoKind queued to anyone since
// t (the global acknowledgement rate).
func (q *Q) CountAutoMail(ctx context.Context, since time.Time, autoKind string) (int, error) {
	var n []int64
	if err := q.hotScan(ctx, &n, hotCountAutoMail, autoKind, since.UTC()); err != nil {
		return 0, fmt.Errorf("store: count automatic mail: %w", err)
	}
	if len(n) != 1 {
		return 0, fmt.Errorf("store: count automatic mail: %d rows", len(n))
	}
	return int(n[0]), nil
}
