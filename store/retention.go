package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"
)

// Retention: the set-based statements that remove the personal data of a
// batch of closed tickets, and the age-based purges. The rules (which
// tickets, when, who may run it) live in ticketing.

// RetentionCompany is a company's retention setting: Days nil means the
// configured default, 0 keeps its tickets forever.
type RetentionCompany struct {
	ID   int64  `bun:"id"`
	Name string `bun:"name"`
	Days *int   `bun:"retention_days"`
}

// RetentionCompanies lists every company with its setting, by id.
func (q *Q) RetentionCompanies(ctx context.Context) ([]RetentionCompany, error) {
	var cs []RetentionCompany
	err := q.db.NewSelect().Table("companies").Column("id", "name", "retention_days").OrderExpr("id").Scan(ctx, &cs)
	if err != nil {
		return nil, fmt.Errorf("store: retention companies: %w", err)
	}
	return cs, nil
}

// SetCompanyRetention sets a company's retention (nil: the default).
func (q *Q) SetCompanyRetention(ctx context.Context, companyID int64, days *int) error {
	res, err := q.db.NewUpdate().Table("companies").Set("retention_days = ?", days).Set("updated_at = ?", now()).
		Where("id = ?", companyID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: set retention: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: company %d", ErrNotFound, companyID)
	}
	return nil
}

// CompanyRetention returns a company's retention setting.
func (q *Q) CompanyRetention(ctx context.Context, companyID int64) (*int, error) {
	var days sql.NullInt64
	err := q.db.NewSelect().Table("companies").Column("retention_days").Where("id = ?", companyID).Scan(ctx, &days)
	if err != nil {
		return nil, notFound(err, "company "+strconv.FormatInt(companyID, 10))
	}
	if !days.Valid {
		return nil, nil
	}
	d := int(days.Int64)
	return &d, nil
}

// retentionDue is the condition of a company's tickets whose data is due
// for removal: closed (resolved-but-never-closed tickets wait), closed
// before the cutoff, not done yet.
const retentionDue = "company_id = ? AND status = 'closed' AND retained_at IS NULL AND closed_at < ?"

// RetentionDue returns up to limit ids of company's due tickets after id
// after, in id order (tickets_retention_idx).
func (q *Q) RetentionDue(ctx context.Context, companyID int64, cutoff time.Time, after int64, limit int) ([]int64, error) {
	var ids []int64
	err := q.db.NewSelect().Table("tickets").Column("id").
		Where(retentionDue, companyID, cutoff.UTC()).Where("id > ?", after).
		OrderExpr("id").Limit(int64(limit)).Scan(ctx, &ids)
	if err != nil {
		return nil, fmt.Errorf("store: retention due: %w", err)
	}
	return ids, nil
}

// RetentionCounts counts what retention removed (or would remove).
type RetentionCounts struct {
	Tickets       int64 `json:"tickets"`
	Comments      int64 `json:"comments"`
	Chat          int64 `json:"chat_messages"`
	Attachments   int64 `json:"attachments"`
	Blobs         int64 `json:"blobs"`
	Mails         int64 `json:"mails"`
	MessageIDs    int64 `json:"message_ids"`
	Outbox        int64 `json:"outbox"`
	Notifications int64 `json:"notifications"`
	Participants  int64 `json:"participants"`
	AuditRows     int64 `json:"audit_rows"`
	// ThreadAddresses are the addresses on the tickets' mail threads.
	ThreadAddresses int64 `json:"thread_addresses"`
	Drafts          int64 `json:"drafts"`    // reply drafts on the tickets, deleted
	Reactions       int64 `json:"reactions"` // clients' reactions on their comments, deleted
}

// Add adds o to c.
func (c *RetentionCounts) Add(o RetentionCounts) {
	c.Tickets += o.Tickets
	c.Comments += o.Comments
	c.Chat += o.Chat
	c.Attachments += o.Attachments
	c.Blobs += o.Blobs
	c.Mails += o.Mails
	c.MessageIDs += o.MessageIDs
	c.Outbox += o.Outbox
	c.Notifications += o.Notifications
	c.Participants += o.Participants
	c.AuditRows += o.AuditRows
	c.ThreadAddresses += o.ThreadAddresses
	c.Drafts += o.Drafts
	c.Reactions += o.Reactions
}

// RetentionPlaceholder is the text that replaces what people wrote.
const RetentionPlaceholder = "[removido por retenção]"

