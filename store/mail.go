package store

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"
)

// Mail actions: what the intake did with a message.
const (
	MailTicket     = "ticket"
	MailComment    = "comment"
	MailBounce     = "bounce"
	MailIgnored    = "ignored"
	MailQuarantine = "quarantine"
	// MailForwarded: mail to postmaster@ or abuse@, passed on to
	// mail.postmaster_address.
	MailForwarded = "forwarded"
)

// MailMessage is one ingested message with its raw copy (gzip), kept so it
// can be re-processed or downloaded as .eml.
type MailMessage struct {
	bun.BaseModel `bun:"table:mail_messages,alias:mm"`

	ID          int64     `bun:"id,pk,autoincrement" json:"id"`
	MessageID   string    `bun:"message_id,notnull" json:"message_id"`
	ContentHash string    `bun:"content_hash,notnull" json:"content_hash"`
	Source      string    `bun:"source,notnull" json:"source"`
	MailFrom    string    `bun:"mail_from,notnull" json:"mail_from"`
	Recipients  string    `bun:"recipients,notnull" json:"recipients"`
	RemoteAddr  string    `bun:"remote_addr,notnull" json:"remote_addr"`
	Mailbox     string    `bun:"mailbox,notnull" json:"mailbox"`
	UIDValidity int64     `bun:"uid_validity,notnull" json:"uid_validity"`
	UID         int64     `bun:"uid,notnull" json:"uid"`
	FromAddr    string    `bun:"from_addr,notnull" json:"from_addr"`
	Subject     string    `bun:"subject,notnull" json:"subject"`
	DateHeader  string    `bun:"date_header,notnull" json:"date_header"`
	Kind        string    `bun:"kind,notnull" json:"kind"`
	Action      string    `bun:"action,notnull" json:"action"`
	Reason      string    `bun:"reason,notnull" json:"reason"`
	TicketID    *int64    `bun:"ticket_id" json:"ticket_id"`
	CommentID   *int64    `bun:"comment_id" json:"comment_id"`
	RawSize     int64     `bun:"raw_size,notnull" json:"raw_size"`
	RawGz       []byte    `bun:"raw_gz,notnull" json:"-"`
	ReceivedAt  time.Time `bun:"received_at,notnull" json:"received_at"`
	// What sender authentication found (mail_auth.go), written with the
	// row.
	AuthVerdict string `bun:"auth_verdict,notnull" json:"-"`
	AuthSummary string `bun:"auth_summary,notnull" json:"-"`
}

// gzipWriters reuses compressors: a new one allocates about a megabyte,
// which dominated the cost of storing each ingested mail.
var gzipWriters = sync.Pool{New: func() any {
	return must(gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)) // fails only for a bad level
}}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// Gzip compresses raw mail for storage.
func Gzip(raw []byte) []byte {
	var buf bytes.Buffer
	buf.Grow(len(raw)/3 + 64)
	zw := gzipWriters.Get().(*gzip.Writer)
	zw.Reset(&buf)
	// A gzip.Writer fails only when its destination does, and a
	// bytes.Buffer does not.
	_, _ = zw.Write(raw)
	_ = zw.Close()
	gzipWriters.Put(zw)
	return buf.Bytes()
}

// Gunzip restores raw mail.
func Gunzip(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("store: gunzip: %w", err)
	}
	defer zr.Close()
	out, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("store: gunzip: %w", err)
	}
	return out, nil
}

// InsertMailMessage records an ingested message. The content hash is
// unique: a second copy is ErrConflict.
func (q *Q) InsertMailMessage(ctx context.Context, m *MailMessage) error {
	if m.ReceivedAt.IsZero() {
		m.ReceivedAt = now()
	}
	if err := q.hotInsert(ctx, m, &m.ID); err != nil {
		return conflict(err, "mail "+m.ContentHash)
	}
	return nil
}

// InsertPendingMail records a message about to be placed, without its raw
// copy: FinishMailMessage writes that with the outcome, once. SQLite
// rewrites a whole row on update, so a row inserted with its raw message
// and then given its outcome wrote a 50 KB attachment twice.
func (q *Q) InsertPendingMail(ctx context.Context, m *MailMessage) error {
	row := *m
	row.RawGz = []byte{}
	err := q.InsertMailMessage(ctx, &row)
	m.ID, m.ReceivedAt = row.ID, row.ReceivedAt
	return err
}

