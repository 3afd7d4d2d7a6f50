package sender

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/jcservicedesk/servicedesk/mailbox/thread"
)

// Message is one queued mail, as claimed from the outbox.
type Message struct {
	ID        int64
	MessageID string
	From      string
	To        []string
	Raw       []byte
	Attempts  int
	CreatedAt time.Time
}

// Queue is the transactional outbox (implemented by the store).
type Queue interface {
	// Claim takes up to n due messages for this sender for lease; a claimed
	// message is not handed to anyone else until the lease ends. Attempts is
	// already incremented.
	Claim(ctx context.Context, n int, lease time.Duration) ([]Message, error)
	Sent(ctx context.Context, id int64) error
	Retry(ctx context.Context, id int64, next time.Time, reason string) error
	// Failed is permanent: recorded on the message (and on the ticket).
	Failed(ctx context.Context, id int64, reason string) error
}

// PartialRecorder is optionally implemented by a Queue to keep the recipients
// the relay refused (5xx) while it accepted the message for the others. The
// message counts as sent; without it, Sent is called and the refusals are only
// logged.
type PartialRecorder interface {
	SentPartial(ctx context.Context, id int64, reason string) error
}

// Renderer is optionally implemented by a Queue whose messages may be
// queued before their bytes exist (Raw empty: the change that queued one
// left rendering and signing until after its commit). Render makes the
// bytes of such a claimed message and stores them before they are sent,
// so a retry sends the same bytes and an inspection shows them. An error
// for which errors.Is(err, ErrUnrenderable) holds fails the message; any
// other (the database busy) is retried like a relay error.
type Renderer interface {
	Render(ctx context.Context, m Message) ([]byte, error)
}

// ErrUnrenderable marks a message that will never render (see Unrenderable).
var ErrUnrenderable = errors.New("sender: message cannot be rendered")

// Unrenderable wraps err as a render failure that retrying cannot fix; the
// message fails with err's own text as its reason.
func Unrenderable(err error) error { return unrenderable{err} }

type unrenderable struct{ error }

func (u unrenderable) Unwrap() error        { return u.error }
func (u unrenderable) Is(target error) bool { return target == ErrUnrenderable }

// Config is the outbound SMTP relay and the outbox loop.
type Config struct {
	Server   string
	Port     int  // default 465 with UseSSL, 587 with UseTLS, else 25
	UseTLS   bool // STARTTLS, required when true
	UseSSL   bool // implicit TLS
	Username string
	Password string // AUTH PLAIN, or LOGIN when the server offers only LOGIN; never logged
	Helo     string // default: the host name
	// TLSConfig is cloned for each connection; ServerName defaults to Server.
	TLSConfig *tls.Config

	// SuppressSend writes each message as <OutboxDir>/<time>-<id>.eml instead
	// of connecting (development, staging).
	SuppressSend bool
	OutboxDir    string

	Workers      int           // parallel SMTP connections, default 4
	Batch        int           // claim size, default 50
	Lease        time.Duration // default 5m
	PollInterval time.Duration // default 5s
	MaxAge       time.Duration // stop retrying after this age, default 48h
	BackoffBase  time.Duration // default 1m
	BackoffMax   time.Duration // default 1h
	Timeout      time.Duration // per SMTP transaction, default 60s

	// VERP: when both are set, each queued message goes out with its own
	// signed envelope sender, VERPBase's local part plus a token naming
	// the outbox row (bounce+v1…@domain), so a bounce that comes back to
	// it is known to be about that message (mailbox/intake).
	VERPBase   string
	VERPSecret []byte
}

// LogValue keeps the password out of logs when a Config is logged whole.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("server", c.Server), slog.Int("port", c.Port),
		slog.Bool("starttls", c.UseTLS), slog.Bool("ssl", c.UseSSL),
		slog.String("username", c.Username), slog.Bool("suppress", c.SuppressSend),
		slog.Int("workers", c.Workers),
	)
}

