package ticketing_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

var seedInput = ticketing.SeedInput{Company: "Default", Email: "admin@example.com", Name: "Admin"}

func TestSeedOnceRecordedInTheDatabase(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		svc := ticketing.NewService(st)
		res, err := svc.Seed(ctx, seedInput)
		if err != nil || res.Admin == nil || res.Password == "" {
			t.Fatalf("first seed: %+v %v", res, err)
		}
		// Renamed and disabled: a second seed (even with a password
		// configured) must not bring admin@example.com back.
		if _, err := svc.CreateUser(ctx, res.Admin, ticketing.UserInput{Email: "boss@example.com", Role: store.RoleAdmin}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.UpdateUser(ctx, res.Admin, "admin@example.com", func(u *store.User) error {
			u.Email, u.Disabled = "renamed@example.com", true
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		in := seedInput
		in.Password = "known-password"
		again, err := svc.Seed(ctx, in)
		if err != nil || again.Admin != nil || again.Password != "" {
			t.Fatalf("second seed: %+v %v", again, err)
		}
		if _, err := st.R().UserByEmail(ctx, store.AllCompanies(), "admin@example.com"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("seeded admin recreated: %v", err)
		}
		// The CLI acts as the first active admin, never the seeded one.
		u, err := svc.ActingUser(ctx, "")
		if err != nil || u.Email != "boss@example.com" {
			t.Fatalf("acting user: %v %v", u, err)
		}
		if _, err := svc.ActingUser(ctx, "renamed@example.com"); !errors.Is(err, ticketing.ErrNotAllowed) {
			t.Fatalf("disabled acting user: %v", err)
		}
	})
}

// TestConcurrentMigrateAndSeedOnPostgres: several processes starting at
// once on an empty schema all succeed ("seed admin: already exists" was
// the error of all but one) and exactly one admin exists.
func TestConcurrentMigrateAndSeedOnPostgres(t *testing.T) {
	url := os.Getenv(storetest.PostgresEnv)
	if url == "" {
		storetest.SkipOrFail(t, "PostgreSQL tests need "+storetest.PostgresEnv)
	}
	ctx := context.Background()
	schema := storetest.NewSchema(t, url)
	const n = 6
	var wg sync.WaitGroup
	errs := make(chan error, n)
	created := make(chan bool, n)
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := store.Open(ctx, store.Options{Driver: store.Postgres, DSN: url, Schema: schema})
			if err != nil {
				errs <- err
				return
			}
			defer st.Close()
			<-start
			if _, err := st.Migrate(ctx); err != nil {
				errs <- err
				return
			}
			res, err := ticketing.NewService(st).Seed(ctx, seedInput)
			if err != nil {
				errs <- err
				return
			}
			created <- res.Admin != nil
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	close(created)
	for err := range errs {
		t.Error(err)
	}
	admins := 0
	for c := range created {
		if c {
			admins++
		}
	}
	st, err := store.Open(ctx, store.Options{Driver: store.Postgres, DSN: url, Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	us, err := st.R().Users(ctx, store.AllCompanies(), store.UserFilter{Role: store.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	if admins != 1 || len(us) != 1 {
		t.Fatalf("%d seeders created an admin, %d admins exist; want exactly one", admins, len(us))
	}
}

func TestAdminOperationsCheckPolicyAndAudit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		ctx := ticketing.WithVia(context.Background(), ticketing.ViaCLI, "root")
		svc := ticketing.NewService(st, ticketing.WithTemplateCheck(func(subject, text, html string) error {
			if strings.Contains(text, "{{") {
				return errors.New("unparsed action")
			}
			return nil
		}))
		in := ticketing.TemplateInput{Event: "created", Language: "en", Subject: "s", Text: "hello"}
		if _, err := svc.SetTemplate(ctx, w.tech, in); !errors.Is(err, ticketing.ErrNotAllowed) || !strings.Contains(err.Error(), "only an admin") {
			t.Fatalf("tech sets a template: %v", err)
		}
		bad := in
		bad.Text = "{{"
		if _, err := svc.SetTemplate(ctx, w.admin, bad); !errors.Is(err, ticketing.ErrInvalid) {
			t.Fatalf("template that does not render: %v", err)
		}
		if _, err := svc.SetTemplate(ctx, w.admin, in); err != nil {
			t.Fatal(err)
		}
		if err := svc.ResetTemplate(ctx, w.admin, 0, "created", "en", true); err != nil {
			t.Fatal(err)
		}
		if tpl, err := st.R().EmailTemplateFor(ctx, 0, "created", "en"); err != nil || tpl == nil {
			t.Fatalf("dry-run reset removed the template: %v %v", tpl, err)
		}
		if err := svc.ResetTemplate(ctx, w.admin, 0, "created", "en", false); err != nil {
			t.Fatal(err)
		}
		if err := svc.ResetTemplate(ctx, w.admin, 0, "created", "en", false); !errors.Is(err, ticketing.ErrNotFound) {
			t.Fatalf("reset without an override: %v", err)
		}
		if _, err := svc.PurgeOutbox(ctx, w.superv, time.Now(), true, false); !errors.Is(err, ticketing.ErrNotAllowed) {
			t.Fatalf("supervisor purges: %v", err)
		}
		rows, err := svc.AuditLog(ctx, w.admin, store.AuditFilter{Entity: "email_template"})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 2 {
			t.Fatalf("template audit rows: %+v", rows)
		}
		for _, r := range rows {
			if r.ActorEmail != w.admin.Email || r.ActorID == nil || *r.ActorID != w.admin.ID || r.Via != "cli" || r.ViaDetail != "root" {
				t.Fatalf("audit row %+v", r)
			}
		}
		if err := st.InTx(ctx, func(q *store.Q) error { return q.MarkBouncing(ctx, "gone@acme.example", "5.1.1") }); err != nil {
			t.Fatal(err)
		}
		if err := svc.ClearBouncing(ctx, w.admin, "gone@acme.example", true); err != nil {
			t.Fatal(err)
		}
		if b, err := st.R().IsBouncing(ctx, "gone@acme.example"); err != nil || !b {
			t.Fatalf("clear --dry-run cleared: %v %v", b, err)
		}
		if err := svc.ClearBouncing(ctx, w.tech, "gone@acme.example", false); !errors.Is(err, ticketing.ErrNotAllowed) {
			t.Fatalf("tech clears: %v", err)
		}
		// Without a channel, a change is the system's; the system actor is
		// named.
		if _, err := svc.SecretKey(context.Background(), ""); err != nil {
			t.Fatal(err)
		}
		rows, err = svc.AuditLog(ctx, w.admin, store.AuditFilter{Entity: "setting"})
		if err != nil || len(rows) != 1 || rows[0].ActorEmail != "system" || rows[0].Via != "system" {
			t.Fatalf("secret key audit: %+v %v", rows, err)
		}
	})
}

func TestSecretKeyGeneratedOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		svc := ticketing.NewService(st)
		k1, err := svc.SecretKey(ctx, "")
		if err != nil || len(k1) < 32 {
			t.Fatalf("key %q %v", k1, err)
		}
		k2, err := ticketing.NewService(st).SecretKey(ctx, "")
		if err != nil || string(k2) != string(k1) {
			t.Fatalf("second key differs: %q %v", k2, err)
		}
		if k, _ := svc.SecretKey(ctx, "configured"); string(k) != "configured" {
			t.Fatalf("configured key: %q", k)
		}
	})
}