// FinishMailMessage saves the outcome columns of a pending message
// (InsertPendingMail) and its raw copy, which m must carry.
func (q *Q) FinishMailMessage(ctx context.Context, m *MailMessage) error {
	if len(m.RawGz) == 0 {
		return fmt.Errorf("store: finish mail %d: no raw copy to write", m.ID)
	}
	_, err := q.hotExec(ctx, hotMailUpdate, m.Action, m.Reason, m.Kind, m.TicketID, m.CommentID, m.RawGz, m.ID)
	if err != nil {
		return fmt.Errorf("store: update mail %d: %w", m.ID, err)
	}
	return nil
}

// MailByHash finds an ingested message by content hash.
func (q *Q) MailByHash(ctx context.Context, hash string) (*MailMessage, error) {
	m := new(MailMessage)
	err := q.db.NewSelect().Model(m).ExcludeColumn("raw_gz").Where("content_hash = ?", hash).Scan(ctx)
	if err != nil {
		return nil, notFound(err, "mail "+hash)
	}
	return m, nil
}

// MailsForDuplicate lists, in one query, the ingested messages with this
// content hash or this Message-ID (empty: by hash only), oldest first.
func (q *Q) MailsForDuplicate(ctx context.Context, hash, messageID string) ([]*MailMessage, error) {
	if messageID == "" {
		m, err := q.MailByHash(ctx, hash)
		if errors.Is(err, ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return []*MailMessage{m}, nil
	}
	var ms []*MailMessage
	if err := q.hotScan(ctx, &ms, hotMailDup, hash, messageID); err != nil {
		return nil, fmt.Errorf("store: mail for duplicate check: %w", err)
	}
	return ms, nil
}

// MailsByMessageID lists ingested messages with this Message-ID.
func (q *Q) MailsByMessageID(ctx context.Context, messageID string) ([]*MailMessage, error) {
	var ms []*MailMessage
	err := q.db.NewSelect().Model(&ms).ExcludeColumn("raw_gz").Where("message_id = ?", messageID).Order("id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: mail by message-id: %w", err)
	}
	return ms, nil
}

// MailRaw returns the raw bytes of an ingested message.
func (q *Q) MailRaw(ctx context.Context, id int64) (*MailMessage, []byte, error) {
	m := new(MailMessage)
	if err := q.db.NewSelect().Model(m).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, nil, notFound(err, "mail "+strconv.FormatInt(id, 10))
	}
	raw, err := Gunzip(m.RawGz)
	if err != nil {
		return nil, nil, fmt.Errorf("store: mail %d: %w", id, err)
	}
	return m, raw, nil
}

// CountMailFrom counts messages from an address since t (loop limits).
func (q *Q) CountMailFrom(ctx context.Context, from string, since time.Time) (int, error) {
	n, err := q.db.NewSelect().Model((*MailMessage)(nil)).Where("from_addr = ? AND received_at >= ?", from, since).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: count mail: %w", err)
	}
	return int(n), nil
}

// CountMail counts ingested messages by action (reports and tests).
func (q *Q) CountMail(ctx context.Context) (map[string]int, error) {
	var rows []struct {
		Action string `bun:"action"`
		N      int    `bun:"n"`
	}
	err := q.db.NewSelect().Model((*MailMessage)(nil)).Column("action").ColumnExpr("count(*) AS n").Group("action").Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("store: count mail: %w", err)
	}
	out := map[string]int{}
	for _, r := range rows {
		out[r.Action] = r.N
	}
	return out, nil
}

// messageIDRow maps a Message-ID we received or sent to its ticket.
type messageIDRow struct {
	bun.BaseModel `bun:"table:mail_message_ids"`
	MessageID     string    `bun:"message_id,pk"`       // normalized, for lookups
	TicketID      int64     `bun:"ticket_id,pk"`        // with MessageID the key: a reused Message-ID maps each of its tickets
	OriginalID    string    `bun:"original_id,notnull"` // as written, for References
	Direction     string    `bun:"direction,notnull"`
	Recipient     string    `bun:"recipient,notnull"`
	Event         string    `bun:"event,notnull"` // outbound: the notice kind (internal_note…)
	CreatedAt     time.Time `bun:"created_at,notnull"`
}

