package main

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/jcservicedesk/servicedesk/mailbox/auth"
)

// TestNullDNS: every name is NXDOMAIN over UDP and TCP, and the resolver
// the daemon builds from mail.dns_resolver reads that as "no record", at
// once, not as a timeout.
func TestNullDNS(t *testing.T) {
	s, err := startNullDNS("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	for _, netw := range []string{"udp", "tcp"} {
		c := &dns.Client{Net: netw, Timeout: 5 * time.Second}
		for _, q := range []struct {
			name string
			typ  uint16
		}{{"_dmarc.empresa1.example.", dns.TypeTXT}, {"empresa1.example.", dns.TypeTXT}, {"sel._domainkey.x.example.", dns.TypeTXT}, {"mx.example.", dns.TypeA}} {
			m := new(dns.Msg)
			m.SetQuestion(q.name, q.typ)
			r, _, err := c.Exchange(m, s.Addr)
			if err != nil {
				t.Fatalf("%s %s: %v", netw, q.name, err)
			}
			if r.Rcode != dns.RcodeNameError || len(r.Answer) != 0 {
				t.Errorf("%s %s: rcode %s with %d answers, want NXDOMAIN and none", netw, q.name, dns.RcodeToString[r.Rcode], len(r.Answer))
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = auth.NewResolver(s.Addr).LookupTXT(ctx, "_dmarc.lojasilva.example")
	var de *net.DNSError
	if !errors.As(err, &de) || !de.IsNotFound || de.IsTimeout {
		t.Fatalf("lookup through the daemon's resolver: %v, want not found", err)
	}
}

func TestNullDNSPortTaken(t *testing.T) {
	s, err := startNullDNS("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	if s2, err := startNullDNS(s.Addr); err == nil {
		s2.close()
		t.Fatalf("a second server on %s started", s.Addr)
	}
}
