package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Comment is one entry in a ticket's conversation.
type Comment struct {
	bun.BaseModel `bun:"table:ticket_comments,alias:cm"`

	ID        int64     `bun:"id,pk,autoincrement" json:"id"`
	TicketID  int64     `bun:"ticket_id,notnull" json:"-"`
	AuthorID  *int64    `bun:"author_id" json:"author_id"`
	BodyText  string    `bun:"body_text,notnull" json:"body"`
	BodyHTML  string    `bun:"body_html,notnull" json:"body_html,omitempty"`
	Internal  bool      `bun:"internal,notnull" json:"internal"`
	Source    string    `bun:"source,notnull" json:"source"`
	MessageID string    `bun:"message_id,notnull" json:"message_id,omitempty"`
	MailID    *int64    `bun:"mail_id" json:"-"`
	CreatedAt time.Time `bun:"created_at,notnull" json:"created_at"`

	Author *User `bun:"rel:belongs-to,join:author_id=id" json:"-"`
}

// CreateComment inserts c.
func (q *Q) CreateComment(ctx context.Context, c *Comment) error {
	if c.CreatedAt.IsZero() {
		c.CreatedAt = now()
	}
	if err := q.hotInsert(ctx, c, &c.ID); err != nil {
		return fmt.Errorf("store: create comment: %w", err)
	}
	q.searchNew()
	return nil
}

// Comments lists a ticket's comments, oldest first. Internal comments are
// left out unless withInternal. The caller has already checked that it may
// see the ticket.
func (q *Q) Comments(ctx context.Context, ticketID int64, withInternal bool) ([]*Comment, error) {
	var cs []*Comment
	sel := q.db.NewSelect().Model(&cs).
		Relation("Author", func(s *bun.SelectQuery) *bun.SelectQuery { return s.Column("id", "email", "name", "role") }).
		Where("cm.ticket_id = ?", ticketID)
	if !withInternal {
		sel = sel.Where("cm.internal = ?", false)
	}
	if err := sel.Order("cm.created_at", "cm.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: comments: %w", err)
	}
	return cs, nil
}

// UpdateCommentBodies saves a comment's text and HTML (after inline images
// were pointed at stored attachments).
func (q *Q) UpdateCommentBodies(ctx context.Context, c *Comment) error {
	if _, err := q.db.NewUpdate().Model(c).Column("body_text", "body_html").WherePK().Exec(ctx); err != nil {
		return fmt.Errorf("store: update comment %d: %w", c.ID, err)
	}
	return nil
}
