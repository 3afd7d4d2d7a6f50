// Package authtest runs a DNS server of the test's own (miekg/dns) on the
// loopback, serving the SPF, DKIM and DMARC records a test gives it, and
// signs messages with real DKIM keys. There is no DNS on the test machines,
// and a test must never ask the system's.
package authtest

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/miekg/dns"
)

// ServFail as the only TXT record of a name makes the server answer
// SERVFAIL for it (a temporary DNS error).
const ServFail = "\x00servfail"

// Server is a loopback DNS server answering TXT (and A for names given
// addresses); every other name is NXDOMAIN.
type Server struct {
	Addr string // host:port, for mail.dns_resolver

	mu         sync.Mutex
	txt        map[string][]string
	a          map[string][]net.IP
	defaultSPF string
}

// Start runs a server for the test's life, on UDP and TCP of one port.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{txt: map[string][]string{}, a: map[string][]net.IP{}}
	pc, l, err := listen()
	if err != nil {
		t.Fatalf("authtest: %v", err)
	}
	s.Addr = pc.LocalAddr().String()
	udp := &dns.Server{PacketConn: pc, Handler: s}
	tcp := &dns.Server{Listener: l, Handler: s}
	go udp.ActivateAndServe()
	go tcp.ActivateAndServe()
	t.Cleanup(func() {
		udp.Shutdown()
		tcp.Shutdown()
	})
	return s
}

// listen takes one port for UDP and TCP; the UDP port the system picks
// may be taken for TCP, so it tries a few.
func listen() (net.PacketConn, net.Listener, error) {
	var err error
	for range 20 {
		var pc net.PacketConn
		if pc, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
			return nil, nil, fmt.Errorf("listen udp: %w", err)
		}
		l, lerr := net.Listen("tcp", pc.LocalAddr().String())
		if lerr == nil {
			return pc, l, nil
		}
		pc.Close()
		err = lerr
	}
	return nil, nil, fmt.Errorf("listen tcp: %w", err)
}

// SetTXT replaces the TXT records of name.
func (s *Server) SetTXT(name string, records ...string) {
	s.mu.Lock()
	s.txt[dns.Fqdn(strings.ToLower(name))] = records
	s.mu.Unlock()
}

// DefaultSPF makes every name without records of its own (other than
// _dmarc and _domainkey names) answer record as its only TXT: a test world
// in which, say, every domain sends from the loopback.
func (s *Server) DefaultSPF(record string) {
	s.mu.Lock()
	s.defaultSPF = record
	s.mu.Unlock()
}

// SetA replaces the addresses of name.
func (s *Server) SetA(name string, ips ...net.IP) {
	s.mu.Lock()
	s.a[dns.Fqdn(strings.ToLower(name))] = ips
	s.mu.Unlock()
}

// ServeDNS answers one query.
func (s *Server) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	if len(req.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	s.mu.Lock()
	txt, hasTXT := s.txt[name]
	ips, hasA := s.a[name]
	if !hasTXT && !hasA && s.defaultSPF != "" && !strings.HasPrefix(name, "_") && !strings.Contains(name, "._domainkey.") {
		txt, hasTXT = []string{s.defaultSPF}, true
	}
	s.mu.Unlock()
	hdr := func(t uint16) dns.RR_Header {
		return dns.RR_Header{Name: q.Name, Rrtype: t, Class: dns.ClassINET, Ttl: 60}
	}
	switch {
	case hasTXT && len(txt) == 1 && txt[0] == ServFail:
		m.Rcode = dns.RcodeServerFailure
	case q.Qtype == dns.TypeTXT && hasTXT:
		for _, r := range txt {
			m.Answer = append(m.Answer, &dns.TXT{Hdr: hdr(dns.TypeTXT), Txt: split255(r)})
		}
	case q.Qtype == dns.TypeA && hasA:
		for _, ip := range ips {
			if ip4 := ip.To4(); ip4 != nil {
				m.Answer = append(m.Answer, &dns.A{Hdr: hdr(dns.TypeA), A: ip4})
			}
		}
	case hasTXT || hasA:
		// The name exists without records of this type: NOERROR, empty.
	default:
		m.Rcode = dns.RcodeNameError
	}
	w.WriteMsg(m)
}

// split255 cuts a record into the 255-byte strings TXT holds.
func split255(s string) []string {
	var out []string
	for len(s) > 255 {
		out = append(out, s[:255])
		s = s[255:]
	}
	return append(out, s)
}

// Key is a DKIM signing key published at selector._domainkey.domain.
type Key struct {
	Domain, Selector string
	priv             ed25519.PrivateKey
}

// NewKey makes an Ed25519 key for domain and publishes it on s.
func (s *Server) NewKey(t testing.TB, domain, selector string) *Key {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s.SetTXT(selector+"._domainkey."+domain, "v=DKIM1; k=ed25519; p="+base64.StdEncoding.EncodeToString(pub))
	return &Key{Domain: domain, Selector: selector, priv: priv}
}

// Sign returns raw with a DKIM-Signature of k on top.
func (k *Key) Sign(t testing.TB, raw []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	err := dkim.Sign(&b, bytes.NewReader(raw), &dkim.SignOptions{
		Domain: k.Domain, Selector: k.Selector, Signer: k.priv,
		HeaderKeys: []string{"From", "To", "Subject", "Date", "Message-ID"},
	})
	if err != nil {
		t.Fatalf("authtest: sign: %v", err)
	}
	return b.Bytes()
}
