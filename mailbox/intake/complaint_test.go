package intake_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/jcservicedesk/servicedesk/mailbox/delivery"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
)

// TestComplaintSuppresses: an ARF feedback report about a mail we sent
// suppresses its complainant the way a bounce does and opens no ticket,
// even when the reporter is someone we know; a not-spam report suppresses
// nobody, nor does a report about a mail we never sent (a forgery).
func TestComplaintSuppresses(t *testing.T) {
	abuse, err := os.ReadFile("../testdata/arf-feedback-abuse.eml")
	if err != nil {
		t.Fatal(err)
	}
	const who = "claudia.reis@provedor.example.net"
	cases := []struct {
		name     string
		raw      string
		ours     bool // we sent the reported mail to the complainant
		suppress bool
		reason   string
	}{
		{"abuse", string(abuse), true, true, "complaint (abuse) for " + who + " (suppressed)"},
		{"known reporter", strings.Replace(string(abuse), "From: Mail Feedback <feedback@fbl.provedor.example.net>", "From: Tech <tech@helpdesk.example>", 1),
			true, true, "complaint (abuse) for " + who + " (suppressed)"},
		{"not-spam", strings.Replace(string(abuse), "Feedback-Type: abuse", "Feedback-Type: not-spam", 1),
			true, false, "complaint (not-spam) for " + who + " (not-spam; no address suppressed)"},
		{"forged: not our mail", string(abuse), false, false, "complaint (abuse) for " + who + " (not about a mail we sent; no address suppressed)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := storetest.Open(t, store.SQLite)
			r := newRig(t, st)
			ctx := context.Background()
			if c.ours {
				complainedOurMail(t, r, []byte(c.raw))
			}
			before := r.ticketCount()
			out, err := r.in.Deliver(ctx, delivery.Envelope{Source: delivery.SourceSMTP, Recipients: []string{"support@helpdesk.example"}}, []byte(c.raw))
			if err != nil {
				t.Fatal(err)
			}
			if out.Action != store.MailBounce || out.Reason != c.reason || out.TicketNum != 0 {
				t.Fatalf("outcome %+v, want bounce %q and no ticket", out, c.reason)
			}
			if n := r.ticketCount() - before; n != 0 {
				t.Fatalf("%d tickets opened", n)
			}
			counts, err := st.R().CountMail(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if counts[store.MailBounce] != 1 {
				t.Fatalf("mail rows %v, want one bounce row", counts)
			}
			got, err := st.R().BouncingAddresses(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if c.suppress != (len(got) == 1 && got[0] == who) || (!c.suppress && len(got) != 0) {
				t.Fatalf("suppressed %v, want suppress=%v", got, c.suppress)
			}
		})
	}
}
