package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
	"github.com/jcservicedesk/servicedesk/web/sse"
)

// notifyStream is GET /notify/stream?topics=ticket:12,queue: one SSE
// stream per tab with the user's notifications and the page's topics.
// Last-Event-ID (or ?last=) resumes after that id.
func (s *Server) notifyStream(w http.ResponseWriter, r *http.Request) error {
	rc := ctxOf(r)
	lr := s.svc.LiveReader(rc.User, s.live.GrantTTL)
	topics, err := liveTopics(r.Context(), lr, r.URL.Query().Get("topics"))
	if err != nil {
		return err
	}
	last := r.Header.Get("Last-Event-ID")
	if last == "" {
		last = r.URL.Query().Get("last")
	}
	var lastID int64
	if last != "" {
		if lastID, err = strconv.ParseInt(last, 10, 64); err != nil || lastID < 0 {
			return httpError(http.StatusBadRequest, "error.invalid")
		}
	}
	rd := &streamReader{s: s, lr: lr, lang: rc.Lang, client: rc.Client}
	if c, err := r.Cookie(sessionCookie); err == nil {
		rd.token = c.Value
	}
	err = s.hub.Serve(w, r, rd, topics, lastID)
	switch {
	case errors.Is(err, sse.ErrUserLimit):
		return httpError(http.StatusTooManyRequests, "notify.too_many")
	case errors.Is(err, sse.ErrLimit), errors.Is(err, sse.ErrClosed):
		w.Header().Set("Retry-After", "10")
		return httpError(http.StatusServiceUnavailable, "notify.busy")
	case err != nil && !errors.Is(err, context.Canceled):
		// The stream had started: the client reconnects and resumes.
		s.log.Info("sse stream ended", "user", rc.User.ID, "err", err)
	}
	return nil
}

// streamReader is one stream's user: what they may receive, decided at
// delivery, and their session, re-checked now and then.
type streamReader struct {
	s      *Server
	lr     *ticketing.LiveReader
	lang   string
	token  string
	client ticketing.Client
}

func (rd *streamReader) User() int64 { return rd.lr.User().ID }

func (rd *streamReader) Frame(ctx context.Context, e sse.Event) ([]byte, error) {
	row, ok := e.Row.(*store.Event)
	if !ok {
		return nil, nil
	}
	return rd.s.liveData(ctx, rd.lr, rd.lang, row, false)
}

// Alive reloads the session: ended, expired or its user disabled ends the
// stream; otherwise the user as they are now decides from here on.
func (rd *streamReader) Alive(ctx context.Context) bool {
	si, err := rd.s.sessions.Session(ctx, rd.token, rd.client)
	if err != nil || si.Stage != store.StageFull || si.User.ID != rd.User() {
		return false
	}
	rd.lr.SetUser(si.User)
	return true
}
