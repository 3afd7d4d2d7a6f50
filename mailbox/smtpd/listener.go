package smtpd

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// limitListener caps concurrent connections, in all and per client
// address. Over a cap a connection gets a 421 and is closed at once, so the
// sender retries later instead of hanging in our accept queue.
type limitListener struct {
	net.Listener
	max          int64
	perIP        int
	stats        *counters // conns: the connections open, against max
	log          *slog.Logger
	writeTimeout time.Duration
	dataTimeout  time.Duration // read deadline per chunk within DATA
	maxCommands  int64

	mu   sync.Mutex
	byIP map[string]int
}

func newLimitListener(l net.Listener, cfg Config, stats *counters, log *slog.Logger) *limitListener {
	return &limitListener{Listener: l, max: int64(cfg.MaxConnections), perIP: cfg.MaxConnsPerIP, stats: stats, log: log,
		writeTimeout: cfg.WriteTimeout, dataTimeout: cfg.ReadTimeout, maxCommands: int64(cfg.MaxCommands), byIP: map[string]int{}}
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.stats.conns.Add(1) > l.max {
			l.stats.conns.Add(-1)
			l.stats.refusedMax.Add(1)
			l.refuse(c, "too many connections", "421 4.3.2 too many connections, try again later\r\n")
			continue
		}
		ip := ipKey(c.RemoteAddr())
		l.mu.Lock()
		over := l.byIP[ip] >= l.perIP
		if !over {
			l.byIP[ip]++
		}
		l.mu.Unlock()
		if over {
			l.stats.conns.Add(-1)
			l.stats.refusedPerIP.Add(1)
			l.refuse(c, "too many connections from one address", "421 4.7.0 too many connections from your address, try again later\r\n")
			continue
		}
		return &countedConn{Conn: c, l: l, ip: ip, writeTimeout: l.writeTimeout}, nil
	}
}

func (l *limitListener) refuse(c net.Conn, why, reply string) {
	l.log.Warn("connection refused: "+why, "remote", c.RemoteAddr().String(), "max", l.max, "max_per_ip", l.perIP)
	go func() {
		c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		c.Write([]byte(reply))
		c.Close()
	}()
}

func (l *limitListener) release(ip string) {
	l.stats.conns.Add(-1)
	l.mu.Lock()
	if l.byIP[ip]--; l.byIP[ip] <= 0 {
		delete(l.byIP, ip)
	}
	l.mu.Unlock()
}

// ipKey is the client address a connection counts against.
func ipKey(a net.Addr) string {
	if ip := clientIP(a); ip != nil {
		return ip.String()
	}
	return a.String()
}

// countedConn gives its slot back once, however often it is closed. It is
// also where a draining server answers 421: go-smtp's connection goroutine
// reads its next command through Read, so a reply written there never
// races one go-smtp writes. And it is where the session's limits that
// go-smtp does not see are kept: every command counts (NOOP, RSET, VRFY
// too), and within DATA each chunk read gets a fresh read deadline, so a
// slow but live upload is never cut off while a stalled one is.
type countedConn struct {
	net.Conn
	l    *limitListener
	ip   string
	once sync.Once

	draining     atomic.Bool // set by Server.Shutdown
	inData       atomic.Bool // a DATA upload in progress: reads pass
	tls          atomic.Bool // STARTTLS began: no plain-text reply fits any more
	commands     atomic.Int64
	writeTimeout time.Duration
	// stalled: the last read timed out within DATA. go-smtp then reads out
	// the rest of the message; that read's timeout is the same stall, not
	// an idle session.
	stalled atomic.Bool
}

const (
	shutdownReply    = "421 4.3.2 shutting down, try again later\r\n"
	tooManyCmdsReply = "421 4.7.0 too many commands, closing\r\n"
)

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
	inData := c.inData.Load()
	if c.draining.Load() && !inData {
		return 0, c.refuse(shutdownReply)
	}
	if inData {
		c.Conn.SetReadDeadline(time.Now().Add(c.l.dataTimeout))
	}
	n, err := c.Conn.Read(p)
	var ne net.Error
	timeout := err != nil && errors.As(err, &ne) && ne.Timeout()
	if timeout && !c.inData.Load() {
		if c.draining.Load() {
			return 0, c.refuse(shutdownReply)
		}
		// go-smtp answers 421 and ends the session.
		if !c.stalled.Load() {
			c.l.stats.idleTimeouts.Add(1)
		}
	}
	c.stalled.Store(timeout && inData)
	if n > 0 && !inData && c.countCommands(p[:n]) > c.l.maxCommands {
		c.l.stats.tooManyCommands.Add(1)
		c.l.log.Warn("session closed: too many commands", "remote", c.RemoteAddr().String(), "max", c.l.maxCommands)
		return 0, c.refuse(tooManyCmdsReply)
	}
	return n, err
}

// countCommands adds the command lines in b and returns the total. Under
// TLS the lines cannot be seen here: each read of the client's records
// counts as one command (a client sends each command, or each pipelined
// group, in records of its own).
func (c *countedConn) countCommands(b []byte) int64 {
	n := int64(bytes.Count(b, []byte{'\n'}))
	if c.tls.Load() {
		n = 1
	}
	return c.commands.Add(n)
}

// delivered resets the command budget: a delivered message is useful
// work; only commands that lead nowhere should exhaust it.
func (c *countedConn) delivered() { c.commands.Store(0) }

// refuse answers the command the client is about to send (RFC 5321 3.8)
// and ends the session.
func (c *countedConn) refuse(reply string) error {
	if !c.tls.Load() {
		c.Conn.SetWriteDeadline(time.Now().Add(c.writeTimeout))
		c.Conn.Write([]byte(reply))
	}
	return io.EOF
}

func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.ip) })
	return err
}

// NetConn returns the accepted connection, as tls.Conn does.
func (c *countedConn) NetConn() net.Conn { return c.Conn }

// counted finds the countedConn under c (under TLS too), or nil.
func counted(c net.Conn) *countedConn {
	for c != nil {
		switch v := c.(type) {
		case *countedConn:
			return v
		case interface{ NetConn() net.Conn }:
			c = v.NetConn()
		default:
			return nil
		}
	}
	return nil
}
