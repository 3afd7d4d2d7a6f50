// Package smtpd is the helpdesk's own MX-style SMTP receiver. It accepts mail
// for the addresses the helpdesk owns and hands the raw bytes to one
// delivery.Deliverer; it answers 250 only after the deliverer committed the
// message, and 4xx whenever it could not, so the sending MTA retries and
// accepted mail is never lost.
package smtpd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/pprof"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
	"golang.org/x/sync/semaphore"

	"github.com/jcservicedesk/servicedesk/mailbox/delivery"
)

// Defaults used when the matching Config field is zero.
const (
	DefaultMaxMessageBytes = 25 << 20
	DefaultMaxRecipients   = 100
	DefaultReadTimeout     = 5 * time.Minute // RFC 5321 4.5.3.2 command timeout
	DefaultWriteTimeout    = 5 * time.Minute
	DefaultMaxConnections  = 200
	DefaultMaxCommands     = 250
	DefaultMaxConnsPerIP   = 20
	DefaultIdleTimeout     = 5 * time.Minute // RFC 5321 4.5.3.2 server timeout
	// DefaultMemoryBudget holds 200 slow senders in well under 200 MB:
	// uploads beyond it spool to disk.
	DefaultMemoryBudget    = 64 << 20
	DefaultDeliverTimeout  = 2 * time.Minute
	DefaultShutdownTimeout = 30 * time.Second
	// Generous on purpose: some mailers emit unfolded lines far beyond the
	// RFC's 1000, and rejecting them loses real mail.
	maxLineLength = 64 << 10
)

// smtpStage labels the receiver's CPU in profiles.
var smtpStage = pprof.Labels("stage", "smtp")

// ErrServerClosed is returned by Serve and ListenAndServe after Shutdown.
var ErrServerClosed = errors.New("smtpd: server closed")

// Config configures the receiver. Zero values take the defaults above.
type Config struct {
	Addr            string
	Hostname        string
	Addresses       []string // the addresses the helpdesk owns
	MaxMessageBytes int64
	MaxRecipients   int
	ReadTimeout     time.Duration
	WriteTimeout    time.Duration
	TLSConfig       *tls.Config // nil = no STARTTLS

	MaxConnections int           // concurrent connections; more get 421
	MaxConnsPerIP  int           // concurrent connections from one client address; more get 421
	MaxCommands    int           // commands (NOOP, RSET… too) between two delivered messages
	IdleTimeout    time.Duration // wait for the next command; ReadTimeout bounds each chunk within DATA
	// MemoryBudget bounds the message bytes all uploads hold in memory
	// together; an upload that would exceed it spools to a file in
	// SpoolDir ("" = the system's temporary directory), and is read back
	// for delivery when the budget has room.
	MemoryBudget int64
	SpoolDir     string
	// SpoolMaxBytes bounds the bytes all spool files hold together: an
	// upload that would exceed it is refused with 451 4.3.1 (the sender
	// retries later) and nothing of it is kept. 0 is no limit (unlike
	// the other fields, zero takes no default).
	SpoolMaxBytes  int64
	DeliverTimeout time.Duration // bound on one Deliver call
	// ShutdownTimeout bounds Run's drain once its context ends: uploads in
	// progress finish and commit, other commands get 421.
	ShutdownTimeout time.Duration
}

// Server is the SMTP receiver.
type Server struct {
	cfg   Config
	d     delivery.Deliverer
	log   *slog.Logger
	smtp  *smtp.Server
	owned map[string]struct{} // lower-case "local@domain"

	// baseCtx parents every Deliver call; cancelled when Shutdown gives up.
	baseCtx    context.Context
	cancelBase context.CancelFunc

	// mem is the memory budget for message bytes, in bytes.
	mem    *semaphore.Weighted
	stats  counters
	chunks sync.Pool // *[]byte of readChunk bytes: each upload's read buffer

	mu       sync.Mutex
	addr     net.Addr
	ln       net.Listener // what Serve accepts on; Shutdown closes it first
	draining bool
	sessions map[*session]struct{}
}

