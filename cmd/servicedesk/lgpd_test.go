package main

import (
	"archive/zip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

type revisionOut struct {
	ID        int64  `json:"id"`
	CompanyID *int64 `json:"company_id"`
	Version   string `json:"version"`
	Status    string `json:"status"`
	Title     string `json:"title"`
	BodyHTML  string `json:"body_html"`
}

func TestCLILGPDRevisionsAndRequests(t *testing.T) {
	eachDriver(t, func(t *testing.T, c *cli) {
		var company struct{ ID int64 }
		c.ok(&company, "company", "add", "--name", "Acme", "--domain", "acme.example")
		c.ok(nil, "user", "add", "--email", "maria@acme.example", "--name", "Maria", "--company", "Acme")

		policy := filepath.Join(c.dir, "policy.md")
		if err := os.WriteFile(policy, []byte("# Acme\n\nUsamos **seus dados**.\n<script>alert(1)</script>\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		var r revisionOut
		c.ok(&r, "lgpd", "revision", "add", "--company", "Acme", "--file", policy, "--title", "Acme v1")
		if r.Version != "1" || r.Status != "draft" || r.CompanyID == nil || *r.CompanyID != company.ID || strings.Contains(r.BodyHTML, "<script") {
			t.Fatalf("revision add: %+v", r)
		}
		var pub revisionOut
		c.ok(&pub, "lgpd", "revision", "publish", lgpdItoa(r.ID))
		if pub.Status != "published" {
			t.Fatalf("publish: %+v", pub)
		}
		var r2 revisionOut
		c.ok(&r2, "lgpd", "revision", "add", "--company", "Acme", "--file", policy, "--publish")
		if r2.Version != "2" || r2.Status != "published" {
			t.Fatalf("add --publish: %+v", r2)
		}
		var list []revisionOut
		c.ok(&list, "lgpd", "revision", "list", "--company", "Acme")
		if len(list) != 2 || list[0].Status != "superseded" || list[1].Status != "published" {
			t.Fatalf("list acme: %+v", list)
		}
		c.ok(&list, "lgpd", "revision", "list")
		if len(list) != 3 || list[0].CompanyID != nil { // the seeded global one first
			t.Fatalf("list all: %+v", list)
		}
		var show revisionOut
		c.ok(&show, "lgpd", "revision", "show", lgpdItoa(r.ID))
		if show.ID != r.ID || show.Title != "Acme v1" {
			t.Fatalf("show: %+v", show)
		}
		var consents []map[string]any
		c.ok(&consents, "lgpd", "consents", "--company", "Acme", "--revision", "2")
		if consents == nil || len(consents) != 0 {
			t.Fatalf("consents: %v", consents)
		}

		// Bad input: one line, exit 2, nothing recorded.
		c.fails(2, "--kind", "lgpd", "request", "add", "--user", "maria@acme.example", "--kind", "forget")
		c.fails(2, "invalid revision id", "lgpd", "revision", "publish", "abc")
		c.fails(2, "--status", "lgpd", "request", "list", "--status", "maybe")
		c.fails(2, "required flag", "lgpd", "revision", "add", "--company", "Acme")
		c.fails(1, "only a draft", "lgpd", "revision", "publish", lgpdItoa(r.ID))

		var req struct {
			ID      int64     `json:"id"`
			Email   string    `json:"email"`
			Kind    string    `json:"kind"`
			Status  string    `json:"status"`
			FiledAt time.Time `json:"filed_at"`
			DueAt   time.Time `json:"due_at"`
			Overdue bool      `json:"overdue"`
		}
		c.ok(&req, "lgpd", "request", "add", "--user", "maria@acme.example", "--kind", "export", "--note", "pediu por e-mail")
		if req.Email != "maria@acme.example" || req.Status != "open" || !req.DueAt.Equal(req.FiledAt.Add(15*24*time.Hour)) || req.Overdue {
			t.Fatalf("request add: %+v", req)
		}
		var reqs []map[string]any
		c.ok(&reqs, "lgpd", "request", "list", "--overdue")
		if len(reqs) != 0 {
			t.Fatalf("overdue right after filing: %v", reqs)
		}
		c.ok(&reqs, "lgpd", "request", "list", "--status", "open")
		if len(reqs) != 1 {
			t.Fatalf("open requests: %v", reqs)
		}
		c.fails(2, "--status must be done or rejected", "lgpd", "request", "close", lgpdItoa(req.ID), "--status", "open")
		c.ok(&req, "lgpd", "request", "close", lgpdItoa(req.ID), "--status", "done", "--note", "enviado")
		if req.Status != "done" {
			t.Fatalf("close: %+v", req)
		}
	})
}

func lgpdItoa(n int64) string { return strconv.FormatInt(n, 10) }

// lgpdSeed makes a requester with a ticket that has a public reply and an
// internal note by staff.
func lgpdSeed(t *testing.T, c *cli) int64 {
	t.Helper()
	c.ok(nil, "company", "add", "--name", "Acme", "--domain", "acme.example")
	c.ok(nil, "user", "add", "--email", "maria@acme.example", "--name", "Mariana Titular", "--company", "Acme")
	c.ok(nil, "user", "add", "--email", "tech@helpdesk.example", "--name", "Técnico", "--role", "tech")
	var tk ticketOut
	c.ok(&tk, "ticket", "create", "--requester", "maria@acme.example", "--subject", "Impressora girafa-9931", "--body", "frase única girafa-9931")
	n := strconv.FormatInt(tk.Number, 10)
	c.ok(nil, "ticket", "comment", n, "--body", "Reinicie, por favor", "--as", "tech@helpdesk.example")
	c.ok(nil, "ticket", "comment", n, "--body", "nota interna da equipe", "--internal", "--as", "tech@helpdesk.example")
	c.ok(nil, "ticket", "comment", n, "--body", "continua girafa-9931", "--as", "maria@acme.example")
	return tk.Number
}

func TestCLILGPDExport(t *testing.T) {
	eachDriver(t, testCLILGPDExport)
}

func testCLILGPDExport(t *testing.T, c *cli) {
	lgpdSeed(t, c)
	r := c.run("", "lgpd", "export", "--user", "maria@acme.example")
	if r.code != 0 {
		t.Fatalf("export: %d %s", r.code, r.stderr)
	}
	var x struct {
		Profile struct{ Email string }
		Tickets []struct {
			Conversation []struct{ Author, Body string }
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &x); err != nil {
		t.Fatal(err)
	}
	if x.Profile.Email != "maria@acme.example" || len(x.Tickets) != 1 || len(x.Tickets[0].Conversation) != 2 ||
		x.Tickets[0].Conversation[0].Author != "Técnico" {
		t.Fatalf("export %s", r.stdout)
	}
	for _, absent := range []string{"nota interna da equipe", "tech@helpdesk.example", "admin@"} {
		if strings.Contains(r.stdout, absent) {
			t.Errorf("export holds %q", absent)
		}
	}

	c.fails(2, "--with-files", "lgpd", "export", "--user", "maria@acme.example", "--with-files")
	out := filepath.Join(c.dir, "maria.zip")
	c.ok(nil, "lgpd", "export", "--user", "maria@acme.example", "--out", out, "--with-files")
	st, err := os.Stat(out)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("zip %v %v", st, err)
	}
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if len(zr.File) < 1 || zr.File[0].Name != "export.json" {
		t.Fatalf("zip holds %v", zr.File)
	}
	f, _ := zr.File[0].Open()
	b, _ := io.ReadAll(f)
	if !strings.Contains(string(b), "girafa-9931") || strings.Contains(string(b), "nota interna") {
		t.Fatalf("export.json in the zip: %s", b)
	}
}

func TestCLILGPDAnonymize(t *testing.T) {
	eachDriver(t, testCLILGPDAnonymize)
}

func testCLILGPDAnonymize(t *testing.T, c *cli) {
	n := lgpdSeed(t, c)
	c.fails(1, "not found", "lgpd", "anonymize", "--user", "nobody@acme.example", "--yes")
	c.fails(2, "required flag", "lgpd", "anonymize")

	var dry struct {
		DryRun   bool  `json:"dry_run"`
		Tickets  int64 `json:"tickets"`
		Comments int64 `json:"comments"`
		Outbox   int64 `json:"outbox"`
	}
	c.ok(&dry, "lgpd", "anonymize", "--user", "maria@acme.example", "--dry-run")
	if !dry.DryRun || dry.Tickets != 1 || dry.Comments != 1 || dry.Outbox == 0 {
		t.Fatalf("dry run: %+v", dry)
	}
	var tk ticketOut
	c.ok(&tk, "ticket", "show", strconv.FormatInt(n, 10))
	if tk.Subject != "Impressora girafa-9931" {
		t.Fatalf("dry run changed the ticket: %+v", tk)
	}
	var res struct {
		DryRun           bool   `json:"dry_run"`
		PlaceholderEmail string `json:"placeholder_email"`
	}
	c.ok(&res, "lgpd", "anonymize", "--user", "maria@acme.example", "--yes")
	if res.DryRun || !strings.HasSuffix(res.PlaceholderEmail, "@invalid") {
		t.Fatalf("anonymize: %+v", res)
	}
	c.ok(&tk, "ticket", "show", strconv.FormatInt(n, 10))
	if tk.Subject != "[removido a pedido do titular]" || tk.Requester != res.PlaceholderEmail {
		t.Fatalf("ticket after erasure: %+v", tk)
	}
	// The database file itself no longer holds the person (SQLite; on
	// PostgreSQL the ticketing test searches every column).
	db := filepath.Join(c.dir, "data", "servicedesk.db")
	files := []string{db, db + "-wal"}
	if len(c.db) > 0 {
		files = nil
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if os.IsNotExist(err) && f == db {
			t.Fatalf("no database at %s", db)
		}
		for _, needle := range []string{"maria@acme.example", "Mariana Titular", "girafa-9931"} {
			if strings.Contains(string(b), needle) {
				t.Errorf("%s holds %q", filepath.Base(f), needle)
			}
		}
	}
	c.fails(1, "not found", "lgpd", "anonymize", "--user", "maria@acme.example", "--yes")
}