// AddMessageID records that a Message-ID belongs to a ticket: normalized
// for lookups, and as written (Message-IDs are case-sensitive to the mail
// clients that thread on them). A Message-ID may map several tickets (a
// sender that reused it for different mail); lookups take the first.
func (q *Q) AddMessageID(ctx context.Context, r MessageRef) error {
	if r.MessageID == "" {
		return nil
	}
	row := &messageIDRow{MessageID: r.MessageID, OriginalID: r.OriginalID, TicketID: r.TicketID, Direction: r.Direction,
		Recipient: r.Recipient, Event: r.Event, CreatedAt: now()}
	if err := q.hotInsert(ctx, row, nil); err != nil {
		return fmt.Errorf("store: add message-id: %w", err)
	}
	return nil
}

// MessageRef is a Message-ID we received ("in") or sent ("out") and the
// ticket it belongs to.
type MessageRef struct {
	MessageID  string // normalized
	OriginalID string // as written
	TicketID   int64
	Direction  string
	Recipient  string // outbound: to whom
	Event      string // outbound: the notice kind
}

// FindMessageRef returns the first of ids (in the order given) that we
// know, or ErrNotFound.
func (q *Q) FindMessageRef(ctx context.Context, ids []string) (MessageRef, error) {
	if len(ids) == 0 {
		return MessageRef{}, ErrNotFound
	}
	var rows []messageIDRow
	err := q.db.NewSelect().Model(&rows).Where("message_id IN (?)", bun.In(ids)).Order("created_at", "ticket_id").Scan(ctx)
	if err != nil {
		return MessageRef{}, fmt.Errorf("store: message-ids: %w", err)
	}
	byID := map[string]messageIDRow{}
	for _, r := range rows {
		if _, ok := byID[r.MessageID]; !ok { // the first ticket it was seen on
			byID[r.MessageID] = r
		}
	}
	for _, id := range ids {
		if r, ok := byID[id]; ok {
			return MessageRef{MessageID: r.MessageID, OriginalID: r.OriginalID, TicketID: r.TicketID,
				Direction: r.Direction, Recipient: r.Recipient, Event: r.Event}, nil
		}
	}
	return MessageRef{}, ErrNotFound
}

// AnyOutboundEvent reports whether any of ids is an outbound mail of the
// given notice kind (a reply to an internal note stays internal).
func (q *Q) AnyOutboundEvent(ctx context.Context, ids []string, event string) (bool, error) {
	if len(ids) == 0 {
		return false, nil
	}
	ok, err := q.db.NewSelect().Model((*messageIDRow)(nil)).
		Where("message_id IN (?) AND direction = 'out' AND event = ?", bun.In(ids), event).Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("store: message-ids: %w", err)
	}
	return ok, nil
}

// MessageIDsOfTicket lists the Message-IDs of a ticket as written, oldest
// first (for References on outbound mail).
func (q *Q) MessageIDsOfTicket(ctx context.Context, ticketID int64) ([]string, error) {
	var ids []string
	if err := q.hotScan(ctx, &ids, hotMessageIDsTicket, ticketID); err != nil {
		return nil, fmt.Errorf("store: message-ids of ticket: %w", err)
	}
	return ids, nil
}

// Quarantined is mail kept whole because it could not be placed.
type Quarantined struct {
	bun.BaseModel `bun:"table:mail_quarantine,alias:mq"`

	ID          int64      `bun:"id,pk,autoincrement" json:"id"`
	Reason      string     `bun:"reason,notnull" json:"reason"`
	Source      string     `bun:"source,notnull" json:"source"`
	Envelope    string     `bun:"envelope,notnull" json:"envelope"`
	MessageID   string     `bun:"message_id,notnull" json:"message_id"`
	ContentHash string     `bun:"content_hash,notnull" json:"content_hash"`
	FromAddr    string     `bun:"from_addr,notnull" json:"from"`
	Subject     string     `bun:"subject,notnull" json:"subject"`
	RawSize     int64      `bun:"raw_size,notnull" json:"size"`
	RawGz       []byte     `bun:"raw_gz,notnull" json:"-"`
	CreatedAt   time.Time  `bun:"created_at,notnull" json:"created_at"`
	ReleasedAt  *time.Time `bun:"released_at" json:"released_at"`
}