func (c Config) withDefaults() Config {
	if c.Port == 0 {
		switch {
		case c.UseSSL:
			c.Port = 465
		case c.UseTLS:
			c.Port = 587
		default:
			c.Port = 25
		}
	}
	if c.Helo == "" {
		c.Helo, _ = os.Hostname()
		if c.Helo == "" {
			c.Helo = "localhost"
		}
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if c.Workers <= 0 {
		c.Workers = 4
	}
	if c.Batch <= 0 {
		c.Batch = 50
	}
	def(&c.Lease, 5*time.Minute)
	def(&c.PollInterval, 5*time.Second)
	def(&c.MaxAge, 48*time.Hour)
	def(&c.BackoffBase, time.Minute)
	def(&c.BackoffMax, time.Hour)
	def(&c.Timeout, 60*time.Second)
	return c
}

func (c Config) validate() error {
	switch {
	case c.SuppressSend && c.OutboxDir == "":
		return errors.New("sender: suppress_send needs an outbox directory")
	case c.SuppressSend:
		return nil
	case c.Server == "":
		return errors.New("sender: no SMTP server configured")
	case c.UseTLS && c.UseSSL:
		return errors.New("sender: use_tls (STARTTLS) and use_ssl (implicit TLS) are exclusive")
	}
	return nil
}

// Status is the sender's health, for /readyz.
type Status struct {
	LastSuccess time.Time
	LastError   string
	LastErrorAt time.Time
	// ConsecutiveFailures counts deliveries in a row that ended in a
	// temporary error (relay down, 4xx, TLS, AUTH) or could not be marked.
	// A 5xx verdict on one message is the message's fault and resets it.
	ConsecutiveFailures int
}

// MarshalJSON writes snake_case keys, with null for a time that never
// happened (no delivery yet, no error yet) rather than year 1.
func (s Status) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		LastSuccess         *time.Time `json:"last_success"`
		LastError           string     `json:"last_error"`
		LastErrorAt         *time.Time `json:"last_error_at"`
		ConsecutiveFailures int        `json:"consecutive_failures"`
	}{never(s.LastSuccess), s.LastError, never(s.LastErrorAt), s.ConsecutiveFailures})
}

// never is nil for the zero time, so JSON says null.
func never(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// Sender delivers the outbox. Its methods are safe for concurrent use.
type Sender struct {
	cfg  Config
	q    Queue
	log  *slog.Logger
	wake chan struct{}

	mu     sync.Mutex
	status Status
}

// New returns a Sender; cfg zero values take the documented defaults. q may be
// nil when only SendNow is used.
func New(cfg Config, q Queue, log *slog.Logger) *Sender {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Sender{
		cfg:  cfg.withDefaults(),
		q:    q,
		log:  log.With("component", "sender"),
		wake: make(chan struct{}, 1),
	}
}

// Wake tells Run a new row was queued: it claims now instead of waiting for
// PollInterval. It never blocks.
func (s *Sender) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Status reports the last success, last error and consecutive failures.
func (s *Sender) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

func (s *Sender) succeeded() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status.LastSuccess = time.Now()
	s.status.ConsecutiveFailures = 0
}

func (s *Sender) failed(err error, relayFault bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status.LastError = err.Error()
	s.status.LastErrorAt = time.Now()
	if relayFault {
		s.status.ConsecutiveFailures++
	} else {
		s.status.ConsecutiveFailures = 0
	}
}

// job is a claimed message and the time after which it must not be started,
// because its lease could end (and another sender claim it) mid-transaction.
type job struct {
	m       Message
	startBy time.Time
}

// connIdle is how long a worker keeps an unused connection open: long enough
// to carry a burst across claims, short enough for relays that drop idle
// clients.
const connIdle = 15 * time.Second

// markTimeout bounds each Queue call made after delivery; it is not tied to
// Run's context so that a shutdown still records what the relay accepted.
const markTimeout = 30 * time.Second

// Run loops until ctx is done: claim, deliver with Workers connections, mark
// each message. In-flight transactions finish (within Timeout) and are marked
// before Run returns; claimed messages not yet started are released for
// immediate retry. Run returns nil on shutdown and an error only for an
// unusable configuration.
func (s *Sender) Run(ctx context.Context) error {
	// CPU profiles: the sender and its workers are the "outbox" stage.
	defer pprof.SetGoroutineLabels(ctx)
	ctx = pprof.WithLabels(ctx, pprof.Labels("stage", "outbox"))
	pprof.SetGoroutineLabels(ctx)
	if err := s.cfg.validate(); err != nil {
		return err
	}
	if s.q == nil {
		return errors.New("sender: no queue")
	}
	s.log.Info("outbox sender started", "config", s.cfg)
	jobs := make(chan job)
	var wg sync.WaitGroup
	for range s.cfg.Workers {
		wg.Go(func() { s.worker(ctx, jobs) })
	}
	s.claimLoop(ctx, jobs)
	close(jobs)
	wg.Wait()
	s.log.Info("outbox sender stopped")
	return nil
}

