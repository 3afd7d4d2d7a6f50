package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/schema"
)

// The mail hot path runs about fifteen statements per message. Built by
// bun, each is new SQL text with its values inlined (a gzipped message as
// a hex literal, an insert into tickets that also compiles the search
// index's triggers), so SQLite parses and plans every one of them again:
// a quarter of the intake's CPU went to sqlite3RunParser. hotStmts holds
// those statements as fixed text with placeholders, prepared once and
// bound per call: on SQLite's single writer connection, and on each
// PostgreSQL connection that runs them (where they also skip the planner
// once the plan is cached). Outside a write transaction the same text
// runs through bun, which inlines the values.
type hotStmts struct {
	db    *bun.DB
	count *queryCounter
	text  map[string]string
	ins   map[reflect.Type]*hotInsert

	driver string
	mu     sync.Mutex
	retry  time.Time   // after a failed prepare: not again before this
	ready  atomic.Bool // stmts is set, and no longer changes
	// stmts: prepared on the writer pool (SQLite: one connection;
	// database/sql prepares again on a replacement connection, and on
	// each PostgreSQL connection the first time it runs one).
	stmts map[string]*sql.Stmt
}

// hotInsert is a model's INSERT with every column bound.
type hotInsert struct {
	name   string
	fields []*schema.Field
}

// Names of the fixed-text statements.
const (
	hotMailDup           = "mail.dup"
	hotMailUpdate        = "mail.update"
	hotUserByEmail       = "user.email"
	hotUserByID          = "user.id"
	hotCompanyByID       = "company.id"
	hotClearBouncing     = "bouncing.clear"
	hotBouncingOne       = "bouncing.one"
	hotNextNumber        = "ticket.next"
	hotParticipants      = "ticket.participants"
	hotSLAPlans          = "sla.plans"
	hotSavepoint         = "savepoint"
	hotLockKey           = "lock.key"           // PostgreSQL only
	hotEventLock         = "event.lock"         // PostgreSQL only
	hotEventNotify       = "event.notify"       // PostgreSQL only
	hotSearchTickets     = "search.tickets"     // SQLite only
	hotSearchComments    = "search.comments"    // SQLite only
	hotSearchAttachments = "search.attachments" // SQLite only
	hotSearchIndexed     = "search.indexed"     // SQLite only
	hotReleaseSP         = "savepoint.release"
	hotRollbackSP        = "savepoint.rollback"
	hotSavepointName     = "mail"
	hotPlaceholderArg    = "?"
)

