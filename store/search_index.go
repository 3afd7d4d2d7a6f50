package store

import (
	"context"
	"fmt"
)

// On SQLite, the search index (FTS5) learns of new tickets, comments and
// attachments once per write transaction, in one statement per table, not
// through a trigger per row: a trigger made each insert open a statement
// journal, and FTS5 wrote its pending terms as a new segment at each one,
// so a group commit of 64 messages wrote 64 segments and merged them.
// search_indexed keeps the highest id indexed per table; the ids the
// database assigns only grow (AUTOINCREMENT), so whatever lies above it is
// new, however it was inserted, and a row put in by hand is indexed by the
// next transaction that flushes. (A row given an explicit id at or below
// the mark would not be: nothing here does that.) Updates and
// deletes keep their triggers; INSERT OR REPLACE covers a row updated
// before its first flush (the update trigger indexed it already).
// searchIndexSQL: the statements, in order, by hot statement name.
var searchIndexSQL = [...]struct{ name, text string }{
	{hotSearchTickets, `INSERT OR REPLACE INTO ticket_search (rowid, subject, body, scope, ticket_id, internal)
SELECT (t.id << 32) + t.id * 8 + 2, t.subject, t.description, 'c' || t.company_id || ' p' || t.company_id, t.id, 0
FROM tickets t WHERE t.id > COALESCE((SELECT last_id FROM search_indexed WHERE source = 'tickets'), 0)`},
	{hotSearchComments, `INSERT OR REPLACE INTO ticket_search (rowid, subject, body, scope, ticket_id, internal)
SELECT (c.ticket_id << 32) + c.id * 8 + 4 + (CASE WHEN c.internal THEN 1 ELSE 0 END), '', c.body_text,
    'c' || t.company_id || CASE WHEN c.internal THEN '' ELSE ' p' || t.company_id END,
    c.ticket_id, CASE WHEN c.internal THEN 1 ELSE 0 END
FROM ticket_comments c JOIN tickets t ON t.id = c.ticket_id
WHERE c.id > COALESCE((SELECT last_id FROM search_indexed WHERE source = 'ticket_comments'), 0)`},
	{hotSearchAttachments, `INSERT OR REPLACE INTO ticket_search (rowid, subject, body, scope, ticket_id, internal)
SELECT (a.ticket_id << 32) + a.id * 8 + 6 + (CASE WHEN c.internal THEN 1 ELSE 0 END), '', a.filename,
    'c' || t.company_id || CASE WHEN c.internal THEN '' ELSE ' p' || t.company_id END,
    a.ticket_id, CASE WHEN c.internal THEN 1 ELSE 0 END
FROM attachments a JOIN tickets t ON t.id = a.ticket_id LEFT JOIN ticket_comments c ON c.id = a.comment_id
WHERE a.id > COALESCE((SELECT last_id FROM search_indexed WHERE source = 'attachments'), 0)`},
	{hotSearchIndexed, `UPDATE search_indexed SET last_id = max(last_id, CASE source
    WHEN 'tickets' THEN (SELECT COALESCE(MAX(id), 0) FROM tickets)
    WHEN 'ticket_comments' THEN (SELECT COALESCE(MAX(id), 0) FROM ticket_comments)
    ELSE (SELECT COALESCE(MAX(id), 0) FROM attachments) END)`},
}

// searchNew notes that q inserted rows the search index must learn of.
func (q *Q) searchNew() { q.unindexed = true }

// DeferSearchIndex leaves the search indexing of what q's transaction
// inserts to a later IndexSearch (the mail intake's committer batches it:
// one FTS5 segment for a few hundred milliseconds of mail rather than one
// per group commit, and off the path to the SMTP 250).
func (q *Q) DeferSearchIndex() { q.deferIndex = true }

// indexSearch indexes what q's transaction inserted (SQLite; on
// PostgreSQL triggers do it). It runs last in the transaction.
func (q *Q) indexSearch(ctx context.Context) error {
	if !q.unindexed || q.pg || q.deferIndex {
		return nil
	}
	for _, st := range searchIndexSQL {
		if _, err := q.hotExec(ctx, st.name); err != nil {
			return fmt.Errorf("store: index for search (%s): %w", st.name, err)
		}
	}
	q.unindexed = false
	return nil
}

// IndexSearch indexes every row not yet in the search index (SQLite): what
// transactions that deferred it inserted (the mail intake's group
// commits), and rows put in by a statement of another program. Migrate
// calls it.
func (s *Store) IndexSearch(ctx context.Context) error {
	if s.driver != SQLite {
		return nil
	}
	return s.InTx(ctx, func(q *Q) error {
		q.searchNew()
		return nil
	})
}
