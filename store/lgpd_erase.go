package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/uptrace/bun"
)

// Erasure of one person (LGPD art. 18, VI). ErasePerson rewrites or
// deletes, in the caller's transaction, every row that holds the person's
// name, address or words; statistics (counts, times, ratings as numbers)
// stay. The caller checks who may do it and writes the audit row.

// EraseTarget says whom to erase and what to put in their place.
type EraseTarget struct {
	UserID      int64
	AnonEmail   string // unique placeholder address, e.g. anon-12@invalid
	AnonName    string // e.g. "Titular anonimizado #12"
	Placeholder string // replaces what they wrote
}

// EraseCounts says how many rows each step changed (or would change).
type EraseCounts struct {
	Tickets          int64  `json:"tickets"`
	Comments         int64  `json:"comments"`
	Chat             int64  `json:"chat"`
	Attachments      int64  `json:"attachments"`
	Blobs            int64  `json:"blobs"`
	Mails            int64  `json:"mails"`
	MailsRewritten   int64  `json:"mails_rewritten"`
	MailRefs         int64  `json:"mail_refs"`
	Quarantine       int64  `json:"quarantine"`
	Outbox           int64  `json:"outbox"`
	OutboxRewritten  int64  `json:"outbox_rewritten"`
	OthersRewritten  int64  `json:"others_rewritten"` // others' tickets and comments naming them
	Notifications    int64  `json:"notifications"`
	Audit            int64  `json:"audit"`
	Sessions         int64  `json:"sessions"`
	Consents         int64  `json:"consents"`
	Requests         int64  `json:"requests"`
	SuppressionRows  int64  `json:"suppression_rows"`
	ThreadAddresses  int64  `json:"thread_addresses"`
	Drafts           int64  `json:"drafts"`    // theirs, deleted; others' naming them, rewritten
	Reactions        int64  `json:"reactions"` // theirs, deleted
	Canned           int64  `json:"canned"`    // their own canned responses, deleted; shared ones naming them, rewritten
	ProfileColumns   int    `json:"profile_columns"`
	PlaceholderEmail string `json:"placeholder_email"`
}

// scrubber finds and replaces a person's data inside other text.
type scrubber struct {
	email, name, texts *regexp.Regexp
	prefixes           []string // starts of their texts: excerpts in notices
	t                  EraseTarget
}

// ownWords reports whether a line of a text is long enough to be the
// person's own words: a greeting or a signature line ("Atenciosamente,",
// "Bom dia, equipe") is everyone's, and replacing it in other people's
// text would erase theirs.
func ownWords(s string) bool {
	return utf8.RuneCountInString(s) >= 12 && len(strings.Fields(s)) >= 4
}

func newScrubber(t EraseTarget, email, name string, texts []string) *scrubber {
	sc := &scrubber{t: t}
	sc.email = regexp.MustCompile("(?i)" + regexp.QuoteMeta(email))
	if n := strings.TrimSpace(name); utf8.RuneCountInString(n) >= 3 && !strings.Contains(n, "@") {
		sc.name = regexp.MustCompile("(?i)" + regexp.QuoteMeta(n))
	}
	var alts []string
	seen := map[string]bool{}
	for _, s := range texts {
		s = strings.TrimSpace(s)
		// Short texts ("ok", "obrigado") say nothing about anyone and
		// would match everywhere.
		if utf8.RuneCountInString(s) < 8 || s == t.Placeholder || seen[s] {
			continue
		}
		seen[s] = true
		alts = append(alts, regexp.QuoteMeta(s))
		if r := []rune(s); len(r) > 30 {
			sc.prefixes = append(sc.prefixes, strings.ToLower(string(r[:30])))
		}
		// Each line too: mail quotes and notices break texts into lines.
		for _, line := range strings.Split(s, "\n") {
			if line = strings.TrimSpace(line); ownWords(line) && !seen[line] {
				seen[line] = true
				alts = append(alts, regexp.QuoteMeta(line))
			}
		}
	}
	if len(alts) > 0 {
		// Longest first, so a whole text wins over one of its lines.
		slices.SortFunc(alts, func(a, b string) int { return len(b) - len(a) })
		sc.texts = regexp.MustCompile("(?i)" + strings.Join(alts, "|"))
	}
	return sc
}