func newHotStmts(ctx context.Context, db *bun.DB, driver string, count *queryCounter) (*hotStmts, error) {
	h := &hotStmts{db: db, count: count, text: map[string]string{}, ins: map[reflect.Type]*hotInsert{}, driver: driver}
	p := bun.Safe(hotPlaceholderArg)
	h.text[hotMailDup] = db.NewSelect().Model((*MailMessage)(nil)).ExcludeColumn("raw_gz").
		Where("mm.content_hash = ? OR mm.message_id = ?", p, p).Order("mm.id").String()
	h.text[hotMailUpdate] = `UPDATE "mail_messages" SET "action" = ?, "reason" = ?, "kind" = ?, "ticket_id" = ?, "comment_id" = ?, "raw_gz" = ? WHERE "id" = ?`
	h.text[hotUserByEmail] = db.NewSelect().Model((*User)(nil)).Where("u.email = ?", p).String()
	h.text[hotUserByID] = db.NewSelect().Model((*User)(nil)).Where("u.id = ?", p).String()
	h.text[hotCompanyByID] = db.NewSelect().Model((*Company)(nil)).Where("id = ?", p).String()
	h.text[hotClearBouncing] = `UPDATE "mail_addresses" SET "bouncing_since" = NULL, "updated_at" = ? WHERE "email" = ? AND "bouncing_since" IS NOT NULL`
	h.text[hotBouncingOne] = `SELECT "email" FROM "mail_addresses" WHERE "email" = ? AND "bouncing_since" IS NOT NULL`
	h.text[hotParticipants] = db.NewSelect().Model((*User)(nil)).
		Join(`JOIN "ticket_participants" AS "tp" ON "tp"."user_id" = "u"."id"`).
		Where("tp.ticket_id = ?", p).OrderExpr("tp.added_at").String()
	h.text[hotSLAPlans] = db.NewSelect().Model((*SLAPlan)(nil)).Where("sp.active").
		Where("sp.company_id IS NULL OR sp.company_id = ?", p).OrderExpr("sp.id").String()
	if driver == SQLite {
		h.text[hotNextNumber] = "SELECT COALESCE(MAX(number), 1000) + 1 FROM tickets"
		for _, st := range searchIndexSQL {
			h.text[st.name] = st.text
		}
	} else {
		h.text[hotNextNumber] = "SELECT nextval('ticket_number_seq')"
		h.text[hotLockKey] = "SELECT pg_advisory_xact_lock(?)"
		h.text[hotEventLock] = "SELECT pg_advisory_xact_lock(?, hashtext(current_schema()))"
		h.text[hotEventNotify] = "SELECT pg_notify(?, ?)"
		// A prepared statement keeps the generic plan it made on its
		// connection's sixth run, while mail_messages was nearly empty:
		// for the OR of two columns that was a scan of the whole table,
		// kept as the table grew (a millisecond a message at 5,000, 222
		// pages read). Each arm of the UNION alone is an index lookup at
		// any size; UNION drops a row both arms find, as OR would.
		mm := func(where string) string {
			return db.NewSelect().Model((*MailMessage)(nil)).ExcludeColumn("raw_gz").Where(where, p).String()
		}
		h.text[hotMailDup] = `SELECT * FROM (` + mm("mm.content_hash = ?") + ` UNION ` + mm("mm.message_id = ?") + `) AS "mm" ORDER BY "mm"."id"`
	}
	h.addReads(db, p)
	// SQLite gets the new id from sqlite3_last_insert_rowid: a RETURNING
	// clause buffers its rows in an ephemeral table, and opening and
	// closing that b-tree's page cache on every insert mapped and unmapped
	// memory (modernc's allocator) for a tenth of the writer's time.
	returning := ` RETURNING "id"`
	if driver == SQLite {
		returning = ""
	}
	h.text[hotSavepoint] = "SAVEPOINT " + hotSavepointName
	h.text[hotReleaseSP] = "RELEASE SAVEPOINT " + hotSavepointName
	h.text[hotRollbackSP] = "ROLLBACK TO SAVEPOINT " + hotSavepointName
	for _, m := range []struct {
		model  any
		suffix string
	}{
		{(*MailMessage)(nil), returning},
		{(*Ticket)(nil), returning},
		{(*AuditEntry)(nil), ""},
		{(*Event)(nil), returning},
		{(*messageIDRow)(nil), ` ON CONFLICT ("message_id", "ticket_id") DO NOTHING`},
		{(*Comment)(nil), returning},
		{(*blob)(nil), ` ON CONFLICT ("sha256") DO NOTHING`},
		{(*Attachment)(nil), returning},
	} {
		if err := h.addInsert(m.model, m.suffix); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// prepare prepares the statements on the writer pool, once: call it
// outside any transaction (SQLite's pool has one connection). Until the
// schema has the tables (a store not yet migrated) it fails and leaves the
// statements to bun; it tries again on the next call.
func (h *hotStmts) prepare(ctx context.Context) {
	if h.ready.Load() {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ready.Load() || time.Now().Before(h.retry) {
		return
	}
	stmts := make(map[string]*sql.Stmt, len(h.text))
	for name, text := range h.text {
		if h.driver == Postgres {
			text = dollarPlaceholders(text)
		}
		st, err := h.db.DB.PrepareContext(ctx, text)
		if err != nil {
			for _, st := range stmts {
				st.Close()
			}
			// Bun runs them meanwhile; a store being migrated has its
			// tables in a moment, so try again soon, not on every
			// transaction.
			h.retry = time.Now().Add(2 * time.Second)
			slog.Debug("store: hot statements not prepared yet", "statement", name, "err", err)
			return
		}
		stmts[name] = st
	}
	h.stmts = stmts
	h.ready.Store(true)
}

// addInsert registers the INSERT of model's table: every column but an
// auto-incremented key, as bun would write them. Only plain column types
// are bound here (strings, numbers, booleans, bytes, times and pointers
// to them); a model with any other refuses, so a field added later with
// a type bun would convert cannot be written wrongly.
func (h *hotStmts) addInsert(model any, suffix string) error {
	typ := reflect.TypeOf(model).Elem()
	tbl := h.db.Table(typ)
	var cols, marks []string
	ins := &hotInsert{name: "insert." + tbl.Name}
	for _, f := range tbl.Fields {
		if f.IsPK && f.AutoIncrement {
			continue
		}
		if !plainColumn(f.IndirectType) || f.SQLDefault != "" {
			return fmt.Errorf("store: %s.%s: not a plain column for a prepared insert", tbl.Name, f.Name)
		}
		cols = append(cols, string(f.SQLName))
		marks = append(marks, "?")
		ins.fields = append(ins.fields, f)
	}
	h.text[ins.name] = "INSERT INTO " + string(tbl.SQLName) + " (" + strings.Join(cols, ", ") + ") VALUES (" + strings.Join(marks, ", ") + ")" + suffix
	h.ins[typ] = ins
	return nil
}

var timeType = reflect.TypeOf(time.Time{})

func plainColumn(t reflect.Type) bool {
	if t == timeType {
		return true
	}
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Float32, reflect.Float64:
		return true
	case reflect.Slice:
		return t.Elem().Kind() == reflect.Uint8
	}
	return false
}

// migrated says the schema may have just got its tables: the next
// transaction prepares at once.
func (h *hotStmts) migrated() {
	h.mu.Lock()
	h.retry = time.Time{}
	h.mu.Unlock()
}

func (h *hotStmts) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, st := range h.stmts {
		st.Close()
	}
}

// hot is q's view of the prepared statements: through the transaction's
// connection on SQLite, else bun with the values inlined.
func (q *Q) hotExec(ctx context.Context, name string, args ...any) (sql.Result, error) {
	if st := q.prepared(ctx, name); st != nil {
		defer st.Close()
		return st.ExecContext(ctx, bindArgs(args)...)
	}
	return q.db.ExecContext(ctx, q.hot.text[name], args...)
}

func (q *Q) hotQuery(ctx context.Context, name string, args ...any) (*sql.Rows, error) {
	if st := q.prepared(ctx, name); st != nil {
		// A statement of a transaction stays valid until it ends; the
		// rows are read before the next statement runs.
		return st.QueryContext(ctx, bindArgs(args)...)
	}
	return q.db.QueryContext(ctx, q.hot.text[name], args...)
}

// hotScan runs a hot query and scans its rows into dest (a pointer to a
// slice of models, or of values).
func (q *Q) hotScan(ctx context.Context, dest any, name string, args ...any) error {
	rows, err := q.hotQuery(ctx, name, args...)
	if err != nil {
		return err
	}
	return q.hot.db.ScanRows(ctx, rows, dest)
}

// hotInsert inserts model (a pointer to a registered struct) and, when id
// is not nil, sets *id to the new row's id (RETURNING on PostgreSQL,
// last_insert_rowid on SQLite: so a model inserted with ON CONFLICT DO
// NOTHING must not ask for its id).
func (q *Q) hotInsert(ctx context.Context, model any, id *int64) error {
	v := reflect.ValueOf(model).Elem()
	ins := q.hot.ins[v.Type()]
	args := make([]any, len(ins.fields))
	for i, f := range ins.fields {
		fv := f.Value(v)
		switch {
		case f.NullZero && f.HasZeroValue(v):
			args[i] = nil
		case fv.Kind() == reflect.Pointer && fv.IsNil():
			args[i] = nil
		default:
			args[i] = fv.Interface()
		}
	}
	if id == nil || q.hot.driver == SQLite {
		res, err := q.hotExec(ctx, ins.name, args...)
		if err != nil || id == nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return fmt.Errorf("store: %s inserted %d rows, no id (%v)", ins.name, n, err)
		}
		*id, err = res.LastInsertId()
		return err
	}
	rows, err := q.hotQuery(ctx, ins.name, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return fmt.Errorf("store: %s returned no id", ins.name)
	}
	if err := rows.Scan(id); err != nil {
		return err
	}
	for rows.Next() {
	}
	return rows.Err()
}

