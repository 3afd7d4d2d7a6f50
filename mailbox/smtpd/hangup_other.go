//go:build !unix

package smtpd

import "net"

// watchHangup is a no-op where peeking at a socket is not portable; the
// delivery timeout still bounds the work.
func watchHangup(net.Conn, func()) (stop func()) { return func() {} }
