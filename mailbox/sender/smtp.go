package sender

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// result is the outcome of one delivery attempt.
type result struct {
	err       error    // nil: accepted
	permanent bool     // err is a 5xx verdict on the message
	broken    bool     // the connection cannot be reused
	atMail    bool     // failed at MAIL FROM: nothing of the message was accepted
	refused   []string // recipients refused with 5xx while others accepted
}

// smtpConn is one relay connection, reused for several messages.
type smtpConn struct {
	raw net.Conn
	cl  *smtp.Client
	// open: a transaction was left unfinished and needs RSET. After the
	// final reply to DATA the server has reset itself (RFC 5321 4.1.1.4),
	// and go-smtp follows RSET with a new EHLO: two round trips saved.
	open bool
}

// replyError is a relay reply, formatted as the server wrote it; errors.As
// still finds the *smtp.SMTPError.
type replyError struct {
	cmd string
	err *smtp.SMTPError
}

func (e *replyError) Error() string { return e.cmd + ": " + formatReply(e.err) }
func (e *replyError) Unwrap() error { return e.err }

func formatReply(se *smtp.SMTPError) string {
	ec := se.EnhancedCode
	if ec == smtp.NoEnhancedCode || ec == (smtp.EnhancedCode{}) {
		return fmt.Sprintf("%d %s", se.Code, se.Message)
	}
	return fmt.Sprintf("%d %d.%d.%d %s", se.Code, ec[0], ec[1], ec[2], se.Message)
}

// watch closes the connection when ctx ends: go-smtp sets deadlines per
// command but none while the body is written, and ctx must bound it all.
func (c *smtpConn) watch(ctx context.Context) (stop func() bool) {
	return context.AfterFunc(ctx, func() { c.raw.Close() })
}

// ioErr wraps a connection-level error, saying so when our timeout caused it.
func ioErr(ctx context.Context, op string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("sender: %s: %w: %w", op, cerr, err)
	}
	return fmt.Errorf("sender: %s: %w", op, err)
}

func (s *Sender) tlsConfig() *tls.Config {
	cfg := &tls.Config{}
	if s.cfg.TLSConfig != nil {
		cfg = s.cfg.TLSConfig.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = s.cfg.Server
	}
	return cfg
}

// dial connects, secures and authenticates a relay connection.
func (s *Sender) dial(ctx context.Context) (*smtpConn, error) {
	addr := net.JoinHostPort(s.cfg.Server, strconv.Itoa(s.cfg.Port))
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, ioErr(ctx, "connect "+addr, err)
	}
	c := &smtpConn{raw: raw}
	stop := c.watch(ctx)
	defer stop()
	if err := s.open(ctx, c); err != nil {
		raw.Close()
		var re *replyError
		if errors.As(err, &re) {
			return nil, err
		}
		return nil, ioErr(ctx, addr, err)
	}
	return c, nil
}

func (s *Sender) open(ctx context.Context, c *smtpConn) error {
	var conn net.Conn = c.raw
	if s.cfg.UseSSL {
		tc := tls.Client(c.raw, s.tlsConfig())
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("tls handshake: %w", err)
		}
		conn = tc
	}
	var err error
	if s.cfg.UseTLS {
		// Fails when the server does not offer STARTTLS: it is required.
		if c.cl, err = smtp.NewClientStartTLS(conn, s.tlsConfig()); err != nil {
			return wrapReply("STARTTLS", err)
		}
	} else {
		c.cl = smtp.NewClient(conn)
	}
	c.cl.CommandTimeout = s.cfg.Timeout
	c.cl.SubmissionTimeout = s.cfg.Timeout
	if err := c.cl.Hello(s.cfg.Helo); err != nil {
		return wrapReply("EHLO", err)
	}
	if s.cfg.Username == "" {
		return nil
	}
	var a sasl.Client
	switch {
	case c.cl.SupportsAuth("PLAIN"):
		a = sasl.NewPlainClient("", s.cfg.Username, s.cfg.Password)
	case c.cl.SupportsAuth("LOGIN"):
		a = sasl.NewLoginClient(s.cfg.Username, s.cfg.Password)
	default:
		return errors.New("server offers neither AUTH PLAIN nor AUTH LOGIN")
	}
	if err := c.cl.Auth(a); err != nil {
		return wrapReply("AUTH", err)
	}
	return nil
}

