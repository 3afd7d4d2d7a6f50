package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/uptrace/bun"
)

// What a search hit matched in its ticket.
const (
	MatchTicket     = "ticket"     // the subject or the description
	MatchComment    = "comment"    // a comment's text
	MatchAttachment = "attachment" // an attachment's file name
)

// The unit kinds of the ticket_search index: unit id = source id * 4 + kind.
const (
	unitTicket     = 1
	unitComment    = 2
	unitAttachment = 3
)

// Highlight markers the databases put around matched words; they never
// leave this file (callers get SnippetParts).
const (
	markStart = "\uE000"
	markEnd   = "\uE001"
)

// maxRankedUnits bounds the work of one search: of the units matching,
// only those of the newest tickets, this many, are ranked. A rare word is
// ranked over all its matches; a word in half the tickets ranks recent
// tickets only, in bounded time.
const maxRankedUnits = 2000

// A search looks at the newest searchWindow tickets first, then at
// searchWindowGrowth times more, until the page is full or every ticket
// was looked at.
const (
	searchWindow       = 1000
	searchWindowGrowth = 8
	// companySearchWindow is the first window of a company's search, in
	// the company's tickets.
	companySearchWindow = 250
	// companyScanWindow: up to this many of a company's tickets (and
	// searchWindow of every company's), their units are tested one by one
	// on PostgreSQL rather than through GIN.
	companyScanWindow = companySearchWindow * searchWindowGrowth
)

// searchWindowStart is the lowest ticket id of a window of the newest
// window tickets (requested by requester, else of company, when not 0);
// 0 when the window holds them all.
func (q *Q) searchWindowStart(ctx context.Context, company, requester, window int64) (int64, error) {
	var lo []int64
	var err error
	switch {
	case requester > 0:
		// The indexes tickets (requester_id, id) and (company_id, id) of
		// migration 20261203000002.
		err = q.db.NewRaw("SELECT id FROM tickets WHERE requester_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?", requester, window).Scan(ctx, &lo)
	case company > 0:
		err = q.db.NewRaw("SELECT id FROM tickets WHERE company_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?", company, window).Scan(ctx, &lo)
	default:
		err = q.db.NewRaw("SELECT COALESCE(MAX(id), 0) - ? FROM tickets", window).Scan(ctx, &lo)
	}
	if err != nil {
		return 0, fmt.Errorf("store: search window: %w", err)
	}
	if len(lo) == 0 || lo[0] <= 0 {
		return 0, nil
	}
	return lo[0], nil
}

// SearchFilter is a search and what narrows it. The embedded TicketFilter
// narrows as in Tickets (statuses, company, assignee, requester, the
// tickets involving a user, Limit, Offset); its Search and After do not
// apply (results are ordered by rank) and are refused.
type SearchFilter struct {
	TicketFilter
	// Text is the search, in ParseSearch's syntax.
	Text string
	// WithInternal: internal comments and their attachments count. The
	// caller's policy decides; without it a ticket is never found by a
	// word that only an internal note holds.
	WithInternal bool
}

// SearchHit is one ticket found, with where it matched best.
type SearchHit struct {
	Ticket *Ticket
	// Score orders hits, higher first; only comparable within one search.
	Score float64
	// Match is where the best match is (MatchTicket…), MatchID the
	// comment's or attachment's id (the ticket's for MatchTicket).
	Match   string
	MatchID int64
	// Snippet is the matched text around the match, the matched words
	// marked: plain text, to be escaped by whoever renders it.
	Snippet []SnippetPart
}

// SnippetPart is a run of a snippet's text.
type SnippetPart struct {
	Text  string `json:"text"`
	Match bool   `json:"match,omitempty"`
}

// SnippetText is the snippet as plain text, matches unmarked.
func (h *SearchHit) SnippetText() string {
	var b strings.Builder
	for _, p := range h.Snippet {
		b.WriteString(p.Text)
	}
	return b.String()
}

