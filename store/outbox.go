package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"
)

// Outbox statuses.
const (
	OutboxQueued  = "queued"
	OutboxSending = "sending"
	OutboxSent    = "sent"
	OutboxFailed  = "failed"
)

// OutboxMail is one message to one recipient, written in the transaction
// of the change that caused it and delivered later by the sender loop.
type OutboxMail struct {
	bun.BaseModel `bun:"table:mail_outbox,alias:ob"`

	ID         int64  `bun:"id,pk,autoincrement" json:"id"`
	TicketID   *int64 `bun:"ticket_id" json:"ticket_id"`
	Event      string `bun:"event,notnull" json:"event"`
	AutoKind   string `bun:"auto_kind,notnull" json:"auto_kind"`
	MailFrom   string `bun:"mail_from,notnull" json:"mail_from"`
	Recipients string `bun:"recipients,notnull" json:"to"`
	Subject    string `bun:"subject,notnull" json:"subject"`
	MessageID  string `bun:"message_id,notnull" json:"message_id"`
	Raw        []byte `bun:"raw,notnull" json:"-"`
	// RenderInput is what a mail queued unrendered is composed of (JSON,
	// mailbox/outbound); "" once Raw is stored. Raw is empty until then.
	RenderInput   string     `bun:"render_input,notnull" json:"-"`
	Status        string     `bun:"status,notnull" json:"status"`
	Attempts      int        `bun:"attempts,notnull" json:"attempts"`
	NextAttemptAt time.Time  `bun:"next_attempt_at,notnull" json:"next_attempt_at"`
	ClaimedUntil  *time.Time `bun:"claimed_until" json:"claimed_until"`
	// ClaimToken names the current claim: a sender's marks only count
	// while its claim is the current one.
	ClaimToken string     `bun:"claim_token,notnull" json:"-"`
	LastError  string     `bun:"last_error,notnull" json:"last_error"`
	CreatedAt  time.Time  `bun:"created_at,notnull" json:"created_at"`
	SentAt     *time.Time `bun:"sent_at" json:"sent_at"`
}

// Rendered reports whether m's bytes are stored (false: m waits for the
// sender to render it from RenderInput).
func (m *OutboxMail) Rendered() bool { return len(m.Raw) > 0 }

// EnqueueMail queues m for delivery now. m has its Raw, or a RenderInput
// and Raw empty.
func (q *Q) EnqueueMail(ctx context.Context, m *OutboxMail) error {
	if m.Raw == nil {
		m.Raw = []byte{} // NOT NULL: an unrendered row has no bytes yet
	}
	m.Status = OutboxQueued
	m.CreatedAt = now()
	m.NextAttemptAt = m.CreatedAt
	if _, err := q.db.NewInsert().Model(m).Returning("id").Exec(ctx); err != nil {
		return fmt.Errorf("store: enqueue mail: %w", err)
	}
	return nil
}

