package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/jcservicedesk/servicedesk/ticketing"
)

// lgpdPublic is a company's privacy policy for anyone (linked from mails
// and the registration form): its latest published revision, else the
// global one, else a default text. The path keeps the old numeric ids.
func (s *Server) lgpdPublic(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("company"), 10, 64)
	if err != nil || id <= 0 {
		return ticketing.ErrNotFound
	}
	c, err := s.svc.Store().R().Company(r.Context(), id)
	if err != nil {
		return ticketing.ErrNotFound
	}
	ctxOf(r).brand = s.brandOf(c)
	v := lgpdView{Company: c}
	rev, err := s.svc.CurrentRevision(r.Context(), c.ID)
	switch {
	case err == nil:
		v.Revision, v.Body = rev, policyHTML(rev)
	case !errors.Is(err, ticketing.ErrNotFound):
		return err
	}
	return s.render(w, r, http.StatusOK, "lgpd_public", v)
}
