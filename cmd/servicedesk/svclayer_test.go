package main

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The service layer seen from the CLI: only serve and migrate create a
// database, the CLI acts as a named admin and says so in the audit log,
// every input is kept, lists page, destructive commands can dry-run.

type auditRow struct {
	ActorEmail string `json:"actor_email"`
	Via        string `json:"via"`
	ViaDetail  string `json:"via_detail"`
	Entity     string `json:"entity"`
	EntityID   int64  `json:"entity_id"`
	Action     string `json:"action"`
}

func TestCommandsNeedAMigratedDatabase(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		c := newBareCLI(t, "sqlite")
		path := filepath.Join(c.dir, "data", "servicedesk.db")
		for _, args := range [][]string{{"company", "list"}, {"ticket", "list"}, {"user", "list"}, {"mail", "quarantine", "list"}, {"audit", "list"}} {
			c.fails(1, "no database at "+path+"; run `servicedesk migrate` first", args...)
		}
		r := c.run(rfc5322("ana@cliente.test", "support@localhost", "Oi", "corpo", "<nodb-1@cliente.test>"), "mail", "ingest")
		if r.code != exTempFail || !strings.Contains(r.stderr, "no database at") {
			t.Fatalf("mail ingest without a database: exit %d (want 75), stderr %q", r.code, r.stderr)
		}
		if _, err := os.Stat(filepath.Join(c.dir, "data")); !os.IsNotExist(err) {
			t.Fatalf("a command without a database created %s: %v", filepath.Join(c.dir, "data"), err)
		}
		c.fails(1, "no database at "+path, "migrate", "status")
		// A mistyped path is named as given.
		c.fails(1, "no database at /nonexistent/typo.db", "company", "list", "--database", "sqlite:////nonexistent/typo.db")
		c.ok(nil, "migrate")
		c.ok(nil, "company", "list")
	})
	t.Run("postgres", func(t *testing.T) {
		c := newBareCLI(t, "postgres")
		c.fails(1, "schema not migrated; run `servicedesk migrate` first", "company", "list")
		// Looking at the status creates nothing either.
		var status []struct {
			Name    string `json:"name"`
			Applied bool   `json:"applied"`
		}
		c.ok(&status, "migrate", "status")
		if len(status) < 2 || status[0].Applied {
			t.Fatalf("migrate status on an empty schema: %+v", status)
		}
		c.fails(1, "schema not migrated; run `servicedesk migrate` first (no migrations table)", "company", "list")
		if r := c.run("", "mail", "quarantine", "list"); r.code != 1 {
			t.Fatalf("quarantine list on an empty schema: exit %d: %s", r.code, r.stderr)
		}
		c.ok(nil, "migrate")
		var rows []auditRow
		c.ok(&rows, "audit", "list", "--entity", "company")
		if len(rows) != 1 || rows[0].Action != "seed" {
			t.Fatalf("company seeded once: %+v", rows)
		}
	})
}

// TestSeededAdminIsNotRecreated: renaming or disabling the seeded admin
// never brings admin@example.com back (with ADMIN_PASSWORD set it came
// back silently, with that known password), and other commands go on as
// the first active admin.
func TestSeededAdminIsNotRecreated(t *testing.T) {
	eachDriver(t, func(t *testing.T, c *cli) {
		c.env = append(c.env, "ADMIN_PASSWORD=known-password-123")
		c.ok(nil, "user", "update", "admin@example.com", "--email", "chefe@helpdesk.example")
		c.ok(nil, "migrate")
		c.ok(nil, "user", "add", "--email", "second@helpdesk.example", "--role", "admin")
		c.ok(nil, "user", "disable", "chefe@helpdesk.example")
		c.ok(nil, "migrate")
		var users []struct {
			Email    string `json:"email"`
			Disabled bool   `json:"disabled"`
		}
		c.ok(&users, "user", "list")
		for _, u := range users {
			if u.Email == "admin@example.com" {
				t.Fatalf("the seeded admin came back: %+v", users)
			}
		}
		if len(users) != 2 {
			t.Fatalf("users: %+v", users)
		}
		// Not locked out: the first active admin acts, and says so.
		c.ok(nil, "company", "add", "--name", "Acme")
		var rows []auditRow
		c.ok(&rows, "audit", "list", "--entity", "company", "--limit", "1")
		if len(rows) != 1 || rows[0].ActorEmail != "second@helpdesk.example" || rows[0].Action != "create" {
			t.Fatalf("company add audited as %+v", rows)
		}
		c.fails(1, "disabled", "company", "add", "--name", "Other", "--as", "chefe@helpdesk.example")
	})
}