// Quarantine keeps a message with the reason it could not be placed. The
// text columns are made storable first (valid UTF-8 without NUL, which
// PostgreSQL refuses): the message that could not be placed because of
// such bytes must still be kept; its raw copy has them intact.
func (q *Q) Quarantine(ctx context.Context, m *Quarantined) error {
	for _, f := range []*string{&m.Reason, &m.Source, &m.Envelope, &m.MessageID, &m.ContentHash, &m.FromAddr, &m.Subject} {
		*f = StorableText(*f)
	}
	m.CreatedAt = now()
	if _, err := q.db.NewInsert().Model(m).Returning("id").Exec(ctx); err != nil {
		return fmt.Errorf("store: quarantine: %w", err)
	}
	return nil
}

// QuarantineByHash finds a quarantined copy that is still held.
func (q *Q) QuarantineByHash(ctx context.Context, hash string) (*Quarantined, error) {
	m := new(Quarantined)
	err := q.db.NewSelect().Model(m).ExcludeColumn("raw_gz").Where("content_hash = ? AND released_at IS NULL", hash).Limit(1).Scan(ctx)
	if err != nil {
		return nil, notFound(err, "quarantined mail")
	}
	return m, nil
}

// QuarantineList lists held (not released) messages, newest first.
func (q *Q) QuarantineList(ctx context.Context, limit int) ([]*Quarantined, error) {
	if limit <= 0 {
		limit = 100
	}
	return q.QuarantinePage(ctx, limit, 0)
}

// QuarantinePage lists held messages, newest first, skipping offset
// (limit 0: all of them).
func (q *Q) QuarantinePage(ctx context.Context, limit, offset int) ([]*Quarantined, error) {
	var ms []*Quarantined
	sel := q.db.NewSelect().Model(&ms).ExcludeColumn("raw_gz").Where("released_at IS NULL").OrderExpr("id DESC")
	err := page(sel, limit, offset).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: quarantine list: %w", err)
	}
	return ms, nil
}

// QuarantineGet returns one quarantined message with its raw bytes.
func (q *Q) QuarantineGet(ctx context.Context, id int64) (*Quarantined, []byte, error) {
	m := new(Quarantined)
	if err := q.db.NewSelect().Model(m).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, nil, notFound(err, "quarantined mail "+strconv.FormatInt(id, 10))
	}
	raw, err := Gunzip(m.RawGz)
	if err != nil {
		return nil, nil, fmt.Errorf("store: quarantined mail %d: %w", id, err)
	}
	return m, raw, nil
}

// QuarantineRelease marks a message as released (re-processed).
func (q *Q) QuarantineRelease(ctx context.Context, id int64) error {
	res, err := q.db.NewUpdate().Model((*Quarantined)(nil)).Set("released_at = ?", now()).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: release quarantine %d: %w", id, err)
	}
	if n, err := rowsAffected(res); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("%w: quarantined mail %d", ErrNotFound, id)
	}
	return nil
}

// QuarantineDelete removes a quarantined message for good.
func (q *Q) QuarantineDelete(ctx context.Context, id int64) error {
	res, err := q.db.NewDelete().Model((*Quarantined)(nil)).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: delete quarantine %d: %w", id, err)
	}
	if n, err := rowsAffected(res); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("%w: quarantined mail %d", ErrNotFound, id)
	}
	return nil
}

// MailAddress is what we know about an address's deliverability.
type MailAddress struct {
	bun.BaseModel `bun:"table:mail_addresses,alias:ma"`
	Email         string     `bun:"email,pk" json:"email"`
	BouncingSince *time.Time `bun:"bouncing_since" json:"bouncing_since"`
	BounceCount   int        `bun:"bounce_count,notnull" json:"bounce_count"`
	LastBounce    string     `bun:"last_bounce,notnull" json:"last_bounce"`
	UpdatedAt     time.Time  `bun:"updated_at,notnull" json:"updated_at"`
}

// MarkBouncing records a permanent delivery failure to email.
func (q *Q) MarkBouncing(ctx context.Context, email, reason string) error {
	t := now()
	a := &MailAddress{Email: NormalizeEmail(email), BouncingSince: &t, BounceCount: 1, LastBounce: reason, UpdatedAt: t}
	_, err := q.db.NewInsert().Model(a).
		On("CONFLICT (email) DO UPDATE").
		Set("bounce_count = ma.bounce_count + 1").
		Set("bouncing_since = COALESCE(ma.bouncing_since, EXCLUDED.bouncing_since)").
		Set("last_bounce = EXCLUDED.last_bounce").
		Set("updated_at = EXCLUDED.updated_at").
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: mark bouncing: %w", err)
	}
	return nil
}

