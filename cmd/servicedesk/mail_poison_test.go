package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/jcservicedesk/servicedesk/mailbox/intake"
	"github.com/jcservicedesk/servicedesk/mailbox/intake/intaketest"
	"github.com/jcservicedesk/servicedesk/store"
)

// poisonCLI is a CLI whose database refuses poison (intaketest's trigger).
func poisonCLI(t *testing.T, c *cli) {
	t.Helper()
	if len(c.db) == 2 {
		intaketest.InstallPoison(t, store.Postgres, c.db[1])
		return
	}
	intaketest.InstallPoison(t, store.SQLite, filepath.Join(c.dir, "data", "servicedesk.db"))
}

// TestMailIngestPoison: the pipe exited 75 forever for a message the store
// refuses, so the MTA kept it queued without end. The real command now
// exits 75 until mail.max_attempts, then 0 with the message quarantined.
func TestMailIngestPoison(t *testing.T) {
	eachDriver(t, func(t *testing.T, c *cli) {
		c.env = append(c.env, "SERVICEDESK_MAIL_UNKNOWN_SENDER=create")
		poisonCLI(t, c)
		raw := string(intaketest.Fixture(t, "poison-constraint.eml"))
		for i := 1; i < intake.DefaultMaxAttempts; i++ {
			if outs, r := c.ingest(raw); r.code != exTempFail || len(outs) != 1 || outs[0].Action != "failed" ||
				!strings.Contains(outs[0].Error, "attempt") {
				t.Fatalf("try %d: exit %d %+v %s", i, r.code, outs, r.stderr)
			}
		}
		outs, r := c.ingest(raw)
		held := oneOutcome(t, "last try", outs, r, 0, store.MailQuarantine)
		if held.Quarantine == 0 || !strings.Contains(held.Reason, "mail.max_attempts") {
			t.Fatalf("held: %+v", held)
		}
		outs, r = c.ingest(string(intaketest.Behind(t, "pipe", 1)))
		oneOutcome(t, "mail behind it", outs, r, 0, store.MailTicket)
	})
}

// TestMailIngestDatabaseRestarting: 57P03 is exit 75 every time; nothing
// is quarantined.
func TestMailIngestDatabaseRestarting(t *testing.T) {
	c := newCLI(t, "postgres")
	c.env = append(c.env, "SERVICEDESK_MAIL_UNKNOWN_SENDER=create")
	poisonCLI(t, c)
	raw := string(intaketest.Fixture(t, "db-restarting.eml"))
	for i := 0; i < 2*intake.DefaultMaxAttempts; i++ {
		if _, r := c.ingest(raw); r.code != exTempFail {
			t.Fatalf("try %d: exit %d %s", i, r.code, r.stderr)
		}
	}
	var held []map[string]any
	c.ok(&held, "mail", "quarantine", "list")
	if len(held) != 0 {
		t.Fatalf("quarantined: %+v", held)
	}
}
