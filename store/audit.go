package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// AuditEntry records who changed what, when, and the before/after values.
type AuditEntry struct {
	bun.BaseModel `bun:"table:audit_log,alias:a"`

	ID         int64     `bun:"id,pk,autoincrement" json:"id"`
	ActorID    *int64    `bun:"actor_id" json:"actor_id"`
	ActorEmail string    `bun:"actor_email,notnull" json:"actor_email"`
	CompanyID  *int64    `bun:"company_id" json:"company_id"`
	Entity     string    `bun:"entity,notnull" json:"entity"`
	EntityID   int64     `bun:"entity_id,notnull" json:"entity_id"`
	Action     string    `bun:"action,notnull" json:"action"`
	Before     string    `bun:"before,notnull" json:"before"`
	After      string    `bun:"after,notnull" json:"after"`
	CreatedAt  time.Time `bun:"created_at,notnull" json:"created_at"`
}

// Audit writes one audit row; before and after are marshalled as JSON
// (nil stays empty). Call it in the transaction of the change.
func (q *Q) Audit(ctx context.Context, actor *User, companyID int64, entity string, entityID int64, action string, before, after any) error {
	e := &AuditEntry{Entity: entity, EntityID: entityID, Action: action, CreatedAt: now()}
	if actor != nil && actor.ID > 0 {
		id := actor.ID
		e.ActorID, e.ActorEmail = &id, actor.Email
	}
	if companyID > 0 {
		e.CompanyID = &companyID
	}
	var err error
	if e.Before, err = auditJSON(before); err != nil {
		return err
	}
	if e.After, err = auditJSON(after); err != nil {
		return err
	}
	if _, err := q.db.NewInsert().Model(e).Exec(ctx); err != nil {
		return fmt.Errorf("store: audit: %w", err)
	}
	return nil
}

func auditJSON(v any) (string, error) {
	if v == nil {
		return "", nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("store: audit: %w", err)
	}
	return string(b), nil
}

// AuditLog lists the audit rows of one entity, oldest first.
func (q *Q) AuditLog(ctx context.Context, entity string, entityID int64) ([]*AuditEntry, error) {
	var es []*AuditEntry
	err := q.db.NewSelect().Model(&es).Where("entity = ? AND entity_id = ?", entity, entityID).Order("id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: audit log: %w", err)
	}
	return es, nil
}
