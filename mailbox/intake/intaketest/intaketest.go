// Package intaketest gives tests of the mail channels a real store that
// fails on cue: a database trigger refuses to store a message whose subject
// carries a marker, the way a constraint refuses real input, so a poison
// message can be sent through SMTP, IMAP and the pipe on either database.
package intaketest

import (
	"bytes"
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/uptrace/bun/driver/pgdriver"
	"github.com/uptrace/bun/driver/sqliteshim"

	"github.com/jcservicedesk/servicedesk/mailbox/intake"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
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
	if driver == store.SQLite {
		InstallPoison(t, driver, o.SQLitePath)
	} else {
		sep := "?"
		if strings.Contains(o.PostgresURL, "?") {
			sep = "&"
		}
		InstallPoison(t, driver, o.PostgresURL+sep+"search_path="+o.Schema)
	}
	return o
}

// InstallPoison adds the trigger to a migrated database: dsn is the SQLite
// file, or the PostgreSQL URL (with search_path=<schema> when not public).
func InstallPoison(t testing.TB, driver, dsn string) {
	t.Helper()
	var raw *sql.DB
	var stmts []string
	var err error
	if driver == store.SQLite {
		if raw, err = sql.Open(sqliteshim.ShimName, "file:"+dsn+"?_pragma=busy_timeout(10000)"); err != nil {
			t.Fatal(err)
		}
		stmts = []string{`CREATE TRIGGER poison BEFORE INSERT ON mail_messages WHEN NEW.subject LIKE '%` + PoisonMarker + `%'
BEGIN SELECT RAISE(ABORT, 'poison: refused by the test trigger'); END`}
	} else {
		raw = sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(dsn)))
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
		if _, err := raw.ExecContext(context.Background(), s); err != nil {
			t.Fatalf("intaketest: trigger: %v", err)
		}
	}
}

// Each runs fn on a poison-refusing store of each driver.
func Each(t *testing.T, fn func(t *testing.T, o *Opened)) {
	for _, d := range []string{store.SQLite, store.Postgres} {
		t.Run(d, func(t *testing.T) { fn(t, Open(t, d)) })
	}
}

// NewIntake returns an intake on st as serve builds it, with a Default
// company (senders from unknown domains are created there) and an Acme one
// (acme.example), its group committer running until the test ends.
func NewIntake(t testing.TB, st *store.Store, mod ...func(*intake.Config)) *intake.Intake {
	t.Helper()
	ctx := context.Background()
	err := st.InTx(ctx, func(q *store.Q) error {
		if err := q.CreateCompany(ctx, &store.Company{Name: "Default"}); err != nil {
			return err
		}
		return q.CreateCompany(ctx, &store.Company{Name: "Acme", Domains: []string{"acme.example"}})
	})
	if err != nil {
		t.Fatalf("intaketest: companies: %v", err)
	}
	cfg := intake.Config{
		Addresses: []string{"support@example.com", "support@helpdesk.example"}, UnknownSender: intake.UnknownCreate,
		DefaultCompany: "Default", ReopenDays: 14, Secret: []byte("intaketest-secret-for-reply-tokens"),
		LoopValues: []string{"helpdesk.example"}, MaxMessageBytes: 25 << 20, MaxAttachment: 10 << 20,
	}
	for _, f := range mod {
		f(&cfg)
	}
	in := intake.New(cfg, ticketing.NewService(st), slog.New(slog.NewTextHandler(io.Discard, nil)))
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- in.Run(runCtx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("intake run: %v", err)
		}
	})
	return in
}

// Counts is what became of the mail a store received.
type Counts struct {
	Mail        map[string]int // mail_messages by action
	Quarantined int            // held entries
}

// Count reads Counts from st.
func Count(t testing.TB, st *store.Store) Counts {
	t.Helper()
	ctx := context.Background()
	mail, err := st.R().CountMail(ctx)
	if err != nil {
		t.Fatal(err)
	}
	held, err := st.R().QuarantinePage(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return Counts{Mail: mail, Quarantined: len(held)}
}

//go:embed testdata/*.eml
var fixtures embed.FS

// Fixture returns one of the named messages in testdata (poison and the
// mail behind it), as written to disk, CRLF line ends included.
func Fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := fixtures.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Behind returns the n-th of a series of ordinary messages (distinct
// Message-IDs, senders at acme.example) that follow a poison message.
func Behind(t testing.TB, tag string, n int) []byte {
	t.Helper()
	raw := Fixture(t, "behind-the-poison.eml")
	raw = bytes.Replace(raw, []byte("<behind-poison@"), []byte(fmt.Sprintf("<behind-%s-%d@", tag, n)), 1)
	return bytes.Replace(raw, []byte("Subject: VPN down"), []byte(fmt.Sprintf("Subject: [%s %d] VPN down", tag, n)), 1)
}
