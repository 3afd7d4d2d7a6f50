package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// Queue tabs. A ticket is in exactly one of the first three.
const (
	tabUnassigned = "unassigned" // "Sem atendimento": nobody on it, still open
	tabActive     = "active"     // "Em atendimento": assigned, still open
	tabClosed     = "closed"     // "Encerrados/Resolvidos"
	tabMine       = "mine"       // "Meus": assigned to me, still open
)

var queueTabs = []string{tabUnassigned, tabActive, tabClosed, tabMine}

// queueOpenStatuses are the statuses of a ticket still being worked on.
var queueOpenStatuses = []string{store.StatusNew, store.StatusOpen, store.StatusPending, store.StatusReopened}
var queueDoneStatuses = []string{store.StatusResolved, store.StatusClosed}
var queueAllStatuses = append(slices.Clone(queueOpenStatuses), queueDoneStatuses...)
var queuePriorities = []string{store.PriorityLow, store.PriorityNormal, store.PriorityHigh, store.PriorityUrgent}

// queuePage is the data of tickets_queue.html.
type queuePage struct {
	Tab          string
	Tabs         []queueTab
	Groups       []*queueGroup
	Count        int
	Next         string // URL of the next page, "" on the last
	First        string // URL of the first page when not on it
	Back         string // this page (bulk actions come back here)
	Query        string // the filter as a query string (saved views)
	F            queueForm
	Dir          *ticketing.Directory
	Views        []*savedViewRow
	Sorts        []string
	Statuses     []string
	Priorities   []string
	CanShare     bool
	BulkStatuses []string
}

type queueTab struct {
	Name    string
	URL     string
	Current bool
}

type queueGroup struct {
	Company string
	Rows    []*store.Ticket
}

type savedViewRow struct {
	*store.SavedView
	URL       string
	Shared    bool
	Deletable bool
}

// queueForm is the filter as the form shows it.
type queueForm struct {
	Status, Priority, Sort, Requester, From, To string
	Company, Category, Queue, Assignee          int64
}

// ticketQueue is the staff's GET /tickets/ (the route is tkreq's, which
// calls this for staff).
func (s *Server) ticketQueue(w http.ResponseWriter, r *http.Request) error {
	rc := ctxOf(r)
	ctx := r.Context()
	qs := r.URL.Query()
	p := &queuePage{Tab: qs.Get("tab"), Sorts: store.QueueSorts, Statuses: queueAllStatuses, Priorities: queuePriorities,
		CanShare:     rc.User.Role == store.RoleAdmin || rc.User.Role == store.RoleSupervisor,
		BulkStatuses: []string{store.StatusOpen, store.StatusPending}}
	if !slices.Contains(queueTabs, p.Tab) {
		p.Tab = tabUnassigned
	}
	f, form, ok := s.parseQueueFilter(r, qs, p.Tab)
	p.F = form
	var err error
	if p.Dir, err = s.svc.StaffDirectory(ctx, rc.User); err != nil {
		return err
	}
	if ok {
		ts, next, err := s.svc.Queue(ctx, rc.User, f)
		if err != nil {
			return err
		}
		p.Count = len(ts)
		p.Groups = queueGroupByCompany(ts)
		if next != nil {
			nq := queueCloneQuery(qs)
			nq.Set("after", next.String())
			p.Next = "/tickets/?" + nq.Encode()
		}
	}
	filterQS := queueCloneQuery(qs)
	filterQS.Del("after")
	filterQS.Del("view")
	p.Query = filterQS.Encode()
	if qs.Get("after") != "" {
		p.First = "/tickets/?" + p.Query
	}
	p.Back = "/tickets/?" + queueCloneQuery(qs).Encode()
	for _, name := range queueTabs {
		tq := queueCloneQuery(filterQS)
		tq.Set("tab", name)
		p.Tabs = append(p.Tabs, queueTab{Name: name, URL: "/tickets/?" + tq.Encode(), Current: name == p.Tab})
	}
	views, err := s.svc.SavedViews(ctx, rc.User)
	if err != nil {
		return err
	}
	for _, v := range views {
		p.Views = append(p.Views, &savedViewRow{SavedView: v, URL: "/tickets/?" + v.Query, Shared: v.OwnerID == nil,
			Deletable: v.OwnerID != nil || p.CanShare})
	}
	return s.render(w, r, http.StatusOK, "tickets_queue", p)
}

