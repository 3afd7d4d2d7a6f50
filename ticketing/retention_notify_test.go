package ticketing_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// TestRetentionPrunesNotifications: read notifications older than their
// period go, unread ones only after their longer one; the report (dry run
// too) counts each, and 0 keeps them forever.
func TestRetentionPrunesNotifications(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		const day = 24 * time.Hour
		now := time.Now()
		type seed struct {
			name string
			age  time.Duration
			read bool
			gone bool // with read 90, unread 365 days
		}
		seeds := []seed{
			{"read 100 days", 100 * day, true, true},
			{"read 400 days", 400 * day, true, true},
			{"read 80 days", 80 * day, false, false},
			{"unread 100 days", 100 * day, false, false},
			{"unread 300 days", 300 * day, false, false},
			{"unread 400 days", 400 * day, false, true},
			{"unread 2 years", 730 * day, false, true},
		}
		seeds[2].read = true // read, but young
		ids := map[string]int64{}
		err := st.InTx(ctx, func(q *store.Q) error {
			for _, s := range seeds {
				n := &store.Notification{UserID: w.admin.ID, Kind: "commented", Message: s.name, CreatedAt: now.Add(-s.age)}
				if s.read {
					at := now.Add(-s.age + time.Hour)
					n.ReadAt = &at
				}
				if err := q.AddNotification(ctx, n); err != nil {
					return err
				}
				ids[s.name] = n.ID
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		left := func() map[int64]bool {
			t.Helper()
			ns, err := st.R().Notifications(ctx, w.admin.ID, 100)
			if err != nil {
				t.Fatal(err)
			}
			out := map[int64]bool{}
			for _, n := range ns {
				out[n.ID] = true
			}
			return out
		}
		before := left()

		// 0 keeps forever.
		rep, err := w.svc.RunRetention(ctx, w.admin, ticketing.RetentionOptions{})
		if err != nil || rep.NotificationsRead != 0 || rep.NotificationsUnread != 0 || len(left()) != len(before) {
			t.Fatalf("periods 0: %+v %v; %d left of %d", rep, err, len(left()), len(before))
		}
		p := ticketing.RetentionPolicy{NotificationReadDays: 90, NotificationUnreadDays: 365}
		dry, err := w.svc.RunRetention(ctx, w.admin, ticketing.RetentionOptions{Policy: p, DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		if dry.NotificationsRead != 2 || dry.NotificationsUnread != 2 || len(left()) != len(before) {
			t.Errorf("dry run: read %d, unread %d (want 2, 2); %d left of %d", dry.NotificationsRead, dry.NotificationsUnread, len(left()), len(before))
		}
		rep, err = w.svc.RunRetention(ctx, w.admin, ticketing.RetentionOptions{Policy: p})
		if err != nil {
			t.Fatal(err)
		}
		if rep.NotificationsRead != 2 || rep.NotificationsUnread != 2 {
			t.Errorf("run: read %d, unread %d, want 2 and 2", rep.NotificationsRead, rep.NotificationsUnread)
		}
		got := left()
		for _, s := range seeds {
			if got[ids[s.name]] == s.gone {
				t.Errorf("%s: kept %v, want %v", s.name, got[ids[s.name]], !s.gone)
			}
		}
		// The run's audit row counts them.
		audits, err := st.R().AuditList(ctx, store.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, a := range audits {
			var after map[string]any
			if a.Entity != "retention" || a.Action != "run" || json.Unmarshal([]byte(a.After), &after) != nil {
				continue
			}
			if after["notifications_read_deleted"] == 2.0 && after["notifications_unread_deleted"] == 2.0 {
				found = true
			}
		}
		if !found {
			t.Error("no retention audit row counting the notifications")
		}
		// Again: nothing more to do.
		if rep, err := w.svc.RunRetention(ctx, w.admin, ticketing.RetentionOptions{Policy: p}); err != nil || rep.NotificationsRead+rep.NotificationsUnread != 0 {
			t.Errorf("second run: %+v %v", rep, err)
		}
		if _, err := w.svc.RunRetention(ctx, w.admin, ticketing.RetentionOptions{Policy: ticketing.RetentionPolicy{NotificationReadDays: -1}}); err == nil {
			t.Error("a negative period was accepted")
		}
	})
}
