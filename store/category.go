package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// Category classifies tickets; a category with a parent is a subcategory.
type Category struct {
	bun.BaseModel `bun:"table:categories,alias:cat"`

	ID        int64     `bun:"id,pk,autoincrement" json:"id"`
	Name      string    `bun:"name,notnull" json:"name"`
	NameKey   string    `bun:"name_key,notnull" json:"-"`
	ParentID  *int64    `bun:"parent_id" json:"parent_id"`
	CreatedAt time.Time `bun:"created_at,notnull" json:"created_at"`
}

// CreateCategory inserts c; the same name under the same parent is ErrConflict.
func (q *Q) CreateCategory(ctx context.Context, c *Category) error {
	c.CreatedAt = now()
	c.NameKey = NameKey(c.Name)
	if _, err := q.db.NewInsert().Model(c).Returning("id").Exec(ctx); err != nil {
		return conflict(err, "category "+c.Name)
	}
	return nil
}

// Category returns one category by id.
func (q *Q) Category(ctx context.Context, id int64) (*Category, error) {
	c := new(Category)
	if err := q.db.NewSelect().Model(c).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "category "+strconv.FormatInt(id, 10))
	}
	return c, nil
}

// CategoryByRef finds a category by id or by name. A name may be
// "Parent/Child" to pick a subcategory; a bare name prefers a top-level one.
func (q *Q) CategoryByRef(ctx context.Context, ref string) (*Category, error) {
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		return q.Category(ctx, id)
	}
	if parent, child, ok := strings.Cut(ref, "/"); ok {
		p, err := q.CategoryByRef(ctx, parent)
		if err != nil {
			return nil, err
		}
		c := new(Category)
		err = q.db.NewSelect().Model(c).Where("parent_id = ? AND name_key = ?", p.ID, NameKey(child)).Scan(ctx)
		if err != nil {
			return nil, notFound(err, "category "+strconv.Quote(ref))
		}
		return c, nil
	}
	c := new(Category)
	err := q.db.NewSelect().Model(c).Where("name_key = ?", NameKey(ref)).
		OrderExpr("parent_id IS NOT NULL, id").Limit(1).Scan(ctx)
	if err != nil {
		return nil, notFound(err, "category "+strconv.Quote(ref))
	}
	return c, nil
}

// Categories lists every category, parents before their children.
func (q *Q) Categories(ctx context.Context) ([]*Category, error) {
	var cs []*Category
	if err := q.db.NewSelect().Model(&cs).OrderExpr("COALESCE(parent_id, id), parent_id IS NOT NULL, name_key").Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: categories: %w", err)
	}
	return cs, nil
}
