package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// AuditEntry records who changed what, through which channel, when, and
// the before/after values.
type AuditEntry struct {
	bun.BaseModel `bun:"table:audit_log,alias:a"`

	ID         int64     `bun:"id,pk,autoincrement" json:"id"`
	ActorID    *int64    `bun:"actor_id" json:"actor_id"`
	ActorEmail string    `bun:"actor_email,notnull" json:"actor_email"`
	Via        string    `bun:"via,notnull" json:"via"`               // cli, mail, web, cron, system
	ViaDetail  string    `bun:"via_detail,notnull" json:"via_detail"` // the OS user of the CLI, the mail source
	CompanyID  *int64    `bun:"company_id" json:"company_id"`
	Entity     string    `bun:"entity,notnull" json:"entity"`
	EntityID   int64     `bun:"entity_id,notnull" json:"entity_id"`
	Action     string    `bun:"action,notnull" json:"action"`
	Before     string    `bun:"before,notnull" json:"before"`
	After      string    `bun:"after,notnull" json:"after"`
	CreatedAt  time.Time `bun:"created_at,notnull" json:"created_at"`
}

// Origin is the channel a change came through, carried by the context so
// that every audit row written under it says so.
type Origin struct {
	Via    string
	Detail string
}

type originKey struct{}

// WithOrigin returns ctx carrying o.
func WithOrigin(ctx context.Context, o Origin) context.Context {
	return context.WithValue(ctx, originKey{}, o)
}

// OriginOf returns the origin ctx carries; "system" when none.
func OriginOf(ctx context.Context) Origin {
	if o, ok := ctx.Value(originKey{}).(Origin); ok && o.Via != "" {
		return o
	}
	return Origin{Via: "system"}
}

// SystemActorEmail names the actor of automatic changes in the audit log.
const SystemActorEmail = "system"

// Audit writes one audit row; before and after are marshalled as JSON
// (nil stays empty). Call it in the transaction of the change. A nil
// actor, or one without a row, is recorded by its address (the system
// actor by "system"), never left blank.
func (q *Q) Audit(ctx context.Context, actor *User, companyID int64, entity string, entityID int64, action string, before, after any) error {
	o := OriginOf(ctx)
	e := &AuditEntry{Entity: entity, EntityID: entityID, Action: action, CreatedAt: now(),
		ActorEmail: SystemActorEmail, Via: o.Via, ViaDetail: o.Detail}
	if actor != nil {
		if actor.ID > 0 {
			id := actor.ID
			e.ActorID = &id
		}
		if actor.Email != "" {
			e.ActorEmail = actor.Email
		}
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
	if err := q.hotInsert(ctx, e, nil); err != nil {
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

// AuditFilter narrows AuditList; zero fields match everything.
type AuditFilter struct {
	Entity string
	Actor  string // actor's address (or "system")
	Since  time.Time
	Limit  int // 0: no limit
	Offset int
}

// AuditList lists audit rows, newest first.
func (q *Q) AuditList(ctx context.Context, f AuditFilter) ([]*AuditEntry, error) {
	var es []*AuditEntry
	sel := q.db.NewSelect().Model(&es).OrderExpr("id DESC")
	if f.Entity != "" {
		sel = sel.Where("entity = ?", f.Entity)
	}
	if f.Actor != "" {
		sel = sel.Where("actor_email = ?", NormalizeEmail(f.Actor))
	}
	if !f.Since.IsZero() {
		sel = sel.Where("created_at >= ?", f.Since.UTC())
	}
	if err := page(sel, f.Limit, f.Offset).Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: audit list: %w", err)
	}
	return es, nil
}