// RetentionAnonymous returns the company's placeholder requester, creating
// it: a disabled client without password that retained tickets point at,
// so requester_id stays NOT NULL and every page that joins the requester
// keeps working.
func (q *Q) RetentionAnonymous(ctx context.Context, companyID int64) (*User, error) {
	email := fmt.Sprintf("anonymous+%d@retention.invalid", companyID)
	u := &User{Email: email, Name: "Anônimo", Role: RoleClient, CompanyID: &companyID, Disabled: true,
		NotifyPrefs: "{}", CreatedAt: now(), UpdatedAt: now()}
	if _, err := q.db.NewInsert().Model(u).On("CONFLICT (email) DO NOTHING").Exec(ctx); err != nil {
		return nil, fmt.Errorf("store: retention placeholder: %w", err)
	}
	u = new(User)
	if err := q.db.NewSelect().Model(u).Where("email = ?", email).Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: retention placeholder: %w", err)
	}
	return u, nil
}

// isClient is true when the user column col names a client: clients lose
// their identity on a retained ticket, staff keep theirs.
func isClient(col string) string {
	return "EXISTS (SELECT 1 FROM users ru WHERE ru.id = " + col + " AND ru.role = 'client')"
}

// RetainTickets removes the personal data of tickets ids (of one
// company) in set-based statements: the requester becomes anon, subject,
// description and every comment and chat text become the placeholder,
// client authors become anon; the mails' addresses, headers and raw bytes,
// the message-id map, outbox copies, notifications, client participants,
// attachments (and their blobs once no attachment uses them) go; the
// ticket's audit rows lose their before/after copies. Statistics stay:
// times, status, priority, category, rating number, counts. Tickets
// already retained are skipped, so a batch can be replayed.
func (q *Q) RetainTickets(ctx context.Context, ids []int64, anon *User) (RetentionCounts, error) {
	var c RetentionCounts
	if len(ids) == 0 {
		return c, nil
	}
	if q.pg {
		// A batch lost in a crash is redone by the next run (the marker is
		// in the same transaction), so the commit need not wait for the
		// WAL flush.
		if _, err := q.db.ExecContext(ctx, "SET LOCAL synchronous_commit = off"); err != nil {
			return c, fmt.Errorf("store: retention: %w", err)
		}
	}
	// Only tickets not retained yet: a replayed batch changes nothing.
	var pending []int64
	if err := q.db.NewSelect().Table("tickets").Column("id").Where("id IN (?) AND retained_at IS NULL", bun.In(ids)).
		OrderExpr("id").Scan(ctx, &pending); err != nil {
		return c, fmt.Errorf("store: retention: %w", err)
	}
	if len(pending) == 0 {
		return c, nil
	}
	in := bun.In(pending)
	ph := RetentionPlaceholder
	steps := []struct {
		what string
		n    *int64
		sql  string
		args []any
	}{
		{"mails", &c.Mails, `UPDATE mail_messages SET message_id = '', mail_from = '', recipients = '', remote_addr = '',
			from_addr = '', subject = '', date_header = '', reason = '', raw_gz = ?
			WHERE ticket_id IN (?) OR comment_id IN (SELECT id FROM ticket_comments WHERE ticket_id IN (?))`,
			[]any{Gzip(nil), in, in}}, // an empty mail, still a valid gzip stream
		{"message ids", &c.MessageIDs, `DELETE FROM mail_message_ids WHERE ticket_id IN (?)`, []any{in}},
		{"outbox", &c.Outbox, `DELETE FROM mail_outbox WHERE ticket_id IN (?)`, []any{in}},
		{"attachments", &c.Attachments, `DELETE FROM attachments WHERE ticket_id IN (?)`, []any{in}},
		{"comments", &c.Comments, `UPDATE ticket_comments SET body_text = ?, body_html = '', message_id = '',
			author_id = CASE WHEN ` + isClient("ticket_comments.author_id") + ` THEN ? ELSE author_id END
			WHERE ticket_id IN (?)`, []any{ph, anon.ID, in}},
		{"chat", &c.Chat, `UPDATE chat_messages SET body = ?,
			sender_id = CASE WHEN ` + isClient("chat_messages.sender_id") + ` THEN ? ELSE sender_id END
			WHERE ticket_id IN (?)`, []any{ph, anon.ID, in}},
		{"notifications", &c.Notifications, `DELETE FROM notifications WHERE ticket_id IN (?)`, []any{in}},
		{"live events", new(int64), `DELETE FROM events WHERE ticket_id IN (?)`, []any{in}}, // store/event.go; not counted: a short-lived log
		// Drafts hold text about the ticket; a client's reaction says who
		// they are. Staff reactions are counts, like the ratings.
		{"drafts", &c.Drafts, `DELETE FROM ticket_drafts WHERE ticket_id IN (?)`, []any{in}},
		{"reactions", &c.Reactions, `DELETE FROM comment_reactions WHERE comment_id IN
			(SELECT id FROM ticket_comments WHERE ticket_id IN (?)) AND ` + isClient("comment_reactions.user_id"), []any{in}},
		{"participants", &c.Participants, `DELETE FROM ticket_participants WHERE ticket_id IN (?) AND ` +
			isClient("ticket_participants.user_id"), []any{in}},
		{"thread addresses", &c.ThreadAddresses, `DELETE FROM ticket_thread_addresses WHERE ticket_id IN (?)`, []any{in}},
		{"audit", &c.AuditRows, `UPDATE audit_log SET "before" = '', "after" = '',
			actor_email = CASE WHEN ` + isClient("audit_log.actor_id") + ` THEN ? ELSE actor_email END,
			actor_id = CASE WHEN ` + isClient("audit_log.actor_id") + ` THEN ? ELSE actor_id END
			WHERE entity = 'ticket' AND entity_id IN (?)`, []any{anon.Email, anon.ID, in}},
		{"tickets", &c.Tickets, `UPDATE tickets SET requester_id = ?, subject = ?, description = ?, description_html = '',
			message_id = '',
			tech_evaluation = CASE WHEN tech_evaluation = '' THEN '' ELSE ? END,
			rating_comment = CASE WHEN rating_comment = '' THEN '' ELSE ? END,
			solution = CASE WHEN solution = '' THEN '' ELSE ? END,
			close_reason = CASE WHEN close_reason = '' THEN '' ELSE ? END,
			retained_at = ?
			WHERE id IN (?) AND retained_at IS NULL`, []any{anon.ID, ph, ph, ph, ph, ph, ph, now(), in}},
	}
	var shas []string
	if err := q.db.NewSelect().Table("attachments").ColumnExpr("DISTINCT sha256").Where("ticket_id IN (?)", in).
		Scan(ctx, &shas); err != nil {
		return c, fmt.Errorf("store: retention attachments: %w", err)
	}
	for _, s := range steps {
		res, err := q.db.NewRaw(s.sql, s.args...).Exec(ctx)
		if err != nil {
			return c, fmt.Errorf("store: retention %s: %w", s.what, err)
		}
		*s.n, _ = res.RowsAffected()
	}
	if len(shas) > 0 {
		res, err := q.db.NewRaw(`DELETE FROM blobs WHERE sha256 IN (?)
			AND NOT EXISTS (SELECT 1 FROM attachments a WHERE a.sha256 = blobs.sha256)`, bun.In(shas)).Exec(ctx)
		if err != nil {
			return c, fmt.Errorf("store: retention blobs: %w", err)
		}
		c.Blobs, _ = res.RowsAffected()
	}
	return c, nil
}

