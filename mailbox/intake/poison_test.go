package intake_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jcservicedesk/servicedesk/mailbox/delivery"
	"github.com/jcservicedesk/servicedesk/mailbox/intake"
	"github.com/jcservicedesk/servicedesk/mailbox/intake/intaketest"
	"github.com/jcservicedesk/servicedesk/store"
)

func (r *rig) try(src delivery.Source, raw []byte) (delivery.Outcome, error) {
	return r.in.Deliver(context.Background(), delivery.Envelope{Source: src, MailFrom: "x@y", Recipients: []string{"support@helpdesk.example"}}, raw)
}

// TestPoisonMessageIsQuarantinedAfterMaxAttempts: a message the store
// refuses every time used to be retried forever (451, exit 75, the poller
// stuck at its UID). Now each failure is counted, durably, and the third
// holds it with its raw bytes and the error; what comes behind it is
// delivered.
func TestPoisonMessageIsQuarantinedAfterMaxAttempts(t *testing.T) {
	intaketest.Each(t, func(t *testing.T, o *intaketest.Opened) {
		r := newRig(t, o.Store)
		for _, src := range []delivery.Source{delivery.SourceSMTP, delivery.SourceIMAP, delivery.SourcePipe} {
			t.Run(string(src), func(t *testing.T) {
				raw := intaketest.Fixture(t, "poison-constraint.eml")
				raw = bytes.Replace(raw, []byte("<poison-constraint@"), []byte("<poison-constraint-"+string(src)+"@"), 1)
				for i := 1; i < intake.DefaultMaxAttempts; i++ {
					_, err := r.try(src, raw)
					var te *intake.TempError
					if !errors.As(err, &te) || te.Attempt != i || delivery.IsPermanent(err) {
						t.Fatalf("attempt %d: %v", i, err)
					}
				}
				out, err := r.try(src, raw)
				if err != nil || out.Action != store.MailQuarantine || out.QuarantineID == 0 {
					t.Fatalf("attempt %d: %+v %v", intake.DefaultMaxAttempts, out, err)
				}
				if !strings.Contains(out.Reason, "3 failed attempts (mail.max_attempts)") || !strings.Contains(out.Reason, "poison: refused by the test trigger") {
					t.Errorf("reason %q", out.Reason)
				}
				held, body, err := o.Store.R().QuarantineGet(context.Background(), out.QuarantineID)
				if err != nil || !bytes.Equal(body, raw) || held.Reason != out.Reason {
					t.Fatalf("held %+v %v (raw kept: %v)", held, err, bytes.Equal(body, raw))
				}
				// Its 250 lost, it comes once more: the same entry, no new count.
				if again, err := r.try(src, raw); err != nil || again.QuarantineID != out.QuarantineID {
					t.Fatalf("again: %+v %v", again, err)
				}
				if n, err := o.Store.R().MailAttempts(context.Background(), held.ContentHash); err != nil || n != 0 {
					t.Fatalf("attempts left %d %v", n, err)
				}
				next := bytes.Replace(intaketest.Fixture(t, "behind-the-poison.eml"), []byte("<behind-poison@"), []byte("<behind-"+string(src)+"@"), 1)
				if out, err := r.try(src, next); err != nil || out.Action != store.MailTicket {
					t.Fatalf("mail behind it: %+v %v", out, err)
				}
			})
		}
	})
}

// TestNULInDecodedHeaderNeverBlocks: a NUL in a decoded subject could be
// neither stored nor quarantined on PostgreSQL, so the message was retried
// forever. It must end placed or held within mail.max_attempts.
func TestNULInDecodedHeaderNeverBlocks(t *testing.T) {
	intaketest.Each(t, func(t *testing.T, o *intaketest.Opened) {
		r := newRig(t, o.Store)
		raw := intaketest.Fixture(t, "poison-nul-header.eml")
		var out delivery.Outcome
		var err error
		for i := 1; i <= intake.DefaultMaxAttempts; i++ {
			if out, err = r.try(delivery.SourceSMTP, raw); err == nil {
				break
			}
		}
		if err != nil || (out.Action != store.MailTicket && out.Action != store.MailQuarantine) {
			t.Fatalf("after %d attempts: %+v %v", intake.DefaultMaxAttempts, out, err)
		}
		if out.Action == store.MailQuarantine {
			held, body, err := o.Store.R().QuarantineGet(context.Background(), out.QuarantineID)
			if err != nil || !bytes.Equal(body, raw) || strings.ContainsRune(held.Subject, 0) {
				t.Fatalf("held %+v %v", held, err)
			}
		}
	})
}

// TestUnavailableDatabaseIsNotAnAttempt: 57P03 (a PostgreSQL restart) was
// taken for the message's fault once the store answered pings again, and
// the mail quarantined after 250. It is a retry, however often, and never
// counts towards quarantine.
func TestUnavailableDatabaseIsNotAnAttempt(t *testing.T) {
	o := intaketest.Open(t, store.Postgres)
	r := newRig(t, o.Store)
	raw := intaketest.Fixture(t, "db-restarting.eml")
	for i := 0; i < 2*intake.DefaultMaxAttempts; i++ {
		out, err := r.try(delivery.SourceSMTP, raw)
		var te *intake.TempError
		if !errors.As(err, &te) || te.Attempt != 0 || !store.IsUnavailable(err) {
			t.Fatalf("try %d: %+v %v", i, out, err)
		}
	}
	held, err := o.Store.R().QuarantinePage(context.Background(), 0, 0)
	if err != nil || len(held) != 0 {
		t.Fatalf("quarantined %d (%v)", len(held), err)
	}
}