func TestAuditRowsSayWhoAndHow(t *testing.T) {
	eachDriver(t, func(t *testing.T, c *cli) {
		c.ok(nil, "company", "add", "--name", "Acme", "--domain", "acme.example")
		c.ok(nil, "user", "add", "--email", "tech@helpdesk.example", "--role", "tech")
		c.ok(nil, "user", "add", "--email", "boss@helpdesk.example", "--role", "admin")
		c.ok(nil, "category", "add", "--name", "Rede", "--as", "boss@helpdesk.example")
		var rows []auditRow
		c.ok(&rows, "audit", "list")
		if len(rows) < 5 {
			t.Fatalf("audit rows: %+v", rows)
		}
		osu := ""
		if u, err := user.Current(); err == nil {
			osu = u.Username
		}
		for _, r := range rows {
			if r.ActorEmail == "" || r.Via == "" {
				t.Fatalf("audit row without actor or channel: %+v", r)
			}
		}
		// Newest first: the category, by the admin named with --as, from
		// the CLI of this OS user.
		if r := rows[0]; r.Entity != "category" || r.ActorEmail != "boss@helpdesk.example" || r.Via != "cli" || r.ViaDetail != osu {
			t.Fatalf("newest row %+v (os user %q)", r, osu)
		}
		// The seeding is the system's.
		seed := rows[len(rows)-1]
		if seed.ActorEmail != "system" || seed.Action != "seed" {
			t.Fatalf("oldest row %+v", seed)
		}
		c.ok(&rows, "audit", "list", "--actor", "boss@helpdesk.example")
		if len(rows) != 1 {
			t.Fatalf("--actor: %+v", rows)
		}
		c.ok(&rows, "audit", "list", "--entity", "nothing-like-this")
		if rows == nil || len(rows) != 0 {
			t.Fatalf("no rows must be an empty JSON array: %+v", rows)
		}
		c.ok(&rows, "audit", "list", "--since", "1h", "--entity", "user", "--offset", "1")
		if len(rows) != 2 { // admin, tech, boss: newest skipped
			t.Fatalf("--since --offset: %+v", rows)
		}
		c.fails(2, "--since", "audit", "list", "--since", "yesterday-ish")
		// Reading the log is an admin's.
		c.fails(1, "only an admin", "audit", "list", "--as", "tech@helpdesk.example")
	})
}

// TestEveryNonMailInputIsKept: several different inputs that are not mail
// were one quarantine entry (their hash covered only headers they do not
// have), so all but the first were lost while the CLI said "kept".
func TestEveryNonMailInputIsKept(t *testing.T) {
	eachDriver(t, func(t *testing.T, c *cli) {
		var ids []int64
		for i, junk := range []string{"\x00\x01garbage one", "\x00\x02garbage two", "\x00\x03garbage three"} {
			outs, r := c.ingest(junk)
			q := oneOutcome(t, fmt.Sprint("junk ", i), outs, r, exDataErr, "quarantine")
			if q.Quarantine == 0 {
				t.Fatalf("junk %d: no quarantine id: %+v", i, q)
			}
			ids = append(ids, q.Quarantine)
		}
		var held []struct {
			ID int64 `json:"id"`
		}
		c.ok(&held, "mail", "quarantine", "list")
		if len(held) != 3 || ids[0] == ids[1] || ids[1] == ids[2] {
			t.Fatalf("quarantine holds %+v, ingest said %v", held, ids)
		}
		for i, id := range ids {
			r := c.run("", "mail", "quarantine", "show", fmt.Sprint(id), "--raw")
			if r.code != 0 || !strings.HasSuffix(r.stdout, []string{"one", "two", "three"}[i]) {
				t.Fatalf("entry %d: %+v", id, r)
			}
		}
		// The same input again (an MTA retry) is still kept once.
		outs, r := c.ingest("\x00\x01garbage one")
		if q := oneOutcome(t, "retry", outs, r, exDataErr, "quarantine"); q.Quarantine != ids[0] {
			t.Fatalf("retry held as %d, want %d", q.Quarantine, ids[0])
		}

		// Reprocess: the entry stays findable (released) and the new one
		// is named.
		var res outcomeJSON
		c.ok(&res, "mail", "quarantine", "reprocess", fmt.Sprint(ids[1]))
		if res.Action != "quarantine" || res.Quarantine == 0 || res.Quarantine == ids[1] {
			t.Fatalf("reprocess: %+v", res)
		}
		var shown struct {
			ID         int64   `json:"id"`
			ReleasedAt *string `json:"released_at"`
		}
		c.ok(&shown, "mail", "quarantine", "show", fmt.Sprint(ids[1]))
		if shown.ID != ids[1] || shown.ReleasedAt == nil {
			t.Fatalf("reprocessed entry: %+v", shown)
		}
		c.ok(&shown, "mail", "quarantine", "show", fmt.Sprint(res.Quarantine))
		var rows []auditRow
		c.ok(&rows, "audit", "list", "--entity", "mail_quarantine")
		if len(rows) != 1 || rows[0].Action != "release" || rows[0].ActorEmail != "admin@example.com" || rows[0].EntityID != ids[1] {
			t.Fatalf("reprocess audit: %+v", rows)
		}
	})
}