func (sc *scrubber) bytes(b []byte) []byte {
	if sc.texts != nil {
		b = sc.texts.ReplaceAllLiteral(b, []byte(sc.t.Placeholder))
	}
	b = replaceWhole(sc.email, b, []byte(sc.t.AnonEmail), emailRune)
	if sc.name != nil {
		b = replaceWhole(sc.name, b, []byte(sc.t.AnonName), wordRune)
	}
	return b
}

func wordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

func emailRune(r rune) bool { return wordRune(r) || strings.ContainsRune("._%+-", r) }

// replaceWhole replaces the matches of re that stand alone: the runes
// either side are not part of a word (inWord), so "Ana" is not replaced
// inside "semana" nor bob@x.com inside jimbob@x.com or bob@x.com.br.
func replaceWhole(re *regexp.Regexp, b, repl []byte, inWord func(rune) bool) []byte {
	var out []byte
	last := 0
	for _, m := range re.FindAllIndex(b, -1) {
		before, _ := utf8.DecodeLastRune(b[:m[0]])
		after, n := utf8.DecodeRune(b[m[1]:])
		if after == '.' { // a sentence's full stop ends it, a domain's dot does not
			after, _ = utf8.DecodeRune(b[m[1]+n:])
		}
		if (m[0] > 0 && inWord(before)) || (m[1] < len(b) && inWord(after) && after != '.') {
			continue
		}
		out = append(append(out, b[last:m[0]]...), repl...)
		last = m[1]
	}
	if out == nil {
		return b
	}
	return append(out, b[last:]...)
}

func (sc *scrubber) text(s string) string { return string(sc.bytes([]byte(s))) }

// excerpt reports whether s still holds the start of one of their texts
// (a notice quoting the first words of a comment).
func (sc *scrubber) excerpt(s string) bool {
	l := strings.ToLower(s)
	for _, p := range sc.prefixes {
		if strings.Contains(l, p) {
			return true
		}
	}
	return false
}

// json rewrites every string inside a JSON document (audit rows keep
// whole records); text that is not JSON is scrubbed as text.
func (sc *scrubber) json(s string) string {
	if s == "" {
		return s
	}
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return sc.text(s)
	}
	orig, _ := json.Marshal(v)
	b, err := json.Marshal(sc.walk(v))
	if err != nil {
		return sc.text(s)
	}
	if bytes.Equal(orig, b) {
		return s // nothing of theirs: keep the row as written
	}
	return string(b)
}

func (sc *scrubber) walk(v any) any {
	switch x := v.(type) {
	case string:
		return sc.text(x)
	case []any:
		for i := range x {
			x[i] = sc.walk(x[i])
		}
	case map[string]any:
		for k, e := range x {
			x[k] = sc.walk(e)
		}
	}
	return v
}

type idText struct {
	ID   int64  `bun:"id"`
	Text string `bun:"text"`
}

// ErasePerson erases one person inside q's transaction. On SQLite it
// turns on secure_delete first, so freed pages are zeroed, not left with
// the old bytes; Store.Compact afterwards empties the WAL.
func (q *Q) ErasePerson(ctx context.Context, t EraseTarget) (EraseCounts, error) {
	var c EraseCounts
	c.PlaceholderEmail = t.AnonEmail
	if !q.pg {
		if _, err := q.db.ExecContext(ctx, "PRAGMA secure_delete = ON"); err != nil {
			return c, fmt.Errorf("store: secure_delete: %w", err)
		}
	}
	u := new(User)
	if err := q.db.NewSelect().Model(u).Where("u.id = ?", t.UserID).Scan(ctx); err != nil {
		return c, notFound(err, "user")
	}
	e := &eraser{q: q, t: t, u: u, c: &c}
	steps := []func(context.Context) error{
		e.collect, e.attachments, e.mails, e.outbox, e.written, e.others, e.workflow, e.notifications,
		e.audit, e.rest, e.profile,
	}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return c, err
		}
	}
	return c, nil
}

