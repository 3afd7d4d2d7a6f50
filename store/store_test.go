package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
)

func TestMigrateIsIdempotent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		again, err := s.Migrate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(again) != 0 {
			t.Fatalf("second migrate applied %v", again)
		}
		st, err := s.MigrationStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(st) == 0 || !st[0].Applied {
			t.Fatalf("status = %+v", st)
		}
	})
}

func TestCompanyAndUser(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := &store.Company{Name: "Acme Ltda", Domains: []string{"Acme.com.br", "acme.com"}, AllowedIPs: []string{"10.0.0.0/8"}}
		if err := s.InTx(ctx, func(q *store.Q) error { return q.CreateCompany(ctx, c) }); err != nil {
			t.Fatal(err)
		}
		got, err := s.R().CompanyByDomain(ctx, "ACME.COM.BR")
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != c.ID || len(got.Domains) != 2 || got.AllowedIPs[0] != "10.0.0.0/8" {
			t.Fatalf("got %+v", got)
		}
		// A domain belongs to one company only.
		other := &store.Company{Name: "Other", Domains: []string{"acme.com"}}
		err = s.InTx(ctx, func(q *store.Q) error { return q.CreateCompany(ctx, other) })
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("duplicate domain: err = %v", err)
		}
		if _, err := s.R().CompanyByName(ctx, "other"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("failed create left a company behind: %v", err)
		}
		// Same name in another case is a conflict too.
		err = s.InTx(ctx, func(q *store.Q) error { return q.CreateCompany(ctx, &store.Company{Name: "ACME LTDA"}) })
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("duplicate name: err = %v", err)
		}

		cid := c.ID
		u := &store.User{Email: "Maria@Acme.com.br", Name: "Maria", Role: store.RoleClient, CompanyID: &cid}
		if err := s.InTx(ctx, func(q *store.Q) error { return q.CreateUser(ctx, u) }); err != nil {
			t.Fatal(err)
		}
		dup := &store.User{Email: "MARIA@acme.com.br", Role: store.RoleClient, CompanyID: &cid}
		err = s.InTx(ctx, func(q *store.Q) error { return q.CreateUser(ctx, dup) })
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("case-insensitive duplicate email: err = %v", err)
		}
		byMail, err := s.R().UserByEmail(ctx, store.AllCompanies(), "maria@ACME.com.br")
		if err != nil || byMail.ID != u.ID {
			t.Fatalf("UserByEmail = %+v, %v", byMail, err)
		}
		// Scope: another company's caller cannot see her; no scope is refused.
		if _, err := s.R().UserByEmail(ctx, store.CompanyScope(cid+1), u.Email); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("other company sees user: %v", err)
		}
		if _, err := s.R().UserByEmail(ctx, store.Scope{}, u.Email); !errors.Is(err, store.ErrNoScope) {
			t.Fatalf("zero scope: %v", err)
		}
	})
}

func TestAttachmentsAreContentAddressedAndScoped(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		tk := seedTicket(t, s)
		data := []byte("%PDF-1.4 relatório")
		var a1, a2 store.Attachment
		err := s.InTx(ctx, func(q *store.Q) error {
			a1 = store.Attachment{TicketID: tk.ID, Filename: "a.pdf", ContentType: "application/pdf"}
			if err := q.AddAttachment(ctx, &a1, data); err != nil {
				return err
			}
			a2 = store.Attachment{TicketID: tk.ID, Filename: "copy.pdf", ContentType: "application/pdf"}
			return q.AddAttachment(ctx, &a2, data)
		})
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := s.R().BlobCount(ctx); n != 1 {
			t.Fatalf("blobs = %d, want 1 (same content kept once)", n)
		}
		got, b, err := s.R().Attachment(ctx, store.CompanyScope(tk.CompanyID), a2.ID, false)
		if err != nil || string(b) != string(data) || got.Filename != "copy.pdf" {
			t.Fatalf("attachment = %+v %q %v", got, b, err)
		}
		if _, _, err := s.R().Attachment(ctx, store.CompanyScope(tk.CompanyID+100), a2.ID, true); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("other company reads attachment: %v", err)
		}
	})
}

