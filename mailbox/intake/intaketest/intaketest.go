// Package intaketest gives tests of the mail channels a real store that
// fails on cue: a database trigger refuses to store a message whose subject
// carries a marker, the way a constraint refuses real input, so a poison
// message can be sent through SMTP, IMAP and the pipe on either database.
package intaketest

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/uptrace/bun/driver/pgdriver"
	"github.com/uptrace/bun/driver/sqliteshim"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
)

// Subject markers the trigger acts on.
const (
	// PoisonMarker in a subject makes storing the message fail with a
	// constraint error, every time: a permanent, message-specific failure.
	PoisonMarker = "POISON-PILL"
	// UnavailableMarker in a subject makes PostgreSQL answer 57P03 ("the
	// database system is starting up"), as during a restart (PostgreSQL
	// only: SQLite has no way to raise its busy error from SQL).
	UnavailableMarker = "DB-RESTARTING"
)

// Opened is a migrated store with the poison trigger, and what reaches it.
type Opened struct {
	Store *store.Store
	// SQLitePath is the database file (SQLite), for a process of its own.
	SQLitePath string
	// PostgresURL and Schema (PostgreSQL) name the same database.
	PostgresURL, Schema string
}

// Open opens a migrated store of driver whose mail_messages refuse poison.
func Open(t testing.TB, driver string) *Opened {
	t.Helper()
	ctx := context.Background()
	o := &Opened{}
	var opts store.Options
	var raw *sql.DB
	switch driver {
	case store.SQLite:
		o.SQLitePath = filepath.Join(t.TempDir(), "test.db")
		opts = store.Options{Driver: store.SQLite, DSN: o.SQLitePath}
	case store.Postgres:
		o.PostgresURL = os.Getenv(storetest.PostgresEnv)
		if o.PostgresURL == "" {
			storetest.SkipOrFail(t, "PostgreSQL tests need "+storetest.PostgresEnv)
		}
		o.Schema = storetest.NewSchema(t, o.PostgresURL)
		opts = store.Options{Driver: store.Postgres, DSN: o.PostgresURL, Schema: o.Schema}
	default:
		t.Fatalf("intaketest: unknown driver %q", driver)
	}
	st, err := store.Open(ctx, opts)
	if err != nil {
		t.Fatalf("intaketest: open %s: %v", driver, err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatalf("intaketest: migrate: %v", err)
	}
	o.Store = st
	var stmts []string
	if driver == store.SQLite {
		if raw, err = sql.Open(sqliteshim.ShimName, "file:"+o.SQLitePath+"?_pragma=busy_timeout(10000)"); err != nil {
			t.Fatal(err)
		}
		stmts = []string{`CREATE TRIGGER poison BEFORE INSERT ON mail_messages WHEN NEW.subject LIKE '%` + PoisonMarker + `%'
BEGIN SELECT RAISE(ABORT, 'poison: refused by the test trigger'); END`}
	} else {
		raw = sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(o.PostgresURL),
			pgdriver.WithConnParams(map[string]any{"search_path": o.Schema})))
		stmts = []string{`CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.subject LIKE '%` + PoisonMarker + `%' THEN
		RAISE EXCEPTION 'poison: refused by the test trigger' USING ERRCODE = '23514';
	END IF;
	IF NEW.subject LIKE '%` + UnavailableMarker + `%' THEN
		RAISE EXCEPTION 'the database system is starting up' USING ERRCODE = '57P03';
	END IF;
	RETURN NEW;
END $$`, `CREATE TRIGGER poison BEFORE INSERT ON mail_messages FOR EACH ROW EXECUTE FUNCTION poison()`}
	}
	defer raw.Close()
	for _, s := range stmts {
		if _, err := raw.ExecContext(ctx, s); err != nil {
			t.Fatalf("intaketest: trigger: %v", err)
		}
	}
	return o
}

// Each runs fn on a poison-refusing store of each driver.
func Each(t *testing.T, fn func(t *testing.T, o *Opened)) {
	for _, d := range []string{store.SQLite, store.Postgres} {
		t.Run(d, func(t *testing.T) { fn(t, Open(t, d)) })
	}
}
