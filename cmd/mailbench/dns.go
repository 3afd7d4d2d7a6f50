package main

import (
	"fmt"
	"net"

	"github.com/miekg/dns"
)

// nullDNS answers every query with NXDOMAIN: the world as sender
// authentication sees it when no domain publishes SPF, DKIM or DMARC.
// The daemon under test points mail.dns_resolver at it, so that with
// authentication on (the default) each message pays for its lookups
// instead of waiting for a resolver the machine does not have.
type nullDNS struct {
	Addr     string // host:port it listens on, UDP and TCP
	udp, tcp *dns.Server
}

// startNullDNS listens on addr (UDP and TCP of the same port; port 0
// picks one) and serves until close.
func startNullDNS(addr string) (*nullDNS, error) {
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("dns: listen udp %s: %w", addr, err)
	}
	l, err := net.Listen("tcp", pc.LocalAddr().String())
	if err != nil {
		pc.Close()
		return nil, fmt.Errorf("dns: listen tcp %s: %w", pc.LocalAddr(), err)
	}
	h := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetRcode(req, dns.RcodeNameError)
		m.Authoritative = true
		w.WriteMsg(m)
	})
	s := &nullDNS{Addr: pc.LocalAddr().String(),
		udp: &dns.Server{PacketConn: pc, Handler: h},
		tcp: &dns.Server{Listener: l, Handler: h}}
	started := make(chan error, 4) // a start and a late error each
	s.udp.NotifyStartedFunc = func() { started <- nil }
	s.tcp.NotifyStartedFunc = func() { started <- nil }
	go func() {
		if err := s.udp.ActivateAndServe(); err != nil {
			started <- err
		}
	}()
	go func() {
		if err := s.tcp.ActivateAndServe(); err != nil {
			started <- err
		}
	}()
	for range 2 {
		if err := <-started; err != nil {
			s.close()
			return nil, fmt.Errorf("dns: serve %s: %w", s.Addr, err)
		}
	}
	return s, nil
}

func (s *nullDNS) close() {
	s.udp.Shutdown()
	s.tcp.Shutdown()
}