func wrapReply(cmd string, err error) error {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return &replyError{cmd: cmd, err: se}
	}
	return fmt.Errorf("%s: %w", cmd, err)
}

// reset clears an unfinished transaction on a reused connection.
func (c *smtpConn) reset(ctx context.Context) error {
	stop := c.watch(ctx)
	defer stop()
	if err := c.cl.Reset(); err != nil {
		return ioErr(ctx, "RSET", err)
	}
	return nil
}

// transact runs MAIL, RCPT and DATA for m.
func (c *smtpConn) transact(ctx context.Context, m Message) result {
	stop := c.watch(ctx)
	defer stop()
	if len(m.To) == 0 {
		return result{err: errors.New("sender: message has no recipients"), permanent: true}
	}
	if strings.ContainsAny(m.From+strings.Join(m.To, ""), "\r\n") {
		return result{err: errors.New("sender: line break in an envelope address"), permanent: true}
	}
	opts := &smtp.MailOptions{Size: int64(len(m.Raw)), UTF8: !isASCII(m.From + strings.Join(m.To, ""))}
	c.open = true
	if err := c.cl.Mail(m.From, opts); err != nil {
		res := fail(ctx, "MAIL FROM", err)
		res.atMail = true
		return res
	}
	var refused, deferred []string
	for _, rcpt := range m.To {
		err := c.cl.Rcpt(rcpt, nil)
		var se *smtp.SMTPError
		switch {
		case err == nil:
		case errors.As(err, &se) && se.Code/100 == 5:
			refused = append(refused, fmt.Sprintf("<%s>: %s", rcpt, formatReply(se)))
		case errors.As(err, &se) && se.Code/100 == 4 && se.Code != 421:
			deferred = append(deferred, fmt.Sprintf("<%s>: %s", rcpt, formatReply(se)))
		default:
			return fail(ctx, "RCPT TO", err)
		}
	}
	if len(deferred) > 0 {
		// The queue cannot split a message, so nobody gets it until
		// everybody can: no duplicates for the accepted ones.
		return result{err: fmt.Errorf("RCPT TO deferred: %s", joinRefused(append(deferred, refused...)))}
	}
	if len(refused) == len(m.To) {
		return result{err: fmt.Errorf("all recipients refused: %s", joinRefused(refused)), permanent: true}
	}
	w, err := c.cl.Data()
	if err != nil {
		return fail(ctx, "DATA", err)
	}
	if _, err := w.Write(m.Raw); err != nil {
		return fail(ctx, "DATA", err)
	}
	_, err = w.CloseWithResponse()
	c.open = false // any final reply ends the transaction
	if err != nil {
		return fail(ctx, "end of DATA", err)
	}
	return result{refused: refused}
}

// fail classifies an error from one command.
func fail(ctx context.Context, cmd string, err error) result {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		class := se.Code / 100
		return result{
			err:       &replyError{cmd: cmd, err: se},
			permanent: class == 5,
			// 421 closes the connection; any other odd code leaves it
			// in an unknown state.
			broken: se.Code == 421 || (class != 4 && class != 5),
		}
	}
	return result{err: ioErr(ctx, cmd, err), broken: true}
}

// quit ends the session politely but briefly; c may be nil.
func (c *smtpConn) quit() {
	if c == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	stop := c.watch(ctx)
	defer stop()
	c.cl.Quit()
	c.close()
}

func (c *smtpConn) close() {
	c.cl.Close()
}

func joinRefused(r []string) string { return strings.Join(r, "; ") }

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
