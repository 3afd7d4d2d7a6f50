// Package intake turns inbound mail into ticket changes. The SMTP receiver,
// the IMAP poller and the `mail ingest` pipe all hand their raw bytes to
// Intake.Deliver; the rules live here and nowhere else.
package intake

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/pprof"
	"strings"
	"sync"
	"time"

	"github.com/jcservicedesk/servicedesk/mailbox/auth"
	"github.com/jcservicedesk/servicedesk/mailbox/classify"
	"github.com/jcservicedesk/servicedesk/mailbox/delivery"
	"github.com/jcservicedesk/servicedesk/mailbox/parse"
	"github.com/jcservicedesk/servicedesk/mailbox/thread"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// Unknown-sender policies.
const (
	UnknownCreate     = "create"
	UnknownQuarantine = "quarantine"
	UnknownReject     = "reject"
)

// ReasonNotMail is the quarantine reason for input that is not a message.
const ReasonNotMail = "not an RFC 5322 message"

// DefaultMaxAttempts is Config.MaxAttempts when unset.
const DefaultMaxAttempts = 3

// Config is what the intake needs of the configuration.
type Config struct {
	Addresses        []string // the helpdesk's own addresses
	CommentAddress   string   // mail to it from staff becomes an internal note
	UnknownSender    string   // create | quarantine | reject
	DefaultCompany   string   // company of senders created by the create policy
	DefaultRole      string   // role of users created from mail
	ReopenDays       int
	SubjectTagPrefix string
	RateLimitPerHour int
	Secret           []byte   // signs reply tokens
	LoopValues       []string // values of our loop header
	MaxMessageBytes  int64
	MaxAttachment    int64
	// MaxParts caps the MIME parts read from one message (0 = parse's
	// default); what is past it is left out with a note.
	MaxParts int
	// MaxAttempts is how many times a message may fail the same way (an
	// error that is not the database being unavailable) before it is
	// quarantined instead of retried (default 3).
	MaxAttempts int
	// PostmasterAddress receives, forwarded, the mail for postmaster@ and
	// abuse@ at the helpdesk's domains; "" keeps such mail in quarantine.
	PostmasterAddress string
	// FromAddress is the From of mail the intake itself sends (the
	// postmaster forward): the helpdesk's sender address.
	FromAddress   string
	AttachmentURL func(id int64) string // link for inline images; default /attachments/{id}
	// Sender authentication (auth.go): nil checks nothing (tests of other
	// rules); the daemon always sets it.
	Auth          Authenticator
	SenderPolicy  string // mail.sender_policy: flag | quarantine | reject
	BounceAddress string // VERP base (bounce@domain); bounces to its +token form are ours
}

// Intake commits inbound mail.
type Intake struct {
	cfg Config
	svc *ticketing.Service
	st  *store.Store
	log *slog.Logger

	mu    sync.Mutex
	group *committer // the running group committer (SQLite, during Run); nil otherwise
}