type eraser struct {
	q  *Q
	t  EraseTarget
	u  *User
	c  *EraseCounts
	sc *scrubber

	own      []int64 // tickets they opened
	involved []int64 // tickets they opened, take part in or wrote on
	comments []int64 // their comments
}

func (e *eraser) exec(ctx context.Context, n *int64, query string, args ...any) error {
	res, err := e.q.db.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("store: erase: %w", err)
	}
	if n != nil {
		k, _ := res.RowsAffected()
		*n += k
	}
	return nil
}

func (e *eraser) ids(ctx context.Context, query string, args ...any) ([]int64, error) {
	var ids []int64
	if err := e.q.db.NewRaw(query, args...).Scan(ctx, &ids); err != nil && ignoreNoRows(err) != nil {
		return nil, fmt.Errorf("store: erase: %w", err)
	}
	return ids, nil
}

func (e *eraser) texts(ctx context.Context, query string, args ...any) ([]idText, error) {
	var rows []idText
	if err := e.q.db.NewRaw(query, args...).Scan(ctx, &rows); err != nil && ignoreNoRows(err) != nil {
		return nil, fmt.Errorf("store: erase: %w", err)
	}
	return rows, nil
}

// in is an IN list of ids, never empty (no row has id 0).
func in(ids []int64) bun.Safe {
	if len(ids) == 0 {
		return bun.Safe("0")
	}
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%d", id)
	}
	return bun.Safe(b.String())
}

// collect finds their tickets and comments and what they wrote, before
// anything is overwritten.
func (e *eraser) collect(ctx context.Context) error {
	id := e.u.ID
	var err error
	if e.own, err = e.ids(ctx, "SELECT id FROM tickets WHERE requester_id = ?", id); err != nil {
		return err
	}
	if e.comments, err = e.ids(ctx, "SELECT id FROM ticket_comments WHERE author_id = ?", id); err != nil {
		return err
	}
	if e.involved, err = e.ids(ctx, `SELECT id FROM tickets WHERE requester_id = ?
		UNION SELECT ticket_id FROM ticket_participants WHERE user_id = ?
		UNION SELECT ticket_id FROM ticket_comments WHERE author_id = ?`, id, id, id); err != nil {
		return err
	}
	var texts []string
	for _, qy := range []string{
		"SELECT id, subject AS text FROM tickets WHERE requester_id = ?",
		"SELECT id, description AS text FROM tickets WHERE requester_id = ?",
		"SELECT id, rating_comment AS text FROM tickets WHERE requester_id = ?",
		"SELECT id, body_text AS text FROM ticket_comments WHERE author_id = ?",
		"SELECT id, body AS text FROM chat_messages WHERE sender_id = ?",
	} {
		rows, err := e.texts(ctx, qy, id)
		if err != nil {
			return err
		}
		for _, r := range rows {
			texts = append(texts, r.Text)
		}
	}
	e.sc = newScrubber(e.t, e.u.Email, e.u.Name, texts)
	return nil
}

// attachments deletes the files they sent and the blobs nobody else uses.
func (e *eraser) attachments(ctx context.Context) error {
	id := e.u.ID
	type att struct {
		ID     int64  `bun:"id"`
		SHA256 string `bun:"sha256"`
	}
	var as []att
	err := e.q.db.NewRaw(`SELECT id, sha256 FROM attachments WHERE uploaded_by = ? OR comment_id IN (?)
		OR (ticket_id IN (?) AND comment_id IS NULL AND (uploaded_by IS NULL OR uploaded_by = ?))`,
		id, in(e.comments), in(e.own), id).Scan(ctx, &as)
	if err != nil && ignoreNoRows(err) != nil {
		return fmt.Errorf("store: erase attachments: %w", err)
	}
	var ids []int64
	shas := map[string]bool{}
	for _, a := range as {
		ids = append(ids, a.ID)
		shas[a.SHA256] = true
	}
	if err := e.exec(ctx, &e.c.Attachments, "DELETE FROM attachments WHERE id IN (?)", in(ids)); err != nil {
		return err
	}
	for sha := range shas {
		if err := e.exec(ctx, &e.c.Blobs, "DELETE FROM blobs WHERE sha256 = ? AND NOT EXISTS (SELECT 1 FROM attachments WHERE sha256 = ?)", sha, sha); err != nil {
			return err
		}
	}
	return nil
}