// SearchTickets finds the tickets within sc matching f.Text, best first
// (a match in the subject ranks above one in the body), with a snippet
// of the best matching text. Every positive term must occur somewhere
// the reader may see in the ticket (not necessarily in one comment); a
// ticket where an excluded term occurs is left out.
func (q *Q) SearchTickets(ctx context.Context, sc Scope, f SearchFilter) ([]*SearchHit, error) {
	sq, err := ParseSearch(f.Text)
	if err != nil {
		return nil, err
	}
	if f.Search != "" || f.After != nil {
		return nil, fmt.Errorf("store: search: Search and After do not apply to a ranked search")
	}
	limit := f.Limit
	if limit == 0 {
		limit = 50
	}
	if limit < 0 || limit > MaxTicketLimit {
		return nil, fmt.Errorf("store: search: limit %d is not between 1 and %d", f.Limit, MaxTicketLimit)
	}
	if f.Offset < 0 {
		return nil, fmt.Errorf("store: search: negative offset %d", f.Offset)
	}
	company, conds, condArgs, none, err := searchTicketConds(sc, f.TicketFilter)
	if err != nil || none {
		return nil, err
	}
	// The newest tickets first: a window of ticket ids, widened until it
	// fills the page or holds every ticket. Each pass reads only the
	// index entries of its window (a common word's matches in old tickets
	// are never read), so a common word costs what its recent matches
	// cost, and a rare one a few cheap passes. A company's search counts
	// its window in the company's tickets: a twentieth of the tickets is
	// not twenty times as many passes.
	if !q.pg {
		if sq, err = q.expandPrefixes(ctx, sq); err != nil {
			return nil, err
		}
	}
	var rows []searchRow
	// A requester's own search (or staff's for one requester) counts its
	// window in the requester's tickets: the few they are in drive it.
	requester, involving := f.RequesterID, false
	if requester == 0 && f.InvolvingUserID > 0 {
		requester, involving = f.InvolvingUserID, true
	}
	window := int64(searchWindow)
	if company > 0 || requester > 0 {
		window = companySearchWindow
	}
	for ; ; window *= searchWindowGrowth {
		lo, err := q.searchWindowStart(ctx, company, requester, window)
		if err != nil {
			return nil, err
		}
		p := searchPass{sq: sq, internal: f.WithInternal, company: company, requester: requester, involving: involving,
			conds: conds, condArgs: condArgs,
			limit: limit, offset: f.Offset, lo: lo, window: window}
		if q.pg {
			rows, err = q.searchPG(ctx, p)
		} else {
			rows, err = q.searchSQLite(ctx, p)
		}
		if err != nil {
			return nil, err
		}
		if len(rows) == limit || p.lo == 0 {
			break
		}
	}
	if len(rows) == 0 {
		return nil, nil
	}
	snippets, err := q.quoteSnippets(ctx, sq, rows)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.TicketID
	}
	var ts []*Ticket
	if err := q.db.NewSelect().Model(&ts).Where("t.id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: search tickets: %w", err)
	}
	if err := q.loadTicketRelations(ctx, ts); err != nil {
		return nil, err
	}
	tickets := byID(ts, func(t *Ticket) int64 { return t.ID })
	hits := make([]*SearchHit, 0, len(rows))
	for _, r := range rows {
		t := tickets[r.TicketID]
		if t == nil {
			continue // deleted between the two reads
		}
		kind, id := r.source(q.pg)
		h := &SearchHit{Ticket: t, Score: r.Score, MatchID: id, Snippet: parseSnippet(snippets[r.Unit])}
		switch kind {
		case unitTicket:
			h.Match = MatchTicket
		case unitComment:
			h.Match = MatchComment
		default:
			h.Match = MatchAttachment
		}
		hits = append(hits, h)
	}
	return hits, nil
}

type searchRow struct {
	TicketID int64   `bun:"ticket_id"`
	Unit     int64   `bun:"unit"`
	Score    float64 `bun:"score"`
}

// source is the kind and id of the unit's source row: unit ids are
// id * 4 + kind on PostgreSQL, and SQLite rowids ticket << 32 | id << 3 |
// kind << 1 | internal.
func (r searchRow) source(pg bool) (kind, id int64) {
	if pg {
		return r.Unit % 4, r.Unit / 4
	}
	low := r.Unit & 0xffffffff
	return (low >> 1) & 3, low >> 3
}

