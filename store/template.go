package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// EmailTemplate overrides a default mail template, for every company
// (CompanyID nil) or one.
type EmailTemplate struct {
	bun.BaseModel `bun:"table:email_templates,alias:et"`

	ID        int64     `bun:"id,pk,autoincrement" json:"id"`
	CompanyID *int64    `bun:"company_id" json:"company_id"`
	Event     string    `bun:"event,notnull" json:"event"`
	Language  string    `bun:"language,notnull" json:"language"`
	Subject   string    `bun:"subject,notnull" json:"subject"`
	BodyHTML  string    `bun:"body_html,notnull" json:"html"`
	BodyText  string    `bun:"body_text,notnull" json:"text"`
	UpdatedAt time.Time `bun:"updated_at,notnull" json:"updated_at"`
}

// EmailTemplateFor returns the override for a company (falling back to
// the global one), or nil when the default applies.
func (q *Q) EmailTemplateFor(ctx context.Context, companyID int64, event, lang string) (*EmailTemplate, error) {
	var ts []*EmailTemplate
	sel := q.db.NewSelect().Model(&ts).Where("event = ? AND language = ?", event, lang)
	if companyID > 0 {
		sel = sel.Where("(company_id IS NULL OR company_id = ?)", companyID)
	} else {
		sel = sel.Where("company_id IS NULL")
	}
	if err := sel.Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: email template: %w", err)
	}
	var global *EmailTemplate
	for _, t := range ts {
		if t.CompanyID != nil {
			return t, nil
		}
		global = t
	}
	return global, nil
}

// EmailTemplatesVersion changes whenever an override is set or reset (by
// any process): a cache of overrides keyed on it is never stale.
func (q *Q) EmailTemplatesVersion(ctx context.Context) (string, error) {
	var v struct {
		N       int64      `bun:"n"`
		MaxID   *int64     `bun:"max_id"`
		Updated *time.Time `bun:"updated"`
	}
	if err := q.hotScan(ctx, &v, hotTemplatesVersion); err != nil {
		return "", fmt.Errorf("store: email templates version: %w", err)
	}
	var id int64
	var at time.Time
	if v.MaxID != nil {
		id = *v.MaxID
	}
	if v.Updated != nil {
		at = *v.Updated
	}
	return fmt.Sprintf("%d/%d/%d", v.N, id, at.UnixMicro()), nil
}

// SetEmailTemplate stores an override (replacing an earlier one).
func (q *Q) SetEmailTemplate(ctx context.Context, t *EmailTemplate) error {
	if _, err := q.ResetEmailTemplate(ctx, t.CompanyIDValue(), t.Event, t.Language); err != nil {
		return err
	}
	t.UpdatedAt = now()
	if _, err := q.db.NewInsert().Model(t).Returning("id").Exec(ctx); err != nil {
		return fmt.Errorf("store: set email template: %w", err)
	}
	return nil
}

// ResetEmailTemplate removes an override so the default applies again.
func (q *Q) ResetEmailTemplate(ctx context.Context, companyID int64, event, lang string) (bool, error) {
	del := q.db.NewDelete().Model((*EmailTemplate)(nil)).Where("event = ? AND language = ?", event, lang)
	if companyID == 0 {
		del = del.Where("company_id IS NULL")
	} else {
		del = del.Where("company_id = ?", companyID)
	}
	res, err := del.Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("store: reset email template: %w", err)
	}
	n, err := rowsAffected(res)
	if err != nil {
		return false, err
	}
	return n > 0, nil
}

// EmailTemplates lists every override.
func (q *Q) EmailTemplates(ctx context.Context) ([]*EmailTemplate, error) {
	var ts []*EmailTemplate
	if err := q.db.NewSelect().Model(&ts).OrderExpr("COALESCE(company_id, 0), event, language").Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: email templates: %w", err)
	}
	return ts, nil
}

// CompanyIDValue is the company id, 0 for the global template.
func (t *EmailTemplate) CompanyIDValue() int64 {
	if t.CompanyID == nil {
		return 0
	}
	return *t.CompanyID
}