// CountRetentionDue counts what RetainTickets would change for every due
// ticket of a company (a dry run).
func (q *Q) CountRetentionDue(ctx context.Context, companyID int64, cutoff time.Time) (RetentionCounts, error) {
	var c RetentionCounts
	due := "SELECT id FROM tickets WHERE " + retentionDue
	args := []any{companyID, cutoff.UTC()}
	counts := []struct {
		n   *int64
		sql string
	}{
		{&c.Tickets, "SELECT count(*) FROM tickets WHERE " + retentionDue},
		{&c.Comments, "SELECT count(*) FROM ticket_comments WHERE ticket_id IN (" + due + ")"},
		{&c.Chat, "SELECT count(*) FROM chat_messages WHERE ticket_id IN (" + due + ")"},
		{&c.Attachments, "SELECT count(*) FROM attachments WHERE ticket_id IN (" + due + ")"},
		{&c.Mails, "SELECT count(*) FROM mail_messages WHERE ticket_id IN (" + due + ") OR comment_id IN " +
			"(SELECT id FROM ticket_comments WHERE ticket_id IN (" + due + "))"},
		{&c.MessageIDs, "SELECT count(*) FROM mail_message_ids WHERE ticket_id IN (" + due + ")"},
		{&c.Outbox, "SELECT count(*) FROM mail_outbox WHERE ticket_id IN (" + due + ")"},
		{&c.Notifications, "SELECT count(*) FROM notifications WHERE ticket_id IN (" + due + ")"},
		{&c.Participants, "SELECT count(*) FROM ticket_participants WHERE ticket_id IN (" + due + ") AND " +
			isClient("ticket_participants.user_id")},
		{&c.AuditRows, "SELECT count(*) FROM audit_log WHERE entity = 'ticket' AND entity_id IN (" + due + ")"},
		{&c.ThreadAddresses, "SELECT count(*) FROM ticket_thread_addresses WHERE ticket_id IN (" + due + ")"},
		{&c.Drafts, "SELECT count(*) FROM ticket_drafts WHERE ticket_id IN (" + due + ")"},
		{&c.Reactions, "SELECT count(*) FROM comment_reactions WHERE comment_id IN (SELECT id FROM ticket_comments WHERE ticket_id IN (" +
			due + ")) AND " + isClient("comment_reactions.user_id")},
	}
	for _, k := range counts {
		a := args
		if k.n == &c.Mails {
			a = append(append([]any{}, args...), args...)
		}
		if err := q.db.NewRaw(k.sql, a...).Scan(ctx, k.n); err != nil {
			return c, fmt.Errorf("store: retention count: %w", err)
		}
	}
	return c, nil
}

