// Package poller fetches mail from IMAP mailboxes and hands each message's
// raw bytes to one delivery.Deliverer. A message is marked, moved or
// deleted, and the UID cursor advanced past it, only after the deliverer
// committed it; everything in between may be repeated after a crash, which
// the intake's Message-ID plus hash dedupe makes safe.
package poller

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/jcservicedesk/servicedesk/mailbox/delivery"
)

// Mailbox configures one polled IMAP mailbox.
type Mailbox struct {
	Name         string // stable identity: State and Locker key, Envelope.Mailbox
	Host         string
	Port         int    // 0: 993 for "tls", 143 otherwise
	Security     string // "tls" (default) | "starttls" | "plain"
	Username     string
	Password     string
	Folder       string        // default "INBOX"
	After        string        // "seen" (default) | "move:<folder>" | "delete"
	PollInterval time.Duration // default 1 minute
	Address      string        // helpdesk address this mailbox receives for
	TLSConfig    *tls.Config   // optional, e.g. for self-signed test servers
}

// State stores each mailbox's UID cursor; the lead implements it on the
// database.
type State interface {
	Cursor(ctx context.Context, mailbox string) (uidValidity, lastUID uint32, err error)
	SetCursor(ctx context.Context, mailbox string, uidValidity, lastUID uint32) error
}

// Locker is an advisory lock so that only one of several processes polls a
// mailbox. ok is false while someone else holds it.
type Locker interface {
	TryLock(ctx context.Context, key string) (release func(), ok bool, err error)
}

// Status is a poller's health, for /readyz.
type Status struct {
	Mailbox             string
	Connected           bool
	LastSuccess         time.Time
	LastError           string
	ConsecutiveFailures int
	Failures            uint64 // every failure since start (for /metrics)
	Healthy             bool
	// StuckUID is the message the mailbox is waiting on: the intake
	// failed it StuckFailures times in a row (0: none). Stuck says that
	// is unhealthyAfter or more: mail behind it is not arriving.
	StuckUID      uint32
	StuckFailures int
	Stuck         bool
}

// MarshalJSON writes snake_case keys, with null for a success that never
// happened rather than year 1.
func (s Status) MarshalJSON() ([]byte, error) {
	var last *time.Time
	if !s.LastSuccess.IsZero() {
		last = &s.LastSuccess
	}
	return json.Marshal(struct {
		Mailbox             string     `json:"mailbox"`
		Connected           bool       `json:"connected"`
		LastSuccess         *time.Time `json:"last_success"`
		LastError           string     `json:"last_error"`
		ConsecutiveFailures int        `json:"consecutive_failures"`
		Healthy             bool       `json:"healthy"`
		Stuck               bool       `json:"stuck"`
		StuckUID            uint32     `json:"stuck_uid,omitempty"`
		StuckFailures       int        `json:"stuck_failures,omitempty"`
	}{s.Mailbox, s.Connected, last, s.LastError, s.ConsecutiveFailures, s.Healthy, s.Stuck, s.StuckUID, s.StuckFailures})
}

const (
	defaultPollInterval = time.Minute
	defaultBatchSize    = 50
	// Below the 29 minutes after which RFC 9051 lets servers drop an idle
	// client, with room for slow networks.
	defaultIdleRestart    = 24 * time.Minute
	defaultCommandTimeout = 5 * time.Minute
	defaultDeliverTimeout = 2 * time.Minute
	unhealthyAfter        = 3
)

// Poller polls one mailbox. Its methods are safe for concurrent use.
type Poller struct {
	mb  Mailbox
	d   delivery.Deliverer
	st  State
	lk  Locker
	log *slog.Logger

	// Tunables; tests shorten them.
	batchSize      int
	minBackoff     time.Duration
	maxBackoff     time.Duration
	idleRestart    time.Duration
	commandTimeout time.Duration
	deliverTimeout time.Duration
	// idleEntered, when set, is called each time the server has accepted
	// IDLE (its continuation came): tests wait for it before appending,
	// so a test of IDLE cannot pass by polling.
	idleEntered func()

	mu     sync.Mutex
	status Status
}

// New builds a poller; Run starts it. A nil Locker means the mailbox is
// always ours.
func New(mb Mailbox, d delivery.Deliverer, st State, lk Locker, log *slog.Logger) *Poller {
	if mb.Security == "" {
		mb.Security = "tls"
	}
	if mb.Port == 0 {
		mb.Port = 143
		if mb.Security == "tls" {
			mb.Port = 993
		}
	}
	if mb.Folder == "" {
		mb.Folder = "INBOX"
	}
	if mb.After == "" {
		mb.After = "seen"
	}
	if mb.PollInterval <= 0 {
		mb.PollInterval = defaultPollInterval
	}
	if log == nil {
		log = slog.Default()
	}
	return &Poller{
		mb:             mb,
		d:              d,
		st:             st,
		lk:             lk,
		log:            log.With("component", "poller", "mailbox", mb.Name),
		batchSize:      defaultBatchSize,
		minBackoff:     time.Second,
		maxBackoff:     5 * time.Minute,
		idleRestart:    defaultIdleRestart,
		commandTimeout: defaultCommandTimeout,
		deliverTimeout: defaultDeliverTimeout,
		status:         Status{Mailbox: mb.Name, Healthy: true},
	}
}

