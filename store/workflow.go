package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"
)

// Kinds of ticket link.
const (
	LinkRelated  = "related"
	LinkFollowUp = "follow_up" // TicketID follows up OtherID (opened after it was closed)
	LinkMerged   = "merged"    // TicketID was merged into OtherID
)

// TicketLink ties two tickets. Related links are symmetric and stored
// once, with the smaller id first; the others point from TicketID to
// OtherID.
type TicketLink struct {
	bun.BaseModel `bun:"table:ticket_links,alias:tl"`

	TicketID  int64     `bun:"ticket_id,pk" json:"ticket_id"`
	OtherID   int64     `bun:"other_id,pk" json:"other_id"`
	Kind      string    `bun:"kind,pk" json:"kind"`
	CreatedAt time.Time `bun:"created_at,notnull" json:"created_at"`
	CreatedBy *int64    `bun:"created_by" json:"created_by"`
}

func normLink(l *TicketLink) {
	if l.Kind == LinkRelated && l.OtherID < l.TicketID {
		l.TicketID, l.OtherID = l.OtherID, l.TicketID
	}
}

// AddTicketLink inserts l; the same link twice is ErrConflict.
func (q *Q) AddTicketLink(ctx context.Context, l *TicketLink) error {
	normLink(l)
	if l.CreatedAt.IsZero() {
		l.CreatedAt = now()
	}
	if _, err := q.db.NewInsert().Model(l).Exec(ctx); err != nil {
		return conflict(err, fmt.Sprintf("%s link of tickets %d and %d", l.Kind, l.TicketID, l.OtherID))
	}
	return nil
}

// RemoveTicketLink deletes the link of kind between a and b (either
// direction); ErrNotFound when there is none.
func (q *Q) RemoveTicketLink(ctx context.Context, a, b int64, kind string) error {
	res, err := q.db.NewDelete().Model((*TicketLink)(nil)).
		Where("kind = ?", kind).
		Where("((ticket_id = ? AND other_id = ?) OR (ticket_id = ? AND other_id = ?))", a, b, b, a).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: remove ticket link: %w", err)
	}
	if n, err := rowsAffected(res); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("%w: %s link of tickets %d and %d", ErrNotFound, kind, a, b)
	}
	return nil
}

// TicketLinks lists the links that touch ticket id, oldest first.
func (q *Q) TicketLinks(ctx context.Context, id int64) ([]*TicketLink, error) {
	var ls []*TicketLink
	err := q.db.NewSelect().Model(&ls).Where("tl.ticket_id = ? OR tl.other_id = ?", id, id).
		Order("tl.created_at", "tl.ticket_id", "tl.other_id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: ticket links: %w", err)
	}
	return ls, nil
}

// MergedInto returns the id of the ticket id was merged into, or 0.
func (q *Q) MergedInto(ctx context.Context, id int64) (int64, error) {
	var other int64
	err := q.db.NewSelect().Model((*TicketLink)(nil)).Column("other_id").
		Where("ticket_id = ? AND kind = ?", id, LinkMerged).Limit(1).Scan(ctx, &other)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: merged into: %w", err)
	}
	return other, nil
}

// MoveTicketContent moves every comment and attachment of ticket from to
// ticket into, and points from's mail Message-IDs at into (a merge).
func (q *Q) MoveTicketContent(ctx context.Context, from, into int64) (comments, attachments int64, err error) {
	res, err := q.db.NewUpdate().Table("ticket_comments").Set("ticket_id = ?", into).Where("ticket_id = ?", from).Exec(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("store: move comments: %w", err)
	}
	if comments, err = rowsAffected(res); err != nil {
		return 0, 0, err
	}
	res, err = q.db.NewUpdate().Table("attachments").Set("ticket_id = ?", into).Where("ticket_id = ?", from).Exec(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("store: move attachments: %w", err)
	}
	if attachments, err = rowsAffected(res); err != nil {
		return 0, 0, err
	}
	for _, table := range []string{"mail_message_ids", "mail_messages"} {
		if _, err := q.db.NewUpdate().Table(table).Set("ticket_id = ?", into).Where("ticket_id = ?", from).Exec(ctx); err != nil {
			return 0, 0, fmt.Errorf("store: move %s: %w", table, err)
		}
	}
	return comments, attachments, nil
}

