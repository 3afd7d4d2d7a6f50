package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"
)

// Asset is a piece of equipment or software of a company that tickets
// can be about (tickets.asset_id).
type Asset struct {
	bun.BaseModel `bun:"table:assets,alias:ast"`

	ID        int64     `bun:"id,pk,autoincrement" json:"id"`
	CompanyID int64     `bun:"company_id,notnull" json:"company_id"`
	Name      string    `bun:"name,notnull" json:"name"`
	Tag       string    `bun:"tag,notnull" json:"tag"`
	Kind      string    `bun:"kind,notnull" json:"kind"`
	Serial    string    `bun:"serial,notnull" json:"serial"`
	Notes     string    `bun:"notes,notnull" json:"notes"`
	CreatedAt time.Time `bun:"created_at,notnull" json:"created_at"`
}

// CreateAsset inserts a.
func (q *Q) CreateAsset(ctx context.Context, a *Asset) error {
	a.CreatedAt = now()
	if _, err := q.db.NewInsert().Model(a).Exec(ctx); err != nil {
		return fmt.Errorf("store: create asset: %w", err)
	}
	return nil
}

// Asset finds asset id.
func (q *Q) Asset(ctx context.Context, id int64) (*Asset, error) {
	a := new(Asset)
	if err := q.db.NewSelect().Model(a).Where("ast.id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "asset "+strconv.FormatInt(id, 10))
	}
	return a, nil
}

// AssetByRef finds an asset of companyID by id, tag or name (any company
// when companyID is 0).
func (q *Q) AssetByRef(ctx context.Context, companyID int64, ref string) (*Asset, error) {
	a := new(Asset)
	sel := q.db.NewSelect().Model(a)
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		sel.Where("ast.id = ?", id)
	} else {
		sel.WhereGroup(" AND ", func(s *bun.SelectQuery) *bun.SelectQuery {
			return s.Where("lower(ast.tag) = lower(?)", ref).WhereOr("lower(ast.name) = lower(?)", ref)
		})
	}
	if companyID > 0 {
		sel.Where("ast.company_id = ?", companyID)
	}
	if err := sel.OrderExpr("ast.id").Limit(1).Scan(ctx); err != nil {
		return nil, notFound(err, "asset "+strconv.Quote(ref))
	}
	return a, nil
}

// Assets lists the assets of companyID (every company when 0), by
// company and name.
func (q *Q) Assets(ctx context.Context, companyID int64) ([]*Asset, error) {
	var as []*Asset
	sel := q.db.NewSelect().Model(&as).OrderExpr("ast.company_id, lower(ast.name), ast.id")
	if companyID > 0 {
		sel.Where("ast.company_id = ?", companyID)
	}
	if err := sel.Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: assets: %w", err)
	}
	return as, nil
}
