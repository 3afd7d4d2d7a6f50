package configs

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func TestMetricsDefaultsToLoopback(t *testing.T) {
	c := mustLoad(t, nil)
	want := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	if got := c.Metrics.Prefixes(); !reflect.DeepEqual(got, want) || c.Metrics.Token != "" {
		t.Fatalf("metrics defaults: %v %q", got, c.Metrics.Token)
	}
}

func TestMetricsFromEnvironmentAndFile(t *testing.T) {
	c := mustLoad(t, nil, "SERVICEDESK_METRICS_ALLOWED_NETWORKS=10.0.0.0/8,192.168.1.7", "SERVICEDESK_METRICS_TOKEN=0123456789abcdef0123")
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.7/32")}
	if got := c.Metrics.Prefixes(); !reflect.DeepEqual(got, want) || c.Metrics.Token != "0123456789abcdef0123" {
		t.Fatalf("from env: %v %q", got, c.Metrics.Token)
	}
	c = mustLoad(t, map[string]string{"servicedesk.yaml": "metrics:\n  allowed_networks: []\n"})
	if len(c.Metrics.Prefixes()) != 0 {
		t.Fatalf("an empty list must allow no network: %v", c.Metrics.AllowedNetworks)
	}
	if r := c.Redacted(); r.Metrics.Token != "" {
		t.Fatalf("unset token redacted as set: %q", r.Metrics.Token)
	}
	c = mustLoad(t, nil, "SERVICEDESK_METRICS_TOKEN=0123456789abcdef0123")
	if r := c.Redacted(); r.Metrics.Token != redacted || c.Metrics.Token == redacted {
		t.Fatalf("token not redacted: %q (original %q)", r.Metrics.Token, c.Metrics.Token)
	}
}

func TestMetricsValidation(t *testing.T) {
	for env, want := range map[string]string{
		"SERVICEDESK_METRICS_ALLOWED_NETWORKS=10.0.0.0/33":  "config: metrics.allowed_networks[0]: \"10.0.0.0/33\" is not a network",
		"SERVICEDESK_METRICS_ALLOWED_NETWORKS=::1,intranet": "config: metrics.allowed_networks[1]: \"intranet\" is not a network",
		"SERVICEDESK_METRICS_TOKEN=secret":                  "config: metrics.token: too short",
	} {
		_, err := loadIn(t, nil, env)
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: %v, want %q", env, err, want)
			continue
		}
		assertOneLine(t, err)
	}
}