type rawRow struct {
	ID         int64  `bun:"id"`
	Recipients string `bun:"recipients"`
	MailFrom   string `bun:"mail_from"`
	Subject    string `bun:"subject"`
	Raw        []byte `bun:"raw"`
	// RenderInput is mail_outbox's only.
	RenderInput string `bun:"render_input"`
}

// mails deletes the raw mails they sent and scrubs them out of the mails
// of others that name them (Cc, quotes).
func (e *eraser) mails(ctx context.Context) error {
	addr := e.u.Email
	if err := e.exec(ctx, &e.c.Mails, `DELETE FROM mail_messages WHERE from_addr = ? OR mail_from = ? OR comment_id IN (?)
		OR id IN (SELECT mail_id FROM ticket_comments WHERE author_id = ? AND mail_id IS NOT NULL)`,
		addr, addr, in(e.comments), e.u.ID); err != nil {
		return err
	}
	if err := e.exec(ctx, &e.c.Quarantine, "DELETE FROM mail_quarantine WHERE from_addr = ?", addr); err != nil {
		return err
	}
	if err := e.exec(ctx, &e.c.MailRefs, "DELETE FROM mail_message_ids WHERE recipient = ?", addr); err != nil {
		return err
	}
	// Off every mail thread: a later reply from the address is a stranger's.
	if err := e.exec(ctx, &e.c.ThreadAddresses, "DELETE FROM ticket_thread_addresses WHERE address = ?", addr); err != nil {
		return err
	}
	like := "%" + addr + "%"
	var rows []rawRow
	err := e.q.db.NewRaw(`SELECT id, recipients, mail_from, subject, raw_gz AS raw FROM mail_messages
		WHERE ticket_id IN (?) OR recipients LIKE ? OR mail_from LIKE ?`, in(e.involved), like, like).Scan(ctx, &rows)
	if err != nil && ignoreNoRows(err) != nil {
		return fmt.Errorf("store: erase mails: %w", err)
	}
	for _, r := range rows {
		raw, err := Gunzip(r.Raw)
		if err != nil {
			return err
		}
		clean := e.sc.bytes(raw)
		rcpt, from, subj := e.sc.text(r.Recipients), e.sc.text(r.MailFrom), e.sc.text(r.Subject)
		if bytes.Equal(clean, raw) && rcpt == r.Recipients && from == r.MailFrom && subj == r.Subject {
			continue
		}
		if err := e.exec(ctx, &e.c.MailsRewritten, "UPDATE mail_messages SET recipients = ?, mail_from = ?, subject = ?, raw_gz = ?, raw_size = ? WHERE id = ?",
			rcpt, from, subj, Gzip(clean), len(clean), r.ID); err != nil {
			return err
		}
	}
	var qs []rawRow
	err = e.q.db.NewRaw("SELECT id, envelope AS recipients, subject, raw_gz AS raw FROM mail_quarantine WHERE envelope LIKE ?", like).Scan(ctx, &qs)
	if err != nil && ignoreNoRows(err) != nil {
		return fmt.Errorf("store: erase quarantine: %w", err)
	}
	for _, r := range qs {
		raw, err := Gunzip(r.Raw)
		if err != nil {
			return err
		}
		clean := e.sc.bytes(raw)
		if err := e.exec(ctx, &e.c.MailsRewritten, "UPDATE mail_quarantine SET envelope = ?, subject = ?, raw_gz = ?, raw_size = ? WHERE id = ?",
			e.sc.text(r.Recipients), e.sc.text(r.Subject), Gzip(clean), len(clean), r.ID); err != nil {
			return err
		}
	}
	return nil
}