// New builds a receiver that delivers to d. It does not listen yet.
func New(cfg Config, d delivery.Deliverer, log *slog.Logger) *Server {
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if cfg.MaxRecipients <= 0 {
		cfg.MaxRecipients = DefaultMaxRecipients
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = DefaultReadTimeout
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	if cfg.MaxConnections <= 0 {
		cfg.MaxConnections = DefaultMaxConnections
	}
	if cfg.MaxCommands <= 0 {
		cfg.MaxCommands = DefaultMaxCommands
	}
	// A message to every allowed recipient must fit between two resets.
	cfg.MaxCommands = max(cfg.MaxCommands, cfg.MaxRecipients+10)
	if cfg.MaxConnsPerIP <= 0 {
		cfg.MaxConnsPerIP = DefaultMaxConnsPerIP
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.MemoryBudget <= 0 {
		cfg.MemoryBudget = DefaultMemoryBudget
	}
	// One whole message must fit, or a large one could never be delivered.
	cfg.MemoryBudget = max(cfg.MemoryBudget, cfg.MaxMessageBytes+1)
	if cfg.DeliverTimeout <= 0 {
		cfg.DeliverTimeout = DefaultDeliverTimeout
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = DefaultShutdownTimeout
	}
	if cfg.Hostname == "" {
		cfg.Hostname = "localhost"
	}
	if log == nil {
		log = slog.Default()
	}
	s := &Server{
		cfg:      cfg,
		d:        d,
		log:      log.With("component", "smtpd"),
		owned:    make(map[string]struct{}, len(cfg.Addresses)),
		sessions: make(map[*session]struct{}),
		mem:      semaphore.NewWeighted(cfg.MemoryBudget),
	}
	s.chunks.New = func() any { b := make([]byte, readChunk); return &b }
	for _, a := range cfg.Addresses {
		s.owned[strings.ToLower(strings.TrimSpace(a))] = struct{}{}
	}
	// Sessions, and every Deliver under them, are the "smtp" stage of a
	// CPU profile (internal/cpustage); the intake's own stages nest in it.
	s.baseCtx, s.cancelBase = context.WithCancel(pprof.WithLabels(context.Background(), smtpStage))

	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Addr = cfg.Addr
	srv.Domain = cfg.Hostname
	srv.MaxMessageBytes = cfg.MaxMessageBytes
	srv.MaxRecipients = cfg.MaxRecipients
	srv.MaxLineLength = maxLineLength
	srv.ReadTimeout = cfg.IdleTimeout // per command line; DATA chunks get ReadTimeout (countedConn)
	srv.WriteTimeout = cfg.WriteTimeout
	if cfg.TLSConfig != nil {
		// Mark the connection when STARTTLS begins: a draining server
		// then closes it instead of writing plain text (see countedConn).
		tc := cfg.TLSConfig.Clone()
		next := tc.GetConfigForClient
		tc.GetConfigForClient = func(h *tls.ClientHelloInfo) (*tls.Config, error) {
			if cc, ok := h.Conn.(*countedConn); ok {
				cc.tls.Store(true)
			}
			if next != nil {
				return next(h)
			}
			return nil, nil
		}
		srv.TLSConfig = tc
	}
	srv.EnableSMTPUTF8 = true // we pass bytes through untouched
	srv.ErrorLog = slogPrinter{s.log}
	s.smtp = srv
	return s
}

// Addr returns the address Serve is listening on, or nil before that.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// ListenAndServe listens on Config.Addr (":25" when empty) and serves.
func (s *Server) ListenAndServe() error {
	addr := s.cfg.Addr
	if addr == "" {
		addr = ":25"
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("smtpd: listen: %w", err)
	}
	return s.Serve(l)
}

// Serve accepts connections on l until Shutdown. It returns ErrServerClosed
// after Shutdown.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.draining {
		s.mu.Unlock()
		l.Close()
		return ErrServerClosed
	}
	s.addr = l.Addr()
	ll := newLimitListener(l, s.cfg, &s.stats, s.log)
	s.ln = ll
	s.mu.Unlock()
	s.log.Info("smtp receiver listening", "addr", l.Addr().String())

	var err error
	// The connection goroutines go-smtp starts inherit the label.
	pprof.Do(s.baseCtx, smtpStage, func(context.Context) { err = s.smtp.Serve(ll) })
	s.mu.Lock()
	draining := s.draining
	s.mu.Unlock()
	if err == nil || draining {
		return ErrServerClosed
	}
	return fmt.Errorf("smtpd: serve: %w", err)
}

