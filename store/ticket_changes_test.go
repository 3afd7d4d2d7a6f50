package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
)

// UpdateTicket writes the columns that changed since the read, and only
// those: a column another transaction changed in between is kept, and a
// change made through a pointer field is seen.
func TestUpdateTicketWritesWhatChanged(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		{
			ctx := context.Background()
			tk := seedTicket(t, st)
			var mine *store.Ticket
			must(t, st.InTx(ctx, func(q *store.Q) error {
				var err error
				mine, err = q.Ticket(ctx, store.AllCompanies(), tk.ID, false)
				return err
			}))
			// Someone else changes the priority after our read.
			must(t, st.InTx(ctx, func(q *store.Q) error {
				other, err := q.Ticket(ctx, store.AllCompanies(), tk.ID, false)
				if err != nil {
					return err
				}
				other.Priority = "urgent"
				return q.UpdateTicket(ctx, other)
			}))
			due := time.Date(2026, 12, 24, 12, 0, 0, 0, time.UTC)
			mine.Status = store.StatusOpen
			mine.ResolutionDue = &due
			must(t, st.InTx(ctx, func(q *store.Q) error { return q.UpdateTicket(ctx, mine) }))
			// A change through the pointer read before is a change too.
			later := due.Add(time.Hour)
			*mine.ResolutionDue = later
			must(t, st.InTx(ctx, func(q *store.Q) error { return q.UpdateTicket(ctx, mine) }))

			got, err := st.R().Ticket(ctx, store.AllCompanies(), tk.ID, false)
			must(t, err)
			if got.Priority != "urgent" {
				t.Errorf("priority = %q: the concurrent change was overwritten by a stale read", got.Priority)
			}
			if got.Status != store.StatusOpen || got.ResolutionDue == nil || !got.ResolutionDue.Equal(later) {
				t.Errorf("status %q, resolution due %v; want open, %v", got.Status, got.ResolutionDue, later)
			}
			// A write rolled back is forgotten: the same change, tried
			// again with the same ticket, is written.
			mine.Status = store.StatusPending
			errRollback := errors.New("rolled back")
			if err := st.InTx(ctx, func(q *store.Q) error {
				if err := q.UpdateTicket(ctx, mine); err != nil {
					return err
				}
				return errRollback
			}); !errors.Is(err, errRollback) {
				t.Fatalf("rolled-back transaction: %v", err)
			}
			must(t, st.InTx(ctx, func(q *store.Q) error { return q.UpdateTicket(ctx, mine) }))
			if got, err := st.R().Ticket(ctx, store.AllCompanies(), tk.ID, false); err != nil || got.Status != store.StatusPending {
				t.Fatalf("after a rollback and a retry: status %v (%v), want pending", got.Status, err)
			}
			// A ticket never read (built by hand) writes every column.
			fresh := *got
			fresh.Subject = "reescrito"
			blank := &store.Ticket{ID: fresh.ID, Number: fresh.Number, CompanyID: fresh.CompanyID, RequesterID: fresh.RequesterID,
				Priority: fresh.Priority, Status: fresh.Status, Subject: "reescrito", Source: fresh.Source, CreatedAt: fresh.CreatedAt}
			must(t, st.InTx(ctx, func(q *store.Q) error { return q.UpdateTicket(ctx, blank) }))
			got, err = st.R().Ticket(ctx, store.AllCompanies(), tk.ID, false)
			must(t, err)
			if got.Subject != "reescrito" || got.ResolutionDue != nil {
				t.Errorf("hand-built update: subject %q, resolution due %v; want every column written", got.Subject, got.ResolutionDue)
			}
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
