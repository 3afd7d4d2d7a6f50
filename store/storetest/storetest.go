// Package storetest opens real, migrated, throwaway databases for tests:
// a SQLite file in a temp folder, and a PostgreSQL schema of its own when
// SERVICEDESK_TEST_POSTGRES_URL is set.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/jcservicedesk/servicedesk/store"
)

// PostgresEnv names the variable that enables the PostgreSQL tests.
const PostgresEnv = "SERVICEDESK_TEST_POSTGRES_URL"

// Strict reports whether missing test peers must fail rather than skip.
func Strict() bool { return os.Getenv("SERVICEDESK_TEST_STRICT") == "1" }

// SkipOrFail skips the test with reason, or fails it in strict mode (CI).
func SkipOrFail(t testing.TB, reason string) {
	t.Helper()
	if Strict() {
		t.Fatal(reason + " (SERVICEDESK_TEST_STRICT=1)")
	}
	t.Skip(reason)
}

// Each runs fn once per available database, as subtests "sqlite" and
// "postgres".
func Each(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Helper()
	for _, driver := range []string{store.SQLite, store.Postgres} {
		t.Run(driver, func(t *testing.T) {
			fn(t, Open(t, driver))
		})
	}
}

// Open returns a migrated store of the given driver that is removed when
// the test ends.
func Open(t testing.TB, driver string) *store.Store {
	t.Helper()
	ctx := context.Background()
	var o store.Options
	switch driver {
	case store.SQLite:
		o = store.Options{Driver: store.SQLite, DSN: filepath.Join(t.TempDir(), "test.db")}
	case store.Postgres:
		url := os.Getenv(PostgresEnv)
		if url == "" {
			SkipOrFail(t, "PostgreSQL tests need "+PostgresEnv+" (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
		}
		schema := NewSchema(t, url)
		o = store.Options{Driver: store.Postgres, DSN: url, Schema: schema}
	default:
		t.Fatalf("storetest: unknown driver %q", driver)
	}
	s, err := store.Open(ctx, o)
	if err != nil {
		t.Fatalf("storetest: open %s: %v", driver, err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatalf("storetest: migrate %s: %v", driver, err)
	}
	return s
}

// NewSchema names a fresh PostgreSQL schema for one test and drops it
// when the test ends.
func NewSchema(t testing.TB, url string) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:]) // never fails (Go 1.24+)
	schema := "sdtest_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		db := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(url)))
		defer db.Close()
		if _, err := db.Exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE"); err != nil {
			t.Errorf("storetest: drop schema %s: %v", schema, err)
		}
	})
	return schema
}