// ClearBouncing forgets that email bounced (mail came from it again, or an
// admin says so). It reports whether it was marked.
func (q *Q) ClearBouncing(ctx context.Context, email string) (bool, error) {
	res, err := q.hotExec(ctx, hotClearBouncing, now(), NormalizeEmail(email))
	if err != nil {
		return false, fmt.Errorf("store: clear bouncing: %w", err)
	}
	n, err := rowsAffected(res)
	if err != nil {
		return false, err
	}
	return n > 0, nil
}

// BouncingAmong returns which of emails are known to bounce, in one query
// (the notification path checks every recipient of a change at once).
func (q *Q) BouncingAmong(ctx context.Context, emails []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(emails) == 0 {
		return out, nil
	}
	norm := make([]string, len(emails))
	for i, e := range emails {
		norm[i] = NormalizeEmail(e)
	}
	var bouncing []string
	var err error
	if len(norm) == 1 { // the common case: a notice to its one recipient
		err = q.hotScan(ctx, &bouncing, hotBouncingOne, norm[0])
	} else {
		err = q.db.NewSelect().Model((*MailAddress)(nil)).Column("email").
			Where("email IN (?) AND bouncing_since IS NOT NULL", bun.In(norm)).Scan(ctx, &bouncing)
	}
	if err != nil {
		return nil, fmt.Errorf("store: bouncing among: %w", err)
	}
	for _, e := range bouncing {
		out[e] = true
	}
	return out, nil
}

// IsBouncing reports whether mail to email is known to bounce.
func (q *Q) IsBouncing(ctx context.Context, email string) (bool, error) {
	var a MailAddress
	err := q.db.NewSelect().Model(&a).Where("email = ?", NormalizeEmail(email)).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: bouncing: %w", err)
	}
	return a.BouncingSince != nil, nil
}

type imapCursor struct {
	bun.BaseModel `bun:"table:imap_cursors"`
	Mailbox       string    `bun:"mailbox,pk"`
	UIDValidity   int64     `bun:"uid_validity,notnull"`
	LastUID       int64     `bun:"last_uid,notnull"`
	UpdatedAt     time.Time `bun:"updated_at,notnull"`
}

// IMAPCursor returns the stored UIDVALIDITY and last processed UID of a
// mailbox (zeros when none).
func (q *Q) IMAPCursor(ctx context.Context, mailbox string) (uidValidity, lastUID uint32, err error) {
	var c imapCursor
	err = q.db.NewSelect().Model(&c).Where("mailbox = ?", mailbox).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("store: imap cursor: %w", err)
	}
	return uint32(c.UIDValidity), uint32(c.LastUID), nil
}

// SetIMAPCursor stores a mailbox's cursor in a transaction of its own
// (the pollers' bookkeeping, no ticket change).
func (s *Store) SetIMAPCursor(ctx context.Context, mailbox string, uidValidity, lastUID uint32) error {
	return s.InTx(ctx, func(q *Q) error { return q.SetIMAPCursor(ctx, mailbox, uidValidity, lastUID) })
}

// SetIMAPCursor stores a mailbox's cursor.
func (q *Q) SetIMAPCursor(ctx context.Context, mailbox string, uidValidity, lastUID uint32) error {
	c := &imapCursor{Mailbox: mailbox, UIDValidity: int64(uidValidity), LastUID: int64(lastUID), UpdatedAt: now()}
	_, err := q.db.NewInsert().Model(c).On("CONFLICT (mailbox) DO UPDATE").
		Set("uid_validity = EXCLUDED.uid_validity").Set("last_uid = EXCLUDED.last_uid").Set("updated_at = EXCLUDED.updated_at").
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: set imap cursor: %w", err)
	}
	return nil
}

// DeleteMailMessage removes an ingest record (used when the message goes
// to quarantine instead, in the same transaction).
func (q *Q) DeleteMailMessage(ctx context.Context, id int64) error {
	if _, err := q.db.NewDelete().Model((*MailMessage)(nil)).Where("id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("store: delete mail %d: %w", id, err)
	}
	return nil
}