// Run serves on l until ctx ends, then drains within ShutdownTimeout (see
// Shutdown). It returns nil after a clean drain.
func (s *Server) Run(ctx context.Context, l net.Listener) error {
	served := make(chan error, 1)
	go func() { served <- s.Serve(l) }()
	select {
	case err := <-served:
		return err // not ErrServerClosed: nobody called Shutdown
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	err := s.Shutdown(sctx)
	<-served
	return err
}

// Shutdown stops accepting connections and drains the open ones: a message
// being received or delivered finishes and gets its reply, and the next
// command of every session (a session waiting for one is answered at once)
// gets 421 and the connection ends. When ctx ends first, the remaining
// deliveries are cancelled, their connections closed (the sender retries,
// as nothing was acknowledged) and ctx's error is returned.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.draining = true
	// Stop accepting before telling sessions: once one has its 421, no new
	// connection may still be greeted.
	if s.ln != nil {
		s.ln.Close()
	}
	for sess := range s.sessions {
		sess.drain()
	}
	s.mu.Unlock()

	err := s.smtp.Shutdown(ctx)
	// The listener is closed already (above): go-smtp closing it again is
	// no failure.
	if errors.Is(err, smtp.ErrServerClosed) || errors.Is(err, net.ErrClosed) {
		err = nil
	}
	if ctx.Err() != nil {
		s.cancelBase()
		s.smtp.Close()
		return fmt.Errorf("smtpd: shutdown: %w", ctx.Err())
	}
	s.cancelBase()
	return err
}

// accepts reports whether rcpt is an owned address or a +tag subaddress of
// one, ignoring case; or postmaster@ or abuse@ at an owned domain, or the
// bare "postmaster" (RFC 5321 4.5.1 requires accepting those).
func (s *Server) accepts(rcpt string) bool {
	a := strings.ToLower(rcpt)
	if _, ok := s.owned[a]; ok || a == "postmaster" {
		return true
	}
	at := strings.LastIndexByte(a, '@')
	if at <= 0 {
		return false
	}
	local, domain := a[:at], a[at:]
	if (local == "postmaster" || local == "abuse") && s.ownsDomain(domain[1:]) {
		return true
	}
	plus := strings.IndexByte(local, '+')
	if plus <= 0 {
		return false
	}
	_, ok := s.owned[local[:plus]+domain]
	return ok
}

func (s *Server) ownsDomain(domain string) bool {
	for a := range s.owned {
		if strings.HasSuffix(a, "@"+domain) {
			return true
		}
	}
	return false
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	sess := &session{srv: s, conn: c.Conn(), c: c}
	sess.cc = counted(c.Conn())
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.draining {
		return nil, errShuttingDown
	}
	s.sessions[sess] = struct{}{}
	return sess, nil
}

func (s *Server) removeSession(sess *session) {
	s.mu.Lock()
	delete(s.sessions, sess)
	s.mu.Unlock()
}

// slogPrinter adapts slog to go-smtp's Printf-style error log.
type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Printf(format string, v ...any) {
	p.log.Warn("smtp server", "detail", fmt.Sprintf(format, v...))
}

func (p slogPrinter) Println(v ...any) {
	p.log.Warn("smtp server", "detail", strings.TrimSpace(fmt.Sprintln(v...)))
}
