package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"time"

	"github.com/uptrace/bun/migrate"
)

//go:embed migrations
var migrationFiles embed.FS

func (s *Store) migrator() (*migrate.Migrator, error) {
	ms, err := s.migrations()
	if err != nil {
		return nil, err
	}
	return migrate.NewMigrator(s.write, ms,
		migrate.WithTableName("schema_migrations"),
		migrate.WithLocksTableName("schema_migration_locks"),
		migrate.WithMarkAppliedOnSuccess(true)), nil
}

// Migrate applies every pending migration and returns their names. On
// PostgreSQL it holds an advisory lock, so processes starting together
// apply each migration once: the others wait for it (until ctx ends) and
// then find nothing left to do.
func (s *Store) Migrate(ctx context.Context) ([]string, error) {
	m, err := s.migrator()
	if err != nil {
		return nil, err
	}
	if s.driver == Postgres {
		release, err := s.migrationLock(ctx)
		if err != nil {
			return nil, err
		}
		defer release()
	}
	if err := m.Init(ctx); err != nil {
		return nil, fmt.Errorf("store: migrate init: %w", err)
	}
	group, err := m.Migrate(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: migrate: %w", err)
	}
	s.hot.migrated()
	// Rows that were put in while the index had no trigger for them
	// (none, normally) are indexed now.
	if err := s.IndexSearch(ctx); err != nil {
		return nil, fmt.Errorf("store: migrate: search index: %w", err)
	}
	var names []string
	for _, mig := range group.Migrations {
		names = append(names, mig.Name+"_"+mig.Comment)
	}
	return names, nil
}

// MigrationState is one migration and whether it is applied.
type MigrationState struct {
	Name    string `json:"name"`
	Applied bool   `json:"applied"`
}

// MigrationStatus lists every known migration, oldest first.
func (s *Store) MigrationStatus(ctx context.Context) ([]MigrationState, error) {
	m, err := s.migrator()
	if err != nil {
		return nil, err
	}
	// Looking changes nothing: without the migrations table every one is
	// pending.
	exists, err := s.migrationsTable(ctx)
	if err != nil {
		return nil, err
	}
	var ms migrate.MigrationSlice
	if exists {
		ms, err = m.MigrationsWithStatus(ctx)
	} else {
		ms, err = s.embeddedMigrations()
	}
	if err != nil {
		return nil, fmt.Errorf("store: migration status: %w", err)
	}
	out := make([]MigrationState, 0, len(ms))
	for _, mig := range ms {
		out = append(out, MigrationState{Name: mig.Name + "_" + mig.Comment, Applied: mig.IsApplied()})
	}
	return out, nil
}

// CheckMigrated reports, without creating or changing anything, whether
// every embedded migration is applied: ErrNotMigrated when the migrations
// table is missing or some are pending.
func (s *Store) CheckMigrated(ctx context.Context) error {
	exists, err := s.migrationsTable(ctx)
	if err != nil {
		return err
	}
	if !exists {
		return fmt.Errorf("%w: no migrations table", ErrNotMigrated)
	}
	m, err := s.migrator()
	if err != nil {
		return err
	}
	ms, err := m.MigrationsWithStatus(ctx)
	if err != nil {
		return fmt.Errorf("store: check migrations: %w", err)
	}
	if pending := ms.Unapplied(); len(pending) > 0 {
		return fmt.Errorf("%w: %d pending", ErrNotMigrated, len(pending))
	}
	return nil
}

// migrationsTable reports whether the migrations table exists.
func (s *Store) migrationsTable(ctx context.Context) (bool, error) {
	var exists bool
	var err error
	if s.driver == Postgres {
		err = s.read.QueryRowContext(ctx,
			"SELECT EXISTS (SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'schema_migrations')").Scan(&exists)
	} else {
		var n int
		err = s.read.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").Scan(&n)
		exists = n > 0
	}
	if err != nil {
		return false, fmt.Errorf("store: check migrations: %w", err)
	}
	return exists, nil
}

// embeddedMigrations lists the migrations this binary knows, none applied.
func (s *Store) embeddedMigrations() (migrate.MigrationSlice, error) {
	ms, err := s.migrations()
	if err != nil {
		return nil, err
	}
	return ms.Sorted(), nil
}

// migrations are the embedded migrations of s's dialect.
func (s *Store) migrations() (*migrate.Migrations, error) {
	dir := "migrations/sqlite"
	if s.driver == Postgres {
		dir = "migrations/postgres"
	}
	sub, err := fs.Sub(migrationFiles, dir)
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	ms := migrate.NewMigrations()
	if err := ms.Discover(sub); err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	return ms, nil
}

// migrationLockKey names the advisory lock of one schema's migrations:
// two schemas on one database (tests, two installations) migrate
// independently.
func migrationLockKey(schema string) int64 { return lockID("servicedesk:migrate:" + schema) }

// migrationLock takes the migration lock of the connection's schema (the
// first of search_path that exists), retrying until it is free or ctx
// ends: a process started beside another that is migrating waits for it
// instead of failing, and so does one started while PostgreSQL is still
// coming up. The lock lives on one dedicated connection until release.
func (s *Store) migrationLock(ctx context.Context) (release func(), err error) {
	wait := 20 * time.Millisecond
	for {
		release, got, err := s.tryMigrationLock(ctx)
		switch {
		case got:
			return release, nil
		case err != nil && !IsUnavailable(err):
			return nil, err
		}
		t := time.NewTimer(wait + rand.N(wait))
		select {
		case <-ctx.Done():
			t.Stop()
			if err != nil {
				return nil, fmt.Errorf("store: migrate: waiting for the database: %w (last: %w)", ctx.Err(), err)
			}
			return nil, fmt.Errorf("store: migrate: waiting for another process's migration: %w", ctx.Err())
		case <-t.C:
		}
		wait = min(2*wait, time.Second)
	}
}

func (s *Store) tryMigrationLock(ctx context.Context) (release func(), got bool, err error) {
	conn, err := s.write.Conn(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("store: migrate lock: %w", err)
	}
	var schema string
	if err := conn.QueryRowContext(ctx, "SELECT COALESCE(current_schema(), '')").Scan(&schema); err != nil {
		conn.Close()
		return nil, false, fmt.Errorf("store: migrate lock: %w", err)
	}
	key := migrationLockKey(schema)
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock(?)", key).Scan(&got); err != nil {
		conn.Close()
		return nil, false, fmt.Errorf("store: migrate lock: %w", err)
	}
	if !got {
		conn.Close()
		return nil, false, nil
	}
	return func() { unlockAdvisory(conn, key, "migrate") }, true, nil
}