// QuarantineUnrelease holds a message again (a reprocess that failed).
func (q *Q) QuarantineUnrelease(ctx context.Context, id int64) error {
	res, err := q.db.NewUpdate().Model((*Quarantined)(nil)).Set("released_at = NULL").Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: hold quarantine %d: %w", id, err)
	}
	if n, err := rowsAffected(res); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("%w: quarantined mail %d", ErrNotFound, id)
	}
	return nil
}

// BouncingAddresses lists the addresses marked as bouncing.
func (q *Q) BouncingAddresses(ctx context.Context) ([]string, error) {
	var out []string
	err := q.db.NewSelect().Model((*MailAddress)(nil)).Column("email").Where("bouncing_since IS NOT NULL").Order("email").Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("store: bouncing addresses: %w", err)
	}
	return out, nil
}

// MailList lists ingested messages, newest first.
func (q *Q) MailList(ctx context.Context, limit int) ([]*MailMessage, error) {
	if limit <= 0 {
		limit = 50
	}
	return q.MailPage(ctx, limit, 0)
}

// MailPage lists ingested messages, newest first, skipping offset (limit
// 0: all of them).
func (q *Q) MailPage(ctx context.Context, limit, offset int) ([]*MailMessage, error) {
	var ms []*MailMessage
	err := page(q.db.NewSelect().Model(&ms).ExcludeColumn("raw_gz").OrderExpr("id DESC"), limit, offset).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: mail list: %w", err)
	}
	return ms, nil
}

// StorableText is s as every database we run on can store it: valid UTF-8
// with NUL bytes replaced by U+FFFD.
func StorableText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.ReplaceAll(s, "\x00", "\uFFFD")
}

// mailAttempt counts failed attempts to place one inbound message.
type mailAttempt struct {
	bun.BaseModel `bun:"table:mail_attempts,alias:mat"`
	ContentHash   string    `bun:"content_hash,pk"`
	Attempts      int       `bun:"attempts,notnull"`
	LastError     string    `bun:"last_error,notnull"`
	Source        string    `bun:"source,notnull"`
	FirstAt       time.Time `bun:"first_at,notnull"`
	LastAt        time.Time `bun:"last_at,notnull"`
}

// RecordMailAttempt counts one more failed attempt to place the message
// with this content hash and returns how many there were.
func (q *Q) RecordMailAttempt(ctx context.Context, hash, source, errText string) (int, error) {
	t := now()
	a := &mailAttempt{ContentHash: hash, Attempts: 1, LastError: StorableText(errText), Source: source, FirstAt: t, LastAt: t}
	var n int
	err := q.db.NewInsert().Model(a).On("CONFLICT (content_hash) DO UPDATE").
		Set("attempts = mat.attempts + 1").Set("last_error = EXCLUDED.last_error").Set("last_at = EXCLUDED.last_at").
		Returning("attempts").Scan(ctx, &n)
	if err != nil {
		return 0, fmt.Errorf("store: record mail attempt: %w", err)
	}
	return n, nil
}

// ClearMailAttempts forgets the failed attempts of a message that was
// placed or quarantined at last.
func (q *Q) ClearMailAttempts(ctx context.Context, hash string) error {
	if _, err := q.db.NewDelete().Model((*mailAttempt)(nil)).Where("content_hash = ?", hash).Exec(ctx); err != nil {
		return fmt.Errorf("store: clear mail attempts: %w", err)
	}
	return nil
}

// MailAttempts returns how many failed attempts the message with this
// content hash has had (0 when none).
func (q *Q) MailAttempts(ctx context.Context, hash string) (int, error) {
	var a mailAttempt
	err := q.db.NewSelect().Model(&a).Where("content_hash = ?", hash).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: mail attempts: %w", err)
	}
	return a.Attempts, nil
}

// TicketMails lists the ingested messages that became ticketID or one of
// its comments (comments moved or merged in keep their mail), without the
// raw bytes, oldest first.
func (q *Q) TicketMails(ctx context.Context, ticketID int64) ([]*MailMessage, error) {
	var ms []*MailMessage
	err := q.db.NewSelect().Model(&ms).ExcludeColumn("raw_gz").
		Where("mm.ticket_id = ? OR mm.id IN (SELECT mail_id FROM ticket_comments WHERE ticket_id = ? AND mail_id IS NOT NULL)", ticketID, ticketID).
		Order("mm.id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: mails of ticket %d: %w", ticketID, err)
	}
	return ms, nil
}