func (s *Sender) claimLoop(ctx context.Context, jobs chan<- job) {
	timer := time.NewTimer(s.cfg.PollInterval)
	defer timer.Stop()
	for {
		claimedAt := time.Now()
		msgs, err := s.q.Claim(ctx, s.cfg.Batch, s.cfg.Lease)
		if ctx.Err() != nil {
			s.release(ctx, msgs)
			return
		}
		if err != nil {
			err = fmt.Errorf("sender: claim: %w", err)
			s.log.Error("claiming outbox failed", "err", err)
			s.failed(err, true)
		}
		startBy := claimedAt.Add(s.startWindow())
		for i, m := range msgs {
			select {
			case jobs <- job{m: m, startBy: startBy}:
			case <-ctx.Done():
				s.release(ctx, msgs[i:])
				return
			}
		}
		if err == nil && len(msgs) == s.cfg.Batch {
			continue // a full batch: more are probably due
		}
		timer.Reset(s.cfg.PollInterval)
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-timer.C:
		}
	}
}

// startWindow is how long after a claim a message may still be started: the
// lease minus one transaction, so delivery ends before anyone can re-claim it.
func (s *Sender) startWindow() time.Duration {
	if w := s.cfg.Lease - s.cfg.Timeout; w > 0 {
		return w
	}
	return s.cfg.Lease / 2
}

// release hands claimed but unstarted messages back at shutdown, so a restart
// need not wait for the lease. A failure only delays them until the lease ends.
func (s *Sender) release(ctx context.Context, msgs []Message) {
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), markTimeout)
	defer cancel()
	for _, m := range msgs {
		if err := s.q.Retry(mctx, m.ID, time.Now(), "sender stopped before delivery"); err != nil {
			s.log.Warn("releasing message failed; it waits for its lease", "id", m.ID, "err", err)
		}
	}
}

func (s *Sender) worker(ctx context.Context, jobs <-chan job) {
	var c *smtpConn
	defer func() { c.quit() }()
	idle := time.NewTimer(connIdle)
	defer idle.Stop()
	for {
		var j job
		var ok bool
		if c == nil {
			j, ok = <-jobs
		} else {
			idle.Reset(connIdle)
			select {
			case j, ok = <-jobs:
			case <-idle.C:
				c.quit()
				c = nil
				continue
			}
		}
		if !ok {
			return
		}
		if ctx.Err() != nil {
			s.release(ctx, []Message{j.m})
			continue
		}
		if time.Now().After(j.startBy) {
			// Someone may re-claim it at any moment: sending now could
			// deliver it twice at once. Its lease will bring it back.
			s.log.Warn("lease nearly over before delivery; skipping", "id", j.m.ID, "message_id", j.m.MessageID)
			continue
		}
		if len(j.m.Raw) == 0 {
			if res, ok := s.render(ctx, &j.m); !ok {
				s.mark(ctx, j.m, res)
				continue
			}
		}
		res := s.deliver(ctx, &c, j.m)
		s.mark(ctx, j.m, res)
	}
}

// render makes the bytes of m, queued without them, through the Queue's
// Renderer. It runs on the workers, after commit and outside the write
// lock of the change that queued m, Workers at a time.
func (s *Sender) render(ctx context.Context, m *Message) (result, bool) {
	r, ok := s.q.(Renderer)
	if !ok {
		return result{err: errors.New("sender: message has no bytes and the queue renders none"), permanent: true}, false
	}
	// Like a mark: a shutdown does not cut the store of the bytes short.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), markTimeout)
	defer cancel()
	raw, err := r.Render(rctx, *m)
	switch {
	case errors.Is(err, ErrUnrenderable):
		return result{err: err, permanent: true}, false
	case err != nil:
		return result{err: fmt.Errorf("sender: render: %w", err)}, false
	case len(raw) == 0:
		return result{err: errors.New("sender: rendered message is empty"), permanent: true}, false
	}
	m.Raw = raw
	return result{}, true
}

// deliver sends one message, reusing *cp when it still works.
func (s *Sender) deliver(ctx context.Context, cp **smtpConn, m Message) result {
	m.From = s.envelopeFrom(m)
	if s.cfg.SuppressSend {
		return s.writeOutbox(m)
	}
	// Not cancelled with ctx: an accepted transaction is finished and marked
	// rather than cut mid-DATA, which would make a duplicate more likely.
	tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.Timeout)
	defer cancel()
	if *cp != nil && (*cp).open {
		if err := (*cp).reset(tctx); err != nil {
			(*cp).close()
			*cp = nil
		}
	}
	reused := *cp != nil
	if *cp == nil {
		c, err := s.dial(tctx)
		if err != nil {
			return result{err: err}
		}
		*cp = c
	}
	res := (*cp).transact(tctx, m)
	if res.broken {
		(*cp).close()
		*cp = nil
		if reused && res.atMail {
			// The relay dropped the idle connection before taking
			// anything of this message: one fresh try, no duplicate.
			s.log.Debug("reused connection failed; reconnecting", "err", res.err)
			return s.deliver(ctx, cp, m)
		}
	}
	return res
}

