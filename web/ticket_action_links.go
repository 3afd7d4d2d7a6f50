package web

import (
	"net/http"

	"github.com/jcservicedesk/servicedesk/store"
)

// staffLink is POST /tickets/{number}/links (other, kind): link two
// tickets of one company.
func (s *Server) staffLink(w http.ResponseWriter, r *http.Request) error {
	n, err := staffNumber(r)
	if err != nil {
		return err
	}
	other, err := formInt(r, "other")
	if err != nil {
		return err
	}
	if err := s.svc.LinkTickets(r.Context(), ctxOf(r).User, n, other, staffLinkKind(r)); err != nil {
		return err
	}
	return s.staffDone(w, r, n, "staff.done.linked")
}

// staffUnlink is POST /tickets/{number}/links/remove (other, kind).
func (s *Server) staffUnlink(w http.ResponseWriter, r *http.Request) error {
	n, err := staffNumber(r)
	if err != nil {
		return err
	}
	other, err := formInt(r, "other")
	if err != nil {
		return err
	}
	if err := s.svc.UnlinkTickets(r.Context(), ctxOf(r).User, n, other, staffLinkKind(r)); err != nil {
		return err
	}
	return s.staffDone(w, r, n, "staff.done.unlinked")
}

func staffLinkKind(r *http.Request) string {
	if k := r.PostFormValue("kind"); k != "" {
		return k
	}
	return store.LinkRelated
}

// staffMerge is POST /tickets/{number}/merge (into): this ticket's
// conversation moves into the other, which is where we go next.
func (s *Server) staffMerge(w http.ResponseWriter, r *http.Request) error {
	n, err := staffNumber(r)
	if err != nil {
		return err
	}
	into, err := formInt(r, "into")
	if err != nil {
		return err
	}
	if _, err := s.svc.MergeTicket(r.Context(), ctxOf(r).User, n, into); err != nil {
		return err
	}
	return s.staffDone(w, r, into, "staff.done.merged")
}
