package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// ticketCreate opens the ticket: the form is parsed here, every rule
// (who for whom, inactive company, contract of the company) is
// ticketing.Create's.
func (s *Server) ticketCreate(w http.ResponseWriter, r *http.Request) error {
	rc := ctxOf(r)
	u := rc.User
	v, err := s.newTicketForm(r)
	if err != nil {
		return err
	}
	v.Subject = strings.TrimSpace(r.PostFormValue("subject"))
	v.Body = strings.TrimSpace(r.PostFormValue("description"))
	v.Priority = r.PostFormValue("priority")
	v.CategoryID, v.SubcategoryID, v.ContractID = formID(r, "category"), formID(r, "subcategory"), formID(r, "contract")
	v.QueueID, v.AssetID = formID(r, "queue"), formID(r, "asset")
	v.RequesterEmail = strings.TrimSpace(r.PostFormValue("requester"))
	formErr := func(status int, key string) error {
		v.Error = key
		return s.render(w, r, status, "ticket_new", v)
	}
	if v.Subject == "" || v.Body == "" {
		return formErr(http.StatusUnprocessableEntity, "tickets.error.required")
	}
	if !ticketing.ValidPriority(v.Priority) {
		v.Priority = store.PriorityNormal
	}
	in := ticketing.CreateInput{Requester: u, Subject: v.Subject, Body: v.Body, Priority: v.Priority, Source: store.SourceWeb}
	if u.IsStaff() && v.RequesterEmail != "" {
		req, err := s.svc.Store().R().UserByEmail(r.Context(), u.Scope(), v.RequesterEmail)
		if err != nil {
			return formErr(http.StatusUnprocessableEntity, "tickets.error.unknown_requester")
		}
		in.Requester = req
	}
	if v.SubcategoryID != 0 {
		in.SubcategoryID = &v.SubcategoryID // its parent becomes the category
	} else if v.CategoryID != 0 {
		in.CategoryID = &v.CategoryID
	}
	if v.ContractID != 0 {
		in.Contract = strconv.FormatInt(v.ContractID, 10)
	}
	if v.QueueID != 0 {
		in.Queue = strconv.FormatInt(v.QueueID, 10)
	}
	if v.AssetID != 0 {
		in.Asset = strconv.FormatInt(v.AssetID, 10) // ticketing checks it is of the ticket's company
	}
	if in.Files, err = s.formFiles(r); err != nil {
		var se *statusError
		if errors.As(err, &se) {
			return formErr(se.Status, se.Key)
		}
		return err
	}
	t, err := s.svc.Create(r.Context(), u, in)
	switch {
	case err == nil:
	case errors.Is(err, ticketing.ErrNotAllowed) && rc.Company != nil && !rc.Company.Active && !u.IsStaff():
		v.Inactive = true
		return formErr(http.StatusForbidden, "tickets.error.inactive")
	case errors.Is(err, ticketing.ErrNotAllowed) && u.IsStaff():
		return formErr(http.StatusForbidden, "tickets.error.inactive_requester")
	case errors.Is(err, ticketing.ErrInvalid), errors.Is(err, ticketing.ErrNotFound):
		return formErr(http.StatusUnprocessableEntity, "tickets.error.create_invalid")
	default:
		return err
	}
	s.flash(w, r, "success", "tickets.flash.created")
	s.redirect(w, r, "/tickets/"+strconv.FormatInt(t.Number, 10))
	return nil
}
