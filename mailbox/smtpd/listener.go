package smtpd

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// limitListener caps concurrent connections. Over the cap a connection gets
// a 421 and is closed at once, so the sender retries later instead of
// hanging in our accept queue.
type limitListener struct {
	net.Listener
	max          int64
	active       atomic.Int64
	log          *slog.Logger
	writeTimeout time.Duration
}

func newLimitListener(l net.Listener, max int, writeTimeout time.Duration, log *slog.Logger) *limitListener {
	return &limitListener{Listener: l, max: int64(max), log: log, writeTimeout: writeTimeout}
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.active.Add(1) > l.max {
			l.active.Add(-1)
			l.log.Warn("connection refused: too many connections", "remote", c.RemoteAddr().String(), "max", l.max)
			go func() {
				c.SetWriteDeadline(time.Now().Add(5 * time.Second))
				c.Write([]byte("421 4.3.2 too many connections, try again later\r\n"))
				c.Close()
			}()
			continue
		}
		return &countedConn{Conn: c, l: l, writeTimeout: l.writeTimeout}, nil
	}
}

// countedConn gives its slot back once, however often it is closed. It is
// also where a draining server answers 421: go-smtp's connection goroutine
// reads its next command through Read, so a reply written there never
// races one go-smtp writes.
type countedConn struct {
	net.Conn
	l    *limitListener
	once sync.Once

	draining     atomic.Bool // set by Server.Shutdown
	inData       atomic.Bool // a DATA upload in progress: reads pass
	tls          atomic.Bool // STARTTLS began: no plain-text reply fits any more
	writeTimeout time.Duration
}

const shutdownReply = "421 4.3.2 shutting down, try again later\r\n"

// drain makes the next command read answer 421 and end the session; a
// read blocked waiting for the client is woken now. A TLS session cannot
// get a reply slipped in under go-smtp's TLS layer: unless in DATA, it is
// closed (its sender retries, nothing having been acknowledged).
func (c *countedConn) drain() {
	c.draining.Store(true)
	switch {
	case c.inData.Load():
	case c.tls.Load():
		c.Close()
	default:
		c.Conn.SetReadDeadline(time.Now())
	}
}

func (c *countedConn) Read(p []byte) (int, error) {
	if c.draining.Load() && !c.inData.Load() {
		return 0, c.refuse()
	}
	n, err := c.Conn.Read(p)
	var ne net.Error
	if err != nil && c.draining.Load() && !c.inData.Load() && errors.As(err, &ne) && ne.Timeout() {
		return 0, c.refuse()
	}
	return n, err
}

// refuse answers the command the client is about to send (RFC 5321 3.8)
// and ends the session.
func (c *countedConn) refuse() error {
	if !c.tls.Load() {
		c.Conn.SetWriteDeadline(time.Now().Add(c.writeTimeout))
		c.Conn.Write([]byte(shutdownReply))
	}
	return io.EOF
}

func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.active.Add(-1) })
	return err
}

// NetConn returns the accepted connection, as tls.Conn does.
func (c *countedConn) NetConn() net.Conn { return c.Conn }
