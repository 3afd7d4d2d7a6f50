package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// TestRetentionRunNotifications: `retention run` deletes old notifications
// by the notifications.* periods and says how many.
func TestRetentionRunNotifications(t *testing.T) {
	c := newCLI(t, store.SQLite)
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{Driver: store.SQLite, DSN: filepath.Join(c.dir, "data", "servicedesk.db"), MustExist: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	u := &store.User{Email: "ana@acme.example", Name: "Ana", Role: store.RoleTech}
	err = st.InTx(ctx, func(q *store.Q) error {
		if err := q.CreateUser(ctx, u); err != nil {
			return err
		}
		old := time.Now().AddDate(0, 0, -400)
		for _, read := range []bool{true, true, false, false, false} {
			n := &store.Notification{UserID: u.ID, Kind: "commented", Message: "x", CreatedAt: old}
			if read {
				n.ReadAt = &old
			}
			if err := q.AddNotification(ctx, n); err != nil {
				return err
			}
		}
		// Young ones stay.
		return q.AddNotification(ctx, &store.Notification{UserID: u.ID, Kind: "commented", Message: "new"})
	})
	if err != nil {
		t.Fatal(err)
	}
	if r := c.run("", "retention", "run", "--dry-run"); r.code != 0 || !strings.Contains(r.stdout, "2 read and 3 unread notifications") {
		t.Fatalf("dry run: exit %d: %q %q", r.code, r.stdout, r.stderr)
	}
	// Unread ones kept forever: only the read ones go.
	c.env = append(c.env, "SERVICEDESK_NOTIFICATIONS_KEEP_UNREAD_DAYS=0")
	var rep ticketing.RetentionReport
	c.ok(&rep, "retention", "run")
	if rep.NotificationsRead != 2 || rep.NotificationsUnread != 0 {
		t.Fatalf("run: read %d, unread %d, want 2 and 0", rep.NotificationsRead, rep.NotificationsUnread)
	}
	left, err := st.R().Notifications(ctx, u.ID, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 4 {
		t.Errorf("%d notifications left, want 4 (3 old unread, 1 new)", len(left))
	}
}