// searchTicketConds is the WHERE on tickets t for the scope and the
// filter, but for the company: that is company, which the search index
// itself narrows to (0: every company). none: the scope and the filter
// name different companies, nothing is found.
func searchTicketConds(sc Scope, f TicketFilter) (company int64, conds string, args []any, none bool, err error) {
	switch {
	case sc.all:
	case sc.companyID > 0:
		company = sc.companyID
	default:
		return 0, "", nil, false, ErrNoScope
	}
	if f.CompanyID > 0 {
		if company > 0 && company != f.CompanyID {
			return 0, "", nil, true, nil
		}
		company = f.CompanyID
	}
	var cs []string
	add := func(c string, a ...any) { cs = append(cs, c); args = append(args, a...) }
	if len(f.Statuses) > 0 {
		add("t.status IN (?)", bun.In(f.Statuses))
	}
	if f.AssigneeID > 0 {
		add("t.assignee_id = ?", f.AssigneeID)
	}
	if f.Unassigned {
		add("t.assignee_id IS NULL")
	}
	if f.RequesterID > 0 {
		add("t.requester_id = ?", f.RequesterID)
	}
	if f.InvolvingUserID > 0 {
		add("(t.requester_id = ? OR EXISTS (SELECT 1 FROM ticket_participants tp WHERE tp.ticket_id = t.id AND tp.user_id = ?))",
			f.InvolvingUserID, f.InvolvingUserID)
	}
	if len(cs) == 0 {
		return company, "TRUE", nil, false, nil
	}
	return company, strings.Join(cs, " AND "), args, false, nil
}

// searchPass is one window of a search: what SearchTickets hands the
// dialect's query.
type searchPass struct {
	sq       SearchQuery
	internal bool  // internal units count
	company  int64 // the one company searched, 0: every company
	// requester: the tickets this user requested drive the search (the
	// filter is theirs); involving: and those they take part in.
	requester int64
	involving bool
	conds     string
	condArgs  []any
	limit     int
	offset    int
	lo        int64 // the lowest ticket id looked at
	window    int64 // how many tickets from lo on (the requester's or the company's, when one)
}

// searchSQLite ranks with bm25, the subject column weighing ten times the
// body. Lower bm25 is better; the score is its negation.
func (q *Q) searchSQLite(ctx context.Context, p searchPass) ([]searchRow, error) {
	// The rowid holds the ticket and the internal flag: no stored row is
	// read to filter or group (see the migrations); a ticket's units are
	// one rowid range, so the window is a bound FTS5 seeks to. One
	// company's readable units are a token of the scope column, ANDed
	// with the words inside FTS5 (the words are kept to the text
	// columns, so a typed word never matches a scope token).
	var vis, scope string
	switch {
	case p.company > 0 && p.internal:
		scope = ` AND scope : "c` + strconv.FormatInt(p.company, 10) + `"`
	case p.company > 0:
		scope = ` AND scope : "p` + strconv.FormatInt(p.company, 10) + `"`
	case !p.internal:
		vis = " AND (rowid & 1) = 0"
	}
	if p.lo > 0 {
		vis += " AND rowid >= " + strconv.FormatInt(p.lo<<32, 10)
	}
	match := func(expr string) string { return "{subject body} : (" + expr + ")" + scope }
	pos, neg := p.sq.Positive(), p.sq.Negative()
	var b strings.Builder
	var args []any
	// bm25 cannot be aggregated directly: the units are scored first.
	b.WriteString(`WITH u AS MATERIALIZED (
		SELECT rowid >> 32 AS ticket_id, rowid AS unit, bm25(ticket_search, 10.0, 1.0, 0.0) AS score
		FROM ticket_search WHERE ticket_search MATCH ?` + vis)
	args = append(args, match(fts5Any(pos)))
	if len(pos) > 1 {
		// Each term somewhere in the ticket, not necessarily in one unit.
		b.WriteString(" AND rowid >> 32 IN (")
		for i, g := range pos {
			if i > 0 {
				b.WriteString(" INTERSECT ")
			}
			b.WriteString("SELECT rowid >> 32 FROM ticket_search WHERE ticket_search MATCH ?" + vis)
			args = append(args, match(g.fts5()))
		}
		b.WriteString(")")
	}
	if len(neg) > 0 {
		b.WriteString(" AND rowid >> 32 NOT IN (SELECT rowid >> 32 FROM ticket_search WHERE ticket_search MATCH ?" + vis + ")")
		args = append(args, match(fts5Any(neg)))
	}
	// The rest of the filter narrows the units before they are counted
	// against the bound, so a requester's search ranks its own newest
	// matches, not its share of the company's.
	if p.conds != "TRUE" {
		b.WriteString(" AND EXISTS (SELECT 1 FROM tickets t WHERE t.id = ticket_search.rowid >> 32 AND " + p.conds + ")")
		args = append(args, p.condArgs...)
	}
	// min() makes SQLite take the bare unit from the best row.
	b.WriteString(` ORDER BY rowid DESC LIMIT ` + strconv.Itoa(maxRankedUnits) + `)
		SELECT m.ticket_id, m.unit, -m.score AS score
		FROM (SELECT ticket_id, unit, min(score) AS score FROM u GROUP BY ticket_id) m
		ORDER BY m.score, m.ticket_id DESC LIMIT ? OFFSET ?`)
	args = append(args, p.limit, p.offset)
	var rows []searchRow
	if err := q.db.NewRaw(b.String(), args...).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("store: search: %w", err)
	}
	return rows, nil
}