// TestIngestReportsEachFile: one bad file among several is named; the
// others are committed and reported.
func TestIngestReportsEachFile(t *testing.T) {
	c := newCLI(t, "sqlite")
	c.env = append(c.env, "SERVICEDESK_MAIL_UNKNOWN_SENDER=create")
	dir := t.TempDir()
	good1 := filepath.Join(dir, "good1.eml")
	good2 := filepath.Join(dir, "good2.eml")
	junk := filepath.Join(dir, "junk.bin")
	missing := filepath.Join(dir, "missing.eml")
	for f, body := range map[string]string{
		good1: rfc5322("ana@cliente.test", "support@localhost", "Primeiro", "um", "<files-1@cliente.test>"),
		good2: rfc5322("ana@cliente.test", "support@localhost", "Segundo", "dois", "<files-2@cliente.test>"),
		junk:  "\x00\x00not mail",
	} {
		if err := os.WriteFile(f, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	outs, r := c.ingest("", good1, missing, junk, good2)
	if r.code != exDataErr || len(outs) != 4 {
		t.Fatalf("exit %d (want 65), outcomes %+v, stderr %q", r.code, outs, r.stderr)
	}
	want := []string{"ticket", "failed", "quarantine", "ticket"}
	for i, o := range outs {
		if o.Action != want[i] {
			t.Fatalf("outcome %d: %+v (want %s)", i, o, want[i])
		}
	}
	last := lastLine(r.stderr)
	if !strings.Contains(last, "2 of 4 inputs failed") || !strings.Contains(last, missing) || !strings.Contains(last, junk) ||
		strings.Contains(last, good1) {
		t.Fatalf("stderr does not name the failed inputs: %q", r.stderr)
	}
	var tickets []ticketOut
	c.ok(&tickets, "ticket", "list")
	if len(tickets) != 2 {
		t.Fatalf("tickets: %+v", tickets)
	}
}

func TestMailListsPage(t *testing.T) {
	c := newCLI(t, "sqlite")
	c.env = append(c.env, "SERVICEDESK_MAIL_UNKNOWN_SENDER=create")
	// Known before her first mail: acknowledged although unverifiable.
	c.ok(nil, "user", "add", "--email", "ana@cliente.test", "--company", "Default")
	for i := 1; i <= 3; i++ {
		if _, r := c.ingest(rfc5322("ana@cliente.test", "support@localhost", fmt.Sprint("page ", i), "x", fmt.Sprintf("<page-%d@cliente.test>", i))); r.code != 0 {
			t.Fatalf("ingest %d: %+v", i, r)
		}
		if _, r := c.ingest(fmt.Sprintf("\x00junk %d", i)); r.code != exDataErr {
			t.Fatalf("junk %d: %+v", i, r)
		}
	}
	for _, list := range [][]string{{"mail", "list"}, {"mail", "quarantine", "list"}, {"mail", "outbox", "list"}} {
		for _, bad := range [][]string{{"--limit", "1001"}, {"--limit", "0"}, {"--offset", "-1"}} {
			c.fails(2, strings.TrimPrefix(bad[0], "--"), append(append([]string{}, list...), bad...)...)
		}
		var all, page []map[string]any
		c.ok(&all, append(list, "--all")...)
		c.ok(&page, append(list, "--limit", "1", "--offset", "1")...)
		if len(all) != 3 || len(page) != 1 || fmt.Sprint(page[0]["id"]) != fmt.Sprint(all[1]["id"]) {
			t.Fatalf("%v: --all %d rows, page %+v (want the second of %+v)", list, len(all), page, all)
		}
		c.ok(&page, append(list, "--offset", "5")...)
		if page == nil || len(page) != 0 {
			t.Fatalf("%v past the end: %+v", list, page)
		}
	}
}

// TestMailAdminCommandsAreServiceCalls: admin-only, dry-run first, audited
// with their actor.
func TestMailAdminCommandsAreServiceCalls(t *testing.T) {
	eachDriver(t, func(t *testing.T, c *cli) {
		c.ok(nil, "company", "add", "--name", "Acme", "--domain", "acme.example")
		c.ok(nil, "user", "add", "--email", "rita@acme.example", "--company", "Acme")
		c.ok(nil, "user", "add", "--email", "tech@helpdesk.example", "--role", "tech")
		c.ok(nil, "ticket", "create", "--requester", "rita@acme.example", "--subject", "x")

		good := filepath.Join(c.dir, "good.txt")
		if err := os.WriteFile(good, []byte("Texto próprio.\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		c.fails(1, "only an admin may change mail templates", "template", "set", "created", "--text-file", good, "--as", "tech@helpdesk.example")
		c.ok(nil, "template", "set", "created", "--text-file", good)
		c.ok(nil, "template", "reset", "created", "--dry-run")
		var tpl struct{ Overridden bool }
		c.ok(&tpl, "template", "show", "created")
		if !tpl.Overridden {
			t.Fatal("template reset --dry-run removed the override")
		}
		c.fails(1, "only an admin", "template", "reset", "created", "--as", "tech@helpdesk.example")
		c.ok(nil, "template", "reset", "created")
		c.fails(1, "no override", "template", "reset", "created")

		var purge map[string]any
		c.ok(&purge, "mail", "outbox", "purge", "--older-than", "1ns", "--failed", "--dry-run")
		if purge["dry_run"] != true {
			t.Fatalf("purge --dry-run: %v", purge)
		}
		c.fails(1, "only an admin", "mail", "outbox", "purge", "--as", "tech@helpdesk.example")

		if _, r := c.ingest("\x00junk"); r.code != exDataErr {
			t.Fatalf("junk: %+v", r)
		}
		var held []struct{ ID int64 }
		c.ok(&held, "mail", "quarantine", "list")
		id := fmt.Sprint(held[0].ID)
		c.ok(nil, "mail", "quarantine", "delete", id, "--dry-run")
		c.ok(nil, "mail", "quarantine", "show", id)
		c.fails(1, "only an admin", "mail", "quarantine", "delete", id, "--as", "tech@helpdesk.example")
		c.ok(nil, "mail", "quarantine", "delete", id, "--yes")
		c.fails(1, "not found", "mail", "quarantine", "show", id)

		var rows []auditRow
		c.ok(&rows, "audit", "list", "--entity", "email_template")
		if len(rows) != 2 || rows[0].Action != "reset" || rows[1].Action != "set" || rows[0].ActorEmail != "admin@example.com" {
			t.Fatalf("template audit: %+v", rows)
		}
		c.ok(&rows, "audit", "list", "--entity", "mail_quarantine")
		if len(rows) != 1 || rows[0].Action != "delete" {
			t.Fatalf("quarantine audit: %+v", rows)
		}
		// The mail intake's own changes are the system's, through mail.
		c.ok(&rows, "audit", "list", "--actor", "system", "--since", time.Now().Add(-time.Hour).Format(time.RFC3339))
		for _, r := range rows {
			if r.Via != "cli" && r.Via != "mail" {
				t.Fatalf("system row via %q: %+v", r.Via, r)
			}
		}
	})
}

// TestConcurrentMigrateOnEmptyPostgres: several `migrate` processes
// starting at once on an empty schema all succeed, and one admin exists.
func TestConcurrentMigrateOnEmptyPostgres(t *testing.T) {
	c := newBareCLI(t, "postgres")
	const n = 4
	results := make(chan result, n)
	for i := 0; i < n; i++ {
		go func() { results <- c.runBounded(120*time.Second, "", "migrate") }()
	}
	for i := 0; i < n; i++ {
		if r := <-results; r.code != 0 {
			t.Errorf("a concurrent migrate failed: exit %d: %s", r.code, r.stderr)
		}
	}
	var admins []map[string]any
	c.ok(&admins, "user", "list", "--role", "admin")
	if len(admins) != 1 {
		t.Fatalf("admins: %v", admins)
	}
}
