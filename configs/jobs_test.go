package configs

import (
	"strings"
	"testing"
	"time"
)

func TestJobsAndRetentionValidation(t *testing.T) {
	cases := []struct {
		key string
		set func(c *Config)
	}{
		{"jobs.sla_check_interval", func(c *Config) { c.Jobs.SLACheckInterval = 0 }},
		{"jobs.retention_at", func(c *Config) { c.Jobs.RetentionAt = "3:30" }},
		{"jobs.retention_at", func(c *Config) { c.Jobs.RetentionAt = "24:00" }},
		{"retention.closed_ticket_days", func(c *Config) { c.Retention.ClosedTicketDays = -1 }},
		{"retention.audit_days", func(c *Config) { c.Retention.AuditDays = -1 }},
		{"retention.quarantine_days", func(c *Config) { c.Retention.QuarantineDays = -1 }},
		{"retention.outbox_days", func(c *Config) { c.Retention.OutboxDays = -1 }},
		{"retention.lease_ttl", func(c *Config) { c.Retention.LeaseTTL = time.Millisecond }},
	}
	for _, tc := range cases {
		c := Defaults()
		tc.set(c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("%s: %v", tc.key, err)
		}
	}
	c := Defaults()
	c.Retention.ClosedTicketDays = 0 // keep forever is valid
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if h, m, err := ParseTimeOfDay("03:30"); err != nil || h != 3 || m != 30 {
		t.Fatalf("03:30: %d %d %v", h, m, err)
	}
}
