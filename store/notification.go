package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Notification tells one user about one change, in the notification
// centre (the bell). The text is rendered in the reader's language from
// Kind and the ticket; Message keeps the ticket's subject (LGPD erasure
// and export know this table as PersonNotification).
type Notification struct {
	bun.BaseModel `bun:"table:notifications,alias:nt"`

	ID           int64      `bun:"id,pk,autoincrement" json:"id"`
	UserID       int64      `bun:"user_id,notnull" json:"-"`
	TicketID     *int64     `bun:"ticket_id" json:"ticket_id,omitempty"`
	Kind         string     `bun:"kind,notnull" json:"kind"`
	TicketNumber int64      `bun:"ticket_number,notnull" json:"ticket_number,omitempty"`
	Message      string     `bun:"message,notnull" json:"subject"`
	CreatedAt    time.Time  `bun:"created_at,notnull" json:"at"`
	ReadAt       *time.Time `bun:"read_at" json:"read_at,omitempty"`
}

// AddNotification inserts n.
func (q *Q) AddNotification(ctx context.Context, n *Notification) error {
	if n.CreatedAt.IsZero() {
		n.CreatedAt = now()
	}
	if _, err := q.db.NewInsert().Model(n).Returning("id").Exec(ctx); err != nil {
		return fmt.Errorf("store: add notification: %w", err)
	}
	return nil
}

// Notifications lists a user's latest notifications, newest first.
func (q *Q) Notifications(ctx context.Context, userID int64, limit int) ([]*Notification, error) {
	var ns []*Notification
	if err := q.db.NewSelect().Model(&ns).Where("user_id = ?", userID).Order("id DESC").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: notifications: %w", err)
	}
	return ns, nil
}

// UnreadNotifications counts a user's unread notifications.
func (q *Q) UnreadNotifications(ctx context.Context, userID int64) (int, error) {
	n, err := q.db.NewSelect().Model((*Notification)(nil)).Where("user_id = ? AND read_at IS NULL", userID).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: unread notifications: %w", err)
	}
	return int(n), nil
}

// MarkNotificationRead marks one of a user's notifications read; another
// user's id is ErrNotFound.
func (q *Q) MarkNotificationRead(ctx context.Context, userID, id int64, at time.Time) error {
	res, err := q.db.NewUpdate().Model((*Notification)(nil)).Set("read_at = COALESCE(read_at, ?)", at.UTC()).
		Where("id = ? AND user_id = ?", id, userID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: mark notification read: %w", err)
	}
	n, err := rowsAffected(res)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%w: notification %d", ErrNotFound, id)
	}
	return nil
}

// MarkAllNotificationsRead marks every unread notification of a user read
// and returns how many.
func (q *Q) MarkAllNotificationsRead(ctx context.Context, userID int64, at time.Time) (int64, error) {
	res, err := q.db.NewUpdate().Model((*Notification)(nil)).Set("read_at = ?", at.UTC()).
		Where("user_id = ? AND read_at IS NULL", userID).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: mark notifications read: %w", err)
	}
	return rowsAffected(res)
}
