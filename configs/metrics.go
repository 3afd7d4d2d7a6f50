package configs

import (
	"fmt"
	"net/netip"
	"strings"
)

// MetricsConfig guards the /metrics endpoint of serve: a client must come
// from one of AllowedNetworks or present Token as a bearer token.
type MetricsConfig struct {
	// AllowedNetworks are CIDRs (or single IPs) answered without a token;
	// the default is loopback only, as miniflux does.
	AllowedNetworks []string `mapstructure:"allowed_networks" json:"allowed_networks" yaml:"allowed_networks"`
	// Token, when set, lets any client in with "Authorization: Bearer <token>".
	Token string `mapstructure:"token" json:"token" yaml:"token"`
}

// minMetricsToken keeps a guessable token out: it guards the whole
// endpoint from any network.
const minMetricsToken = 16

func defaultMetrics() MetricsConfig {
	return MetricsConfig{AllowedNetworks: []string{"127.0.0.1/8", "::1/128"}}
}

// Prefixes parses AllowedNetworks (Validate has checked them); a single
// IP is a one-address network.
func (m MetricsConfig) Prefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range m.AllowedNetworks {
		if p, err := parseNetwork(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}

func parseNetwork(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return p.Masked(), nil
}

func (c *Config) checkMetrics() *Error {
	for i, s := range c.Metrics.AllowedNetworks {
		if _, err := parseNetwork(s); err != nil {
			return &Error{Key: fmt.Sprintf("metrics.allowed_networks[%d]", i), Msg: fmt.Sprintf("%q is not a network (want a CIDR such as 10.0.0.0/8, or an IP)", s)}
		}
	}
	if t := c.Metrics.Token; t != "" && len(t) < minMetricsToken {
		return &Error{Key: "metrics.token", Msg: fmt.Sprintf("too short (want at least %d characters, e.g. from `openssl rand -hex 24`, or empty for none)", minMetricsToken)}
	}
	return nil
}
