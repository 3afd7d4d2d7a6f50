package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/uptrace/bun/migrate"
)

//go:embed migrations
var migrationFiles embed.FS

// migrationLockKey is the PostgreSQL advisory lock that serialises
// migrations when several processes start at once.
const migrationLockKey = 0x5e7d_0001

func (s *Store) migrator() (*migrate.Migrator, error) {
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
	return migrate.NewMigrator(s.write, ms,
		migrate.WithTableName("schema_migrations"),
		migrate.WithLocksTableName("schema_migration_locks"),
		migrate.WithMarkAppliedOnSuccess(true)), nil
}

// Migrate applies every pending migration and returns their names. On
// PostgreSQL it holds an advisory lock, so two processes starting together
// apply each migration once.
func (s *Store) Migrate(ctx context.Context) ([]string, error) {
	m, err := s.migrator()
	if err != nil {
		return nil, err
	}
	if s.driver == Postgres {
		conn, err := s.write.Conn(ctx)
		if err != nil {
			return nil, fmt.Errorf("store: migrate: %w", err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(?)", migrationLockKey); err != nil {
			return nil, fmt.Errorf("store: migrate lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(?)", migrationLockKey)
	}
	if err := m.Init(ctx); err != nil {
		return nil, fmt.Errorf("store: migrate init: %w", err)
	}
	group, err := m.Migrate(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: migrate: %w", err)
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
	return ms.Sorted(), nil
}
