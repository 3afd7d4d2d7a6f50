package store_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
)

// TestStaffQueueUsesIndexes checks the query plans of the staff queue (and
// of the client's view) on
// a table big enough for the planner to care (10,000 tickets, analysed):
// the order and the keyset bound come from an index, with no sort of the
// matching rows.
const planTickets = 10_000

var queueIndex = regexp.MustCompile(`tickets_(updated|status_updated|assignee_updated|company_updated|company_status_updated)_idx`)

func TestStaffQueueUsesIndexes(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 10,000 tickets")
	}
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		tk := seedTicket(t, s)
		var techs []int64
		err := s.InTx(ctx, func(q *store.Q) error {
			for i := 0; i < 5; i++ {
				u := &store.User{Email: fmt.Sprintf("tech%d@plan.example", i), Role: store.RoleTech}
				if err := q.CreateUser(ctx, u); err != nil {
					return err
				}
				techs = append(techs, u.ID)
			}
			statuses := []string{"new", "open", "pending", "resolved", "closed", "reopened"}
			t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			batch := make([]store.Ticket, 0, 1000)
			for i := 0; i < planTickets; i++ {
				at := t0.Add(time.Duration(i) * time.Minute)
				x := store.Ticket{Number: tk.Number + 1 + int64(i), CompanyID: tk.CompanyID, RequesterID: tk.RequesterID,
					Priority: "normal", Status: statuses[i%len(statuses)], Subject: "p", Source: "cli", CreatedAt: at, UpdatedAt: at}
				if i%3 != 0 {
					x.AssigneeID = &techs[i%len(techs)]
				}
				batch = append(batch, x)
				if len(batch) == cap(batch) {
					if err := q.BulkInsertTickets(ctx, batch); err != nil {
						return err
					}
					batch = batch[:0]
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Analyze(ctx); err != nil {
			t.Fatal(err)
		}
		// The second page or so: 200 tickets from the top.
		after := &store.TicketCursor{UpdatedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add((planTickets - 200) * time.Minute), ID: 1 << 40}
		for _, c := range []struct {
			name  string
			f     store.TicketFilter
			index string
			scope store.Scope // zero: AllCompanies (staff)
		}{
			{"client open", store.TicketFilter{Limit: 50, Statuses: []string{"open"}}, "tickets_company_status_updated_idx", store.CompanyScope(tk.CompanyID)},
			{"client all after", store.TicketFilter{Limit: 50, After: after}, "tickets_company_updated_idx", store.CompanyScope(tk.CompanyID)},
			{"all", store.TicketFilter{Limit: 50}, "tickets_updated_idx", store.Scope{}},
			{"all after", store.TicketFilter{Limit: 50, After: after}, "tickets_updated_idx", store.Scope{}},
			{"status", store.TicketFilter{Limit: 50, Statuses: []string{"open"}}, "tickets_status_updated_idx", store.Scope{}},
			{"status after", store.TicketFilter{Limit: 50, Statuses: []string{"open"}, After: after}, "tickets_status_updated_idx", store.Scope{}},
			{"assignee", store.TicketFilter{Limit: 50, AssigneeID: techs[0]}, "tickets_assignee_updated_idx", store.Scope{}},
			{"assignee after", store.TicketFilter{Limit: 50, AssigneeID: techs[0], After: after}, "tickets_assignee_updated_idx", store.Scope{}},
		} {
			sc := c.scope
			if sc == (store.Scope{}) {
				sc = store.AllCompanies()
			}
			plan, err := s.R().ExplainTickets(ctx, sc, c.f)
			if err != nil {
				t.Fatal(err)
			}
			text := strings.Join(plan, "\n")
			t.Logf("%s:\n%s", c.name, text)
			// A sort of the matching rows is what the indexes are for:
			// SQLite says "USE TEMP B-TREE FOR ORDER BY", PostgreSQL has a
			// Sort (or Incremental Sort) node. Which of the ordered
			// indexes is cheaper is the planner's call (near the edge of
			// the table, the unfiltered one with a filter can win), so
			// any of them will do, but c.index is expected here.
			if strings.Contains(text, "TEMP B-TREE") || strings.Contains(text, "Sort") || !queueIndex.MatchString(text) {
				t.Errorf("%s: plan does not read a queue index in order:\n%s", c.name, text)
			} else if !strings.Contains(text, c.index) {
				t.Logf("%s: the planner preferred another queue index to %s", c.name, c.index)
			}
		}
	})
}