// TestConcurrentWritesDoNotFail hammers the write path from many
// goroutines: on SQLite none may fail with SQLITE_BUSY.
func TestConcurrentWritesDoNotFail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		tk := seedTicket(t, s)
		var wg sync.WaitGroup
		errs := make(chan error, 200)
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				for j := 0; j < 10; j++ {
					err := s.InTx(ctx, func(q *store.Q) error {
						n, err := q.NextTicketNumber(ctx)
						if err != nil {
							return err
						}
						t2 := &store.Ticket{Number: n, CompanyID: tk.CompanyID, RequesterID: tk.RequesterID,
							Priority: "normal", Status: "new", Subject: fmt.Sprintf("t %d %d", i, j), Source: "cli"}
						if err := q.CreateTicket(ctx, t2); err != nil {
							return err
						}
						return q.CreateComment(ctx, &store.Comment{TicketID: t2.ID, BodyText: "x", Source: "cli"})
					})
					if err != nil {
						errs <- err
					}
					// Reads run beside the writers.
					if _, err := s.R().Tickets(ctx, store.AllCompanies(), store.TicketFilter{Limit: 5}); err != nil {
						errs <- err
					}
				}
			}(i)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		ts, err := s.R().Tickets(ctx, store.AllCompanies(), store.TicketFilter{Limit: 1000})
		if err != nil || len(ts) != 201 {
			t.Fatalf("tickets = %d, %v", len(ts), err)
		}
		seen := map[int64]bool{}
		for _, x := range ts {
			if seen[x.Number] {
				t.Fatalf("ticket number %d used twice", x.Number)
			}
			seen[x.Number] = true
		}
	})
}

func seedTicket(t testing.TB, s *store.Store) *store.Ticket {
	t.Helper()
	ctx := context.Background()
	var tk *store.Ticket
	err := s.InTx(ctx, func(q *store.Q) error {
		c := &store.Company{Name: "Seed Co"}
		if err := q.CreateCompany(ctx, c); err != nil {
			return err
		}
		cid := c.ID
		u := &store.User{Email: "req@seed.example", Role: store.RoleClient, CompanyID: &cid}
		if err := q.CreateUser(ctx, u); err != nil {
			return err
		}
		n, err := q.NextTicketNumber(ctx)
		if err != nil {
			return err
		}
		tk = &store.Ticket{Number: n, CompanyID: cid, RequesterID: u.ID, Priority: "normal", Status: "new", Subject: "Seed", Source: "cli"}
		return q.CreateTicket(ctx, tk)
	})
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// TestConcurrentMigrateOnPostgres starts several "processes" (stores with
// their own connection pools) migrating one fresh schema at once: each
// migration is applied exactly once and nobody fails.
func TestConcurrentMigrateOnPostgres(t *testing.T) {
	url := os.Getenv(storetest.PostgresEnv)
	if url == "" {
		storetest.SkipOrFail(t, "PostgreSQL tests need "+storetest.PostgresEnv)
	}
	ctx := context.Background()
	schema := storetest.NewSchema(t, url)
	var wg sync.WaitGroup
	applied := make(chan int, 4)
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := store.Open(ctx, store.Options{Driver: store.Postgres, DSN: url, Schema: schema})
			if err != nil {
				errs <- err
				return
			}
			defer s.Close()
			names, err := s.Migrate(ctx)
			if err != nil {
				errs <- err
				return
			}
			applied <- len(names)
		}()
	}
	wg.Wait()
	close(errs)
	close(applied)
	for err := range errs {
		t.Fatal(err)
	}
	total := 0
	for n := range applied {
		total += n
	}
	if want := migrationCount(t); total != want {
		t.Fatalf("%d migrations applied in all, want each of the %d once", total, want)
	}
}

