package ticketing_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// TestBulk: one change over several tickets through the same rules as one
// at a time, all or nothing.
func TestBulk(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		for _, tc := range []struct {
			name  string
			actor func() *store.User
			in    func() ticketing.BulkInput
			prep  func(a, b *store.Ticket)
			want  error
		}{
			{"client", func() *store.User { return w.client }, func() ticketing.BulkInput { return ticketing.BulkInput{Priority: "high"} }, nil, ticketing.ErrNotAllowed},
			{"nothing to do", func() *store.User { return w.admin }, func() ticketing.BulkInput { return ticketing.BulkInput{} }, nil, ticketing.ErrInvalid},
			{"tech priority on unassigned", func() *store.User { return w.tech }, func() ticketing.BulkInput { return ticketing.BulkInput{Priority: "high"} }, nil, nil},
			{"tech priority, one is another's", func() *store.User { return w.tech }, func() ticketing.BulkInput { return ticketing.BulkInput{Priority: "high"} },
				func(a, b *store.Ticket) {
					if _, err := w.svc.Assign(ctx, w.admin, b.Number, w.tech2); err != nil {
						t.Fatal(err)
					}
				}, ticketing.ErrNotAllowed},
			{"admin assigns", func() *store.User { return w.admin }, func() ticketing.BulkInput { return ticketing.BulkInput{Assignee: w.tech} }, nil, nil},
			{"tech takes both", func() *store.User { return w.tech }, func() ticketing.BulkInput { return ticketing.BulkInput{Assignee: w.tech} }, nil, nil},
			{"tech gives unassigned to another", func() *store.User { return w.tech }, func() ticketing.BulkInput { return ticketing.BulkInput{Assignee: w.tech2} }, nil, ticketing.ErrNotAllowed},
			{"admin pending", func() *store.User { return w.admin }, func() ticketing.BulkInput { return ticketing.BulkInput{Status: store.StatusPending} }, nil, nil},
			{"close needs the evaluation", func() *store.User { return w.admin }, func() ticketing.BulkInput { return ticketing.BulkInput{Status: store.StatusClosed} }, nil, ticketing.ErrInvalid},
		} {
			t.Run(tc.name, func(t *testing.T) {
				a, b := w.create(t), w.create(t)
				if tc.prep != nil {
					tc.prep(a, b)
				}
				in := tc.in()
				err := w.svc.Bulk(ctx, tc.actor(), []int64{a.Number, b.Number}, in)
				if tc.want != nil {
					if !errors.Is(err, tc.want) {
						t.Fatalf("err %v, want %v", err, tc.want)
					}
					// Nothing changed on the first ticket either.
					v, _ := w.svc.Get(ctx, w.admin, a.Number)
					if v.Ticket.Priority != a.Priority || (v.Ticket.AssigneeID != nil) != (a.AssigneeID != nil) || v.Ticket.Status != a.Status {
						t.Fatalf("a refused bulk changed #%d: %+v", a.Number, v.Ticket)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				for _, tk := range []*store.Ticket{a, b} {
					v, _ := w.svc.Get(ctx, w.admin, tk.Number)
					switch {
					case in.Priority != "" && v.Ticket.Priority != in.Priority,
						in.Assignee != nil && !v.Ticket.AssignedTo(in.Assignee),
						in.Status != "" && v.Ticket.Status != in.Status:
						t.Fatalf("#%d not changed: %+v", tk.Number, v.Ticket)
					}
				}
			})
		}
	})
}

// TestSavedViews: personal views are their owner's; shared ones are made
// and removed by supervisors and admins.
func TestSavedViews(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		if _, err := w.svc.SaveView(ctx, w.client, "x", "tab=mine", false); !errors.Is(err, ticketing.ErrNotAllowed) {
			t.Fatalf("client: %v", err)
		}
		if _, err := w.svc.SaveView(ctx, w.tech, "x", "tab=mine", true); !errors.Is(err, ticketing.ErrNotAllowed) {
			t.Fatalf("tech shares: %v", err)
		}
		if _, err := w.svc.SaveView(ctx, w.tech, "  ", "tab=mine", false); !errors.Is(err, ticketing.ErrInvalid) {
			t.Fatalf("no name: %v", err)
		}
		mine, err := w.svc.SaveView(ctx, w.tech, "Minhas urgentes", "tab=mine&priority=urgent", false)
		if err != nil {
			t.Fatal(err)
		}
		shared, err := w.svc.SaveView(ctx, w.admin, "Críticos", "priority=urgent", true)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			u    *store.User
			want int
		}{{w.tech, 2}, {w.tech2, 1}, {w.admin, 1}} {
			vs, err := w.svc.SavedViews(ctx, c.u)
			if err != nil || len(vs) != c.want {
				t.Fatalf("%s sees %d views (%v), want %d", c.u.Email, len(vs), err, c.want)
			}
		}
		if err := w.svc.DeleteView(ctx, w.tech2, mine.ID); !errors.Is(err, ticketing.ErrNotFound) {
			t.Fatalf("another's view: %v", err)
		}
		if err := w.svc.DeleteView(ctx, w.tech, shared.ID); !errors.Is(err, ticketing.ErrNotAllowed) {
			t.Fatalf("tech removes shared: %v", err)
		}
		if err := w.svc.DeleteView(ctx, w.tech, mine.ID); err != nil {
			t.Fatal(err)
		}
		if err := w.svc.DeleteView(ctx, w.superv, shared.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := w.svc.Queue(ctx, w.client, store.QueueFilter{}); !errors.Is(err, ticketing.ErrNotAllowed) {
			t.Fatalf("client queue: %v", err)
		}
		if _, _, err := w.svc.Queue(ctx, w.tech, store.QueueFilter{Sort: "random"}); !errors.Is(err, ticketing.ErrInvalid) {
			t.Fatalf("bad sort: %v", err)
		}
	})
}

// TestUpdateQueue: the queue is one of the fields Update changes.
func TestUpdateQueue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		qu, err := w.svc.CreateQueue(ctx, w.admin, "Suporte N2", "")
		if err != nil {
			t.Fatal(err)
		}
		tk := w.create(t)
		ref := "Suporte N2"
		got, err := w.svc.Update(ctx, w.tech, tk.Number, ticketing.UpdateInput{Queue: &ref})
		if err != nil || got.QueueID == nil || *got.QueueID != qu.ID {
			t.Fatalf("update queue: %v %+v", err, got)
		}
		bad := "nope"
		if _, err := w.svc.Update(ctx, w.tech, tk.Number, ticketing.UpdateInput{Queue: &bad}); !errors.Is(err, ticketing.ErrInvalid) {
			t.Fatalf("unknown queue: %v", err)
		}
		none := ""
		if got, err := w.svc.Update(ctx, w.tech, tk.Number, ticketing.UpdateInput{Queue: &none}); err != nil || got.QueueID != nil {
			t.Fatalf("clear queue: %v", err)
		}
	})
}
