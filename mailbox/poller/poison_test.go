package poller

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/jcservicedesk/servicedesk/mailbox/delivery"
	"github.com/jcservicedesk/servicedesk/mailbox/intake"
	"github.com/jcservicedesk/servicedesk/mailbox/intake/intaketest"
	"github.com/jcservicedesk/servicedesk/store"
)

const behindPoison = 10

// poisonFlow runs a poller with the real intake over a mailbox holding a
// poison message (the store refuses it every time) and behindPoison
// messages after it: the poison used to stop the poller at its UID on
// every pass. Now it is held after mail.max_attempts passes, the cursor
// goes past it and everything behind it arrives.
func poisonFlow(t *testing.T, mb Mailbox, appendRaw func(raw []byte)) {
	o := intaketest.Open(t, store.SQLite)
	in := intaketest.NewIntake(t, o.Store)
	appendRaw(intaketest.Fixture(t, "poison-constraint.eml"))
	for i := range behindPoison {
		appendRaw(intaketest.Behind(t, "imap", i))
	}
	st := newMemState()
	p := newTestPoller(t, mb, in, st, nil)
	stop := run(t, p)
	waitFor(t, 30*time.Second, "the cursor past every message", func() bool {
		_, u := st.get(mb.Name)
		return u == behindPoison+1
	})
	stop()
	c := intaketest.Count(t, o.Store)
	if c.Quarantined != 1 || c.Mail[store.MailTicket] != behindPoison {
		t.Fatalf("held %d, mail %v; want 1 held and %d tickets", c.Quarantined, c.Mail, behindPoison)
	}
	held, err := o.Store.R().QuarantinePage(context.Background(), 0, 0)
	if err != nil || held[0].Source != string(delivery.SourceIMAP) {
		t.Fatalf("held %+v %v", held, err)
	}
	if s := p.Status(); s.Stuck || s.StuckUID != 0 {
		t.Errorf("status after: %+v", s)
	}
}

func TestPoisonMessageIsSkippedWithQuarantine(t *testing.T) {
	srv := startIMAP(t, capsFull)
	poisonFlow(t, srv.mailbox("poison"), func(raw []byte) { srv.append("INBOX", raw) })
	if st := srv.status("INBOX"); *st.NumUnseen != 0 {
		t.Errorf("%d unseen left", *st.NumUnseen)
	}
}

func TestDovecotPoisonMessageIsSkippedWithQuarantine(t *testing.T) {
	port := startDovecot(t)
	admin := imapAdmin(t, port)
	mb := Mailbox{
		Name: "dovecot-poison", Host: "127.0.0.1", Port: port, Security: "plain",
		Username: testUser, Password: testPass, Folder: "INBOX", After: "delete",
		PollInterval: 200 * time.Millisecond, Address: "support@example.com",
	}
	poisonFlow(t, mb, func(raw []byte) { appendTo(t, admin, raw) })
	if n := numMessages(t, admin, "INBOX"); n != 0 {
		t.Errorf("INBOX has %d left, want 0", n)
	}
}

func appendTo(t *testing.T, c *imapclient.Client, raw []byte) {
	t.Helper()
	cmd := c.Append("INBOX", int64(len(raw)), nil)
	if _, err := cmd.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := cmd.Wait(); err != nil {
		t.Fatalf("append: %v", err)
	}
}

// TestStatusReportsStuckMailbox: a mailbox whose first message fails every
// pass looked healthy to /readyz. Status now names it stuck, at that UID.
func TestStatusReportsStuckMailbox(t *testing.T) {
	srv := startIMAP(t, capsFull)
	srv.append("INBOX", msg("first", 100))
	srv.append("INBOX", msg("second", 100))
	failing := delivery.DelivererFunc(func(context.Context, delivery.Envelope, []byte) (delivery.Outcome, error) {
		return delivery.Outcome{}, &intake.TempError{Err: errors.New("store refused it"), Attempt: 1, Max: 1 << 30}
	})
	p := newTestPoller(t, srv.mailbox("stuck"), failing, newMemState(), nil)
	if s := p.Status(); s.Stuck || !s.Healthy {
		t.Fatalf("fresh: %+v", s)
	}
	run(t, p)
	waitFor(t, 20*time.Second, "the mailbox reported stuck", func() bool { return p.Status().Stuck })
	s := p.Status()
	if s.Healthy || s.StuckUID != 1 || s.StuckFailures < unhealthyAfter {
		t.Fatalf("stuck status: %+v", s)
	}
	if b, _ := s.MarshalJSON(); !containsAll(string(b), `"stuck":true`, `"stuck_uid":1`) {
		t.Errorf("json %s", b)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}
