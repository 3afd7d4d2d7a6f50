package ticketing

import (
	"context"

	"github.com/jcservicedesk/servicedesk/store"
)

// DashboardList is one card of the staff dashboard: how many tickets it
// holds and the first of them.
type DashboardList struct {
	Name    string // store.DashMine, DashUnassigned, DashDue, DashRecent
	Count   int
	More    bool // Count is store.DashboardCountCap and there may be more
	Tickets []*store.Ticket
}

// dashboardLimit is how many tickets a card shows.
const dashboardLimit = 5

func (s *Service) dashboardList(ctx context.Context, actor *store.User, list string) (DashboardList, error) {
	// The dashboard is work for staff; a requester's start page lists
	// their tickets through List, under the company's sharing rule.
	if actor == nil || actor.Disabled || !actor.IsStaff() {
		return DashboardList{}, notAllowedf("only staff have a dashboard")
	}
	ls, err := s.st.R().DashboardLists(ctx, actor.Scope(), store.DashboardFilter{
		UserID: actor.ID, Now: s.clock(), Limit: dashboardLimit}, list)
	if err != nil {
		return DashboardList{}, mapStoreErr(err)
	}
	return dashboardList(ls[0]), nil
}

// MyOpenTickets is the actor's open tickets, most recently updated first.
func (s *Service) MyOpenTickets(ctx context.Context, actor *store.User) (DashboardList, error) {
	return s.dashboardList(ctx, actor, store.DashMine)
}

// UnassignedInMyQueues is the open tickets nobody took in the actor's
// queues (and in no queue).
func (s *Service) UnassignedInMyQueues(ctx context.Context, actor *store.User) (DashboardList, error) {
	return s.dashboardList(ctx, actor, store.DashUnassigned)
}

// DueSoon is the open tickets whose SLA warning time came or that
// breached, the most urgent first.
func (s *Service) DueSoon(ctx context.Context, actor *store.User) (DashboardList, error) {
	return s.dashboardList(ctx, actor, store.DashDue)
}

// RecentlyUpdated is the open tickets updated last.
func (s *Service) RecentlyUpdated(ctx context.Context, actor *store.User) (DashboardList, error) {
	return s.dashboardList(ctx, actor, store.DashRecent)
}

// dashboardLists is the staff dashboard's lists, in page order.
var dashboardLists = []string{store.DashMine, store.DashUnassigned, store.DashDue, store.DashRecent}

// Dashboard is the four lists of the staff dashboard, in page order,
// read together (a few round trips for the whole page).
func (s *Service) Dashboard(ctx context.Context, actor *store.User) ([]DashboardList, error) {
	if actor == nil || actor.Disabled || !actor.IsStaff() {
		return nil, notAllowedf("only staff have a dashboard")
	}
	ls, err := s.st.R().DashboardLists(ctx, actor.Scope(), store.DashboardFilter{
		UserID: actor.ID, Now: s.clock(), Limit: dashboardLimit}, dashboardLists...)
	if err != nil {
		return nil, mapStoreErr(err)
	}
	out := make([]DashboardList, len(ls))
	for i, l := range ls {
		out[i] = dashboardList(l)
	}
	return out, nil
}

func dashboardList(l store.DashboardList) DashboardList {
	return DashboardList{Name: l.List, Count: l.Count, More: l.Count >= store.DashboardCountCap, Tickets: l.Tickets}
}
