package web

import (
	"net/http"

	"github.com/jcservicedesk/servicedesk/ticketing"
)

// chatStream is GET /chat/stream?ticket=N (the old app's route): the
// notification stream with the ticket's chat topic. live.js opens
// /notify/stream with the page's topics instead (one stream per tab);
// this one is for other clients of the chat.
func (s *Server) chatStream(w http.ResponseWriter, r *http.Request) error {
	cr, err := s.chatTopic(r)
	if err != nil {
		return err
	}
	return s.notifyStream(w, cr)
}

// chatPoll is GET /chat/poll?ticket=N&after=ID: the poll of the chat topic.
func (s *Server) chatPoll(w http.ResponseWriter, r *http.Request) error {
	cr, err := s.chatTopic(r)
	if err != nil {
		return err
	}
	return s.notifyPoll(w, cr)
}

// chatTopic is r asking for the chat topic of ?ticket=N, which the
// reader must be allowed to see (the stream checks it again).
func (s *Server) chatTopic(r *http.Request) (*http.Request, error) {
	n, err := chatNumber(r, "ticket")
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, httpError(http.StatusNotFound, "error.not_found")
	}
	t, err := s.svc.Viewable(r.Context(), ctxOf(r).User, n)
	if err != nil {
		return nil, hideRefusal(err)
	}
	q := r.URL.Query()
	q.Set("topics", ticketing.TicketChatTopic(t.ID))
	cr := r.Clone(r.Context())
	cr.URL.RawQuery = q.Encode()
	return cr, nil
}
