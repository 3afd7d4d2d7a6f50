package smtpd

import (
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
	max    int64
	active atomic.Int64
	log    *slog.Logger
}

func newLimitListener(l net.Listener, max int, log *slog.Logger) *limitListener {
	return &limitListener{Listener: l, max: int64(max), log: log}
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
		return &countedConn{Conn: c, l: l}, nil
	}
}

// countedConn gives its slot back once, however often it is closed.
type countedConn struct {
	net.Conn
	l    *limitListener
	once sync.Once
}

func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.active.Add(-1) })
	return err
}

// NetConn returns the accepted connection, as tls.Conn does.
func (c *countedConn) NetConn() net.Conn { return c.Conn }