// searchPG ranks with ts_rank (subject weight A above body B), the best
// unit of each ticket standing for it.
func (q *Q) searchPG(ctx context.Context, p searchPass) ([]searchRow, error) {
	vis := " AND NOT s.internal"
	if p.internal {
		vis = ""
	}
	// One company's units of the window are a range of the index
	// (company_id, ticket_id) (migration 20261203000002).
	if p.company > 0 {
		vis += " AND s.company_id = " + strconv.FormatInt(p.company, 10)
	}
	if p.lo > 0 {
		vis += " AND s.ticket_id >= " + strconv.FormatInt(p.lo, 10)
	}
	// A requester's tickets of the window drive the search: each one's
	// units through the btree (ticket_id, company_id).
	if p.requester > 0 {
		u, lo := strconv.FormatInt(p.requester, 10), strconv.FormatInt(p.lo, 10)
		vis += " AND s.ticket_id IN (SELECT t.id FROM tickets t WHERE t.requester_id = " + u + " AND t.id >= " + lo
		if p.involving {
			vis += " UNION SELECT tp.ticket_id FROM ticket_participants tp WHERE tp.user_id = " + u + " AND tp.ticket_id >= " + lo
		}
		vis += ")"
	}
	// The first windows hold a few thousand units (the newest 1,000
	// tickets; a company's newest 2,000): reading them through a btree
	// and testing each costs less than the GIN index's posting lists of
	// every ticket ever written (a common word's is a sixth of the table,
	// a prefix's the union of many), which the planner would AND with
	// them. The function form of @@ keeps the GIN index out; wider
	// windows leave the choice to the planner (rare words are read
	// through GIN). A requester's tickets are few enough at any width.
	match := func(qry string) string { return "s.doc @@ " + qry }
	if p.requester > 0 || (p.company > 0 && p.window <= companyScanWindow) || (p.company == 0 && p.window <= searchWindow) {
		match = func(qry string) string { return "ts_match_vq(s.doc, " + qry + ")" }
	}
	pos, neg := p.sq.Positive(), p.sq.Negative()
	anyQ, anyArgs := pgAny(pos)
	var b strings.Builder
	var args []any
	b.WriteString(`SELECT b.ticket_id, b.unit, b.score FROM (
		SELECT DISTINCT ON (s.ticket_id) s.ticket_id, s.unit_id AS unit, ts_rank(s.doc, ` + anyQ + `) AS score
		FROM (SELECT s.ticket_id, s.unit_id, s.doc FROM ticket_search s WHERE ` + match(anyQ) + vis)
	args = append(args, anyArgs...)
	args = append(args, anyArgs...)
	if len(pos) > 1 {
		b.WriteString(" AND s.ticket_id IN (")
		for i, g := range pos {
			if i > 0 {
				b.WriteString(" INTERSECT ")
			}
			gq, ga := g.pgTSQuery()
			b.WriteString("SELECT s.ticket_id FROM ticket_search s WHERE " + match(gq) + vis)
			args = append(args, ga...)
		}
		b.WriteString(")")
	}
	if len(neg) > 0 {
		nq, na := pgAny(neg)
		b.WriteString(" AND s.ticket_id NOT IN (SELECT s.ticket_id FROM ticket_search s WHERE " + match(nq) + vis + ")")
		args = append(args, na...)
	}
	// The rest of the filter narrows the units before the bound (as on
	// SQLite); staff without a filter and a company's searches read no
	// ticket row.
	if p.conds != "TRUE" {
		b.WriteString(" AND EXISTS (SELECT 1 FROM tickets t WHERE t.id = s.ticket_id AND " + p.conds + ")")
		args = append(args, p.condArgs...)
	}
	b.WriteString(` ORDER BY s.ticket_id DESC, s.unit_id DESC LIMIT ` + strconv.Itoa(maxRankedUnits) + `) s
		ORDER BY s.ticket_id, score DESC, s.unit_id) b
		ORDER BY b.score DESC, b.ticket_id DESC LIMIT ? OFFSET ?`)
	args = append(args, p.limit, p.offset)
	var rows []searchRow
	if err := q.db.NewRaw(b.String(), args...).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("store: search: %w", err)
	}
	return rows, nil
}