// validate reports configuration errors that retrying cannot fix.
func (p *Poller) validate() error {
	var errs []error
	if p.mb.Name == "" {
		errs = append(errs, errors.New("name is empty"))
	}
	if p.mb.Host == "" {
		errs = append(errs, errors.New("host is empty"))
	}
	switch p.mb.Security {
	case "tls", "starttls", "plain":
	default:
		errs = append(errs, fmt.Errorf("security %q is not tls, starttls or plain", p.mb.Security))
	}
	switch {
	case p.mb.After == "seen", p.mb.After == "delete":
	case strings.HasPrefix(p.mb.After, "move:") && len(p.mb.After) > len("move:"):
	default:
		errs = append(errs, fmt.Errorf("after %q is not seen, delete or move:<folder>", p.mb.After))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("poller: mailbox %q: %w", p.mb.Name, err)
	}
	return nil
}

// Status returns a snapshot of the poller's health.
func (p *Poller) Status() Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.status
	s.Stuck = s.StuckUID != 0 && s.StuckFailures >= unhealthyAfter
	s.Healthy = s.ConsecutiveFailures < unhealthyAfter && !s.Stuck
	return s
}

// deliveryFailed records that the intake did not take uid.
func (p *Poller) deliveryFailed(uid uint32) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.status.StuckUID != uid {
		p.status.StuckUID, p.status.StuckFailures = uid, 0
	}
	p.status.StuckFailures++
}

// delivered records that the intake took uid (placed or quarantined).
func (p *Poller) delivered(uid uint32) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.status.StuckUID == uid {
		p.status.StuckUID, p.status.StuckFailures = 0, 0
	}
}

func (p *Poller) setConnected(c bool) {
	p.mu.Lock()
	p.status.Connected = c
	p.mu.Unlock()
}

func (p *Poller) succeeded() {
	p.mu.Lock()
	p.status.LastSuccess = time.Now()
	p.status.ConsecutiveFailures = 0
	p.status.LastError = ""
	p.mu.Unlock()
}

// failed records err and returns how many failures in a row there were.
func (p *Poller) failed(err error) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.status.ConsecutiveFailures++
	p.status.Failures++
	p.status.LastError = err.Error()
	return p.status.ConsecutiveFailures
}

// Run polls until ctx is done, reconnecting with backoff after failures.
// It returns nil once ctx is done, or a configuration error at once.
func (p *Poller) Run(ctx context.Context) error {
	if err := p.validate(); err != nil {
		p.mu.Lock()
		p.status.LastError = err.Error()
		p.status.ConsecutiveFailures = unhealthyAfter // retrying cannot fix it
		p.mu.Unlock()
		return err
	}
	p.log.Info("poller starting", "host", p.mb.Host, "port", p.mb.Port, "security", p.mb.Security,
		"folder", p.mb.Folder, "after", p.mb.After)
	for ctx.Err() == nil {
		release, ok, err := p.lock(ctx)
		if err != nil {
			p.retryLater(ctx, fmt.Errorf("lock: %w", err))
			continue
		}
		if !ok {
			// Another process polls this mailbox; stand by.
			p.log.Debug("mailbox locked by another process")
			sleep(ctx, p.mb.PollInterval)
			continue
		}
		err = p.session(ctx)
		release()
		p.setConnected(false)
		if ctx.Err() != nil {
			break
		}
		p.retryLater(ctx, err)
	}
	p.log.Info("poller stopped")
	return nil
}

func (p *Poller) lock(ctx context.Context) (release func(), ok bool, err error) {
	if p.lk == nil {
		return func() {}, true, nil
	}
	return p.lk.TryLock(ctx, "imap:"+p.mb.Name)
}

// retryLater records a failure and sleeps an exponential, jittered backoff.
func (p *Poller) retryLater(ctx context.Context, err error) {
	n := p.failed(err)
	d := backoff(n, p.minBackoff, p.maxBackoff)
	p.log.Warn("imap poll failed", "err", err, "consecutive_failures", n, "retry_in", d.Round(time.Millisecond))
	sleep(ctx, d)
}

// backoff is min·2^(n-1) capped at max, with the upper half jittered so
// several processes do not hammer a recovering server in step.
func backoff(n int, min, max time.Duration) time.Duration {
	d := min
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	half := d / 2
	return half + rand.N(half+1)
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