func queueCloneQuery(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

// parseQueueFilter reads the queue's query string. ok is false when the
// filter cannot match anything (a status outside the tab).
func (s *Server) parseQueueFilter(r *http.Request, qs url.Values, tab string) (store.QueueFilter, queueForm, bool) {
	rc := ctxOf(r)
	var f store.QueueFilter
	var form queueForm
	id := func(name string) int64 {
		n, _ := strconv.ParseInt(qs.Get(name), 10, 64)
		if n < 0 {
			return 0
		}
		return n
	}
	tabStatuses := queueOpenStatuses
	switch tab {
	case tabUnassigned:
		f.Unassigned = true
	case tabActive:
		f.Assigned = true
	case tabClosed:
		tabStatuses = queueDoneStatuses
	case tabMine:
		f.AssigneeID = rc.User.ID
	}
	f.Statuses = tabStatuses
	ok := true
	if st := qs.Get("status"); st != "" {
		form.Status = st
		if slices.Contains(tabStatuses, st) {
			f.Statuses = []string{st}
		} else {
			ok = false
		}
	}
	if pr := qs.Get("priority"); slices.Contains(queuePriorities, pr) {
		form.Priority, f.Priorities = pr, []string{pr}
	}
	form.Company, form.Category, form.Queue, form.Assignee = id("company"), id("category"), id("queue"), id("assignee")
	f.CompanyID, f.CategoryID, f.QueueID = form.Company, form.Category, form.Queue
	if form.Assignee > 0 && tab != tabMine && tab != tabUnassigned {
		f.AssigneeID = form.Assignee
	}
	if email := strings.TrimSpace(qs.Get("requester")); email != "" {
		form.Requester = email
		u, err := s.svc.UserByEmailForStaff(r.Context(), rc.User, email)
		if err != nil {
			ok = false
		} else {
			f.RequesterID = u.ID
		}
	}
	loc := rc.Loc
	if loc == nil {
		loc = time.UTC
	}
	if d, err := time.ParseInLocation("2006-01-02", qs.Get("from"), loc); err == nil {
		form.From, f.CreatedFrom = qs.Get("from"), d
	}
	if d, err := time.ParseInLocation("2006-01-02", qs.Get("to"), loc); err == nil {
		form.To, f.CreatedTo = qs.Get("to"), d.AddDate(0, 0, 1) // the whole last day
	}
	form.Sort = qs.Get("sort")
	if !slices.Contains(store.QueueSorts, form.Sort) {
		form.Sort = store.SortUpdated
	}
	f.Sort = form.Sort
	if a := qs.Get("after"); a != "" {
		c, err := store.ParseQueueCursor(a)
		if err == nil {
			f.After = c
		}
	}
	return f, form, ok
}

// queueGroupByCompany groups a page by company, in the order companies first
// appear (the sort order stays within each group).
func queueGroupByCompany(ts []*store.Ticket) []*queueGroup {
	var gs []*queueGroup
	byID := map[int64]*queueGroup{}
	for _, t := range ts {
		g := byID[t.CompanyID]
		if g == nil {
			name := ""
			if t.Company != nil {
				name = t.Company.Name
			}
			g = &queueGroup{Company: name}
			byID[t.CompanyID] = g
			gs = append(gs, g)
		}
		g.Rows = append(g.Rows, t)
	}
	return gs
}

// bulk is POST /tickets/bulk: one change on the selected tickets, all or
// nothing.
func (s *Server) staffBulk(w http.ResponseWriter, r *http.Request) error {
	rc := ctxOf(r)
	if err := r.ParseForm(); err != nil {
		return httpError(http.StatusBadRequest, "error.invalid")
	}
	back := safeNext(r.PostFormValue("back"))
	if !strings.HasPrefix(back, "/tickets") {
		back = "/tickets/"
	}
	var numbers []int64
	for _, v := range r.PostForm["n"] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return httpError(http.StatusUnprocessableEntity, "error.invalid")
		}
		numbers = append(numbers, n)
	}
	if len(numbers) == 0 {
		s.flash(w, r, "error", "staff.bulk.none")
		s.redirect(w, r, back)
		return nil
	}
	var in ticketing.BulkInput
	if a := r.PostFormValue("assignee"); a != "" {
		id, err := strconv.ParseInt(a, 10, 64)
		if err != nil {
			return httpError(http.StatusUnprocessableEntity, "error.invalid")
		}
		if in.Assignee, err = s.svc.StaffUser(r.Context(), rc.User, id); err != nil {
			return err
		}
	}
	in.Status = r.PostFormValue("status")
	in.Priority = r.PostFormValue("priority")
	if err := s.svc.Bulk(r.Context(), rc.User, numbers, in); err != nil {
		return err
	}
	s.flash(w, r, "success", "staff.bulk.done")
	s.redirect(w, r, back)
	return nil
}

// viewSave is POST /tickets/views: the current filter under a name.
func (s *Server) staffViewSave(w http.ResponseWriter, r *http.Request) error {
	rc := ctxOf(r)
	q, err := url.ParseQuery(r.PostFormValue("query"))
	if err != nil {
		return httpError(http.StatusUnprocessableEntity, "error.invalid")
	}
	q.Del("after")
	if _, err := s.svc.SaveView(r.Context(), rc.User, r.PostFormValue("name"), q.Encode(), r.PostFormValue("shared") == "1"); err != nil {
		return err
	}
	s.flash(w, r, "success", "staff.views.saved")
	s.redirect(w, r, "/tickets/?"+q.Encode())
	return nil
}

// viewDelete is POST /tickets/views/{id}/delete.
func (s *Server) staffViewDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return httpError(http.StatusNotFound, "error.not_found")
	}
	if err := s.svc.DeleteView(r.Context(), ctxOf(r).User, id); err != nil {
		return err
	}
	s.flash(w, r, "success", "staff.views.deleted")
	s.redirect(w, r, "/tickets/")
	return nil
}
