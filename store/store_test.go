package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"

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
// their own connection pools) migrating one fresh schema at once, as
// several serve/migrate processes do on an empty database: nobody fails,
// each migration is applied exactly once, and the schema is complete.
func TestConcurrentMigrateOnPostgres(t *testing.T) {
	url := os.Getenv(storetest.PostgresEnv)
	if url == "" {
		storetest.SkipOrFail(t, "PostgreSQL tests need "+storetest.PostgresEnv)
	}
	ctx := context.Background()
	schema := storetest.NewSchema(t, url)
	const procs = 8
	var wg sync.WaitGroup
	start := make(chan struct{})
	applied := make(chan int, procs)
	errs := make(chan error, procs)
	for i := 0; i < procs; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
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
	close(start)
	wg.Wait()
	close(errs)
	close(applied)
	for err := range errs {
		t.Error(err)
	}
	total := 0
	for n := range applied {
		total += n
	}
	if want := migrationCount(t); total != want {
		t.Fatalf("%d migrations applied in all, want each of the %d once", total, want)
	}
	s, err := store.Open(ctx, store.Options{Driver: store.Postgres, DSN: url, Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.R().Tickets(ctx, store.AllCompanies(), store.TicketFilter{}); err != nil {
		t.Fatalf("schema after concurrent migrations: %v", err)
	}
}

// TestMigrationLockIsPerSchema holds one schema's migration lock (as a
// process busy migrating it would): another schema on the same database
// migrates meanwhile, the held one waits until its context ends and
// fails without applying anything, then migrates once the lock is free.
func TestMigrationLockIsPerSchema(t *testing.T) {
	url := os.Getenv(storetest.PostgresEnv)
	if url == "" {
		storetest.SkipOrFail(t, "PostgreSQL tests need "+storetest.PostgresEnv)
	}
	ctx := context.Background()
	held, free := storetest.NewSchema(t, url), storetest.NewSchema(t, url)
	open := func(schema string) *store.Store {
		s, err := store.Open(ctx, store.Options{Driver: store.Postgres, DSN: url, Schema: schema})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	sHeld, sFree := open(held), open(free)

	holder := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(url)))
	defer holder.Close()
	conn, err := holder.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", store.MigrationLockKey(held)); err != nil {
		t.Fatal(err)
	}

	if names, err := sFree.Migrate(ctx); err != nil || len(names) == 0 {
		t.Fatalf("other schema blocked: %v, %v", names, err)
	}
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if names, err := sHeld.Migrate(short); !errors.Is(err, context.DeadlineExceeded) || len(names) != 0 {
		t.Fatalf("migrate under a held lock = %v, %v; want to wait until the context ends", names, err)
	}
	if st, err := sHeld.MigrationStatus(ctx); err != nil || st[0].Applied {
		t.Fatalf("applied while the lock was held: %+v, %v", st, err)
	}
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", store.MigrationLockKey(held)); err != nil {
		t.Fatal(err)
	}
	if names, err := sHeld.Migrate(ctx); err != nil || len(names) != migrationCount(t) {
		t.Fatalf("migrate after the lock was freed = %v, %v", names, err)
	}
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

// TestCorruptAllowListIsAnError: a company's IP allow-list that cannot be
// read must not come back as "no restriction".
func TestCorruptAllowListIsAnError(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := &store.Company{Name: "Fenced", AllowedIPs: []string{"10.0.0.0/8"}}
		if err := s.InTx(ctx, func(q *store.Q) error { return q.CreateCompany(ctx, c) }); err != nil {
			t.Fatal(err)
		}
		if _, err := s.DB().ExecContext(ctx, "UPDATE companies SET allowed_ips = '[\"10.0.0.0/8\"' WHERE id = ?", c.ID); err != nil {
			t.Fatal(err)
		}
		reads := map[string]func() (*store.Company, error){
			"Company":       func() (*store.Company, error) { return s.R().Company(ctx, c.ID) },
			"CompanyByName": func() (*store.Company, error) { return s.R().CompanyByName(ctx, "fenced") },
			"CompanyByRef":  func() (*store.Company, error) { return s.R().CompanyByRef(ctx, fmt.Sprint(c.ID)) },
			"Companies": func() (*store.Company, error) {
				cs, err := s.R().Companies(ctx)
				if err != nil {
					return nil, err
				}
				return cs[0], nil
			},
		}
		for name, read := range reads {
			if got, err := read(); err == nil {
				t.Errorf("%s: corrupt allow-list read as %q without an error", name, got.AllowedIPs)
			}
		}
	})
}

func TestQuarantineReleaseOfMissingEntry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		for name, f := range map[string]func(*store.Q) error{
			"release":   func(q *store.Q) error { return q.QuarantineRelease(ctx, 4242) },
			"unrelease": func(q *store.Q) error { return q.QuarantineUnrelease(ctx, 4242) },
		} {
			if err := s.InTx(ctx, f); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s of a missing entry: %v, want ErrNotFound", name, err)
			}
		}
	})
}

// TestTicketsLoadRelations: the list fills company, requester, assignee
// and category as loading one ticket does.
func TestTicketsLoadRelations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		tk := seedTicket(t, s)
		err := s.InTx(ctx, func(q *store.Q) error {
			tech := &store.User{Email: "tech@seed.example", Name: "Tech", Role: store.RoleTech}
			if err := q.CreateUser(ctx, tech); err != nil {
				return err
			}
			cat := &store.Category{Name: "Hardware"}
			if err := q.CreateCategory(ctx, cat); err != nil {
				return err
			}
			tk.AssigneeID, tk.CategoryID = &tech.ID, &cat.ID
			return q.UpdateTicket(ctx, tk)
		})
		if err != nil {
			t.Fatal(err)
		}
		one, err := s.R().Ticket(ctx, store.AllCompanies(), tk.ID, false)
		if err != nil {
			t.Fatal(err)
		}
		ts, err := s.R().Tickets(ctx, store.AllCompanies(), store.TicketFilter{})
		if err != nil || len(ts) != 1 {
			t.Fatalf("tickets = %d, %v", len(ts), err)
		}
		got := ts[0]
		for name, pair := range map[string][2]any{
			"company":   {got.Company, one.Company},
			"requester": {got.Requester, one.Requester},
			"assignee":  {got.Assignee, one.Assignee},
			"category":  {got.Category, one.Category},
		} {
			if !reflect.DeepEqual(pair[0], pair[1]) {
				t.Errorf("%s: list %+v, one %+v", name, pair[0], pair[1])
			}
		}
	})
}
