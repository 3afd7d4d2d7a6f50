package smtpd

import (
	"bytes"
	"errors"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/jcservicedesk/servicedesk/mailbox/intake"
	"github.com/jcservicedesk/servicedesk/mailbox/intake/intaketest"
	"github.com/jcservicedesk/servicedesk/store"
)

// sendGoSMTP sends raw with go-smtp's client and returns the SMTP reply
// code of the end of DATA (250 on success).
func sendGoSMTP(t *testing.T, addr string, raw []byte) int {
	t.Helper()
	c, err := smtp.Dial(addr) // plain: SendMail insists on STARTTLS
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.SendMail("sender@acme.example", []string{"support@example.com"}, bytes.NewReader(raw))
	if err == nil {
		return 250
	}
	var se *smtp.SMTPError
	if !errors.As(err, &se) {
		t.Fatalf("send: %v", err)
	}
	return se.Code
}

// TestPoisonOverSMTP: a message the store refuses every time was answered
// 451 forever, so the sending MTA kept it queued and retried without end.
// Now the third try is answered 250 with the message held in quarantine,
// and mail behind it is delivered.
func TestPoisonOverSMTP(t *testing.T) {
	intaketest.Each(t, func(t *testing.T, o *intaketest.Opened) {
		in := intaketest.NewIntake(t, o.Store)
		_, addr := startServer(t, Config{}, in)
		raw := intaketest.Fixture(t, "poison-constraint.eml")
		for i := 1; i < intake.DefaultMaxAttempts; i++ {
			if code := sendGoSMTP(t, addr, raw); code != 451 {
				t.Fatalf("try %d: %d, want 451", i, code)
			}
		}
		if code := sendGoSMTP(t, addr, raw); code != 250 {
			t.Fatalf("try %d: %d, want 250 (held)", intake.DefaultMaxAttempts, code)
		}
		if code := sendGoSMTP(t, addr, intaketest.Behind(t, "smtp", 1)); code != 250 {
			t.Fatalf("mail behind it: %d", code)
		}
		c := intaketest.Count(t, o.Store)
		if c.Quarantined != 1 || c.Mail[store.MailTicket] != 1 {
			t.Fatalf("held %d, mail %v", c.Quarantined, c.Mail)
		}
	})
}

// TestRestartingDatabaseOverSMTP: PostgreSQL answering 57P03 (starting
// up) is 451 however often, and nothing is quarantined.
func TestRestartingDatabaseOverSMTP(t *testing.T) {
	o := intaketest.Open(t, store.Postgres)
	in := intaketest.NewIntake(t, o.Store)
	_, addr := startServer(t, Config{}, in)
	raw := intaketest.Fixture(t, "db-restarting.eml")
	for i := 0; i < 2*intake.DefaultMaxAttempts; i++ {
		if code := sendGoSMTP(t, addr, raw); code != 451 {
			t.Fatalf("try %d: %d, want 451", i, code)
		}
	}
	if c := intaketest.Count(t, o.Store); c.Quarantined != 0 || len(c.Mail) != 0 {
		t.Fatalf("held %d, mail %v", c.Quarantined, c.Mail)
	}
}