// outbox deletes the copies addressed to them and every copy about a
// ticket they opened (those carry their words, often encoded past
// finding); elsewhere it takes their address and words out.
func (e *eraser) outbox(ctx context.Context) error {
	addr := e.u.Email
	if err := e.exec(ctx, &e.c.Outbox, "DELETE FROM mail_outbox WHERE recipients = ? OR ticket_id IN (?)", addr, in(e.own)); err != nil {
		return err
	}
	var rows []rawRow
	err := e.q.db.NewRaw("SELECT id, recipients, subject, raw, render_input FROM mail_outbox WHERE ticket_id IN (?) OR recipients LIKE ?",
		in(e.involved), "%"+addr+"%").Scan(ctx, &rows)
	if err != nil && ignoreNoRows(err) != nil {
		return fmt.Errorf("store: erase outbox: %w", err)
	}
	for _, r := range rows {
		var keep []string
		for _, a := range strings.Split(r.Recipients, ",") {
			if a = strings.TrimSpace(a); a != "" && !strings.EqualFold(a, addr) {
				keep = append(keep, a)
			}
		}
		if len(keep) == 0 {
			if err := e.exec(ctx, &e.c.Outbox, "DELETE FROM mail_outbox WHERE id = ?", r.ID); err != nil {
				return err
			}
			continue
		}
		rcpt, subj, clean := strings.Join(keep, ", "), e.sc.text(r.Subject), e.sc.bytes(r.Raw)
		// A mail not rendered yet holds their name and words in what it
		// is to be composed of (JSON; mailbox/outbound).
		input := e.sc.json(r.RenderInput)
		if clean == nil {
			clean = []byte{} // an unrendered row's raw: empty, NOT NULL
		}
		if rcpt == r.Recipients && subj == r.Subject && bytes.Equal(clean, r.Raw) && input == r.RenderInput {
			continue
		}
		if err := e.exec(ctx, &e.c.OutboxRewritten, "UPDATE mail_outbox SET recipients = ?, subject = ?, raw = ?, render_input = ? WHERE id = ?",
			rcpt, subj, clean, input, r.ID); err != nil {
			return err
		}
	}
	return nil
}

// written replaces what they wrote with the placeholder.
func (e *eraser) written(ctx context.Context) error {
	p, id := e.t.Placeholder, e.u.ID
	if err := e.exec(ctx, &e.c.Tickets, `UPDATE tickets SET subject = ?, description = ?, description_html = '',
		rating_comment = CASE WHEN rating_comment = '' THEN '' ELSE ? END WHERE requester_id = ?`, p, p, p, id); err != nil {
		return err
	}
	if err := e.exec(ctx, &e.c.Comments, "UPDATE ticket_comments SET body_text = ?, body_html = '', mail_id = NULL WHERE author_id = ?", p, id); err != nil {
		return err
	}
	return e.exec(ctx, &e.c.Chat, "UPDATE chat_messages SET body = ? WHERE sender_id = ?", p, id)
}