// ClaimMail takes up to n due messages for lease: queued ones whose time
// has come, and ones whose previous claimant's lease ran out (it crashed
// between sending and marking). On PostgreSQL concurrent claimants skip
// each other's rows (FOR UPDATE SKIP LOCKED); on SQLite the single writer
// serialises claims.
func (s *Store) ClaimMail(ctx context.Context, n int, lease time.Duration) ([]*OutboxMail, error) {
	var out []*OutboxMail
	err := s.InTx(ctx, func(q *Q) error {
		t := now()
		sub := q.db.NewSelect().Model((*OutboxMail)(nil)).Column("id").
			WhereGroup(" AND ", func(w *bun.SelectQuery) *bun.SelectQuery {
				return w.Where("status = ? AND next_attempt_at <= ?", OutboxQueued, t).
					WhereOr("status = ? AND claimed_until < ?", OutboxSending, t)
			}).
			Order("id").Limit(int64(n))
		if q.pg {
			sub = sub.For("UPDATE SKIP LOCKED")
		}
		until := t.Add(lease)
		var tok [12]byte
		_, _ = rand.Read(tok[:]) // never fails (Go 1.24+: it crashes instead)
		return q.db.NewUpdate().Model(&out).
			Set("status = ?", OutboxSending).Set("claimed_until = ?", until).Set("attempts = attempts + 1").
			Set("claim_token = ?", hex.EncodeToString(tok[:])).
			Where("id IN (?)", sub).Returning("*").Scan(ctx)
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim mail: %w", err)
	}
	return out, nil
}

// MailSent marks a claimed message delivered. token is the claim's (""
// skips the check).
func (s *Store) MailSent(ctx context.Context, id int64, token string) error {
	return s.setMail(ctx, id, token, func(u *bun.UpdateQuery) *bun.UpdateQuery {
		return u.Set("status = ?", OutboxSent).Set("sent_at = ?", now()).Set("claimed_until = NULL").Set("last_error = ''")
	})
}

// MailRendered stores the bytes rendered from a claimed message's
// RenderInput, and the subject they carry, and drops the RenderInput: a
// retry sends the same bytes, `mail outbox show` shows them, and the
// composition data (names, comment text) is kept no longer than needed.
// token is the claim's ("" skips the check).
func (s *Store) MailRendered(ctx context.Context, id int64, token string, raw []byte, subject string) error {
	return s.setMail(ctx, id, token, func(u *bun.UpdateQuery) *bun.UpdateQuery {
		return u.Set("raw = ?", raw).Set("subject = ?", subject).Set("render_input = ''")
	})
}

// MailRetry puts a message back in the queue for a later attempt.
func (s *Store) MailRetry(ctx context.Context, id int64, token string, next time.Time, reason string) error {
	return s.setMail(ctx, id, token, func(u *bun.UpdateQuery) *bun.UpdateQuery {
		return u.Set("status = ?", OutboxQueued).Set("next_attempt_at = ?", next.UTC()).Set("claimed_until = NULL").Set("last_error = ?", reason)
	})
}

// MailFailed records a permanent failure on the message and, as an
// internal note's worth of audit, on its ticket.
func (s *Store) MailFailed(ctx context.Context, id int64, token string, reason string) error {
	return s.InTx(ctx, func(q *Q) error {
		upd := q.db.NewUpdate().Model((*OutboxMail)(nil)).
			Set("status = ?", OutboxFailed).Set("claimed_until = NULL").Set("last_error = ?", reason).
			Where("id = ?", id)
		if token != "" {
			upd = upd.Where("claim_token = ?", token)
		}
		res, err := upd.Exec(ctx)
		if err != nil {
			return fmt.Errorf("store: mail failed: %w", err)
		}
		if n, err := rowsAffected(res); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("%w: outbox mail %d under this claim", ErrNotFound, id)
		}
		m := new(OutboxMail)
		if err := q.db.NewSelect().Model(m).ExcludeColumn("raw", "render_input").Where("id = ?", id).Scan(ctx); err != nil {
			return fmt.Errorf("store: mail failed: %w", err)
		}
		if m.TicketID == nil {
			return nil
		}
		return q.Audit(ctx, nil, 0, "ticket", *m.TicketID, "mail_failed", nil,
			map[string]any{"outbox_id": id, "to": m.Recipients, "event": m.Event, "error": reason})
	})
}

// setMail updates a claimed message, but only while token is still its
// claim: a sender whose lease ran out (and whose mail someone else then
// claimed) cannot overwrite the newer outcome.
func (s *Store) setMail(ctx context.Context, id int64, token string, set func(*bun.UpdateQuery) *bun.UpdateQuery) error {
	return s.InTx(ctx, func(q *Q) error {
		upd := set(q.db.NewUpdate().Model((*OutboxMail)(nil))).Where("id = ?", id)
		if token != "" {
			upd = upd.Where("claim_token = ?", token)
		}
		res, err := upd.Exec(ctx)
		if err != nil {
			return fmt.Errorf("store: outbox mail %d: %w", id, err)
		}
		if n, err := rowsAffected(res); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("%w: outbox mail %d under this claim", ErrNotFound, id)
		}
		return nil
	})
}

// OutboxFilter narrows OutboxList.
type OutboxFilter struct {
	Status   string
	TicketID int64
	Limit    int // 0: 50; negative: no limit
	Offset   int
}

