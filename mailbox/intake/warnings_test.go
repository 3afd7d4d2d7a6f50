package intake_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/jcservicedesk/servicedesk/mailbox/delivery"
	"github.com/jcservicedesk/servicedesk/mailbox/intake"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
)

// TestPartLimitLeavesANote: a message with more MIME parts than the parser
// reads was cut silently; the ticket now says so, in an internal note.
func TestPartLimitLeavesANote(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := newRig(t, st)
		var b strings.Builder
		b.WriteString("From: Ana Souza <ana@acme.example>\r\nTo: support@helpdesk.example\r\nSubject: Photos of every rack\r\n")
		b.WriteString("Date: Sun, 29 Nov 2026 13:00:00 +0000\r\nMessage-ID: <many-parts@acme.example>\r\nMIME-Version: 1.0\r\n")
		b.WriteString("Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSee the attachments.\r\n")
		for i := range 2100 {
			fmt.Fprintf(&b, "--b\r\nContent-Type: text/plain; name=\"rack%d.txt\"\r\nContent-Disposition: attachment; filename=\"rack%d.txt\"\r\n\r\nrack %d\r\n", i, i, i)
		}
		b.WriteString("--b--\r\n")
		out, err := r.try(delivery.SourceSMTP, []byte(b.String()))
		if err != nil || out.Action != store.MailTicket {
			t.Fatalf("%+v %v", out, err)
		}
		v := r.ticket(out.TicketNum)
		for _, c := range v.Comments {
			if c.Internal && strings.Contains(c.BodyText, "too many parts") {
				return
			}
		}
		t.Fatalf("no note about the part limit: %+v", v.Comments)
	})
}

// TestMaxPartsFromConfig: the part limit is intake.Config.MaxParts
// (mail.max_parts), not only the parser's default.
func TestMaxPartsFromConfig(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	r := newRig(t, st, func(c *intake.Config) { c.MaxParts = 5 })
	var b strings.Builder
	b.WriteString("From: Ana Souza <ana@acme.example>\r\nTo: support@helpdesk.example\r\nSubject: Ten racks\r\n")
	b.WriteString("Date: Sun, 29 Nov 2026 13:00:00 +0000\r\nMessage-ID: <ten-parts@acme.example>\r\nMIME-Version: 1.0\r\n")
	b.WriteString("Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSee the attachments.\r\n")
	for i := range 10 {
		fmt.Fprintf(&b, "--b\r\nContent-Type: text/plain; name=\"rack%d.txt\"\r\nContent-Disposition: attachment; filename=\"rack%d.txt\"\r\n\r\nrack %d\r\n", i, i, i)
	}
	b.WriteString("--b--\r\n")
	out, err := r.try(delivery.SourceSMTP, []byte(b.String()))
	if err != nil || out.Action != store.MailTicket {
		t.Fatalf("%+v %v", out, err)
	}
	v := r.ticket(out.TicketNum)
	if len(v.Attachments) >= 10 {
		t.Fatalf("%d attachments kept past a limit of 5 parts", len(v.Attachments))
	}
	for _, c := range v.Comments {
		if c.Internal && strings.Contains(c.BodyText, "part limit of 5") {
			return
		}
	}
	t.Fatalf("no note about the part limit of 5: %+v", v.Comments)
}
