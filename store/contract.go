package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"
)

// Contract is a service agreement of a company; SLA plans may be scoped
// to one.
type Contract struct {
	bun.BaseModel `bun:"table:contracts,alias:ct"`

	ID            int64      `bun:"id,pk,autoincrement" json:"id"`
	CompanyID     int64      `bun:"company_id,notnull" json:"company_id"`
	Name          string     `bun:"name,notnull" json:"name"`
	StartsOn      *time.Time `bun:"starts_on" json:"starts_on"`
	EndsOn        *time.Time `bun:"ends_on" json:"ends_on"`
	HoursIncluded int        `bun:"hours_included,notnull" json:"hours_included"`
	Notes         string     `bun:"notes,notnull" json:"notes"`
	CreatedAt     time.Time  `bun:"created_at,notnull" json:"created_at"`
}

// CreateContract inserts c.
func (q *Q) CreateContract(ctx context.Context, c *Contract) error {
	c.CreatedAt = now()
	if _, err := q.db.NewInsert().Model(c).Exec(ctx); err != nil {
		return fmt.Errorf("store: create contract: %w", err)
	}
	return nil
}

// ContractByRef finds a contract of companyID by id or name (any company
// when companyID is 0).
func (q *Q) ContractByRef(ctx context.Context, companyID int64, ref string) (*Contract, error) {
	c := new(Contract)
	sel := q.db.NewSelect().Model(c)
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		sel.Where("ct.id = ?", id)
	} else {
		sel.Where("lower(ct.name) = lower(?)", ref)
	}
	if companyID > 0 {
		sel.Where("ct.company_id = ?", companyID)
	}
	if err := sel.OrderExpr("ct.id").Limit(1).Scan(ctx); err != nil {
		return nil, notFound(err, "contract "+strconv.Quote(ref))
	}
	return c, nil
}

// Contracts lists the contracts of companyID (every company when 0), by
// company and name.
func (q *Q) Contracts(ctx context.Context, companyID int64) ([]*Contract, error) {
	var cs []*Contract
	sel := q.db.NewSelect().Model(&cs).OrderExpr("ct.company_id, lower(ct.name)")
	if companyID > 0 {
		sel.Where("ct.company_id = ?", companyID)
	}
	if err := sel.Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: contracts: %w", err)
	}
	return cs, nil
}
