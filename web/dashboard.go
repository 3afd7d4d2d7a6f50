package web

import (
	"net/http"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// dashboardView: staff see their cards (ticketing's dashboard lists),
// requesters the two links.
type dashboardView struct {
	FirstName string
	Inactive  bool // the company is switched off (company update --active=false)
	Cards     []dashboardCard
	Admin     bool // the quarantine card
	Assets    bool // the asset register card (supervisors and admins)
}

// dashboardCard is one list with the queue page that shows all of it
// (tkstaff's /tickets/ with the tab, status, assignee and sort filters).
type dashboardCard struct {
	ticketing.DashboardList
	Title string // i18n key
	Href  string
}

var dashboardHrefs = map[string]string{
	store.DashMine:       "/tickets/?tab=mine",
	store.DashUnassigned: "/tickets/?tab=unassigned",
	store.DashDue:        "/tickets/?tab=active&sort=due",
	store.DashRecent:     "/tickets/?tab=active&sort=updated",
}

func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) error {
	rc := ctxOf(r)
	u := rc.User
	v := dashboardView{FirstName: firstName(u.Name, u.Email), Inactive: rc.Company != nil && !rc.Company.Active}
	if u.IsStaff() {
		lists, err := s.svc.Dashboard(r.Context(), u)
		if err != nil {
			return err
		}
		for _, l := range lists {
			v.Cards = append(v.Cards, dashboardCard{DashboardList: l, Title: "dashboard.card." + l.Name, Href: dashboardHrefs[l.Name]})
		}
		v.Admin = u.Role == store.RoleAdmin
		v.Assets = ticketing.CanManageAssets(u)
	}
	return s.render(w, r, http.StatusOK, "dashboard", v)
}

func firstName(name, email string) string {
	for i, c := range name {
		if c == ' ' {
			return name[:i]
		}
	}
	if name != "" {
		return name
	}
	for i, c := range email {
		if c == '@' {
			return email[:i]
		}
	}
	return email
}
