package intake_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/jcservicedesk/servicedesk/mailbox/delivery"
	"github.com/jcservicedesk/servicedesk/mailbox/intake"
	"github.com/jcservicedesk/servicedesk/mailbox/intake/intaketest"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
)

func postmasterRig(t *testing.T, st *store.Store, postmaster string) *rig {
	return newRig(t, st, func(c *intake.Config) {
		c.UnknownSender = intake.UnknownQuarantine // strangers are held: not postmaster mail
		c.PostmasterAddress, c.FromAddress = postmaster, "support@helpdesk.example"
	})
}

func (r *rig) outbox() []*store.OutboxMail {
	r.t.Helper()
	ctx := context.Background()
	rows, err := r.st.R().OutboxList(ctx, store.OutboxFilter{Limit: -1})
	if err != nil {
		r.t.Fatal(err)
	}
	for i, row := range rows {
		if rows[i], err = r.st.R().OutboxGet(ctx, row.ID); err != nil {
			r.t.Fatal(err)
		}
	}
	return rows
}

// TestPostmasterMailIsForwarded: mail to postmaster@ (refused with 550
// over SMTP, and held as an unknown sender otherwise) goes, whole, to
// mail.postmaster_address; mail that copies abuse@ on a ticket matter is
// both placed and forwarded.
func TestPostmasterMailIsForwarded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := postmasterRig(t, st, "IT-Team@corp.example")
		raw := intaketest.Fixture(t, "postmaster-blocklist-notice.eml")
		out, err := r.in.Deliver(context.Background(), delivery.Envelope{Source: delivery.SourceSMTP, MailFrom: "ops@rbl.example",
			Recipients: []string{"Postmaster@helpdesk.example"}}, raw)
		if err != nil || out.Action != store.MailForwarded || !strings.Contains(out.Reason, "mail.postmaster_address it-team@corp.example") {
			t.Fatalf("postmaster: %+v %v", out, err)
		}
		rows := r.outbox()
		if len(rows) != 1 {
			t.Fatalf("outbox %d rows", len(rows))
		}
		fw := rows[0]
		if fw.Recipients != "it-team@corp.example" || fw.Event != intake.EventPostmasterForward || fw.MailFrom != "support@helpdesk.example" {
			t.Fatalf("forward %+v", fw)
		}
		if !bytes.Contains(fw.Raw, []byte("Content-Type: message/rfc822")) || !bytes.Contains(fw.Raw, raw) ||
			!bytes.Contains(fw.Raw, []byte("X-JCServiceDesk-Loop: helpdesk.example")) {
			t.Fatalf("forward does not carry the original whole:\n%s", fw.Raw)
		}
		if n := r.ticketCount(); n != 0 {
			t.Fatalf("%d tickets from postmaster mail", n)
		}
		mails, err := st.R().MailList(context.Background(), 0)
		if err != nil || len(mails) != 1 || mails[0].Action != store.MailForwarded {
			t.Fatalf("mail rows %+v %v", mails, err)
		}

		// A customer's mail that copies abuse@: a ticket, and a copy.
		cc := intaketest.Fixture(t, "abuse-cc-on-ticket-mail.eml")
		r2 := newRig(t, storetest.Open(t, st.Driver()), func(c *intake.Config) {
			c.PostmasterAddress, c.FromAddress = "it-team@corp.example", "support@helpdesk.example"
		})
		out, err = r2.in.Deliver(context.Background(), delivery.Envelope{Source: delivery.SourceIMAP, Recipients: []string{"support@helpdesk.example"}}, cc)
		if err != nil || out.Action != store.MailTicket || len(r2.outbox()) < 1 {
			t.Fatalf("abuse@ in Cc: %+v %v, outbox %d", out, err, len(r2.outbox()))
		}
		found := false
		for _, row := range r2.outbox() {
			found = found || row.Event == intake.EventPostmasterForward
		}
		if !found {
			t.Fatal("no forward of the mail copied to abuse@")
		}
	})
}

// TestPostmasterWithoutAddressIsHeld: with nowhere to forward it, the mail
// is held with a reason that says which setting decides.
func TestPostmasterWithoutAddressIsHeld(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := postmasterRig(t, st, "")
		out, err := r.in.Deliver(context.Background(), delivery.Envelope{Source: delivery.SourcePipe}, intaketest.Fixture(t, "postmaster-blocklist-notice.eml"))
		if err != nil || out.Action != store.MailQuarantine || !strings.Contains(out.Reason, "mail.postmaster_address is not set") {
			t.Fatalf("%+v %v", out, err)
		}
	})
}
