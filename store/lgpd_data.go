package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// The queries behind a data-subject export: everything held about one
// person. The caller (ticketing) decides what of it the person may see.

// TicketsOfPerson lists the tickets a person opened, was brought into, or
// wrote a public comment on, oldest first.
func (q *Q) TicketsOfPerson(ctx context.Context, userID int64) ([]*Ticket, error) {
	var ts []*Ticket
	err := q.db.NewSelect().Model(&ts).
		Where("t.requester_id = ?", userID).
		WhereOr("t.id IN (SELECT ticket_id FROM ticket_participants WHERE user_id = ?)", userID).
		WhereOr("t.id IN (SELECT ticket_id FROM ticket_comments WHERE author_id = ? AND NOT internal)", userID).
		Order("t.id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: tickets of person: %w", err)
	}
	return ts, nil
}

// CommentsByAuthor lists a person's public comments, oldest first.
func (q *Q) CommentsByAuthor(ctx context.Context, userID int64) ([]*Comment, error) {
	var cs []*Comment
	err := q.db.NewSelect().Model(&cs).Where("cm.author_id = ? AND NOT cm.internal", userID).Order("cm.id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: comments by author: %w", err)
	}
	return cs, nil
}

// ChatMessage is one line of a ticket's (or a company's) chat.
type ChatMessage struct {
	bun.BaseModel `bun:"table:chat_messages,alias:ch"`

	ID        int64     `bun:"id,pk,autoincrement" json:"id"`
	TicketID  *int64    `bun:"ticket_id" json:"ticket_id"`
	CompanyID *int64    `bun:"company_id" json:"company_id"`
	SenderID  *int64    `bun:"sender_id" json:"-"`
	Body      string    `bun:"body,notnull" json:"body"`
	CreatedAt time.Time `bun:"created_at,notnull" json:"created_at"`
}

// ChatBySender lists the chat lines a person wrote.
func (q *Q) ChatBySender(ctx context.Context, userID int64) ([]*ChatMessage, error) {
	var ms []*ChatMessage
	if err := q.db.NewSelect().Model(&ms).Where("ch.sender_id = ?", userID).Order("ch.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: chat by sender: %w", err)
	}
	return ms, nil
}

// PersonNotification is an in-app notification addressed to a person.
type PersonNotification struct {
	bun.BaseModel `bun:"table:notifications,alias:nt"`

	ID        int64      `bun:"id,pk,autoincrement" json:"id"`
	UserID    int64      `bun:"user_id,notnull" json:"-"`
	TicketID  *int64     `bun:"ticket_id" json:"ticket_id"`
	Kind      string     `bun:"kind,notnull" json:"kind"`
	Message   string     `bun:"message,notnull" json:"message"`
	ReadAt    *time.Time `bun:"read_at" json:"read_at"`
	CreatedAt time.Time  `bun:"created_at,notnull" json:"created_at"`
}

// NotificationsOf lists a person's notifications, oldest first.
func (q *Q) NotificationsOf(ctx context.Context, userID int64) ([]*PersonNotification, error) {
	var ns []*PersonNotification
	if err := q.db.NewSelect().Model(&ns).Where("nt.user_id = ?", userID).Order("nt.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: notifications: %w", err)
	}
	return ns, nil
}

// AuditOfPerson lists the audit rows about a person's account or made by
// them, oldest first.
func (q *Q) AuditOfPerson(ctx context.Context, userID int64) ([]*AuditEntry, error) {
	var es []*AuditEntry
	err := q.db.NewSelect().Model(&es).
		Where("(a.entity = 'user' AND a.entity_id = ?) OR a.actor_id = ?", userID, userID).
		Order("a.id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: audit of person: %w", err)
	}
	return es, nil
}

// MailsFrom lists the stored mails sent from an address (without their
// raw bytes; MailRaw fetches one), oldest first.
func (q *Q) MailsFrom(ctx context.Context, addr string) ([]*MailMessage, error) {
	var ms []*MailMessage
	err := q.db.NewSelect().Model(&ms).ExcludeColumn("raw_gz").
		Where("mm.from_addr = ?", NormalizeEmail(addr)).Order("mm.id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: mails from: %w", err)
	}
	return ms, nil
}

// RequestsOf lists a person's data-subject requests.
func (q *Q) RequestsOf(ctx context.Context, userID int64) ([]*LGPDRequest, error) {
	var rs []*LGPDRequest
	if err := q.db.NewSelect().Model(&rs).Where("lq.user_id = ?", userID).Order("lq.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: requests of person: %w", err)
	}
	return rs, nil
}

// DraftsOf lists a person's saved reply drafts, oldest first.
func (q *Q) DraftsOf(ctx context.Context, userID int64) ([]*Draft, error) {
	var ds []*Draft
	if err := q.db.NewSelect().Model(&ds).Where("td.user_id = ?", userID).Order("td.updated_at", "td.ticket_id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: drafts of person: %w", err)
	}
	return ds, nil
}

// PersonReaction is a reaction a person gave, with the comment's ticket.
type PersonReaction struct {
	CommentID    int64     `bun:"comment_id" json:"comment_id"`
	TicketNumber int64     `bun:"number" json:"ticket_number"`
	Emoji        string    `bun:"emoji" json:"emoji"`
	CreatedAt    time.Time `bun:"created_at" json:"created_at"`
}

// ReactionsOf lists a person's reactions on comments; with
// publicOnly, only those on public comments.
func (q *Q) ReactionsOf(ctx context.Context, userID int64, publicOnly bool) ([]*PersonReaction, error) {
	var rs []*PersonReaction
	sel := q.db.NewSelect().TableExpr("comment_reactions AS cr").
		ColumnExpr("cr.comment_id, t.number, cr.emoji, cr.created_at").
		Join("JOIN ticket_comments AS cm ON cm.id = cr.comment_id").
		Join("JOIN tickets AS t ON t.id = cm.ticket_id").
		Where("cr.user_id = ?", userID).OrderExpr("cr.created_at, cr.comment_id")
	if publicOnly {
		sel.Where("NOT cm.internal")
	}
	if err := sel.Scan(ctx, &rs); err != nil && ignoreNoRows(err) != nil {
		return nil, fmt.Errorf("store: reactions of person: %w", err)
	}
	return rs, nil
}

// CannedOf lists the canned responses a person owns.
func (q *Q) CannedOf(ctx context.Context, userID int64) ([]*Canned, error) {
	var cs []*Canned
	if err := q.db.NewSelect().Model(&cs).Where("cn.owner_id = ?", userID).Order("cn.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: canned of person: %w", err)
	}
	return cs, nil
}
