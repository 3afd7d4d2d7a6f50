//go:build unix

package smtpd

import (
	"errors"
	"net"
	"syscall"
	"time"
)

// watchHangup calls onHangup when the peer closes or resets the connection,
// until stop is called. It peeks at the socket (MSG_PEEK), so no byte the
// SMTP reader has yet to see is consumed. Data from the peer (a pipelined
// command, a TLS record) ends the watch: the connection is alive.
func watchHangup(c net.Conn, onHangup func()) (stop func()) {
	sc, ok := rawConn(c).(syscall.Conn)
	if !ok {
		return func() {}
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var b [1]byte
		hungUp := false
		err := raw.Read(func(fd uintptr) bool {
			n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK)
			if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EINTR) {
				return false // wait until readable
			}
			hungUp = err != nil || n == 0
			return true
		})
		if err == nil && hungUp {
			onHangup()
		}
	}()
	return func() {
		// A past deadline wakes the blocked raw.Read; the caller sets the
		// next deadline itself.
		c.SetReadDeadline(time.Unix(1, 0))
		<-done
	}
}

// rawConn unwraps TLS and our own wrappers down to the socket.
func rawConn(c net.Conn) net.Conn {
	for {
		u, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			return c
		}
		c = u.NetConn()
	}
}
