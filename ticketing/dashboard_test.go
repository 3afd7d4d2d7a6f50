package ticketing_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// TestDashboardLists: each card holds exactly its tickets, counted, for
// staff only.
func TestDashboardLists(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		open := func(subject string) *store.Ticket {
			t.Helper()
			tk, err := w.svc.Create(ctx, w.client, ticketing.CreateInput{Requester: w.client, Subject: subject, Body: "x"})
			if err != nil {
				t.Fatal(err)
			}
			return tk
		}
		edit := func(tk *store.Ticket, fn func(*store.Ticket)) {
			t.Helper()
			if err := st.InTx(ctx, func(q *store.Q) error {
				cur, err := q.TicketByNumber(ctx, store.AllCompanies(), tk.Number, true)
				if err != nil {
					return err
				}
				fn(cur)
				return q.UpdateTicket(ctx, cur)
			}); err != nil {
				t.Fatal(err)
			}
		}
		var mine, theirs, solved, inMyQueue, inOtherQueue, noQueue, breached, warned, later *store.Ticket
		mine, theirs, solved = open("mine"), open("theirs"), open("solved")
		inMyQueue, inOtherQueue, noQueue = open("my queue"), open("other queue"), open("no queue")
		breached, warned, later = open("breached"), open("warned"), open("later")
		for _, c := range []struct {
			tk *store.Ticket
			by *store.User
		}{{mine, w.tech}, {theirs, w.tech2}, {solved, w.tech}, {breached, w.tech2}, {warned, w.tech2}, {later, w.tech2}} {
			if _, err := w.svc.Assign(ctx, w.admin, c.tk.Number, c.by); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := w.svc.SetStatus(ctx, w.tech, solved.Number, store.StatusResolved, ticketing.StatusInput{Solution: "feito"}); err != nil {
			t.Fatal(err)
		}
		qMine, err := w.svc.CreateQueue(ctx, w.admin, "Redes", "")
		if err != nil {
			t.Fatal(err)
		}
		qOther, err := w.svc.CreateQueue(ctx, w.admin, "Financeiro", "")
		if err != nil {
			t.Fatal(err)
		}
		if err := st.InTx(ctx, func(q *store.Q) error { return q.AddQueueMember(ctx, qMine.ID, w.tech.ID) }); err != nil {
			t.Fatal(err)
		}
		edit(inMyQueue, func(t *store.Ticket) { t.QueueID = &qMine.ID })
		edit(inOtherQueue, func(t *store.Ticket) { t.QueueID = &qOther.ID })
		now := w.svc.Clock()
		past, future := now.Add(-time.Minute), now.Add(time.Hour)
		edit(breached, func(t *store.Ticket) { t.SLABreachedAt = &past; t.ResolutionDue = &past })
		edit(warned, func(t *store.Ticket) { t.ResolutionWarnAt = &past; t.ResolutionDue = &future })
		edit(later, func(t *store.Ticket) { t.ResolutionWarnAt = &future; t.ResolutionDue = &future })
		edit(noQueue, func(t *store.Ticket) {}) // the most recently updated

		subjects := func(l ticketing.DashboardList) []string {
			var s []string
			for _, tk := range l.Tickets {
				s = append(s, tk.Subject)
			}
			return s
		}
		for _, c := range []struct {
			name  string
			actor *store.User
			fn    func(*ticketing.Service) func(context.Context, *store.User) (ticketing.DashboardList, error)
			want  []string
			count int
		}{
			{"mine", w.tech, func(s *ticketing.Service) func(context.Context, *store.User) (ticketing.DashboardList, error) {
				return s.MyOpenTickets
			}, []string{"mine"}, 1},
			{"mine/tech2", w.tech2, func(s *ticketing.Service) func(context.Context, *store.User) (ticketing.DashboardList, error) {
				return s.MyOpenTickets
			}, []string{"later", "warned", "breached", "theirs"}, 4},
			// tech is in Redes: its queue and no queue; tech2 is in none: all.
			{"unassigned", w.tech, func(s *ticketing.Service) func(context.Context, *store.User) (ticketing.DashboardList, error) {
				return s.UnassignedInMyQueues
			}, []string{"no queue", "my queue"}, 2},
			{"unassigned/no queues", w.tech2, func(s *ticketing.Service) func(context.Context, *store.User) (ticketing.DashboardList, error) {
				return s.UnassignedInMyQueues
			}, []string{"no queue", "other queue", "my queue"}, 3},
			{"due", w.tech, func(s *ticketing.Service) func(context.Context, *store.User) (ticketing.DashboardList, error) {
				return s.DueSoon
			}, []string{"breached", "warned"}, 2},
			{"recent", w.admin, func(s *ticketing.Service) func(context.Context, *store.User) (ticketing.DashboardList, error) {
				return s.RecentlyUpdated
			}, []string{"no queue", "later", "warned", "breached", "other queue"}, 8},
		} {
			t.Run(c.name, func(t *testing.T) {
				l, err := c.fn(w.svc)(ctx, c.actor)
				if err != nil {
					t.Fatal(err)
				}
				if got := subjects(l); !slices.Equal(got, c.want) || l.Count != c.count {
					t.Errorf("got %q (%d), want %q (%d)", got, l.Count, c.want, c.count)
				}
			})
		}
		for _, u := range []*store.User{w.client, w.outsider, nil} {
			if _, err := w.svc.Dashboard(ctx, u); !errors.Is(err, ticketing.ErrNotAllowed) {
				t.Errorf("dashboard of %v: %v, want ErrNotAllowed", u, err)
			}
		}
		ls, err := w.svc.Dashboard(ctx, w.tech)
		if err != nil || len(ls) != 4 || ls[0].Name != store.DashMine || ls[3].Name != store.DashRecent {
			t.Fatalf("dashboard: %v %v", ls, err)
		}
		// Read together (one query for all cards), each card is what it
		// is read alone, in the same order.
		for i, fn := range []func(context.Context, *store.User) (ticketing.DashboardList, error){
			w.svc.MyOpenTickets, w.svc.UnassignedInMyQueues, w.svc.DueSoon, w.svc.RecentlyUpdated,
		} {
			l, err := fn(ctx, w.tech)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := subjects(ls[i]), subjects(l); !slices.Equal(got, want) || ls[i].Count != l.Count || len(got) == 0 {
				t.Errorf("%s together: %q (%d), alone: %q (%d)", ls[i].Name, got, ls[i].Count, want, l.Count)
			}
		}
	})
}
