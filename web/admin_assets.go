package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// The asset register (/admin/assets): list, add, edit, delete. Any staff
// member may read it (the ticket form picks from it); ticketing decides
// who changes it (supervisors and admins) and answers 403 to the rest.

type assetRow struct {
	*store.Asset
	Company string
	Tickets int // about it: a delete detaches them
}

// assetForm is what the add and edit forms show: the values given and,
// after a refusal, why (an i18n key).
type assetForm struct {
	ID                                      int64
	Company, Name, Tag, Kind, Serial, Notes string
	Error                                   string
}

type assetsView struct {
	Rows      []assetRow
	Companies []*store.Company
	Company   int64 // the list's filter, 0: every company
	CanManage bool
	Add       assetForm
}

type assetEditView struct {
	Row       assetRow
	CanManage bool
	Form      assetForm
}

func assetFormOf(r *http.Request) (assetForm, ticketing.AssetInput) {
	f := assetForm{Company: strings.TrimSpace(r.PostFormValue("company")), Name: r.PostFormValue("name"), Tag: r.PostFormValue("tag"),
		Kind: r.PostFormValue("kind"), Serial: r.PostFormValue("serial"), Notes: r.PostFormValue("notes")}
	return f, ticketing.AssetInput{Company: f.Company, Name: f.Name, Tag: f.Tag, Kind: f.Kind, Serial: f.Serial, Notes: f.Notes}
}

// formRefusal is the i18n key a form shows for err, "" when err is not a
// refusal of what was typed (then it goes to the error page).
func formRefusal(err error) string {
	switch {
	case errors.Is(err, ticketing.ErrConflict):
		return "assets.error.tag_taken"
	case errors.Is(err, ticketing.ErrInvalid):
		return "assets.error.name_empty"
	}
	return ""
}

func (s *Server) assetsView(r *http.Request, company int64, add assetForm) (*assetsView, error) {
	ctx, u := r.Context(), ctxOf(r).User
	dir, err := s.svc.StaffDirectory(ctx, u)
	if err != nil {
		return nil, err
	}
	as, err := s.svc.Assets(ctx, u, company)
	if err != nil {
		return nil, err
	}
	counts, err := s.svc.AssetTicketCounts(ctx, u)
	if err != nil {
		return nil, err
	}
	names := map[int64]string{}
	for _, c := range dir.Companies {
		names[c.ID] = c.Name
	}
	v := &assetsView{Companies: dir.Companies, Company: company, CanManage: ticketing.CanManageAssets(u), Add: add}
	for _, a := range as {
		v.Rows = append(v.Rows, assetRow{Asset: a, Company: names[a.CompanyID], Tickets: counts[a.ID]})
	}
	if v.Add.Company == "" && company > 0 {
		v.Add.Company = strconv.FormatInt(company, 10)
	}
	return v, nil
}

// assetList is GET /admin/assets[?company=ID].
func (s *Server) assetList(w http.ResponseWriter, r *http.Request) error {
	var company int64
	if c := r.URL.Query().Get("company"); c != "" {
		n, err := strconv.ParseInt(c, 10, 64)
		if err != nil || n < 0 {
			return httpError(http.StatusBadRequest, "error.invalid")
		}
		company = n
	}
	v, err := s.assetsView(r, company, assetForm{})
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "admin_assets", v)
}

// assetCreate is POST /admin/assets.
func (s *Server) assetCreate(w http.ResponseWriter, r *http.Request) error {
	f, in := assetFormOf(r)
	if _, err := s.svc.CreateAsset(r.Context(), ctxOf(r).User, in); err != nil {
		if f.Error = formRefusal(err); f.Error == "" {
			return err
		}
		status, _ := classify(err)
		v, verr := s.assetsView(r, 0, f)
		if verr != nil {
			return verr
		}
		return s.render(w, r, status, "admin_assets", v)
	}
	s.flash(w, r, "success", "assets.flash.added")
	s.redirect(w, r, "/admin/assets")
	return nil
}

func assetID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, httpError(http.StatusNotFound, "error.not_found")
	}
	return id, nil
}

// assetRowOf finds asset id in the register as u may read it.
func (s *Server) assetRowOf(r *http.Request, id int64) (assetRow, error) {
	v, err := s.assetsView(r, 0, assetForm{})
	if err != nil {
		return assetRow{}, err
	}
	for _, row := range v.Rows {
		if row.ID == id {
			return row, nil
		}
	}
	return assetRow{}, httpError(http.StatusNotFound, "error.not_found")
}

func editForm(a *store.Asset) assetForm {
	return assetForm{ID: a.ID, Name: a.Name, Tag: a.Tag, Kind: a.Kind, Serial: a.Serial, Notes: a.Notes}
}

// assetEdit is GET /admin/assets/{id}: the edit form and the delete.
func (s *Server) assetEdit(w http.ResponseWriter, r *http.Request) error {
	id, err := assetID(r)
	if err != nil {
		return err
	}
	row, err := s.assetRowOf(r, id)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "admin_asset_edit", assetEditView{Row: row, CanManage: ticketing.CanManageAssets(ctxOf(r).User), Form: editForm(row.Asset)})
}

// assetUpdate is POST /admin/assets/{id}.
func (s *Server) assetUpdate(w http.ResponseWriter, r *http.Request) error {
	id, err := assetID(r)
	if err != nil {
		return err
	}
	f, _ := assetFormOf(r)
	f.ID = id
	in := ticketing.AssetUpdate{Name: &f.Name, Tag: &f.Tag, Kind: &f.Kind, Serial: &f.Serial, Notes: &f.Notes}
	if _, err := s.svc.UpdateAsset(r.Context(), ctxOf(r).User, id, in); err != nil {
		if f.Error = formRefusal(err); f.Error == "" {
			return err
		}
		row, rerr := s.assetRowOf(r, id)
		if rerr != nil {
			return rerr
		}
		status, _ := classify(err)
		return s.render(w, r, status, "admin_asset_edit", assetEditView{Row: row, CanManage: true, Form: f})
	}
	s.flash(w, r, "success", "assets.flash.saved")
	s.redirect(w, r, "/admin/assets")
	return nil
}

// assetDelete is POST /admin/assets/{id}/delete (confirm=yes): the
// tickets about it are detached, as ticketing.DeleteAsset says why.
func (s *Server) assetDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := assetID(r)
	if err != nil {
		return err
	}
	if r.PostFormValue("confirm") != "yes" {
		s.flash(w, r, "error", "assets.flash.confirm")
		s.redirect(w, r, "/admin/assets/"+strconv.FormatInt(id, 10))
		return nil
	}
	if _, err := s.svc.DeleteAsset(r.Context(), ctxOf(r).User, id, "", false); err != nil {
		return err
	}
	s.flash(w, r, "success", "assets.flash.deleted")
	s.redirect(w, r, "/admin/assets")
	return nil
}
