package web

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// proxies are the peers whose X-Forwarded-For is believed.
type proxies struct{ nets []netip.Prefix }

func parseProxies(list []string) (*proxies, error) {
	p := &proxies{}
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if pre, err := netip.ParsePrefix(s); err == nil {
			p.nets = append(p.nets, pre.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("web: http.trusted_proxies: %q is not an IP or CIDR", s)
		}
		a = a.Unmap()
		p.nets = append(p.nets, netip.PrefixFrom(a, a.BitLen()))
	}
	return p, nil
}

func (p *proxies) trusted(a netip.Addr) bool {
	for _, n := range p.nets {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

// clientIP is the peer's address, or when the peer is a trusted proxy the
// right-most X-Forwarded-For entry that is not itself a trusted proxy
// (entries left of it were written by the client and prove nothing).
func (p *proxies) clientIP(r *http.Request) netip.Addr {
	ip := peerIP(r.RemoteAddr)
	if !ip.IsValid() || !p.trusted(ip) {
		return ip
	}
	var hops []string
	for _, h := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(h, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return ip // garbage: stop at the last address we could trust
		}
		ip = a.Unmap()
		if !p.trusted(ip) {
			return ip
		}
	}
	return ip
}

func peerIP(remote string) netip.Addr {
	if ap, err := netip.ParseAddrPort(remote); err == nil {
		return ap.Addr().Unmap()
	}
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, _ := netip.ParseAddr(host)
	return a.Unmap()
}
