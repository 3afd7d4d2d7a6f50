package web

import (
	"net/http"
	"strconv"

	"github.com/jcservicedesk/servicedesk/store"
)

// newTicketView is the form of a new ticket (templates/ticket_new.html).
type newTicketView struct {
	Categories []*catGroup // top-level categories, each with its subcategories
	Contracts  []*store.Contract
	Queues     []*store.Queue
	Assets     []*store.Asset // of the requester's own company (requesters only)
	Priorities []string
	Staff      bool // shows the requester field: staff open tickets on behalf of someone
	Inactive   bool // the company is switched off: no form, a notice
	MaxMB      int64
	Extensions []string

	// The values sent back after an error.
	Subject, Body, Priority, RequesterEmail string
	CategoryID, SubcategoryID, ContractID   int64
	QueueID, AssetID                        int64
	Error                                   string // i18n key
}

type catGroup struct {
	*store.Category
	Children []*store.Category
}

var priorities = []string{store.PriorityLow, store.PriorityNormal, store.PriorityHigh, store.PriorityUrgent}

func (s *Server) ticketNew(w http.ResponseWriter, r *http.Request) error {
	v, err := s.newTicketForm(r)
	if err != nil {
		return err
	}
	v.Priority = store.PriorityNormal
	return s.render(w, r, http.StatusOK, "ticket_new", v)
}

// newTicketForm gathers the form's choices for the signed-in user.
func (s *Server) newTicketForm(r *http.Request) (*newTicketView, error) {
	rc := ctxOf(r)
	u := rc.User
	q := s.svc.Store().R()
	v := &newTicketView{Priorities: priorities, Staff: u.IsStaff(), MaxMB: (s.maxBody() - 1<<20) >> 20,
		Extensions: s.cfg.Attachments.Extensions}
	if rc.Company != nil && !rc.Company.Active && !u.IsStaff() {
		v.Inactive = true
		return v, nil
	}
	cats, err := q.Categories(r.Context())
	if err != nil {
		return nil, err
	}
	byID := map[int64]*catGroup{}
	for _, c := range cats {
		if c.ParentID == nil {
			g := &catGroup{Category: c}
			byID[c.ID] = g
			v.Categories = append(v.Categories, g)
		}
	}
	for _, c := range cats {
		if c.ParentID != nil && byID[*c.ParentID] != nil {
			byID[*c.ParentID].Children = append(byID[*c.ParentID].Children, c)
		}
	}
	if !u.IsStaff() && u.CompanyID != nil {
		if v.Contracts, err = q.Contracts(r.Context(), *u.CompanyID); err != nil {
			return nil, err
		}
		// Staff open tickets for someone typed in: they pick the asset on
		// the ticket page, where the company is known.
		if v.Assets, err = s.svc.Assets(r.Context(), u, 0); err != nil {
			return nil, err
		}
	}
	if v.Queues, err = q.Queues(r.Context()); err != nil {
		return nil, err
	}
	return v, nil
}

func formID(r *http.Request, name string) int64 {
	n, err := strconv.ParseInt(r.PostFormValue(name), 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	return n
}
