package web

import (
	"net/http"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// Sizes of the bell's dropdown and of the list page.
const (
	bellLatest = 8
	listLatest = 100
)

// bellView is the header's bell: the unread count, the latest
// notifications from the database, and the log id the page is current
// to (live.js resumes its stream after it, so nothing committed between
// the render and the stream's start is missed).
type bellView struct {
	Unread int
	Items  []noticeItem
	Last   int64
}

// noticeItem is one notification as shown.
type noticeItem struct {
	ID     int64
	Text   string
	Link   string
	At     time.Time
	Unread bool
}

// Bell is the bell of the page (templates: {{with .R.Bell}}); nil for
// anonymous pages.
func (rc *reqCtx) Bell() *bellView { return rc.bell }

// loadBell fills the request's bell before a signed-in page renders. A
// failure leaves the page without its bell, not without its content.
func (s *Server) loadBell(r *http.Request, rc *reqCtx) {
	if rc.User == nil || rc.bell != nil {
		return
	}
	last := s.hub.Last()
	ns, unread, err := s.svc.Notifications(r.Context(), rc.User, bellLatest)
	if err != nil {
		s.log.Warn("bell", "request_id", rc.ID, "err", err)
		return
	}
	rc.bell = &bellView{Unread: unread, Items: s.noticeItems(rc.Lang, ns), Last: last}
}

func (s *Server) noticeItems(lang string, ns []*store.Notification) []noticeItem {
	items := make([]noticeItem, len(ns))
	for i, n := range ns {
		items[i] = noticeItem{ID: n.ID, Text: s.noticeText(lang, n.Kind, n.TicketNumber, n.Message),
			Link: ticketing.TicketLink(n.TicketNumber), At: n.CreatedAt, Unread: n.ReadAt == nil}
	}
	return items
}

// notifyList is GET /notify: the notification centre without JavaScript.
func (s *Server) notifyList(w http.ResponseWriter, r *http.Request) error {
	rc := ctxOf(r)
	ns, unread, err := s.svc.Notifications(r.Context(), rc.User, listLatest)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "notify", notifyPage{Unread: unread, Items: s.noticeItems(rc.Lang, ns)})
}

type notifyPage struct {
	Unread int
	Items  []noticeItem
}
