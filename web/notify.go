package web

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
	"github.com/jcservicedesk/servicedesk/web/sse"
)

// LiveOptions tunes the live pages (the SSE hub); zero values take the
// defaults of sse.Options and store.EventBusOptions.
type LiveOptions struct {
	Hub sse.Options // Source and Log are set by New
	Bus store.EventBusOptions
	// Retention is how long the event log keeps entries a reconnecting
	// stream can resume from (default 72 h); older gaps get "resync".
	Retention time.Duration
	// GrantTTL is how long a stream trusts one ticket's policy decision
	// (default ticketing.LiveGrantTTL).
	GrantTTL time.Duration
}

// newHub builds the process's one hub over the event log.
func (s *Server) newHub(o LiveOptions) {
	o.Hub.Source = logSource{st: s.svc.Store()}
	o.Hub.Log = s.log.With("component", "sse")
	if o.Retention <= 0 {
		o.Retention = 72 * time.Hour
	}
	s.live = o
	s.hub = sse.NewHub(o.Hub)
}

// Hub is the process's SSE hub (presence and typing Broadcast on it).
func (s *Server) Hub() *sse.Hub { return s.hub }

// RunLive runs the hub's reader of the event log and what wakes it (a
// PostgreSQL LISTEN or the SQLite poll), and prunes the log hourly, until
// ctx ends.
func (s *Server) RunLive(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		bus := s.live.Bus
		if bus.OnError == nil {
			bus.OnError = func(err error) { s.log.Warn("live: event bus", "err", err) }
		}
		_ = s.svc.Store().WatchEvents(ctx, bus, s.hub.Wake)
	}()
	go func() {
		t := time.NewTicker(time.Hour)
		defer t.Stop()
		for {
			if n, err := s.svc.PruneLiveEvents(ctx, s.live.Retention); err != nil && ctx.Err() == nil {
				s.log.Warn("live: prune the event log", "err", err)
			} else if n > 0 {
				s.log.Info("live: pruned the event log", "events", n)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	err := s.hub.Run(ctx)
	cancel()
	<-done
	return err
}

// CloseStreams ends every live stream (http.Server.RegisterOnShutdown:
// Shutdown waits for handlers, and a stream never ends by itself).
func (s *Server) CloseStreams() { s.hub.Close() }

// logSource is the event log as the hub reads it.
type logSource struct{ st *store.Store }

func (l logSource) After(ctx context.Context, after int64, limit int) ([]sse.Event, error) {
	rows, err := l.st.R().EventsAfter(ctx, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]sse.Event, len(rows))
	for i, e := range rows {
		out[i] = sse.Event{ID: e.ID, Name: e.Name, Topics: ticketing.LiveTopics(e), Row: e}
	}
	return out, nil
}

func (l logSource) Bounds(ctx context.Context) (int64, int64, error) {
	return l.st.R().EventBounds(ctx)
}

// liveData is what reader lr receives of log entry e, or nil: the stored
// JSON with its id (and, for the poll, its event name) in front; a
// notification gets its text in the reader's language and the unread
// count now.
func (s *Server) liveData(ctx context.Context, lr *ticketing.LiveReader, lang string, e *store.Event, withName bool) ([]byte, error) {
	ok, err := lr.Allowed(ctx, e)
	if err != nil || !ok {
		return nil, err
	}
	if e.Name == ticketing.LiveNotification {
		var p ticketing.LivePayload
		if err := json.Unmarshal([]byte(e.Data), &p); err != nil {
			return nil, err
		}
		p.ID = e.ID
		if withName {
			p.Event = e.Name
		}
		if p.Notification != nil && p.Ticket != nil {
			p.Notification.Text = s.noticeText(lang, p.Notification.Kind, p.Ticket.Number, p.Ticket.Subject)
			n, err := s.svc.UnreadNotifications(ctx, lr.User())
			if err != nil {
				return nil, err
			}
			p.Notification.Unread = &n
		}
		return json.Marshal(p)
	}
	if len(e.Data) < 2 || e.Data[0] != '{' {
		return nil, nil
	}
	b := make([]byte, 0, len(e.Data)+40)
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, e.ID, 10)
	if withName {
		b = append(b, `,"event":`...)
		b = strconv.AppendQuote(b, e.Name)
	}
	if e.Data != "{}" {
		b = append(b, ',')
	}
	return append(b, e.Data[1:]...), nil
}

// noticeText is a notification's line in the bell.
func (s *Server) noticeText(lang, kind string, number int64, subject string) string {
	key := "notify.kind." + kind
	if !knownNotice(kind) {
		key = "notify.kind.update"
	}
	return s.i18n.T(lang, key, map[string]any{"Number": number, "Subject": subject})
}

func knownNotice(kind string) bool {
	for _, k := range ticketing.NoticeKinds {
		if k == kind {
			return true
		}
	}
	return false
}

// liveTopics checks the topics a page asks for (comma or space
// separated) and returns them as the hub knows them; the user's own
// notifications are always in.
func liveTopics(ctx context.Context, lr *ticketing.LiveReader, list string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	add := func(t string) error {
		ht, err := lr.Subscribe(ctx, t)
		if err != nil {
			return err
		}
		if !seen[ht] {
			seen[ht] = true
			out = append(out, ht)
		}
		return nil
	}
	if err := add("user"); err != nil {
		return nil, err
	}
	fields := strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ' ' })
	if len(fields) > 16 {
		return nil, httpError(400, "error.invalid")
	}
	for _, t := range fields {
		if err := add(t); err != nil {
			return nil, err
		}
	}
	return out, nil
}
