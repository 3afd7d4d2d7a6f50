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

// LockAsset is Asset with the row locked until the transaction ends on
// PostgreSQL: a ticket being pointed at it meanwhile (its foreign key
// check shares the row) waits, so a delete detaches every ticket it
// audits. SQLite has one writer at a time anyway.
func (q *Q) LockAsset(ctx context.Context, id int64) (*Asset, error) {
	a := new(Asset)
	sel := q.db.NewSelect().Model(a).Where("ast.id = ?", id)
	if q.pg {
		sel = sel.For("UPDATE")
	}
	if err := sel.Scan(ctx); err != nil {
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

// UpdateAsset writes a's editable columns (not its company: tickets of
// that company are about it).
func (q *Q) UpdateAsset(ctx context.Context, a *Asset) error {
	res, err := q.db.NewUpdate().Model(a).Column("name", "tag", "kind", "serial", "notes").WherePK().Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: update asset: %w", err)
	}
	if n, err := rowsAffected(res); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("store: asset %d: %w", a.ID, ErrNotFound)
	}
	return nil
}

// AssetTicket is a ticket about an asset, as its deletion detaches it.
type AssetTicket struct {
	ID        int64 `bun:"id"`
	Number    int64 `bun:"number"`
	CompanyID int64 `bun:"company_id"`
}

// TicketsOfAsset lists the tickets about asset id, by number.
func (q *Q) TicketsOfAsset(ctx context.Context, id int64) ([]AssetTicket, error) {
	var ts []AssetTicket
	err := q.db.NewSelect().Table("tickets").Column("id", "number", "company_id").
		Where("asset_id = ?", id).OrderExpr("number").Scan(ctx, &ts)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: tickets of asset: %w", err)
	}
	return ts, nil
}

// CountTicketsOfAssets counts, per asset id, the tickets about it.
func (q *Q) CountTicketsOfAssets(ctx context.Context) (map[int64]int, error) {
	var rows []struct {
		AssetID int64 `bun:"asset_id"`
		N       int   `bun:"n"`
	}
	err := q.db.NewSelect().Table("tickets").ColumnExpr("asset_id, count(*) AS n").
		Where("asset_id IS NOT NULL").Group("asset_id").Scan(ctx, &rows)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: count tickets of assets: %w", err)
	}
	out := make(map[int64]int, len(rows))
	for _, r := range rows {
		out[r.AssetID] = r.N
	}
	return out, nil
}

// DeleteAsset detaches asset id from its tickets and deletes it; the
// caller audits both (the foreign key would detach them silently).
func (q *Q) DeleteAsset(ctx context.Context, id int64) error {
	if _, err := q.db.NewUpdate().Table("tickets").Set("asset_id = NULL").Where("asset_id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("store: detach asset: %w", err)
	}
	res, err := q.db.NewDelete().Model((*Asset)(nil)).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: delete asset: %w", err)
	}
	if n, err := rowsAffected(res); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("store: asset %d: %w", id, ErrNotFound)
	}
	return nil
}
