package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

type setting struct {
	bun.BaseModel `bun:"table:settings"`
	Key           string    `bun:"key,pk"`
	Value         string    `bun:"value,notnull"`
	UpdatedAt     time.Time `bun:"updated_at,notnull"`
}

// Setting returns a stored setting, or ErrNotFound.
func (q *Q) Setting(ctx context.Context, key string) (string, error) {
	var s setting
	if err := q.db.NewSelect().Model(&s).Where("key = ?", key).Scan(ctx); err != nil {
		return "", notFound(err, "setting "+key)
	}
	return s.Value, nil
}

// SettingOrInit returns the stored value of key, storing value first when
// there is none. Concurrent callers all get the one value that won.
func (q *Q) SettingOrInit(ctx context.Context, key, value string) (string, error) {
	s := &setting{Key: key, Value: value, UpdatedAt: now()}
	if _, err := q.db.NewInsert().Model(s).On("CONFLICT (key) DO NOTHING").Exec(ctx); err != nil {
		return "", fmt.Errorf("store: setting %s: %w", key, err)
	}
	return q.Setting(ctx, key)
}
