package intake_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jcservicedesk/servicedesk/mailbox/delivery"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// TestDistinctNonMailInputsAreEachKept: inputs without any identifying
// header hashed alike, so the second and later were "already held" as the
// first and lost.
func TestDistinctNonMailInputsAreEachKept(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := newRig(t, st)
		seen := map[int64]bool{}
		for _, junk := range []string{"\x00\x01one", "\x00\x02two", "just some words with no header\n"} {
			out := r.deliver(delivery.SourcePipe, junk)
			if out.Action != store.MailQuarantine || out.QuarantineID == 0 || seen[out.QuarantineID] {
				t.Fatalf("%q: %+v (seen %v)", junk, out, seen)
			}
			seen[out.QuarantineID] = true
		}
		held, err := st.R().QuarantinePage(context.Background(), 0, 0)
		if err != nil || len(held) != 3 {
			t.Fatalf("held %d, %v", len(held), err)
		}
		// An identical retry is still one entry.
		if out := r.deliver(delivery.SourcePipe, "\x00\x01one"); !seen[out.QuarantineID] {
			t.Fatalf("retry: %+v", out)
		}
	})
}

// TestReprocessIsAnAdminsAndAudited: reprocessing needs an admin, keeps
// the old entry (released) and names the new one.
func TestReprocessIsAnAdminsAndAudited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := newRig(t, st)
		ctx := context.Background()
		out := r.deliver(delivery.SourcePipe, "\x00garbage")
		if _, err := r.in.Reprocess(ctx, r.tech, out.QuarantineID); !errors.Is(err, ticketing.ErrNotAllowed) {
			t.Fatalf("tech reprocesses: %v", err)
		}
		admin := &store.User{Email: "root@helpdesk.example", Role: store.RoleAdmin}
		if err := st.InTx(ctx, func(q *store.Q) error { return q.CreateUser(ctx, admin) }); err != nil {
			t.Fatal(err)
		}
		res, err := r.in.Reprocess(ctx, admin, out.QuarantineID)
		if err != nil {
			t.Fatal(err)
		}
		if res.ID != out.QuarantineID || res.Outcome.Action != store.MailQuarantine || res.Outcome.QuarantineID == out.QuarantineID {
			t.Fatalf("reprocess: %+v", res)
		}
		old, _, err := st.R().QuarantineGet(ctx, out.QuarantineID)
		if err != nil || old.ReleasedAt == nil {
			t.Fatalf("old entry: %+v %v", old, err)
		}
		rows, err := st.R().AuditList(ctx, store.AuditFilter{Entity: "mail_quarantine"})
		if err != nil || len(rows) != 1 || rows[0].ActorEmail != admin.Email || rows[0].Action != "release" {
			t.Fatalf("audit: %+v %v", rows, err)
		}
	})
}