// OutboxList lists outbox messages, newest first.
func (q *Q) OutboxList(ctx context.Context, f OutboxFilter) ([]*OutboxMail, error) {
	var ms []*OutboxMail
	sel := q.db.NewSelect().Model(&ms).ExcludeColumn("raw", "render_input").OrderExpr("id DESC")
	if f.Status != "" {
		sel = sel.Where("status = ?", f.Status)
	}
	if f.TicketID > 0 {
		sel = sel.Where("ticket_id = ?", f.TicketID)
	}
	limit := f.Limit
	if limit == 0 {
		limit = 50
	}
	if err := page(sel, limit, f.Offset).Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: outbox: %w", err)
	}
	return ms, nil
}

// OutboxGet returns one outbox message with its bytes (or, not rendered
// yet, its RenderInput).
func (q *Q) OutboxGet(ctx context.Context, id int64) (*OutboxMail, error) {
	m := new(OutboxMail)
	if err := q.db.NewSelect().Model(m).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "outbox mail "+strconv.FormatInt(id, 10))
	}
	return m, nil
}

// OutboxRequeue makes a failed (or stuck) message due again now.
func (q *Q) OutboxRequeue(ctx context.Context, id int64) error {
	res, err := q.db.NewUpdate().Model((*OutboxMail)(nil)).
		Set("status = ?", OutboxQueued).Set("next_attempt_at = ?", now()).Set("claimed_until = NULL").
		// Not a sent mail, nor one a sender holds right now.
		Where("id = ? AND (status IN (?, ?) OR (status = ? AND claimed_until < ?))", id, OutboxQueued, OutboxFailed, OutboxSending, now()).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: requeue mail %d: %w", id, err)
	}
	if n, err := rowsAffected(res); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("%w: outbox mail %d that is not sent or being sent", ErrNotFound, id)
	}
	return nil
}

// OutboxPurge deletes sent (and, with failedToo, failed) messages older
// than before, and returns how many.
func (q *Q) OutboxPurge(ctx context.Context, before time.Time, failedToo bool) (int64, error) {
	statuses := []string{OutboxSent}
	if failedToo {
		statuses = append(statuses, OutboxFailed)
	}
	res, err := q.db.NewDelete().Model((*OutboxMail)(nil)).
		Where("status IN (?) AND created_at < ?", bun.In(statuses), before.UTC()).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: purge outbox: %w", err)
	}
	n, err := rowsAffected(res)
	if err != nil {
		return 0, err
	}
	return n, nil
}

// CountMailTo counts automatic mails queued to an address since t (the
// per-recipient limit that stops loops with auto-responders).
func (q *Q) CountMailTo(ctx context.Context, to string, since time.Time, autoKind string) (int, error) {
	sel := q.db.NewSelect().Model((*OutboxMail)(nil)).Where("recipients = ? AND created_at >= ?", NormalizeEmail(to), since.UTC())
	if autoKind != "" {
		sel = sel.Where("auto_kind = ?", autoKind)
	}
	n, err := sel.Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: count outbox: %w", err)
	}
	return int(n), nil
}

// OutboxCounts counts outbox messages by status.
func (q *Q) OutboxCounts(ctx context.Context) (map[string]int, error) {
	var rows []struct {
		Status string `bun:"status"`
		N      int    `bun:"n"`
	}
	err := q.db.NewSelect().Model((*OutboxMail)(nil)).Column("status").ColumnExpr("count(*) AS n").Group("status").Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("store: outbox counts: %w", err)
	}
	out := map[string]int{}
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out, nil
}

// MailSentPartial marks a message delivered to some of its recipients and
// records which ones the relay refused.
func (s *Store) MailSentPartial(ctx context.Context, id int64, token string, reason string) error {
	return s.setMail(ctx, id, token, func(u *bun.UpdateQuery) *bun.UpdateQuery {
		return u.Set("status = ?", OutboxSent).Set("sent_at = ?", now()).Set("claimed_until = NULL").Set("last_error = ?", reason)
	})
}
