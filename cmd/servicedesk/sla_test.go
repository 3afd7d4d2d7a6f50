package main

import (
	"database/sql"
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"
	"github.com/uptrace/bun/driver/sqliteshim"
)

// exec runs SQL on the CLI's database directly, for test set-up the CLI
// has no command for (moving due times into the past).
func (c *cli) exec(query string, args ...any) {
	c.t.Helper()
	var db *sql.DB
	if len(c.db) == 2 {
		db = sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(c.db[1])))
	} else {
		var err error
		if db, err = sql.Open(sqliteshim.ShimName, "file:"+filepath.Join(c.dir, "data", "servicedesk.db")+"?_pragma=busy_timeout(10000)"); err != nil {
			c.t.Fatal(err)
		}
	}
	defer db.Close()
	if _, err := db.Exec(query, args...); err != nil {
		c.t.Fatal(err)
	}
}

func TestCLISLA(t *testing.T) {
	eachDriver(t, func(t *testing.T, c *cli) {
		c.ok(nil, "company", "add", "--name", "Acme Ltda", "--domain", "acme.com.br")
		c.ok(nil, "user", "add", "--email", "maria@acme.com.br", "--name", "Maria", "--company", "Acme Ltda")
		var cal calendarJSON
		c.ok(&cal, "sla", "calendar", "add", "--name", "Comercial", "--hours", "seg-sex=08:00-12:00,13:00-18:00")
		if len(cal.Hours["mon"]) != 2 || len(cal.Hours["sat"]) != 0 || !cal.BrazilNational {
			t.Fatalf("calendar: %+v", cal)
		}
		c.ok(nil, "sla", "holiday", "add", "--calendar", "Comercial", "--date", "2027-01-25", "--name", "Aniversário de São Paulo", "--yearly")
		var plan planJSON
		c.ok(&plan, "sla", "plan", "add", "--name", "Acme", "--company", "Acme Ltda", "--resolution", "8h", "--first-response", "1h", "--calendar", "Comercial")
		if plan.Company != "Acme Ltda" || plan.ResolutionMinutes != 480 || plan.Calendar != "Comercial" || !plan.Active {
			t.Fatalf("plan: %+v", plan)
		}
		c.ok(nil, "queue", "add", "--name", "Plantão")
		var contracts []struct{ Name string }
		c.ok(nil, "contract", "add", "--company", "Acme Ltda", "--name", "Ouro", "--starts", "2026-01-01")
		c.ok(&contracts, "contract", "list", "--company", "Acme Ltda")
		if len(contracts) != 1 || contracts[0].Name != "Ouro" {
			t.Fatalf("contract list: %+v", contracts)
		}
		c.fails(2, "invalid --starts", "contract", "add", "--company", "Acme Ltda", "--name", "X", "--starts", "01/02/2026")
		var gold planJSON
		c.ok(&gold, "sla", "plan", "add", "--name", "Ouro", "--company", "Acme Ltda", "--contract", "Ouro", "--resolution", "4h", "--breach-queue", "Plantão")
		if gold.Contract == nil || gold.BreachQueueID == nil {
			t.Fatalf("contract plan: %+v", gold)
		}
		var gt struct {
			SLA *struct {
				PlanID int64 `json:"plan_id"`
			} `json:"sla"`
		}
		c.ok(&gt, "ticket", "create", "--requester", "maria@acme.com.br", "--subject", "Contrato", "--contract", "Ouro")
		if gt.SLA == nil || gt.SLA.PlanID != gold.ID {
			t.Fatalf("a ticket under the contract got plan %+v, want %d", gt.SLA, gold.ID)
		}
		c.ok(&gt, "ticket", "update", "1001", "--contract", "")
		if gt.SLA == nil || gt.SLA.PlanID != plan.ID {
			t.Fatalf("without the contract the ticket has plan %+v, want %d", gt.SLA, plan.ID)
		}
		c.ok(nil, "sla", "plan", "remove", "Ouro", "--yes")
		c.ok(&gt, "ticket", "update", "1001", "--contract", "Ouro")
		if gt.SLA == nil || gt.SLA.PlanID != plan.ID {
			t.Fatalf("after the contract plan was removed: %+v", gt.SLA)
		}
		c.ok(&gold, "sla", "plan", "add", "--name", "Ouro", "--company", "Acme Ltda", "--contract", "Ouro", "--resolution", "4h", "--breach-queue", "Plantão")
		var plans []planJSON
		c.ok(&plans, "sla", "plan", "list")
		if len(plans) != 2 {
			t.Fatalf("plan list: %+v", plans)
		}
		c.fails(2, "invalid day", "sla", "calendar", "add", "--name", "X", "--hours", "xyz=09:00-10:00")
		c.fails(2, "unknown priority", "sla", "plan", "add", "--name", "X", "--resolution", "1h", "--priority", "bogus")
		c.fails(1, "first-response target", "sla", "plan", "add", "--name", "X", "--resolution", "1h", "--first-response", "2h")

		const n = 12
		for range n {
			c.ok(nil, "ticket", "create", "--requester", "maria@acme.com.br", "--subject", "Impressora")
		}
		var tk struct {
			SLA *struct {
				PlanID        int64   `json:"plan_id"`
				ResolutionDue *string `json:"resolution_due"`
				Breached      *string `json:"resolution_breached_at"`
			} `json:"sla"`
		}
		c.ok(&tk, "ticket", "show", "1001")
		if tk.SLA == nil || tk.SLA.PlanID != plan.ID || tk.SLA.ResolutionDue == nil {
			t.Fatalf("ticket show has no SLA: %+v", tk.SLA)
		}
		// Move every due time into the past, then run two checks at once,
		// as two cron hosts would: each breach is recorded once.
		// As bun writes times, so that SQLite compares them as text.
		past := time.Now().Add(-time.Hour).UTC().Format("2006-01-02 15:04:05.999999-07:00")
		c.exec("UPDATE tickets SET first_response_due = $1, first_response_warn_at = $1, resolution_due = $1, resolution_warn_at = $1", past)
		var wg sync.WaitGroup
		results := make([]result, 2)
		for i := range 2 {
			wg.Add(1)
			go func() { defer wg.Done(); results[i] = c.run("", "sla", "check", "-o", "json") }()
		}
		wg.Wait()
		breaches := 0
		for _, r := range results {
			switch {
			case r.code == 0:
				var rep struct{ Breaches int }
				if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
					t.Fatal(err)
				}
				breaches += rep.Breaches
			case r.code == 1 && strings.Contains(r.stderr, "another run is in progress"):
			default:
				t.Fatalf("sla check: exit %d: %s", r.code, r.stderr)
			}
		}
		if breaches != 2*(n+1) { // first response and resolution of each ticket, the contract one too
			t.Fatalf("two concurrent checks recorded %d breaches, want %d", breaches, 2*(n+1))
		}
		var again struct{ Breaches, Checked int }
		c.ok(&again, "sla", "check")
		if again.Breaches != 0 {
			t.Fatalf("a third check recorded %d breaches", again.Breaches)
		}
		c.ok(&tk, "ticket", "show", "1001")
		if tk.SLA.Breached == nil {
			t.Fatal("ticket show lacks the breach")
		}
		if r := c.run("", "sla", "check"); r.code != 0 || r.stdout != "" {
			t.Fatalf("sla check is not quiet on success: exit %d, %q", r.code, r.stdout)
		}
	})
}

func TestCLICompanyRetention(t *testing.T) {
	c := newCLI(t, "sqlite")
	c.ok(nil, "company", "add", "--name", "Acme Ltda")
	var v companyRetentionJSON
	c.ok(&v, "company", "retention", "Acme Ltda")
	if v.RetentionDays != nil || v.DefaultDays != 365 {
		t.Fatalf("default retention: %+v", v)
	}
	c.ok(&v, "company", "retention", "Acme Ltda", "180")
	if v.RetentionDays == nil || *v.RetentionDays != 180 {
		t.Fatalf("set retention: %+v", v)
	}
	c.fails(2, "invalid retention", "company", "retention", "Acme Ltda", "seis")
	c.ok(&v, "company", "retention", "Acme Ltda", "default")
	if v.RetentionDays != nil {
		t.Fatalf("back to the default: %+v", v)
	}
}