// Age-based purges, each of at most PurgeBatch rows per call so that a
// long purge commits as it goes.
const PurgeBatch = 10_000

var purges = map[string]struct{ table, where string }{
	"audit":      {"audit_log", "created_at < ?"},
	"quarantine": {"mail_quarantine", "created_at < ?"},
	"outbox":     {"mail_outbox", "status = 'sent' AND sent_at < ?"},
	// A notification's age is its creation: one read today but created a
	// year ago has done its work.
	"notifications_read":   {"notifications", "read_at IS NOT NULL AND created_at < ?"},
	"notifications_unread": {"notifications", "read_at IS NULL AND created_at < ?"},
}

// PurgeOld deletes up to PurgeBatch rows of kind ("audit", "quarantine",
// "outbox": sent mail, "notifications_read" or "notifications_unread")
// older than before and returns how many.
func (q *Q) PurgeOld(ctx context.Context, kind string, before time.Time) (int64, error) {
	p, ok := purges[kind]
	if !ok {
		return 0, fmt.Errorf("store: unknown purge %q", kind)
	}
	res, err := q.db.NewRaw("DELETE FROM "+p.table+" WHERE id IN (SELECT id FROM "+p.table+" WHERE "+p.where+
		" ORDER BY id LIMIT ?)", before.UTC(), PurgeBatch).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: purge %s: %w", kind, err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// CountOld counts the rows PurgeOld would delete, all batches together.
func (q *Q) CountOld(ctx context.Context, kind string, before time.Time) (int64, error) {
	p, ok := purges[kind]
	if !ok {
		return 0, fmt.Errorf("store: unknown purge %q", kind)
	}
	var n int64
	if err := q.db.NewRaw("SELECT count(*) FROM "+p.table+" WHERE "+p.where, before.UTC()).Scan(ctx, &n); err != nil {
		return 0, fmt.Errorf("store: count %s: %w", kind, err)
	}
	return n, nil
}

// Checkpoint moves SQLite's write-ahead log into the database file and
// truncates it, so removed data leaves no copy in the log; a no-op on
// PostgreSQL, whose dead tuples go at the next VACUUM.
func (s *Store) Checkpoint(ctx context.Context) error {
	if s.driver != SQLite {
		return nil
	}
	var busy, logged, done int
	err := s.write.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logged, &done)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: checkpoint: %w", err)
	}
	return nil
}