// TestTicketsKeysetPaging pages through tickets with After: every ticket
// once, in the order of one big listing, ties on updated_at broken by id;
// a ticket updated between two pages moves no other ticket across the
// page boundary (with Offset, one would be listed twice).
func TestTicketsKeysetPaging(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		tk := seedTicket(t, s)
		// 23 more tickets, in groups of three sharing one updated_at.
		at := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
		var batch []store.Ticket
		for i := 0; i < 23; i++ {
			u := at.Add(time.Duration(i/3) * time.Minute)
			batch = append(batch, store.Ticket{Number: tk.Number + 1 + int64(i), CompanyID: tk.CompanyID, RequesterID: tk.RequesterID,
				Priority: "normal", Status: "open", Subject: fmt.Sprintf("k %d", i), Source: "cli", CreatedAt: u, UpdatedAt: u})
		}
		if err := s.InTx(ctx, func(q *store.Q) error { return q.BulkInsertTickets(ctx, batch) }); err != nil {
			t.Fatal(err)
		}
		all, err := s.R().Tickets(ctx, store.AllCompanies(), store.TicketFilter{Limit: 100})
		if err != nil || len(all) != 24 {
			t.Fatalf("all = %d, %v", len(all), err)
		}
		for i := 1; i < len(all); i++ {
			a, b := all[i-1], all[i]
			if a.UpdatedAt.Before(b.UpdatedAt) || (a.UpdatedAt.Equal(b.UpdatedAt) && a.ID < b.ID) {
				t.Fatalf("order broken at %d: %v/%d before %v/%d", i, a.UpdatedAt, a.ID, b.UpdatedAt, b.ID)
			}
		}
		var paged []*store.Ticket
		f := store.TicketFilter{Limit: 5}
		for page := 0; ; page++ {
			ts, err := s.R().Tickets(ctx, store.AllCompanies(), f)
			if err != nil {
				t.Fatal(err)
			}
			if len(ts) == 0 {
				break
			}
			paged = append(paged, ts...)
			c := ts[len(ts)-1].Cursor()
			f.After = &c
			if page > 10 {
				t.Fatal("paging does not end")
			}
		}
		if len(paged) != len(all) {
			t.Fatalf("paged %d tickets, want %d", len(paged), len(all))
		}
		for i := range all {
			if paged[i].ID != all[i].ID {
				t.Fatalf("page order differs at %d: %d, want %d", i, paged[i].ID, all[i].ID)
			}
		}

		// An update between pages moves that ticket to the front; the
		// next page still starts right after the last one read.
		first, err := s.R().Tickets(ctx, store.AllCompanies(), store.TicketFilter{Limit: 5})
		if err != nil {
			t.Fatal(err)
		}
		moved := all[10]
		if err := s.InTx(ctx, func(q *store.Q) error { return q.UpdateTicket(ctx, moved) }); err != nil {
			t.Fatal(err)
		}
		c := first[4].Cursor()
		next, err := s.R().Tickets(ctx, store.AllCompanies(), store.TicketFilter{Limit: 5, After: &c})
		if err != nil {
			t.Fatal(err)
		}
		for i, x := range next {
			if x.ID != all[5+i].ID {
				t.Fatalf("next page [%d] = %d, want %d", i, x.ID, all[5+i].ID)
			}
		}

		// Offset still works for callers that use it, and the limits are checked.
		off, err := s.R().Tickets(ctx, store.AllCompanies(), store.TicketFilter{Limit: 3, Offset: 20})
		if err != nil || len(off) != 3 {
			t.Fatalf("offset page = %d, %v", len(off), err)
		}
		for _, bad := range []store.TicketFilter{{Limit: store.MaxTicketLimit + 1}, {Limit: -1}, {Offset: -1}} {
			if _, err := s.R().Tickets(ctx, store.AllCompanies(), bad); err == nil {
				t.Fatalf("filter %+v accepted", bad)
			}
		}
	})
}

// migrationCount is the number of migrations a fresh database gets.
func migrationCount(t *testing.T) int {
	t.Helper()
	st, err := storetest.Open(t, store.SQLite).MigrationStatus(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return len(st)
}
