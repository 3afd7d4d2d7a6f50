package auth

import (
	"context"
	"net"
	"time"
)

// Resolver is the DNS the checks need: TXT for DKIM keys, DMARC and SPF
// records; MX, A/AAAA and PTR for SPF's mechanisms. *net.Resolver
// implements it, and so does blitiri.com.ar/go/spf's DNSResolver.
type Resolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
	LookupMX(ctx context.Context, name string) ([]*net.MX, error)
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
	LookupAddr(ctx context.Context, addr string) ([]string, error)
}

// NewResolver returns the system resolver, or, when server (host:port) is
// set (mail.dns_resolver), a resolver that asks only that server: a
// validating local resolver in production, a test's own DNS server in
// tests.
func NewResolver(server string) *net.Resolver {
	if server == "" {
		return net.DefaultResolver
	}
	d := net.Dialer{Timeout: 5 * time.Second}
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, server)
		},
	}
}