// others takes their name, address and quoted words out of what others
// wrote on the same tickets (staff notes, a colleague's description).
func (e *eraser) others(ctx context.Context) error {
	for _, col := range []struct{ table, col, where string }{
		{"tickets", "subject", "id IN (?)"},
		{"tickets", "description", "id IN (?)"},
		{"tickets", "description_html", "id IN (?)"},
		{"tickets", "tech_evaluation", "id IN (?)"},
		{"tickets", "solution", "id IN (?)"},
		{"tickets", "close_reason", "id IN (?)"},
		{"tickets", "rating_comment", "id IN (?)"},
		{"ticket_comments", "body_text", "ticket_id IN (?)"},
		{"ticket_comments", "body_html", "ticket_id IN (?)"},
		{"chat_messages", "body", "ticket_id IN (?)"},
	} {
		// Beyond their tickets, any row naming their address or name.
		where, args := col.where+" OR lower("+col.col+") LIKE ?", []any{in(e.involved), "%" + strings.ToLower(e.u.Email) + "%"}
		if e.sc.name != nil {
			where, args = where+" OR lower("+col.col+") LIKE ?", append(args, "%"+strings.ToLower(strings.TrimSpace(e.u.Name))+"%")
		}
		rows, err := e.texts(ctx, "SELECT id, "+col.col+" AS text FROM "+col.table+" WHERE "+where, args...)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if clean := e.sc.text(r.Text); clean != r.Text {
				if err := e.exec(ctx, &e.c.OthersRewritten, "UPDATE "+col.table+" SET "+col.col+" = ? WHERE id = ?", clean, r.ID); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// workflow covers the reply tools: their drafts, reactions and own
// canned responses go; drafts of others on the same tickets and shared
// canned responses lose their name, address and quoted words.
func (e *eraser) workflow(ctx context.Context) error {
	id := e.u.ID
	if err := e.exec(ctx, &e.c.Drafts, "DELETE FROM ticket_drafts WHERE user_id = ?", id); err != nil {
		return err
	}
	if err := e.exec(ctx, &e.c.Reactions, "DELETE FROM comment_reactions WHERE user_id = ?", id); err != nil {
		return err
	}
	if err := e.exec(ctx, &e.c.Canned, "DELETE FROM canned_responses WHERE owner_id = ?", id); err != nil {
		return err
	}
	like := "%" + strings.ToLower(e.u.Email) + "%"
	type draft struct {
		UserID   int64  `bun:"user_id"`
		TicketID int64  `bun:"ticket_id"`
		Body     string `bun:"body"`
	}
	var ds []draft
	err := e.q.db.NewRaw("SELECT user_id, ticket_id, body FROM ticket_drafts WHERE ticket_id IN (?) OR lower(body) LIKE ?",
		in(e.involved), like).Scan(ctx, &ds)
	if err != nil && ignoreNoRows(err) != nil {
		return fmt.Errorf("store: erase drafts: %w", err)
	}
	for _, d := range ds {
		if clean := e.sc.text(d.Body); clean != d.Body {
			if err := e.exec(ctx, &e.c.Drafts, "UPDATE ticket_drafts SET body = ? WHERE user_id = ? AND ticket_id = ?",
				clean, d.UserID, d.TicketID); err != nil {
				return err
			}
		}
	}
	where, args := "lower(body) LIKE ? OR lower(name) LIKE ?", []any{like, like}
	if e.sc.name != nil {
		nl := "%" + strings.ToLower(strings.TrimSpace(e.u.Name)) + "%"
		where, args = where+" OR lower(body) LIKE ? OR lower(name) LIKE ?", append(args, nl, nl)
	}
	type canned struct {
		ID   int64  `bun:"id"`
		Name string `bun:"name"`
		Body string `bun:"body"`
	}
	var cs []canned
	if err := e.q.db.NewRaw("SELECT id, name, body FROM canned_responses WHERE "+where, args...).Scan(ctx, &cs); err != nil && ignoreNoRows(err) != nil {
		return fmt.Errorf("store: erase canned: %w", err)
	}
	for _, c := range cs {
		name, body := e.sc.text(c.Name), e.sc.text(c.Body)
		if name != c.Name || body != c.Body {
			if err := e.exec(ctx, &e.c.Canned, "UPDATE canned_responses SET name = ?, body = ? WHERE id = ?", name, body, c.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// notifications deletes theirs and scrubs others' that quote them.
func (e *eraser) notifications(ctx context.Context) error {
	if err := e.exec(ctx, &e.c.Notifications, "DELETE FROM notifications WHERE user_id = ?", e.u.ID); err != nil {
		return err
	}
	// The live event log (store/event.go) quotes subjects, comments and
	// names: its entries about them go (a stream resuming past them just
	// does not get them).
	if err := e.exec(ctx, nil, "DELETE FROM events WHERE ticket_id IN (?) OR user_id = ? OR data LIKE ?",
		in(e.involved), e.u.ID, "%"+e.u.Email+"%"); err != nil {
		return err
	}
	if len(e.u.Name) >= 3 {
		if err := e.exec(ctx, nil, "DELETE FROM events WHERE data LIKE ?", "%"+e.u.Name+"%"); err != nil {
			return err
		}
	}
	rows, err := e.texts(ctx, "SELECT id, message AS text FROM notifications WHERE ticket_id IN (?) OR message LIKE ?",
		in(e.involved), "%"+e.u.Email+"%")
	if err != nil {
		return err
	}
	for _, r := range rows {
		clean := e.sc.text(r.Text)
		if e.sc.excerpt(clean) {
			clean = e.t.Placeholder
		}
		if clean != r.Text {
			if err := e.exec(ctx, &e.c.Notifications, "UPDATE notifications SET message = ? WHERE id = ?", clean, r.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// audit rewrites the before/after records (whole user rows, ticket
// subjects, participant addresses) and the actor address.
func (e *eraser) audit(ctx context.Context) error {
	type row struct {
		ID         int64  `bun:"id"`
		ActorEmail string `bun:"actor_email"`
		Before     string `bun:"before"`
		After      string `bun:"after"`
	}
	var rows []row
	like := "%" + e.u.Email + "%"
	sel := `SELECT id, actor_email, before, after FROM audit_log WHERE actor_id = ? OR (entity = 'user' AND entity_id = ?)
		OR (entity = 'ticket' AND entity_id IN (?)) OR lower(before) LIKE ? OR lower(after) LIKE ? OR lower(actor_email) LIKE ?`
	args := []any{e.u.ID, e.u.ID, in(e.involved), like, like, like}
	if n := strings.TrimSpace(e.u.Name); utf8.RuneCountInString(n) >= 3 {
		nl := "%" + strings.ToLower(n) + "%"
		sel += " OR lower(before) LIKE ? OR lower(after) LIKE ?"
		args = append(args, nl, nl)
	}
	if err := e.q.db.NewRaw(sel, args...).Scan(ctx, &rows); err != nil && ignoreNoRows(err) != nil {
		return fmt.Errorf("store: erase audit: %w", err)
	}
	for _, r := range rows {
		actor, before, after := e.sc.text(r.ActorEmail), e.sc.json(r.Before), e.sc.json(r.After)
		if actor == r.ActorEmail && before == r.Before && after == r.After {
			continue
		}
		if err := e.exec(ctx, &e.c.Audit, "UPDATE audit_log SET actor_email = ?, before = ?, after = ? WHERE id = ?",
			actor, before, after, r.ID); err != nil {
			return err
		}
	}
	return nil
}

// rest: sessions end, consent IPs go, request notes lose their name, the
// suppression row of their address goes.
func (e *eraser) rest(ctx context.Context) error {
	id := e.u.ID
	if err := e.exec(ctx, &e.c.Sessions, "DELETE FROM sessions WHERE user_id = ?", id); err != nil {
		return err
	}
	// The account's own tables: avatar, second factors, devices, invitations.
	for _, q := range []string{"DELETE FROM user_avatars WHERE user_id = ?", "DELETE FROM otp_codes WHERE user_id = ?",
		"DELETE FROM recovery_codes WHERE user_id = ?", "DELETE FROM webauthn_credentials WHERE user_id = ?",
		"DELETE FROM known_devices WHERE user_id = ?", "DELETE FROM account_mails WHERE user_id = ?",
		"UPDATE users SET avatar_type = '', webauthn_handle = NULL WHERE id = ?"} {
		if err := e.exec(ctx, nil, q, id); err != nil {
			return err
		}
	}
	if err := e.exec(ctx, nil, "DELETE FROM invites WHERE email = ?", e.u.Email); err != nil {
		return err
	}
	if err := e.exec(ctx, &e.c.Consents, "UPDATE lgpd_consents SET ip = '' WHERE user_id = ? AND ip <> ''", id); err != nil {
		return err
	}
	rows, err := e.texts(ctx, "SELECT id, note AS text FROM lgpd_requests WHERE user_id = ?", id)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if err := e.exec(ctx, &e.c.Requests, "UPDATE lgpd_requests SET note = ?, resolution = '' WHERE id = ?", e.sc.text(r.Text), r.ID); err != nil {
			return err
		}
	}
	return e.exec(ctx, &e.c.SuppressionRows, "DELETE FROM mail_addresses WHERE email = ?", e.u.Email)
}

// profileColumns are personal columns a later migration may add to users
// (the portal's phone and avatar): cleared when present.
var profileColumns = []string{"phone", "avatar", "avatar_type", "avatar_url", "avatar_sha256"}

// profile replaces the account's identity; the row stays (tickets,
// ratings and counts point at it) but can no longer sign in.
func (e *eraser) profile(ctx context.Context) error {
	err := e.exec(ctx, nil, `UPDATE users SET email = ?, name = ?, password_hash = '', totp_secret = '', totp_enabled = ?,
		disabled = ?, notify_prefs = '{}' WHERE id = ?`, e.t.AnonEmail, e.t.AnonName, false, true, e.u.ID)
	if err != nil {
		return err
	}
	cols, err := e.q.columns(ctx, "users")
	if err != nil {
		return err
	}
	for _, name := range profileColumns {
		if !cols[name] {
			continue
		}
		e.c.ProfileColumns++
		// NULL where the column allows it, else empty.
		err := e.q.Savepoint(ctx, "erase_"+name, func() error {
			return e.exec(ctx, nil, "UPDATE users SET "+name+" = NULL WHERE id = ?", e.u.ID)
		})
		if err != nil {
			if err := e.exec(ctx, nil, "UPDATE users SET "+name+" = '' WHERE id = ?", e.u.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// columns lists a table's column names.
func (q *Q) columns(ctx context.Context, table string) (map[string]bool, error) {
	var names []string
	var err error
	if q.pg {
		err = q.db.NewRaw("SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?", table).Scan(ctx, &names)
	} else {
		err = q.db.NewRaw("SELECT name FROM pragma_table_info(?)", table).Scan(ctx, &names)
	}
	if err != nil && ignoreNoRows(err) != nil {
		return nil, fmt.Errorf("store: columns of %s: %w", table, err)
	}
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m, nil
}

// Compact makes erased data unrecoverable from the database files, as far
// as the database allows: on SQLite it merges full-text indexes (their
// segments keep old terms until merged) and checkpoints the WAL into the
// main file, truncating the WAL; with secure_delete on, freed pages were
// already zeroed. PostgreSQL keeps dead row versions until VACUUM
// (autovacuum, or VACUUM by the operator); nothing to do here.
func (s *Store) Compact(ctx context.Context) error {
	if s.driver != SQLite {
		return nil
	}
	var fts []string
	err := s.write.NewRaw("SELECT name FROM sqlite_master WHERE type = 'table' AND lower(sql) LIKE '%using fts%' AND lower(sql) NOT LIKE '%using fts5vocab%'").Scan(ctx, &fts)
	if err != nil && ignoreNoRows(err) != nil {
		return fmt.Errorf("store: compact: %w", err)
	}
	for _, t := range fts {
		if !validIdent(t) {
			continue
		}
		if _, err := s.write.ExecContext(ctx, "INSERT INTO "+t+"("+t+") VALUES ('optimize')"); err != nil {
			return fmt.Errorf("store: compact %s: %w", t, err)
		}
	}
	// A reader in the middle of a query keeps the WAL alive: try again a
	// few times before saying so.
	for attempt := 0; ; attempt++ {
		var busy, logPages, done int
		if err := s.write.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logPages, &done); err != nil {
			return fmt.Errorf("store: compact: %w", err)
		}
		if busy == 0 {
			return nil
		}
		if attempt == 20 {
			return errors.New("store: compact: readers kept the WAL busy; run `PRAGMA wal_checkpoint(TRUNCATE)` later")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