// New returns an Intake. On SQLite, Run groups the commits of concurrent
// deliveries into one fsync'd transaction; without Run (a one-shot `mail
// ingest`), and on PostgreSQL, each message commits on its own.
func New(cfg Config, svc *ticketing.Service, log *slog.Logger) *Intake {
	if cfg.AttachmentURL == nil {
		cfg.AttachmentURL = func(id int64) string { return fmt.Sprintf("/attachments/%d", id) }
	}
	if cfg.SubjectTagPrefix == "" {
		cfg.SubjectTagPrefix = "#"
	}
	if cfg.DefaultRole == "" {
		cfg.DefaultRole = store.RoleClient
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if log == nil {
		log = slog.Default()
	}
	return &Intake{cfg: cfg, svc: svc, st: svc.Store(), log: log}
}

// inbound is one message on its way in.
type inbound struct {
	env        delivery.Envelope
	raw        []byte
	rawGz      []byte         // raw, gzipped: before the commit, off the one writer
	msg        *parse.Message // nil when it could not be parsed
	parseErr   error
	kind       classify.Result
	hash       string
	messageID  string   // normalized
	from       string   // lower-cased From address
	recipients []string // envelope, then To, Cc, Delivered-To, X-Original-To
	// headerRecipients are the To and Cc addresses.
	headerRecipients []string
	// reuses is the earlier, different message with the same Message-ID
	// (found while looking for duplicates), or nil.
	reuses    *store.MailMessage
	auth      *auth.Result // nil when not checked (no Authenticator)
	newSender bool         // the sender's user was created from this message
	// joined is the thread decision that let a sender not otherwise
	// allowed onto the ticket; related is the ticket answered by someone
	// not on its thread (the new ticket is linked to it).
	joined  *ticketing.ThreadDecision
	related *candidate
	trust   delivery.SenderTrust
}

// Deliver commits one message: as a new ticket, a comment, a recorded
// bounce, an ignored duplicate or automated message, or a quarantine entry
// with its reason. It returns an error only when nothing could be stored;
// the transport then asks the sender to retry. A message that keeps
// failing is not retried forever: after Config.MaxAttempts failures that
// are its own (not the database being unavailable) it is quarantined.
func (in *Intake) Deliver(ctx context.Context, env delivery.Envelope, raw []byte) (delivery.Outcome, error) {
	ctx = ticketing.WithVia(ctx, ticketing.ViaMail, string(env.Source))
	if env.ReceivedAt.IsZero() {
		env.ReceivedAt = time.Now()
	}
	var m *inbound
	pprof.Do(ctx, stageParse, func(context.Context) { m = in.prepare(env, raw) })
	var (
		out delivery.Outcome
		err error
	)
	pprof.Do(ctx, stageCommit, func(ctx context.Context) { out, err = in.deliverParsed(ctx, m) })
	return out, err
}

// CPU profile labels of the intake's stages (internal/cpustage sums
// them): each runs under pprof.Do with the label in its ctx, so a label
// set inside (the outbox's rendering within commit) ends where it began.
var (
	stageParse        = pprof.Labels("stage", "parse")
	stageAuthenticate = pprof.Labels("stage", "authenticate")
	stageCommit       = pprof.Labels("stage", "commit")
)

// withStage labels the calling goroutine, and the goroutines it starts,
// with a stage until unlabel runs; the returned ctx carries the label so
// that a pprof.Do under it restores it. For a loop that runs for good
// (the group committer), where pprof.Do around it would be a larger edit.
func withStage(ctx context.Context, stage string) (_ context.Context, unlabel func()) {
	parent := ctx
	ctx = pprof.WithLabels(ctx, pprof.Labels("stage", stage))
	pprof.SetGoroutineLabels(ctx)
	return ctx, func() { pprof.SetGoroutineLabels(parent) }
}

// deliverParsed stores a prepared message: quarantined when it is not mail,
// else authenticated and committed (labelled "commit" for profiles, but
// for the authentication).
func (in *Intake) deliverParsed(ctx context.Context, m *inbound) (delivery.Outcome, error) {
	env := m.env
	if m.parseErr != nil {
		if env.Source == delivery.SourceSMTP && errors.Is(m.parseErr, parse.ErrNotMail) {
			// Refuse garbage at the door rather than keep it.
			return delivery.Outcome{}, &delivery.RejectError{Reason: "message is not RFC 5322 mail"}
		}
		reason := ReasonNotMail
		if errors.Is(m.parseErr, parse.ErrTooLarge) {
			reason = "over the size limit (smtp.max_message_bytes): " + m.parseErr.Error()
		}
		return in.quarantine(ctx, m, reason)
	}
	var err error
	pprof.Do(ctx, stageAuthenticate, func(ctx context.Context) { err = in.authenticate(ctx, m) })
	if err != nil {
		return delivery.Outcome{}, err
	}
	out, err := in.commit(ctx, m)
	var rej *delivery.RejectError
	switch {
	case err == nil:
		return out, nil
	case errors.As(err, &rej):
		if env.Source == delivery.SourceSMTP {
			return delivery.Outcome{}, err
		}
		// Already accepted by a mailbox or MTA: keep it.
		return in.quarantine(ctx, m, rej.Reason)
	case errors.Is(err, ErrStopped):
		return delivery.Outcome{}, err
	case ctx.Err() != nil:
		return delivery.Outcome{}, fmt.Errorf("intake: %w", ctx.Err())
	case in.unavailable(ctx, err):
		// A store that cannot serve now (restarting, busy, a connection
		// lost mid-commit) is a reason to retry, never to count against
		// the message.
		return delivery.Outcome{}, &TempError{Err: err}
	}
	return in.failed(ctx, m, err)
}

// TempError is a failure the sender should retry (SMTP 451, pipe exit 75,
// the IMAP poller's next pass): nothing of the message was stored.
type TempError struct {
	Err     error
	Attempt int // the message's own failed attempts so far; 0 when the store was unavailable
	Max     int
}

func (e *TempError) Error() string {
	if e.Attempt > 0 {
		return fmt.Sprintf("intake: attempt %d of %d failed, retry later: %v", e.Attempt, e.Max, e.Err)
	}
	return fmt.Sprintf("intake: database unavailable, retry later: %v", e.Err)
}

func (e *TempError) Unwrap() error { return e.Err }

// unavailable reports an error that says the database cannot serve now,
// rather than something about this message.
func (in *Intake) unavailable(ctx context.Context, err error) bool {
	if store.IsUnavailable(err) || store.IsRetryable(err) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, sql.ErrConnDone) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return true
	}
	// An error we do not recognise while the store is down is the store's.
	return in.st.Ping(ctx) != nil
}