// FindText counts, per "table.column", the rows whose value contains
// needle, over every column of every table (blobs as bytes; gzip columns
// hide their text, so check those apart). It proves that removed data is
// gone: a verification tool, not a query for pages.
func (q *Q) FindText(ctx context.Context, needle string) (map[string]int64, error) {
	type col struct{ table, name, typ string }
	var cols []col
	if q.pg {
		rows, err := q.db.QueryContext(ctx, `SELECT table_name, column_name, data_type FROM information_schema.columns
			WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`)
		if err != nil {
			return nil, fmt.Errorf("store: find text: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var c col
			if err := rows.Scan(&c.table, &c.name, &c.typ); err != nil {
				return nil, fmt.Errorf("store: find text: %w", err)
			}
			cols = append(cols, c)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: find text: %w", err)
		}
	} else {
		var tables []string
		if err := q.db.NewRaw("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").
			Scan(ctx, &tables); err != nil {
			return nil, fmt.Errorf("store: find text: %w", err)
		}
		for _, t := range tables {
			var names []string
			if err := q.db.NewRaw("SELECT name FROM pragma_table_info(?)", t).Scan(ctx, &names); err != nil {
				return nil, fmt.Errorf("store: find text: %w", err)
			}
			for _, n := range names {
				cols = append(cols, col{t, n, ""})
			}
		}
	}
	hits := map[string]int64{}
	for _, c := range cols {
		var cond string
		switch {
		case !q.pg:
			cond = "instr(CAST(? AS TEXT), ?) > 0"
		case c.typ == "bytea":
			cond = "position(convert_to(?, 'UTF8') in ?) > 0"
		default:
			cond = "strpos(CAST(? AS TEXT), ?) > 0"
		}
		var n int64
		var err error
		if q.pg && c.typ == "bytea" {
			err = q.db.NewRaw("SELECT count(*) FROM ? WHERE "+cond, bun.Ident(c.table), needle, bun.Ident(c.name)).Scan(ctx, &n)
		} else {
			err = q.db.NewRaw("SELECT count(*) FROM ? WHERE "+cond, bun.Ident(c.table), bun.Ident(c.name), needle).Scan(ctx, &n)
		}
		if err != nil {
			return nil, fmt.Errorf("store: find text in %s.%s: %w", c.table, c.name, err)
		}
		if n > 0 {
			hits[c.table+"."+c.name] = n
		}
	}
	return hits, nil
}

// SQLiteFile returns the path of the SQLite database file ("" on
// PostgreSQL or in memory).
func (s *Store) SQLiteFile(ctx context.Context) (string, error) {
	if s.driver != SQLite {
		return "", nil
	}
	var file string
	if err := s.write.NewRaw("SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(ctx, &file); err != nil {
		return "", fmt.Errorf("store: database file: %w", err)
	}
	return file, nil
}

// BulkAddComments gives every ticket with an id in [from, to] one public
// comment by author (benchmarks and imports: one statement).
func (q *Q) BulkAddComments(ctx context.Context, from, to, authorID int64, body string) error {
	_, err := q.db.NewRaw(`INSERT INTO ticket_comments (ticket_id, author_id, body_text, body_html, internal, source, message_id, created_at)
		SELECT id, ?, ?, '', FALSE, 'email', '', created_at FROM tickets WHERE id BETWEEN ? AND ?`, authorID, body, from, to).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: bulk comments: %w", err)
	}
	q.searchNew()
	return nil
}

// LongWrite prepares SQLite for a long series of write batches: the WAL
// is checkpointed every 16,384 pages (64 MiB) instead of 1,000, so far
// fewer checkpoints and fsyncs; restore puts the default back. The caller
// checkpoints at the end. A no-op on PostgreSQL.
func (s *Store) LongWrite(ctx context.Context) (restore func(), err error) {
	if s.driver != SQLite {
		return func() {}, nil
	}
	if _, err := s.write.ExecContext(ctx, "PRAGMA wal_autocheckpoint = 16384"); err != nil {
		return nil, fmt.Errorf("store: long write: %w", err)
	}
	return func() { _, _ = s.write.ExecContext(context.WithoutCancel(ctx), "PRAGMA wal_autocheckpoint = 1000") }, nil
}

// HoldLease extends holder's lease inside q's transaction (ErrLeaseHeld
// when it was lost): the batch it guards commits only while the lease is
// still this run's, with no transaction of its own.
func (q *Q) HoldLease(ctx context.Context, name, holder string, ttl time.Duration) error {
	res, err := q.db.NewUpdate().Model((*Lease)(nil)).Set("expires_at = ?", now().Add(ttl)).
		Where("name = ? AND holder = ?", name, holder).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: renew lease %s: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: %s", ErrLeaseHeld, name)
	}
	return nil
}