// MoveComment moves one comment, with its attachments, to another ticket.
func (q *Q) MoveComment(ctx context.Context, commentID, to int64) error {
	res, err := q.db.NewUpdate().Table("ticket_comments").Set("ticket_id = ?", to).Where("id = ?", commentID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: move comment %d: %w", commentID, err)
	}
	if n, err := rowsAffected(res); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("%w: comment %d", ErrNotFound, commentID)
	}
	for _, table := range []string{"attachments", "mail_messages"} {
		if _, err := q.db.NewUpdate().Table(table).Set("ticket_id = ?", to).Where("comment_id = ?", commentID).Exec(ctx); err != nil {
			return fmt.Errorf("store: move comment %d's %s: %w", commentID, table, err)
		}
	}
	return nil
}

// CommentByID loads one comment (any ticket); the caller checks access
// through its ticket.
func (q *Q) CommentByID(ctx context.Context, id int64) (*Comment, error) {
	c := new(Comment)
	err := q.db.NewSelect().Model(c).
		Relation("Author", func(s *bun.SelectQuery) *bun.SelectQuery { return s.Column("id", "email", "name", "role") }).
		Where("cm.id = ?", id).Scan(ctx)
	if err != nil {
		return nil, notFound(err, "comment "+strconv.FormatInt(id, 10))
	}
	return c, nil
}

// PublicCommentsAfter lists the public comments of a ticket newer than
// comment id after (0: all), oldest first: what a reply form written
// against after has not seen.
func (q *Q) PublicCommentsAfter(ctx context.Context, ticketID, after int64) ([]*Comment, error) {
	var cs []*Comment
	err := q.db.NewSelect().Model(&cs).
		Relation("Author", func(s *bun.SelectQuery) *bun.SelectQuery { return s.Column("id", "email", "name", "role") }).
		Where("cm.ticket_id = ? AND cm.internal = ? AND cm.id > ?", ticketID, false, after).
		Order("cm.id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: comments after %d: %w", after, err)
	}
	return cs, nil
}

// LastPublicCommentID is the id of the newest public comment of a ticket
// (0 when there is none): the conversation version a reply form carries.
func (q *Q) LastPublicCommentID(ctx context.Context, ticketID int64) (int64, error) {
	var id int64
	err := q.db.NewSelect().Table("ticket_comments").ColumnExpr("COALESCE(MAX(id), 0)").
		Where("ticket_id = ? AND internal = ?", ticketID, false).Scan(ctx, &id)
	if err != nil {
		return 0, fmt.Errorf("store: last public comment: %w", err)
	}
	return id, nil
}

// Draft is a reply being written, kept per user and ticket.
type Draft struct {
	bun.BaseModel `bun:"table:ticket_drafts,alias:td"`

	UserID    int64     `bun:"user_id,pk" json:"user_id"`
	TicketID  int64     `bun:"ticket_id,pk" json:"ticket_id"`
	Body      string    `bun:"body,notnull" json:"body"`
	Internal  bool      `bun:"internal,notnull" json:"internal"`
	UpdatedAt time.Time `bun:"updated_at,notnull" json:"updated_at"`
}

// SaveDraft inserts or replaces d.
func (q *Q) SaveDraft(ctx context.Context, d *Draft) error {
	_, err := q.db.NewInsert().Model(d).
		On("CONFLICT (user_id, ticket_id) DO UPDATE").
		Set("body = EXCLUDED.body, internal = EXCLUDED.internal, updated_at = EXCLUDED.updated_at").Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: save draft: %w", err)
	}
	return nil
}

// Draft returns the user's draft on a ticket; ErrNotFound when none.
func (q *Q) Draft(ctx context.Context, userID, ticketID int64) (*Draft, error) {
	d := new(Draft)
	if err := q.db.NewSelect().Model(d).Where("user_id = ? AND ticket_id = ?", userID, ticketID).Scan(ctx); err != nil {
		return nil, notFound(err, "draft")
	}
	return d, nil
}

// DeleteDraft removes the user's draft on a ticket (none is not an error).
func (q *Q) DeleteDraft(ctx context.Context, userID, ticketID int64) error {
	if _, err := q.db.NewDelete().Model((*Draft)(nil)).Where("user_id = ? AND ticket_id = ?", userID, ticketID).Exec(ctx); err != nil {
		return fmt.Errorf("store: delete draft: %w", err)
	}
	return nil
}

