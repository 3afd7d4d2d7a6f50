package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"
)

// Invite lets one person register with a company (the only way into a
// company that accepts any domain). The link is signed; UsedAt makes it
// single-use.
type Invite struct {
	bun.BaseModel `bun:"table:invites,alias:inv"`

	ID        int64      `bun:"id,pk,autoincrement" json:"id"`
	CompanyID int64      `bun:"company_id,notnull" json:"company_id"`
	Email     string     `bun:"email,notnull" json:"email"` // "" = anyone with the link
	CreatedBy *int64     `bun:"created_by" json:"created_by"`
	CreatedAt time.Time  `bun:"created_at,notnull" json:"created_at"`
	ExpiresAt time.Time  `bun:"expires_at,notnull" json:"expires_at"`
	UsedAt    *time.Time `bun:"used_at" json:"used_at"`
	UsedBy    *int64     `bun:"used_by" json:"used_by"`
}

// CreateInvite inserts i.
func (q *Q) CreateInvite(ctx context.Context, i *Invite) error {
	i.Email = NormalizeEmail(i.Email)
	if _, err := q.db.NewInsert().Model(i).Returning("id").Exec(ctx); err != nil {
		return fmt.Errorf("store: invite: %w", err)
	}
	return nil
}

// Invite returns an invitation by id.
func (q *Q) Invite(ctx context.Context, id int64) (*Invite, error) {
	i := new(Invite)
	if err := q.db.NewSelect().Model(i).Where("inv.id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "invite "+strconv.FormatInt(id, 10))
	}
	return i, nil
}

// UseInvite marks an unused invitation used by userID; it reports whether
// it was still unused.
func (q *Q) UseInvite(ctx context.Context, id, userID int64, at time.Time) (bool, error) {
	res, err := q.db.NewUpdate().Model((*Invite)(nil)).Set("used_at = ?", at.UTC()).Set("used_by = ?", userID).
		Where("id = ? AND used_at IS NULL", id).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("store: use invite: %w", err)
	}
	n, err := rowsAffected(res)
	return n > 0, err
}