// failed counts a failure of m's own and quarantines m once it has failed
// MaxAttempts times; before that the sender retries.
func (in *Intake) failed(ctx context.Context, m *inbound, cause error) (delivery.Outcome, error) {
	// Held already (its 250 was lost and it came again): that entry stands.
	if old, err := in.st.R().QuarantineByHash(ctx, m.hash); err == nil {
		return delivery.Outcome{Action: store.MailQuarantine, Reason: old.Reason, QuarantineID: old.ID}, nil
	}
	var n int
	err := in.st.InTx(ctx, func(q *store.Q) (err error) {
		n, err = q.RecordMailAttempt(ctx, m.hash, string(m.env.Source), oneLine(cause.Error()))
		return err
	})
	if err != nil {
		return delivery.Outcome{}, &TempError{Err: fmt.Errorf("%w (and counting the attempt failed: %v)", cause, err)}
	}
	if n < in.cfg.MaxAttempts {
		in.log.Warn("mail could not be placed; the sender will retry", "attempt", n, "max_attempts", in.cfg.MaxAttempts,
			"message_id", m.messageID, "from", m.from, "err", cause)
		return delivery.Outcome{}, &TempError{Err: cause, Attempt: n, Max: in.cfg.MaxAttempts}
	}
	in.log.Warn("mail failed every attempt; quarantining", "attempts", n, "message_id", m.messageID, "from", m.from, "err", cause)
	return in.quarantine(ctx, m, fmt.Sprintf("held after %d failed attempts (mail.max_attempts): %s", n, oneLine(cause.Error())))
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 500 {
		s = s[:500]
	}
	return s
}

// prepare parses and classifies outside any transaction.
func (in *Intake) prepare(env delivery.Envelope, raw []byte) *inbound {
	m := &inbound{env: env, raw: raw}
	m.msg, m.parseErr = parse.Parse(raw, parse.Limits{MaxMessageBytes: in.cfg.MaxMessageBytes, MaxAttachmentBytes: in.cfg.MaxAttachment, MaxParts: in.cfg.MaxParts})
	m.hash = contentHash(raw)
	m.rawGz = store.Gzip(raw)
	if m.parseErr != nil {
		return m
	}
	m.messageID = thread.NormalizeID(m.msg.MessageID)
	m.from = store.NormalizeEmail(m.msg.From.Email)
	nullSender := env.Source == delivery.SourceSMTP && env.MailFrom == ""
	m.kind = classify.ClassifyMessage(raw, m.msg.Header, env.MailFrom, nullSender, in.cfg.LoopValues)
	seen := map[string]bool{}
	add := func(a string) {
		a = store.NormalizeEmail(a)
		if a != "" && !seen[a] {
			seen[a] = true
			m.recipients = append(m.recipients, a)
		}
	}
	for _, r := range env.Recipients {
		add(r)
	}
	for _, a := range append(append([]parse.Address(nil), m.msg.To...), m.msg.Cc...) {
		add(a.Email)
		if e := store.NormalizeEmail(a.Email); e != "" {
			m.headerRecipients = append(m.headerRecipients, e)
		}
	}
	for _, h := range []string{"Delivered-To", "X-Original-To"} {
		for _, v := range m.msg.Header.Values(h) {
			add(strings.Trim(strings.TrimSpace(v), "<>"))
		}
	}
	return m
}

// contentHash identifies a message independently of the path it took: the
// identifying headers and the body, without trace headers that each hop
// adds, and with line endings normalized.
//
// Input without any of those headers (not mail at all) is identified by
// all its bytes: hashing only the empty headers and the missing body made
// every such input one entry, and later ones were lost.
func contentHash(raw []byte) string {
	h := sha256.New()
	head, body := splitMessage(raw)
	found := false
	for _, name := range []string{"message-id", "from", "to", "cc", "subject", "date"} {
		v := headerValue(head, name)
		found = found || v != ""
		h.Write([]byte(name + ":" + v + "\n"))
	}
	if !found {
		whole := sha256.Sum256(raw)
		return "raw:" + hex.EncodeToString(whole[:])
	}
	body = bytes.ReplaceAll(body, []byte("\r\n"), []byte("\n"))
	h.Write(bytes.TrimRight(body, " \t\r\n"))
	return hex.EncodeToString(h.Sum(nil))
}

func splitMessage(raw []byte) (head, body []byte) {
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\n' {
			continue
		}
		rest := raw[i+1:]
		if bytes.HasPrefix(rest, []byte("\r\n")) {
			return raw[:i+1], rest[2:]
		}
		if bytes.HasPrefix(rest, []byte("\n")) {
			return raw[:i+1], rest[1:]
		}
	}
	return raw, nil
}

