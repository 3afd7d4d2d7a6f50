package intake_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/jcservicedesk/servicedesk/mailbox/delivery"
	"github.com/jcservicedesk/servicedesk/mailbox/intake/intaketest"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
)

// TestReusedMessageIDIsANewMessage: a second, different message with a
// Message-ID already seen is processed as new, keeps its row and raw
// copy, and the reuse is noted on its ticket.
func TestReusedMessageIDIsANewMessage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := newRig(t, st)
		first, err := r.try(delivery.SourceSMTP, intaketest.Fixture(t, "msgid-reuse-first.eml"))
		if err != nil || first.Action != store.MailTicket {
			t.Fatalf("first: %+v %v", first, err)
		}
		second, err := r.try(delivery.SourceSMTP, intaketest.Fixture(t, "msgid-reuse-second.eml"))
		if err != nil || second.Action != store.MailTicket || second.TicketNum == first.TicketNum {
			t.Fatalf("second: %+v %v (first #%d)", second, err, first.TicketNum)
		}
		if !strings.Contains(second.Reason, "reuses the Message-ID") {
			t.Errorf("reason %q does not note the reuse", second.Reason)
		}
		mails, err := st.R().MailsByMessageID(context.Background(), "1@localhost")
		if err != nil || len(mails) != 2 || mails[0].ContentHash == mails[1].ContentHash {
			t.Fatalf("rows %+v %v", mails, err)
		}
		v := r.ticket(second.TicketNum)
		noted := false
		for _, c := range v.Comments {
			noted = noted || (c.Internal && strings.Contains(c.BodyText, "<1@localhost>") && strings.Contains(c.BodyText, "reuses"))
		}
		if !noted {
			t.Errorf("no internal note about the reuse on #%d: %+v", second.TicketNum, v.Comments)
		}
		// A copy of the first altered on the way (a footer added): a
		// duplicate, placed once, but with a row and raw copy of its own.
		altered := bytes.Replace(intaketest.Fixture(t, "msgid-reuse-first.eml"), []byte("offline. (Its"), []byte("offline.\r\n-- \r\nScanned by GatewayAV\r\n(Its"), 1)
		if out, err := r.try(delivery.SourceSMTP, altered); err != nil || out.Action != "duplicate" || out.TicketNum != first.TicketNum {
			t.Fatalf("altered copy: %+v %v", out, err)
		}
		if mails, err := st.R().MailsByMessageID(context.Background(), "1@localhost"); err != nil || len(mails) != 3 || mails[2].Action != "duplicate" {
			t.Fatalf("rows after the altered copy: %d %v", len(mails), err)
		}
		// Both tickets answer to the Message-ID; a reply threads to the first.
		reply := mail("ana@acme.example", "Re: Scanner offline", "still offline", "In-Reply-To: <1@localhost>", "Message-ID: <r1@acme.example>")
		if out := r.deliver(delivery.SourceSMTP, reply); out.Action != store.MailComment || out.TicketNum != first.TicketNum {
			t.Fatalf("reply: %+v", out)
		}
	})
}