func TestResolveCategory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		ctx := context.Background()
		hw, err := w.svc.CreateCategory(ctx, w.admin, "Hardware", "")
		if err != nil {
			t.Fatal(err)
		}
		pr, err := w.svc.CreateCategory(ctx, w.admin, "Impressora", "Hardware")
		if err != nil {
			t.Fatal(err)
		}
		for ref, want := range map[string][2]int64{"Hardware": {hw.ID, 0}, "hardware/impressora": {hw.ID, pr.ID}, "Impressora": {hw.ID, pr.ID}} {
			cat, sub, err := w.svc.ResolveCategory(ctx, ref)
			if err != nil || cat == nil || *cat != want[0] || (want[1] == 0) != (sub == nil) || (sub != nil && *sub != want[1]) {
				t.Fatalf("%q: %v %v %v", ref, cat, sub, err)
			}
		}
		if _, _, err := w.svc.ResolveCategory(ctx, "Nope/Impressora"); !errors.Is(err, ticketing.ErrInvalid) {
			t.Fatalf("unknown: %v", err)
		}
	})
}

// TestReplyToClosedTicket: the one rule for mail and the portal.
func TestReplyToClosedTicket(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		ctx := context.Background()
		closed := func() *store.Ticket {
			tk, err := w.svc.Create(ctx, w.client, ticketing.CreateInput{Requester: w.client, Subject: "x"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.svc.Assign(ctx, w.admin, tk.Number, w.tech); err != nil {
				t.Fatal(err)
			}
			for _, s := range []string{store.StatusResolved, store.StatusClosed} {
				if _, err := w.svc.SetStatus(ctx, w.tech, tk.Number, s, ticketing.StatusInput{Solution: "feito", Reason: "feito", Evaluation: "ok", Classification: "outro"}); err != nil {
					t.Fatal(err)
				}
			}
			tk, err = st.R().TicketByNumber(ctx, store.AllCompanies(), tk.Number, false)
			if err != nil {
				t.Fatal(err)
			}
			return tk
		}
		reply := func(actor *store.User, tk *store.Ticket, at time.Time, days int) ticketing.ReplyOutcome {
			var out ticketing.ReplyOutcome
			err := w.svc.TxWith(ctx, func(tx *ticketing.Tx) error {
				t2, err := tx.TicketByID(ctx, tk.ID)
				if err != nil {
					return err
				}
				out, err = tx.ReplyTo(ctx, actor, t2, ticketing.ReplyInput{At: at, ReopenDays: days})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
		tk := closed()
		if got := reply(w.client, tk, *tk.ClosedAt, 14); got != ticketing.ReplyReopened {
			t.Fatalf("recent reply: %v", got)
		}
		if now, _ := st.R().TicketByNumber(ctx, store.AllCompanies(), tk.Number, false); now.Status != store.StatusReopened {
			t.Fatalf("status after reopen: %s", now.Status)
		}
		tk = closed()
		if got := reply(w.client, tk, tk.ClosedAt.Add(15*24*time.Hour), 14); got != ticketing.ReplyFollowUp {
			t.Fatalf("late reply: %v", got)
		}
		if got := reply(w.colleague, tk, *tk.ClosedAt, 14); got != ticketing.ReplyFollowUp {
			t.Fatalf("colleague (may not reopen): %v", got)
		}
		if got := reply(w.client, tk, *tk.ClosedAt, 0); got != ticketing.ReplyFollowUp {
			t.Fatalf("reopen_days 0: %v", got)
		}
	})
}