// Reaction is one user's emoji on a comment.
type Reaction struct {
	bun.BaseModel `bun:"table:comment_reactions,alias:cr"`

	CommentID int64     `bun:"comment_id,pk"`
	UserID    int64     `bun:"user_id,pk"`
	Emoji     string    `bun:"emoji,pk"`
	CreatedAt time.Time `bun:"created_at,notnull"`
}

// ToggleReaction adds the reaction, or removes it when it is there; it
// reports whether it is there now.
func (q *Q) ToggleReaction(ctx context.Context, r *Reaction) (on bool, err error) {
	res, err := q.db.NewDelete().Model((*Reaction)(nil)).
		Where("comment_id = ? AND user_id = ? AND emoji = ?", r.CommentID, r.UserID, r.Emoji).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("store: reaction: %w", err)
	}
	if n, err := rowsAffected(res); err != nil || n > 0 {
		return false, err
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = now()
	}
	if _, err := q.db.NewInsert().Model(r).Exec(ctx); err != nil {
		return false, fmt.Errorf("store: reaction: %w", err)
	}
	return true, nil
}

// ReactionCount is how many users reacted to a comment with one emoji.
type ReactionCount struct {
	CommentID int64  `bun:"comment_id" json:"comment_id"`
	Emoji     string `bun:"emoji" json:"emoji"`
	Count     int    `bun:"n" json:"count"`
}

// ReactionCounts sums the reactions of the given comments, by comment
// and emoji.
func (q *Q) ReactionCounts(ctx context.Context, commentIDs []int64) ([]ReactionCount, error) {
	var out []ReactionCount
	if len(commentIDs) == 0 {
		return out, nil
	}
	err := q.db.NewSelect().Table("comment_reactions").ColumnExpr("comment_id, emoji, count(*) AS n").
		Where("comment_id IN (?)", bun.In(commentIDs)).Group("comment_id", "emoji").
		Order("comment_id", "emoji").Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("store: reaction counts: %w", err)
	}
	return out, nil
}

// Canned is a named reply text. OwnerID nil: shared with all staff;
// CompanyID nil: for tickets of any company.
type Canned struct {
	bun.BaseModel `bun:"table:canned_responses,alias:cn"`

	ID        int64     `bun:"id,pk,autoincrement" json:"id"`
	Name      string    `bun:"name,notnull" json:"name"`
	Body      string    `bun:"body,notnull" json:"body"`
	OwnerID   *int64    `bun:"owner_id" json:"owner_id"`
	CompanyID *int64    `bun:"company_id" json:"company_id"`
	CreatedAt time.Time `bun:"created_at,notnull" json:"created_at"`
	UpdatedAt time.Time `bun:"updated_at,notnull" json:"updated_at"`
}

// CreateCanned inserts c.
func (q *Q) CreateCanned(ctx context.Context, c *Canned) error {
	c.CreatedAt = now()
	c.UpdatedAt = c.CreatedAt
	if _, err := q.db.NewInsert().Model(c).Returning("id").Exec(ctx); err != nil {
		return fmt.Errorf("store: create canned response: %w", err)
	}
	return nil
}

// CannedByID loads one canned response.
func (q *Q) CannedByID(ctx context.Context, id int64) (*Canned, error) {
	c := new(Canned)
	if err := q.db.NewSelect().Model(c).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "canned response "+strconv.FormatInt(id, 10))
	}
	return c, nil
}

// CannedFor lists the canned responses userID may use: theirs and the
// shared ones, limited to companyID's and the global ones when companyID
// is set; by name.
func (q *Q) CannedFor(ctx context.Context, userID, companyID int64) ([]*Canned, error) {
	var cs []*Canned
	sel := q.db.NewSelect().Model(&cs).Where("(cn.owner_id IS NULL OR cn.owner_id = ?)", userID)
	if companyID > 0 {
		sel = sel.Where("(cn.company_id IS NULL OR cn.company_id = ?)", companyID)
	}
	if err := sel.Order("cn.name", "cn.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: canned responses: %w", err)
	}
	return cs, nil
}

// DeleteCanned removes a canned response.
func (q *Q) DeleteCanned(ctx context.Context, id int64) error {
	res, err := q.db.NewDelete().Model((*Canned)(nil)).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: delete canned response: %w", err)
	}
	if n, err := rowsAffected(res); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("%w: canned response %d", ErrNotFound, id)
	}
	return nil
}
