package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestCorruptAllowListIsAnError: read as empty, a corrupt allowed_ips
// meant "no restriction" and opened the portal to every address.
func TestCorruptAllowListIsAnError(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Options{Driver: SQLite, DSN: filepath.Join(t.TempDir(), "t.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	c := &Company{Name: "Acme", AllowedIPs: []string{"10.0.0.0/8"}}
	err = s.InTx(ctx, func(q *Q) error {
		if err := q.CreateCompany(ctx, c); err != nil {
			return err
		}
		_, err := q.db.NewUpdate().Model((*Company)(nil)).Set("allowed_ips = ?", `["10.0.0.0/8"`).Where("id = ?", c.ID).Exec(ctx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.R().Company(ctx, c.ID)
	if err == nil || !strings.Contains(err.Error(), "allowed_ips") {
		t.Fatalf("corrupt allow-list read as %v (err %v)", got, err)
	}
	if _, err := s.R().Companies(ctx); err == nil {
		t.Fatal("company list with a corrupt allow-list: no error")
	}
}

// TestMustExistCreatesNothing: only serve and migrate create a database.
func TestMustExistCreatesNothing(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "missing")
	_, err := Open(ctx, Options{Driver: SQLite, DSN: filepath.Join(dir, "x.db"), MustExist: true})
	if err == nil || !strings.Contains(err.Error(), "no database") {
		t.Fatalf("open of a missing file: %v", err)
	}
	path := filepath.Join(t.TempDir(), "fresh.db")
	s, err := Open(ctx, Options{Driver: SQLite, DSN: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CheckMigrated(ctx); err == nil {
		t.Fatal("fresh database reported migrated")
	}
	if err := s.CheckMigrated(ctx); err == nil {
		t.Fatal("CheckMigrated migrated")
	}
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckMigrated(ctx); err != nil {
		t.Fatal(err)
	}
	// A binary newer than the schema: pending migrations.
	if _, err := s.write.ExecContext(ctx, "DELETE FROM schema_migrations WHERE id = (SELECT max(id) FROM schema_migrations)"); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckMigrated(ctx); err == nil || !strings.Contains(err.Error(), "1 pending") {
		t.Fatalf("pending migration: %v", err)
	}
}
