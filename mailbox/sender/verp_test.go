package sender

import (
	"testing"
	"time"

	"github.com/jcservicedesk/servicedesk/mailbox/thread"
)

// TestVERPEnvelopeSender: with VERP on, each queued message leaves with
// its own signed envelope sender naming its outbox row; a message without
// a row (send-test) and the null sender keep theirs.
func TestVERPEnvelopeSender(t *testing.T) {
	ts := newTestServer(t, serverOpts{})
	q := newMemQueue()
	q.add(testMessage(7))
	q.add(testMessage(8))
	cfg := fastConfig(ts)
	cfg.VERPBase, cfg.VERPSecret = "bounce@helpdesk.test", []byte("verp-secret")
	s := New(cfg, q, testLogger(t))
	runSender(t, s)
	waitFor(t, 10*time.Second, "both sent", func() bool { return q.countState("sent") == 2 })
	got := map[int64]bool{}
	for _, r := range ts.received() {
		base, tok := thread.SplitSubaddress(r.From)
		id, ok := thread.VerifyVERP(cfg.VERPSecret, tok)
		if base != "bounce@helpdesk.test" || !ok {
			t.Fatalf("envelope sender %q is not a VERP address of ours", r.From)
		}
		got[id] = true
	}
	if !got[7] || !got[8] {
		t.Fatalf("VERP tokens named %v, want 7 and 8", got)
	}
	for _, m := range []Message{{ID: 0, From: "support@helpdesk.test"}, {ID: 9, From: ""}} {
		if f := s.envelopeFrom(m); f != m.From {
			t.Errorf("envelopeFrom(%+v) = %q, want it unchanged", m, f)
		}
	}
}
