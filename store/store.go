// Package store is the database layer: bun models, embedded migrations and
// queries as plain methods, over SQLite (the embedded default) or
// PostgreSQL (the scale-out path). It knows nothing of HTTP or mail.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"github.com/uptrace/bun/driver/pgdriver"
	"github.com/uptrace/bun/driver/sqliteshim"
)

// Errors returned by queries; callers test them with errors.Is.
var (
	ErrNotFound = errors.New("store: not found")
	ErrConflict = errors.New("store: already exists")
	ErrNoScope  = errors.New("store: query without a company scope")
	// ErrNoDatabase: Options.MustExist and the SQLite file is not there.
	ErrNoDatabase = errors.New("store: no database")
	// ErrNotMigrated: the schema lacks the migrations table, or some
	// migrations are pending (see CheckMigrated).
	ErrNotMigrated = errors.New("store: schema not migrated")
)

// Driver names accepted by Open.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Options says which database to open.
type Options struct {
	Driver string // SQLite or Postgres
	// DSN is the file path for SQLite (":memory:" for a throwaway database)
	// and the connection URL for PostgreSQL.
	DSN string
	// Schema, PostgreSQL only: the search_path to use (created when
	// missing). Tests use it to get a database of their own.
	Schema       string
	MaxOpenConns int
	// MustExist: never create a database (the SQLite file and its folder,
	// the PostgreSQL schema); only serve and migrate may.
	MustExist bool
}

// Store is an open database. Reads go through a pool of connections;
// writes go through InTx. On SQLite writes share one connection, so
// concurrent writers queue in Go instead of failing with SQLITE_BUSY.
type Store struct {
	write   *bun.DB
	read    *bun.DB
	driver  string
	queries *queryCounter
	hot     *hotStmts
}

// Open connects to the database. It does not run migrations.
func Open(ctx context.Context, o Options) (*Store, error) {
	var s *Store
	var err error
	switch o.Driver {
	case SQLite:
		s, err = openSQLite(o)
	case Postgres:
		s, err = openPostgres(ctx, o)
	default:
		return nil, fmt.Errorf("store: unknown driver %q", o.Driver)
	}
	if err != nil {
		return nil, err
	}
	s.queries = &queryCounter{}
	s.write.AddQueryHook(s.queries)
	if s.read != s.write {
		s.read.AddQueryHook(s.queries)
	}
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if s.hot, err = newHotStmts(ctx, s.write, s.driver, s.queries); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func openSQLite(o Options) (*Store, error) {
	path := o.DSN
	if path == "" {
		return nil, errors.New("store: empty sqlite path")
	}
	// synchronous=NORMAL in WAL mode survives a process crash; InTxDurable
	// switches to FULL for the commits that must also survive power loss.
	// secure_delete zeroes freed space, so retention and erasure leave no
	// copy of removed data in the file. temp_store=MEMORY keeps savepoint
	// sub-journals (one per message of a group commit) and sort trees off
	// the disk: they were a seventh of the intake's CPU in write calls.
	pragmas := "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_pragma=secure_delete(1)&_pragma=temp_store(2)"
	var wdsn, rdsn string
	if path == ":memory:" {
		// One shared in-memory database for both pools.
		name := fmt.Sprintf("mem%d", time.Now().UnixNano())
		wdsn = "file:" + name + "?mode=memory&cache=shared&" + pragmas + "&_txlock=immediate"
		rdsn = "file:" + name + "?mode=memory&cache=shared&" + pragmas
	} else if o.MustExist {
		if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("%w at %s", ErrNoDatabase, path)
		}
		// mode=rw: a file removed meanwhile is an error, not a new database.
		wdsn = "file:" + path + "?mode=rw&" + pragmas + "&_pragma=journal_mode(WAL)&_txlock=immediate"
		rdsn = "file:" + path + "?mode=rw&" + pragmas + "&_pragma=journal_mode(WAL)&_pragma=query_only(1)"
	} else {
		if dir := filepath.Dir(path); dir != "" {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("store: create database folder: %w", err)
			}
		}
		wdsn = "file:" + path + "?" + pragmas + "&_pragma=journal_mode(WAL)&_txlock=immediate"
		rdsn = "file:" + path + "?" + pragmas + "&_pragma=journal_mode(WAL)&_pragma=query_only(1)"
	}
	wsql, err := sql.Open(sqliteshim.ShimName, wdsn)
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	wsql.SetMaxOpenConns(1)
	wsql.SetMaxIdleConns(1)
	wsql.SetConnMaxLifetime(0)
	wsql.SetConnMaxIdleTime(0)
	// The writer connection creates the file and switches it to WAL before
	// any reader opens it.
	if err := wsql.Ping(); err != nil {
		wsql.Close()
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	rsql, err := sql.Open(sqliteshim.ShimName, rdsn)
	if err != nil {
		wsql.Close()
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	n := o.MaxOpenConns
	if n <= 0 {
		n = 4
	}
	rsql.SetMaxOpenConns(n)
	rsql.SetMaxIdleConns(n)
	return &Store{
		write:  bun.NewDB(wsql, sqlitedialect.New()),
		read:   bun.NewDB(rsql, sqlitedialect.New()),
		driver: SQLite,
	}, nil
}

func openPostgres(ctx context.Context, o Options) (*Store, error) {
	opts := []pgdriver.Option{pgdriver.WithDSN(o.DSN), pgdriver.WithApplicationName("servicedesk")}
	if o.Schema != "" && !o.MustExist {
		if !validIdent(o.Schema) {
			return nil, fmt.Errorf("store: invalid schema name %q", o.Schema)
		}
		boot := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(o.DSN)))
		_, err := boot.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+o.Schema)
		boot.Close()
		// Two processes creating it at once: the loser sees a unique
		// violation on pg_namespace, and the schema exists.
		if err != nil && !IsConflict(err) {
			return nil, fmt.Errorf("store: create schema: %w", err)
		}
	}
	if o.Schema != "" {
		if !validIdent(o.Schema) {
			return nil, fmt.Errorf("store: invalid schema name %q", o.Schema)
		}
		opts = append(opts, pgdriver.WithConnParams(map[string]any{"search_path": o.Schema}))
	}
	sqldb := sql.OpenDB(pgdriver.NewConnector(opts...))
	n := o.MaxOpenConns
	if n <= 0 {
		n = 10
	}
	sqldb.SetMaxOpenConns(n)
	sqldb.SetMaxIdleConns(n)
	db := bun.NewDB(sqldb, pgdialect.New())
	return &Store{write: db, read: db, driver: Postgres}, nil
}

