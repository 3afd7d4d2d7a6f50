package smtpd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/jcservicedesk/servicedesk/mailbox/delivery"
)

var (
	errShuttingDown = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "shutting down, try again later"}
	errNoSuchUser   = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user here"}
	errTempFail     = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	errTooLarge     = &smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 3, 4}, Message: "message too large"}
)

// session is one SMTP connection's state. go-smtp calls its methods from the
// connection's goroutine; inData is also read by Shutdown, under srv.mu.
type session struct {
	srv  *Server
	conn net.Conn     // the accepted connection; closing it ends the session
	cc   *countedConn // under conn (under TLS too), when accepted by Serve; nil otherwise
	c    *smtp.Conn

	mailFrom   string
	recipients []string

	inData bool // guarded by srv.mu
}

// count refuses new commands while the server drains (whichever of this
// and countedConn.Read sees it first). Commands are counted against
// MaxCommands by countedConn, which sees them all.
func (s *session) count() error {
	s.srv.mu.Lock()
	draining := s.srv.draining
	s.srv.mu.Unlock()
	if draining {
		return errShuttingDown
	}
	return nil
}

func (s *session) Reset() {
	s.mailFrom = ""
	s.recipients = nil
}

// drain ends the session at its next command with 421 (see countedConn);
// called under srv.mu.
func (s *session) drain() {
	switch {
	case s.cc != nil:
		s.cc.drain()
	case !s.inData:
		s.conn.Close()
	}
}

func (s *session) Logout() error {
	s.srv.removeSession(s)
	return nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if err := s.count(); err != nil {
		return err
	}
	s.mailFrom = from // "" is the null sender: bounces are welcome
	s.recipients = nil
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if err := s.count(); err != nil {
		return err
	}
	if !s.srv.accepts(to) {
		return errNoSuchUser
	}
	s.recipients = append(s.recipients, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	if err := s.count(); err != nil {
		return err
	}
	srv := s.srv
	srv.mu.Lock()
	if srv.draining {
		srv.mu.Unlock()
		return errShuttingDown
	}
	s.inData = true
	if s.cc != nil {
		s.cc.inData.Store(true)
	}
	srv.mu.Unlock()
	defer func() {
		srv.mu.Lock()
		s.inData = false
		if s.cc != nil {
			s.cc.inData.Store(false)
		}
		srv.mu.Unlock()
	}()

	u, err := s.readMessage(r)
	if err != nil {
		return err
	}
	defer u.release()
	lctx, cancel := context.WithTimeout(srv.baseCtx, srv.cfg.DeliverTimeout)
	raw, err := u.load(lctx)
	cancel()
	if err != nil {
		return err
	}
	env := delivery.Envelope{
		Source:     delivery.SourceSMTP,
		MailFrom:   s.mailFrom,
		Recipients: append([]string(nil), s.recipients...),
		RemoteAddr: s.conn.RemoteAddr().String(),
		ClientIP:   clientIP(s.conn.RemoteAddr()),
		Helo:       s.c.Hostname(),
		ReceivedAt: time.Now().UTC(),
	}
	if err := s.deliver(env, raw); err != nil {
		return err
	}
	if s.cc != nil {
		s.cc.delivered()
	}
	return nil
}

// clientIP is the IP of a TCP peer address, or nil for other kinds.
func clientIP(a net.Addr) net.IP {
	switch a := a.(type) {
	case *net.TCPAddr:
		return a.IP
	case nil:
		return nil
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return nil
	}
	return net.ParseIP(host)
}

// deliver calls the deliverer and maps its answer to an SMTP reply.
func (s *session) deliver(env delivery.Envelope, raw []byte) (err error) {
	srv := s.srv
	log := srv.log.With("remote", env.RemoteAddr, "mail_from", env.MailFrom,
		"recipients", len(env.Recipients), "bytes", len(raw))

	ctx, cancel := context.WithTimeout(srv.baseCtx, srv.cfg.DeliverTimeout)
	defer cancel()
	// Nobody reads the socket while Deliver runs; watch it so a sender that
	// gave up does not leave work running for nothing.
	stopWatch := watchHangup(s.c.Conn(), cancel)
	defer func() {
		stopWatch()
		s.c.Conn().SetReadDeadline(time.Now().Add(srv.cfg.ReadTimeout))
	}()

	defer func() {
		if p := recover(); p != nil {
			log.Error("deliverer panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = errTempFail
		}
	}()

	start := time.Now()
	out, derr := srv.d.Deliver(ctx, env, raw)
	log = log.With("duration", time.Since(start))
	switch {
	case derr == nil:
		log.Info("message accepted", "action", out.Action, "ticket", out.TicketNum)
		return nil
	case delivery.IsPermanent(derr):
		log.Info("message rejected", "err", derr)
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: rejectText(derr)}
	default:
		log.Warn("delivery failed, sender will retry", "err", derr)
		return errTempFail
	}
}

// rejectText is the one-line reason sent back with a permanent refusal.
func rejectText(err error) string {
	msg := err.Error()
	var re *delivery.RejectError
	if errors.As(err, &re) && re.Reason != "" {
		msg = re.Reason
	}
	msg = strings.Join(strings.Fields(msg), " ")
	if len(msg) > 200 {
		msg = msg[:200]
	}
	if msg == "" {
		msg = "message refused"
	}
	return msg
}
