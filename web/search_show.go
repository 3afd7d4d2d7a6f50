package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// searchPage is the data of search.html.
type searchPage struct {
	Q     string
	Hits  []*store.SearchHit
	Error string // i18n key: the search could not be read
	Staff bool
}

// searchShow is GET /search?q=: full-text search under the same access
// rules as everything else (requesters use it too). The template marks
// the matched words from the snippet's parts; every part is escaped.
func (s *Server) searchShow(w http.ResponseWriter, r *http.Request) error {
	rc := ctxOf(r)
	p := &searchPage{Q: strings.TrimSpace(r.URL.Query().Get("q")), Staff: rc.User.IsStaff()}
	if p.Q == "" {
		return s.render(w, r, http.StatusOK, "search", p)
	}
	hits, err := s.svc.Search(r.Context(), rc.User, p.Q, store.TicketFilter{Limit: 50})
	switch {
	case errors.Is(err, ticketing.ErrInvalid):
		p.Error = "staff.search.bad"
		return s.render(w, r, http.StatusUnprocessableEntity, "search", p)
	case err != nil:
		return err
	}
	p.Hits = hits
	return s.render(w, r, http.StatusOK, "search", p)
}