func validIdent(s string) bool {
	if s == "" || len(s) > 63 {
		return false
	}
	for i, r := range s {
		ok := r == '_' || (r >= 'a' && r <= 'z') || (i > 0 && r >= '0' && r <= '9')
		if !ok {
			return false
		}
	}
	return true
}

// Driver reports SQLite or Postgres.
func (s *Store) Driver() string { return s.driver }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.write.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	if s.read != s.write {
		if err := s.read.PingContext(ctx); err != nil {
			return fmt.Errorf("store: ping: %w", err)
		}
	}
	return nil
}

// Close closes every connection.
func (s *Store) Close() error {
	if s.hot != nil {
		s.hot.close()
	}
	err := s.write.Close()
	if s.read != s.write {
		if rerr := s.read.Close(); err == nil {
			err = rerr
		}
	}
	return err
}

// Q is the set of queries, bound to the read pool or to a transaction.
type Q struct {
	db  bun.IDB
	pg  bool
	hot *hotStmts
	// tx is the write transaction the hot statements bind to.
	tx *sql.Tx
	// written: the tickets this transaction wrote. Each remembers its
	// columns as written (ticket_changes.go); when the writes are rolled
	// back, that memory is wrong and is forgotten.
	written []*Ticket
	// unindexed: this transaction inserted rows the search index has not
	// learnt of yet (SQLite; search_index.go).
	unindexed bool
	// deferIndex: leave that to a later IndexSearch.
	deferIndex bool
}

// R returns queries on the read side. Do not write through it.
func (s *Store) R() *Q { return &Q{db: s.read, pg: s.driver == Postgres, hot: s.hot} }

// InTx runs fn in one write transaction: everything fn does commits
// together or not at all.
func (s *Store) InTx(ctx context.Context, fn func(q *Q) error) error {
	s.hot.prepare(ctx)
	return s.runTx(ctx, s.write.RunInTx, fn)
}

// runTx runs fn in the transaction that run begins, then indexes for
// search what fn inserted. When the transaction does not commit, for
// whatever reason, the ticket snapshots it took are forgotten.
func (s *Store) runTx(ctx context.Context, run func(context.Context, *sql.TxOptions, func(context.Context, bun.Tx) error) error, fn func(q *Q) error) error {
	var q *Q
	err := run(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		q = s.txQ(tx)
		if err := fn(q); err != nil {
			return err
		}
		return q.indexSearch(ctx)
	})
	if err != nil && q != nil {
		q.forget(0)
	}
	return err
}

// InTxDurable is InTx for commits that are promises to someone else (a
// 250 to an SMTP client, exit 0 to an MTA): the commit is fsync'd, so it
// survives a power loss too. PostgreSQL's commits always are; SQLite's are
// switched to synchronous=FULL for this transaction.
func (s *Store) InTxDurable(ctx context.Context, fn func(q *Q) error) error {
	if s.driver != SQLite {
		return s.InTx(ctx, fn)
	}
	s.hot.prepare(ctx)
	conn, err := s.write.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: durable tx: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PRAGMA synchronous=FULL"); err != nil {
		return fmt.Errorf("store: durable tx: %w", err)
	}
	defer func() {
		// The transaction's outcome stands either way; but the writer
		// connection must not stay at FULL for every later commit, so
		// a connection that cannot be switched back is discarded (the
		// pool opens a fresh one, at NORMAL from the DSN).
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA synchronous=NORMAL"); err != nil {
			slog.Warn("store: reset synchronous=NORMAL failed; discarding the writer connection", "err", err)
			_ = conn.Raw(func(any) error { return driver.ErrBadConn }) // returns that error: it is the point
		}
	}()
	return s.runTx(ctx, conn.RunInTx, fn)
}