// prepared is the named statement bound to q's transaction, or nil when q
// has none (PostgreSQL, the read pool).
func (q *Q) prepared(ctx context.Context, name string) *sql.Stmt {
	if q.tx == nil || !q.hot.ready.Load() {
		return nil
	}
	st, ok := q.hot.stmts[name]
	if !ok {
		return nil
	}
	q.hot.count.n.Add(1)
	return q.tx.StmtContext(ctx, st)
}

// dollarPlaceholders numbers the ? placeholders of text for PostgreSQL
// ($1, $2…). The texts hold no ? in quotes or identifiers.
func dollarPlaceholders(text string) string {
	var b strings.Builder
	n := 0
	for _, r := range text {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// sqliteTime is how bun writes a time, on both dialects: the same text,
// so that comparisons and ordering in SQLite see one format, and a zero
// time is written as bun writes it rather than as NULL.
const sqliteTime = "2006-01-02 15:04:05.999999-07:00"

// bindArgs converts values the way bun would inline them.
func bindArgs(args []any) []any {
	for i, a := range args {
		switch v := a.(type) {
		case time.Time:
			args[i] = v.UTC().Format(sqliteTime)
		case *time.Time:
			if v == nil {
				args[i] = nil
			} else {
				args[i] = v.UTC().Format(sqliteTime)
			}
		}
	}
	return args
}