// parseSnippet splits a marked snippet into parts, runs of white space
// (line breaks of a mail) folded into one space.
func parseSnippet(s string) []SnippetPart {
	s = strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ")
	var parts []SnippetPart
	add := func(text string, match bool) {
		if text == "" {
			return
		}
		if n := len(parts); n > 0 && parts[n-1].Match == match {
			parts[n-1].Text += text
			return
		}
		parts = append(parts, SnippetPart{Text: text, Match: match})
	}
	for s != "" {
		i := strings.Index(s, markStart)
		if i < 0 {
			add(strings.ReplaceAll(s, markEnd, ""), false)
			break
		}
		add(strings.ReplaceAll(s[:i], markEnd, ""), false)
		s = s[i+len(markStart):]
		j := strings.Index(s, markEnd)
		if j < 0 {
			j = len(s)
		}
		add(strings.ReplaceAll(s[:j], markStart, ""), true)
		s = s[min(j+len(markEnd), len(s)):]
	}
	return parts
}

// OptimizeSearch compacts the search index after a bulk load.
func (s *Store) OptimizeSearch(ctx context.Context) error {
	stmt := "VACUUM ANALYZE ticket_search"
	if s.driver == SQLite {
		stmt = "INSERT INTO ticket_search (ticket_search) VALUES ('optimize')"
	}
	if _, err := s.write.ExecContext(ctx, stmt); err != nil {
		return fmt.Errorf("store: optimize search index: %w", err)
	}
	return nil
}

// BulkInsertComments inserts many comments at once (imports, load seeds);
// the search index learns of them when the transaction ends.
func (q *Q) BulkInsertComments(ctx context.Context, cs []Comment) error {
	if len(cs) == 0 {
		return nil
	}
	if _, err := q.db.NewInsert().Model(&cs).Exec(ctx); err != nil {
		return fmt.Errorf("store: bulk insert comments: %w", err)
	}
	q.searchNew()
	return nil
}

// TicketOwner is a ticket's id and requester.
type TicketOwner struct {
	ID          int64 `bun:"id"`
	RequesterID int64 `bun:"requester_id"`
}

// TicketOwnersFrom lists the id and requester of every ticket numbered
// from number on, in id order (load seeds adding comments to what they
// just inserted).
func (q *Q) TicketOwnersFrom(ctx context.Context, number int64) ([]TicketOwner, error) {
	var out []TicketOwner
	if err := q.db.NewRaw("SELECT id, requester_id FROM tickets WHERE number >= ? ORDER BY id", number).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("store: ticket owners: %w", err)
	}
	return out, nil
}