// headerValue returns the unfolded value of the first header named name
// (lower-case).
func headerValue(head []byte, name string) string {
	lines := bytes.Split(head, []byte("\n"))
	for i := 0; i < len(lines); i++ {
		l := bytes.TrimRight(lines[i], "\r")
		k, v, ok := bytes.Cut(l, []byte(":"))
		if !ok || !strings.EqualFold(string(bytes.TrimSpace(k)), name) {
			continue
		}
		val := string(bytes.TrimSpace(v))
		for j := i + 1; j < len(lines) && len(lines[j]) > 0 && (lines[j][0] == ' ' || lines[j][0] == '\t'); j++ {
			val += " " + string(bytes.TrimSpace(bytes.TrimRight(lines[j], "\r")))
		}
		return strings.Join(strings.Fields(val), " ")
	}
	return ""
}

// envelopeJSON keeps what the transport knew, so a reprocessed message is
// placed as it would have been (a Bcc to the comment address, a reply
// token only in RCPT TO).
func envelopeJSON(env delivery.Envelope) string {
	b, _ := json.Marshal(env)
	return string(b)
}

// EnvelopeFromJSON restores a quarantined message's envelope.
func EnvelopeFromJSON(s string) (delivery.Envelope, error) {
	var env delivery.Envelope
	if err := json.Unmarshal([]byte(s), &env); err != nil {
		return env, fmt.Errorf("intake: quarantined envelope %q: %w", s, err)
	}
	return env, nil
}

// Reprocessed is what a quarantine reprocess did.
type Reprocessed struct {
	ID      int64            // the entry reprocessed (released unless it failed)
	Outcome delivery.Outcome // with QuarantineID when it is held again, under a new id
}

// Reprocess runs a held message through the intake again (after its cause
// was fixed), as actor: released first, so that if it lands in quarantine
// again that is a new entry with the new reason (Outcome.QuarantineID); if
// it cannot be stored at all it is held again. Admins only; audited.
func (in *Intake) Reprocess(ctx context.Context, actor *store.User, id int64) (Reprocessed, error) {
	held, body, err := in.st.R().QuarantineGet(ctx, id)
	if err != nil {
		return Reprocessed{}, err
	}
	// Place it as it would have been placed: same recipients and envelope
	// sender (a Bcc to the comment address, a reply token only in RCPT
	// TO), but as accepted mail, never refused.
	env, err := EnvelopeFromJSON(held.Envelope)
	if err != nil {
		return Reprocessed{}, err
	}
	env.Source, env.ReceivedAt = delivery.SourcePipe, time.Now()
	if err := in.svc.ReleaseQuarantined(ctx, actor, id, false); err != nil {
		return Reprocessed{}, err
	}
	out, err := in.Deliver(ctx, env, body)
	if err != nil {
		if herr := in.svc.ReleaseQuarantined(context.WithoutCancel(ctx), actor, id, true); herr != nil {
			in.log.Error("reprocess failed and the mail could not be held again", "quarantine_id", id, "err", err, "hold_err", herr)
			return Reprocessed{}, fmt.Errorf("reprocess %d: %w; and holding it again failed: %v", id, err, herr)
		}
		return Reprocessed{}, fmt.Errorf("reprocess %d (still held): %w", id, err)
	}
	return Reprocessed{ID: id, Outcome: out}, nil
}

// quarantine keeps the whole message with a reason, durably.
func (in *Intake) quarantine(ctx context.Context, m *inbound, reason string) (delivery.Outcome, error) {
	q := &store.Quarantined{Reason: reason, Source: string(m.env.Source), Envelope: envelopeJSON(m.env), ContentHash: m.hash,
		MessageID: m.messageID, FromAddr: m.from, RawSize: int64(len(m.raw)), RawGz: m.rawGz}
	if m.msg != nil {
		q.Subject = m.msg.Subject
	}
	err := in.st.InTxDurable(ctx, func(tx *store.Q) error {
		if err := tx.ClearMailAttempts(ctx, m.hash); err != nil {
			return err
		}
		// The same message quarantined again (a retry) is kept once.
		if old, err := tx.QuarantineByHash(ctx, m.hash); err == nil {
			q.ID = old.ID
			return nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return tx.Quarantine(ctx, q)
	})
	if err != nil {
		return delivery.Outcome{}, fmt.Errorf("intake: quarantine: %w", err)
	}
	in.log.Info("mail quarantined", "id", q.ID, "reason", reason, "from", m.from, "source", m.env.Source)
	return delivery.Outcome{Action: store.MailQuarantine, Reason: reason, QuarantineID: q.ID}, nil
}
