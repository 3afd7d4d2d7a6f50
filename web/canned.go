package web

import (
	"net/http"
	"strconv"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// cannedPage is canned.html: one's own and the shared canned responses.
type cannedPage struct {
	Items    []*cannedRow
	CanShare bool
	Dir      *ticketing.Directory
}

type cannedRow struct {
	*store.Canned
	Shared    bool
	Deletable bool
}

// staffCannedList is GET /canned.
func (s *Server) staffCannedList(w http.ResponseWriter, r *http.Request) error {
	rc := ctxOf(r)
	cs, err := s.svc.Canned(r.Context(), rc.User, 0)
	if err != nil {
		return err
	}
	p := &cannedPage{CanShare: rc.User.Role == store.RoleAdmin || rc.User.Role == store.RoleSupervisor}
	if p.Dir, err = s.svc.StaffDirectory(r.Context(), rc.User); err != nil {
		return err
	}
	for _, c := range cs {
		p.Items = append(p.Items, &cannedRow{Canned: c, Shared: c.OwnerID == nil, Deletable: c.OwnerID != nil || p.CanShare})
	}
	return s.render(w, r, http.StatusOK, "canned", p)
}

// staffCannedCreate is POST /canned (name, body, shared, company).
func (s *Server) staffCannedCreate(w http.ResponseWriter, r *http.Request) error {
	in := ticketing.CannedInput{Name: r.PostFormValue("name"), Body: r.PostFormValue("body"), Shared: r.PostFormValue("shared") == "1"}
	if c, _ := strconv.ParseInt(r.PostFormValue("company"), 10, 64); c > 0 {
		in.CompanyID = &c
	}
	if _, err := s.svc.CreateCanned(r.Context(), ctxOf(r).User, in); err != nil {
		return err
	}
	s.flash(w, r, "success", "staff.canned.saved")
	s.redirect(w, r, "/canned")
	return nil
}

// staffCannedDelete is POST /canned/{id}/delete.
func (s *Server) staffCannedDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return httpError(http.StatusNotFound, "error.not_found")
	}
	if err := s.svc.DeleteCanned(r.Context(), ctxOf(r).User, id); err != nil {
		return err
	}
	s.flash(w, r, "success", "staff.canned.deleted")
	s.redirect(w, r, "/canned")
	return nil
}
