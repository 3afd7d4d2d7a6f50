package web

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/jcservicedesk/servicedesk/ticketing"
)

// pollBatch is the most log entries one poll reads.
const pollBatch = 200

// pollAnswer is GET /notify/poll's JSON.
type pollAnswer struct {
	Events []json.RawMessage `json:"events"`
	Last   int64             `json:"last"`
	Resync bool              `json:"resync"`
	More   bool              `json:"more,omitempty"` // poll again now: the batch was full
	Unread int               `json:"unread"`
}

// notifyPoll is GET /notify/poll?after=<id>&topics=…: the stream's
// fallback. Without after it answers only the unread count and the id to
// poll after.
func (s *Server) notifyPoll(w http.ResponseWriter, r *http.Request) error {
	rc := ctxOf(r)
	ctx := r.Context()
	lr := s.svc.LiveReader(rc.User, -1)
	topics, err := liveTopics(ctx, lr, r.URL.Query().Get("topics"))
	if err != nil {
		return err
	}
	ans := pollAnswer{Events: []json.RawMessage{}}
	if ans.Unread, err = s.svc.UnreadNotifications(ctx, rc.User); err != nil {
		return err
	}
	after := r.URL.Query().Get("after")
	if after == "" {
		after = r.URL.Query().Get("last")
	}
	q := s.svc.Store().R()
	first, last, err := q.EventBounds(ctx)
	if err != nil {
		return err
	}
	if after == "" {
		ans.Last = last
		return writeJSON(w, ans)
	}
	id, err := strconv.ParseInt(after, 10, 64)
	if err != nil || id < 0 {
		return httpError(http.StatusBadRequest, "error.invalid")
	}
	if id > last || first == 0 || id < first-1 {
		ans.Resync, ans.Last = true, last
		return writeJSON(w, ans)
	}
	want := map[string]bool{}
	for _, t := range topics {
		want[t] = true
	}
	rows, err := q.EventsAfter(ctx, id, pollBatch)
	if err != nil {
		return err
	}
	ans.Last, ans.More = id, len(rows) == pollBatch
	for _, e := range rows {
		ans.Last = e.ID
		match := false
		for _, t := range ticketing.LiveTopics(e) {
			match = match || want[t]
		}
		if !match {
			continue
		}
		b, err := s.liveData(ctx, lr, rc.Lang, e, true)
		if err != nil {
			return err
		}
		if b != nil {
			ans.Events = append(ans.Events, b)
		}
	}
	return writeJSON(w, ans)
}
