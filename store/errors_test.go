package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/driver/pgdriver"
	"github.com/uptrace/bun/driver/sqliteshim"
	"modernc.org/sqlite"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
)

// predicates are the three error classes, checked together: each real
// error must be in exactly the classes it belongs to.
type predicates struct{ conflict, retryable, unavailable bool }

func classify(err error) predicates {
	return predicates{store.IsConflict(err), store.IsRetryable(err), store.IsUnavailable(err)}
}

// TestErrorPredicatesOnRealErrors provokes each database error for real
// and checks which predicate recognises it, and that the driver's error
// type arrives through bun and our wrapping (the predicates read codes,
// not messages).
func TestErrorPredicatesOnRealErrors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		db := s.DB()
		pg := s.Driver() == store.Postgres
		exec := func(q string, args ...any) error {
			_, err := db.ExecContext(ctx, q, args...)
			return err
		}
		if err := exec("INSERT INTO settings (key, value, updated_at) VALUES ('k', 'v', ?)", time.Now()); err != nil {
			t.Fatal(err)
		}
		tk := seedTicket(t, s)
		cases := []struct {
			name string
			err  func() error
			want predicates
		}{
			{"primary key twice", func() error {
				return exec("INSERT INTO settings (key, value, updated_at) VALUES ('k', 'v', ?)", time.Now())
			}, predicates{conflict: true}},
			{"unique index twice", func() error {
				return exec("INSERT INTO tickets (number, company_id, requester_id, priority, status, subject, source, created_at, updated_at) "+
					"VALUES (?, ?, ?, 'normal', 'new', 'dup', 'cli', ?, ?)", tk.Number, tk.CompanyID, tk.RequesterID, time.Now(), time.Now())
			}, predicates{conflict: true}},
			{"unique through store (wrapped)", func() error {
				return s.InTx(ctx, func(q *store.Q) error {
					return q.CreateUser(ctx, &store.User{Email: "REQ@seed.example", Role: store.RoleClient})
				})
			}, predicates{conflict: true}},
			{"foreign key is not a conflict", func() error {
				return exec("INSERT INTO company_domains (domain, company_id) VALUES ('x.example', 999999)")
			}, predicates{}},
			{"check constraint is not a conflict", func() error {
				return exec("UPDATE tickets SET status = 'bogus' WHERE id = ?", tk.ID)
			}, predicates{}},
		}
		for _, c := range cases {
			err := c.err()
			if err == nil {
				t.Errorf("%s: no error", c.name)
				continue
			}
			if got := classify(err); got != c.want {
				t.Errorf("%s: %+v, want %+v (err %v)", c.name, got, c.want, err)
			}
		}
		// The error types the predicates read are the ones that arrive.
		err := cases[0].err()
		var pe pgdriver.Error
		var se *sqlite.Error
		if pg && !errors.As(err, &pe) || !pg && !errors.As(err, &se) {
			t.Errorf("driver error type %T not found in chain: %v", err, err)
		}
		if !errors.Is(cases[2].err(), store.ErrConflict) {
			t.Error("store did not turn a unique violation into ErrConflict")
		}
		if pg {
			pgOnlyErrors(t, db)
		} else {
			sqliteBusy(t)
		}
	})
}

// pgOnlyErrors provokes a serialization failure and a deadlock between
// two transactions, and a refused connection.
func pgOnlyErrors(t *testing.T, db *bun.DB) {
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "CREATE TABLE errtest (id INT PRIMARY KEY, n INT NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO errtest VALUES (1, 0), (2, 0)"); err != nil {
		t.Fatal(err)
	}

	// Serialization failure: a REPEATABLE READ transaction updates a row
	// that another committed a change to after its snapshot was taken.
	tx1, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead})
	if err != nil {
		t.Fatal(err)
	}
	defer tx1.Rollback()
	var n int
	if err := tx1.QueryRowContext(ctx, "SELECT n FROM errtest WHERE id = 1").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "UPDATE errtest SET n = n + 1 WHERE id = 1"); err != nil {
		t.Fatal(err)
	}
	_, err = tx1.ExecContext(ctx, "UPDATE errtest SET n = n + 1 WHERE id = 1")
	if got := classify(err); got != (predicates{retryable: true}) || err == nil {
		t.Errorf("serialization failure: %+v (err %v)", got, err)
	}
	tx1.Rollback()

	// Deadlock: two transactions lock the two rows in opposite orders;
	// PostgreSQL aborts one of them with 40P01.
	txs := make([]bun.Tx, 2)
	for i := range txs {
		if txs[i], err = db.BeginTx(ctx, nil); err != nil {
			t.Fatal(err)
		}
		defer txs[i].Rollback()
		if _, err := txs[i].ExecContext(ctx, "SET LOCAL deadlock_timeout = '50ms'"); err != nil {
			t.Fatal(err)
		}
		if _, err := txs[i].ExecContext(ctx, "UPDATE errtest SET n = n + 1 WHERE id = ?", i+1); err != nil {
			t.Fatal(err)
		}
	}
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range txs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = txs[i].ExecContext(ctx, "UPDATE errtest SET n = n + 1 WHERE id = ?", 2-i)
			if errs[i] != nil {
				txs[i].Rollback() // frees the other one
			}
		}()
	}
	wg.Wait()
	deadlocks := 0
	for _, err := range errs {
		if err == nil {
			continue
		}
		if got := classify(err); got != (predicates{retryable: true}) {
			t.Errorf("deadlock: %+v (err %v)", got, err)
		}
		deadlocks++
	}
	if deadlocks != 1 {
		t.Errorf("deadlock: %d transactions failed (%v), want 1", deadlocks, errs)
	}

	// Nobody listening: connection refused.
	_, err = store.Open(ctx, store.Options{Driver: store.Postgres, DSN: "postgres://postgres@127.0.0.1:1/test?sslmode=disable"})
	if got := classify(err); got != (predicates{unavailable: true}) {
		t.Errorf("connection refused: %+v (err %v)", got, err)
	}
}

// sqliteBusy holds the write lock on a database file from one connection
// while another, without a busy timeout, tries to write: SQLITE_BUSY.
func sqliteBusy(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "busy.db")
	open := func() *sql.DB {
		db, err := sql.Open(sqliteshim.ShimName, "file:"+path+"?_pragma=busy_timeout(0)&_pragma=journal_mode(WAL)")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	a, b := open(), open()
	if _, err := a.ExecContext(ctx, "CREATE TABLE x (n INT)"); err != nil {
		t.Fatal(err)
	}
	conn, err := a.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(ctx, "ROLLBACK")
	_, err = b.ExecContext(ctx, "INSERT INTO x VALUES (1)")
	var se *sqlite.Error
	if !errors.As(err, &se) {
		t.Fatalf("busy: want *sqlite.Error, got %T %v", err, err)
	}
	if got := classify(fmt.Errorf("wrapped: %w", err)); got != (predicates{unavailable: true}) {
		t.Errorf("busy (code %d): %+v (err %v)", se.Code(), got, err)
	}
}

func TestErrorPredicatesOnOtherErrors(t *testing.T) {
	for _, err := range []error{nil, errors.New("unique constraint failed: duplicate key 23505 40001 deadlock database is locked"),
		store.ErrNotFound, context.Canceled, os.ErrNotExist} {
		if got := classify(err); got != (predicates{}) {
			t.Errorf("%v: %+v, want none (messages are not read)", err, got)
		}
	}
	if !store.IsConflict(fmt.Errorf("x: %w", store.ErrConflict)) {
		t.Error("ErrConflict is a conflict")
	}
}