// mark records res on the queue. When marking fails the message stays claimed
// and comes back after its lease: at-least-once, never lost.
func (s *Sender) mark(ctx context.Context, m Message, res result) {
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), markTimeout)
	defer cancel()
	log := s.log.With("id", m.ID, "message_id", m.MessageID, "attempts", m.Attempts)
	var err error
	switch {
	case res.err == nil:
		s.succeeded()
		if len(res.refused) > 0 {
			reason := "refused: " + joinRefused(res.refused)
			log.Warn("mail sent, some recipients refused", "refused", reason)
			if pr, ok := s.q.(PartialRecorder); ok {
				err = pr.SentPartial(mctx, m.ID, reason)
				break
			}
		} else {
			log.Info("mail sent", "to", len(m.To))
		}
		err = s.q.Sent(mctx, m.ID)
	case res.permanent && errors.Is(res.err, ErrUnrenderable):
		s.failed(res.err, false)
		log.Error("mail cannot be rendered; failed", "err", res.err)
		err = s.q.Failed(mctx, m.ID, res.err.Error())
	case res.permanent:
		s.failed(res.err, false)
		log.Warn("mail refused permanently", "err", res.err)
		err = s.q.Failed(mctx, m.ID, res.err.Error())
	case time.Since(m.CreatedAt) >= s.cfg.MaxAge:
		s.failed(res.err, true)
		reason := fmt.Sprintf("gave up after %d attempts: %v", m.Attempts, res.err)
		log.Error("mail given up", "err", res.err)
		err = s.q.Failed(mctx, m.ID, reason)
	default:
		s.failed(res.err, true)
		next := time.Now().Add(backoff(s.cfg.BackoffBase, s.cfg.BackoffMax, m.Attempts, rand.Float64()*2-1))
		// One last try right at the deadline rather than none after it.
		if deadline := m.CreatedAt.Add(s.cfg.MaxAge); next.After(deadline) && deadline.After(time.Now()) {
			next = deadline
		}
		log.Warn("mail delivery failed; will retry", "err", res.err, "next", next)
		err = s.q.Retry(mctx, m.ID, next, res.err.Error())
	}
	if err != nil {
		err = fmt.Errorf("sender: mark message %d: %w", m.ID, err)
		s.failed(err, true)
		log.Error("marking failed; message stays claimed and is retried after its lease", "err", err)
	}
}

// backoff is base·2^(attempts-1) capped at max, scaled by 1+0.2·jitter where
// jitter is in [-1, 1].
func backoff(base, max time.Duration, attempts int, jitter float64) time.Duration {
	d := base
	for i := 1; i < attempts && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	return time.Duration(float64(d) * (1 + 0.2*jitter))
}

// envelopeFrom is m's reverse path: its VERP address when VERP is on and
// m is an outbox row; the null sender stays null.
func (s *Sender) envelopeFrom(m Message) string {
	if s.cfg.VERPBase == "" || len(s.cfg.VERPSecret) == 0 || m.ID <= 0 || m.From == "" {
		return m.From
	}
	return thread.VERPAddress(s.cfg.VERPSecret, s.cfg.VERPBase, m.ID)
}

// SendNow delivers one message synchronously over its own connection, without
// the queue (servicedesk mail send-test). It returns a *DeliveryError on
// failure, including a partial delivery (errors.Is(err, ErrPartial)).
func (s *Sender) SendNow(ctx context.Context, m Message) error {
	if err := s.cfg.validate(); err != nil {
		return err
	}
	var c *smtpConn
	defer func() { c.quit() }()
	res := s.deliver(ctx, &c, m)
	switch {
	case res.err != nil:
		return &DeliveryError{Permanent: res.permanent, Err: res.err}
	case len(res.refused) > 0:
		return &DeliveryError{Permanent: true, Refused: res.refused,
			Err: fmt.Errorf("%w: %s", ErrPartial, joinRefused(res.refused))}
	}
	return nil
}

// ErrPartial: the relay accepted the message for some recipients only.
var ErrPartial = errors.New("sender: some recipients refused")

// DeliveryError is a delivery that did not fully succeed.
type DeliveryError struct {
	Permanent bool     // a 5xx verdict: retrying will not help
	Refused   []string // "<addr>: 550 ..." for recipients refused in a partial delivery
	Err       error
}

func (e *DeliveryError) Error() string { return e.Err.Error() }
func (e *DeliveryError) Unwrap() error { return e.Err }