// txQ is the set of queries bound to tx.
func (s *Store) txQ(tx bun.Tx) *Q {
	return &Q{db: tx, pg: s.driver == Postgres, hot: s.hot, tx: tx.Tx}
}

// Savepoint runs fn inside a savepoint of q's transaction: when fn fails,
// only its writes are undone and the transaction goes on.
func (q *Q) Savepoint(ctx context.Context, name string, fn func() error) error {
	if !validIdent(name) {
		return fmt.Errorf("store: invalid savepoint name %q", name)
	}
	exec := func(stmt, hot string) error {
		if name == hotSavepointName {
			_, err := q.hotExec(ctx, hot)
			return err
		}
		_, err := q.db.ExecContext(ctx, stmt+name)
		return err
	}
	if err := exec("SAVEPOINT ", hotSavepoint); err != nil {
		return fmt.Errorf("store: savepoint: %w", err)
	}
	written := len(q.written)
	if err := fn(); err != nil {
		q.forget(written)
		if rerr := exec("ROLLBACK TO SAVEPOINT ", hotRollbackSP); rerr != nil {
			return fmt.Errorf("store: rollback to savepoint: %w (after %w)", rerr, err)
		}
		if rerr := exec("RELEASE SAVEPOINT ", hotReleaseSP); rerr != nil {
			return fmt.Errorf("store: release savepoint after rollback: %w (after %w)", rerr, err)
		}
		return err
	}
	if err := exec("RELEASE SAVEPOINT ", hotReleaseSP); err != nil {
		return fmt.Errorf("store: release savepoint: %w", err)
	}
	return nil
}

// SavepointName is the savepoint name whose statements are prepared:
// callers that run one savepoint after another (never nested) use it.
const SavepointName = hotSavepointName

// Postgres reports whether q runs on PostgreSQL.
func (q *Q) Postgres() bool { return q.pg }

// Scope limits a query to the companies the caller may see. The zero
// Scope is refused, so a query cannot forget to ask who is calling.
type Scope struct {
	companyID int64
	all       bool
}

// AllCompanies is the scope of staff and admins.
func AllCompanies() Scope { return Scope{all: true} }

// CompanyScope limits queries to one company.
func CompanyScope(id int64) Scope { return Scope{companyID: id} }

// All reports whether the scope covers every company.
func (sc Scope) All() bool { return sc.all }

// CompanyID is the company of a single-company scope.
func (sc Scope) CompanyID() int64 { return sc.companyID }

func (sc Scope) where(q *bun.SelectQuery, column string) (*bun.SelectQuery, error) {
	switch {
	case sc.all:
		return q, nil
	case sc.companyID > 0:
		return q.Where("? = ?", bun.Ident(column), sc.companyID), nil
	default:
		return nil, ErrNoScope
	}
}

// page applies a limit (0: none) and an offset to sel. SQLite wants a
// LIMIT before an OFFSET, so "no limit" with an offset is the largest one.
func page(sel *bun.SelectQuery, limit, offset int) *bun.SelectQuery {
	if limit <= 0 && offset > 0 {
		limit = math.MaxInt32
	}
	if limit > 0 {
		sel = sel.Limit(int64(limit))
	}
	if offset > 0 {
		sel = sel.Offset(int64(offset))
	}
	return sel
}

func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// notFound turns sql.ErrNoRows into ErrNotFound with context.
func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: %s", ErrNotFound, what)
	}
	return fmt.Errorf("store: %s: %w", what, err)
}

// rowsAffected is res's row count. Both drivers always know it; an
// error here is reported rather than read as "no rows".
func rowsAffected(res sql.Result) (int64, error) {
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: rows affected: %w", err)
	}
	return n, nil
}

// conflict turns unique and primary-key violations into ErrConflict
// (the driver's wording stays out of the message users see) and wraps
// any other error.
func conflict(err error, what string) error {
	if err == nil {
		return nil
	}
	if IsConflict(err) {
		return fmt.Errorf("%w: %s", ErrConflict, what)
	}
	return fmt.Errorf("store: %s: %w", what, err)
}

// Analyze refreshes the query planner's statistics (after bulk loads).
func (s *Store) Analyze(ctx context.Context) error {
	stmt := "ANALYZE"
	if s.driver == SQLite {
		stmt = "PRAGMA optimize; ANALYZE"
	}
	if _, err := s.write.ExecContext(ctx, stmt); err != nil {
		return fmt.Errorf("store: analyze: %w", err)
	}
	return nil
}
