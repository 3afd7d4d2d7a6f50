package ticketing

import (
	"context"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
)

// notify writes a notification-centre row for each user the notice rules
// tell about ev (the same rules as mail: Notices), and returns their log
// entries for recordLive to append.
func (tx *Tx) notify(ctx context.Context, ev Event, p LivePayload, internal bool) ([]*store.Event, error) {
	notices, err := tx.Notices(ctx, ev, NotifyConfig{})
	if err != nil {
		return nil, err
	}
	var log []*store.Event
	for _, n := range notices {
		if n.User == nil || n.User.ID == 0 {
			continue
		}
		// The acknowledgement of one's own new ticket is a mail receipt,
		// not news.
		if n.Kind == NoticeAck && ev.Actor != nil && ev.Actor.ID == n.User.ID {
			continue
		}
		t := ev.Ticket
		row := &store.Notification{UserID: n.User.ID, TicketID: &t.ID, Kind: n.Kind, TicketNumber: t.Number,
			Message: t.Subject, CreatedAt: p.At}
		if err := tx.q.AddNotification(ctx, row); err != nil {
			return nil, err
		}
		np := p
		np.Topic = "user"
		np.Comment = nil // the notification says what happened; the ticket page shows the text
		np.Notification = &LiveNoticeInfo{ID: row.ID, Kind: n.Kind, Link: TicketLink(t.Number)}
		uid := n.User.ID
		e, err := liveEntry(LiveNotification, string(ev.Kind), t, &uid, internal, np)
		if err != nil {
			return nil, err
		}
		log = append(log, e)
	}
	return log, nil
}

// Notifications lists actor's latest notifications, newest first, and
// how many are unread.
func (s *Service) Notifications(ctx context.Context, actor *store.User, limit int) ([]*store.Notification, int, error) {
	if actor == nil || actor.ID == 0 {
		return nil, 0, notAllowedf("no actor")
	}
	q := s.st.R()
	ns, err := q.Notifications(ctx, actor.ID, limit)
	if err != nil {
		return nil, 0, err
	}
	n, err := q.UnreadNotifications(ctx, actor.ID)
	if err != nil {
		return nil, 0, err
	}
	return ns, n, nil
}

// UnreadNotifications counts actor's unread notifications.
func (s *Service) UnreadNotifications(ctx context.Context, actor *store.User) (int, error) {
	if actor == nil || actor.ID == 0 {
		return 0, nil
	}
	return s.st.R().UnreadNotifications(ctx, actor.ID)
}

// MarkNotificationRead marks one of actor's notifications read; someone
// else's is not found.
func (s *Service) MarkNotificationRead(ctx context.Context, actor *store.User, id int64) error {
	if actor == nil || actor.ID == 0 {
		return notAllowedf("no actor")
	}
	return mapStoreErr(s.st.InTx(ctx, func(q *store.Q) error {
		return q.MarkNotificationRead(ctx, actor.ID, id, s.clock())
	}))
}

// MarkAllNotificationsRead marks every notification of actor read.
func (s *Service) MarkAllNotificationsRead(ctx context.Context, actor *store.User) (int64, error) {
	if actor == nil || actor.ID == 0 {
		return 0, notAllowedf("no actor")
	}
	var n int64
	err := s.st.InTx(ctx, func(q *store.Q) error {
		var err error
		n, err = q.MarkAllNotificationsRead(ctx, actor.ID, s.clock())
		return err
	})
	return n, mapStoreErr(err)
}

// PruneLiveEvents removes log entries older than keep (the retention of
// resumable streams).
func (s *Service) PruneLiveEvents(ctx context.Context, keep time.Duration) (int64, error) {
	return s.st.PruneEvents(ctx, s.clock().Add(-keep))
}
