package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
)

// openCLIStore opens the database a newCLI's default configuration uses,
// to seed what the CLI cannot make quickly (a thousand tickets, files).
func openCLIStore(t *testing.T, c *cli) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), store.Options{Driver: store.SQLite, DSN: filepath.Join(c.dir, "data", "servicedesk.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestTicketListPaging: --limit out of range is refused (it silently
// gave 50), --offset and --all reach past the first thousand, and
// --status active means every unresolved status.
func TestTicketListPaging(t *testing.T) {
	c := newCLI(t, "sqlite")
	c.ok(nil, "company", "add", "--name", "Acme", "--domain", "acme.example")
	var u struct{ ID int64 }
	c.ok(&u, "user", "add", "--email", "ana@acme.example", "--company", "Acme")
	var cs []struct {
		ID   int64
		Name string
	}
	c.ok(&cs, "company", "list")
	var acme int64
	for _, co := range cs {
		if co.Name == "Acme" {
			acme = co.ID
		}
	}
	st := openCLIStore(t, c)
	const total = 1005
	statuses := []string{"new", "open", "pending", "resolved", "closed", "reopened"}
	ts := make([]store.Ticket, total)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range ts {
		at := base.Add(time.Duration(i) * time.Minute)
		ts[i] = store.Ticket{Number: int64(1001 + i), CompanyID: acme, RequesterID: u.ID, Priority: "normal",
			Status: statuses[i%len(statuses)], Subject: fmt.Sprintf("t%d", i), Source: "cli", CreatedAt: at, UpdatedAt: at}
	}
	if err := st.InTx(context.Background(), func(q *store.Q) error { return q.BulkInsertTickets(context.Background(), ts) }); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"--limit", "1001"}, {"--limit", "0"}, {"--limit", "-3"}, {"--offset", "-1"}, {"--status", "activ"},
	} {
		r := c.run("", append([]string{"ticket", "list"}, args...)...)
		if r.code != 2 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 || r.stdout != "" {
			t.Errorf("ticket list %v: exit %d, stdout %q, stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
	var list []ticketOut
	c.ok(&list, "ticket", "list", "--limit", "1000")
	if len(list) != 1000 || list[0].Number != 1001+total-1 {
		t.Fatalf("--limit 1000: %d rows, first %+v", len(list), list[0])
	}
	c.ok(&list, "ticket", "list", "--limit", "10", "--offset", "1000")
	if len(list) != total-1000 || list[len(list)-1].Number != 1001 {
		t.Fatalf("--offset 1000: %d rows", len(list))
	}
	c.ok(&list, "ticket", "list", "--all")
	seen := map[int64]bool{}
	for _, tk := range list {
		seen[tk.Number] = true
	}
	if len(list) != total || len(seen) != total {
		t.Fatalf("--all: %d rows, %d distinct, want %d", len(list), len(seen), total)
	}
	c.ok(&list, "ticket", "list", "--all", "--status", "active")
	for _, tk := range list {
		if tk.Status == "resolved" || tk.Status == "closed" {
			t.Fatalf("--status active listed %+v", tk)
		}
	}
	// new, open, pending and reopened: 4 of every 6.
	if want := 4*(total/6) + min(total%6, 3); len(list) != want {
		t.Fatalf("--status active: %d rows, want %d", len(list), want)
	}
	var reopened bool
	for _, tk := range list {
		reopened = reopened || tk.Status == "reopened"
	}
	if !reopened {
		t.Fatal("--status active left out reopened")
	}
}

type ticketShowOut struct {
	ticketOut
	Subcategory *string `json:"subcategory"`
	Attachments []struct {
		ID       int64  `json:"id"`
		Filename string `json:"filename"`
		Size     int64  `json:"size"`
	} `json:"attachments"`
}

// TestTicketShowUpdateAttachments: show has the subcategory and the
// attachments; update changes priority, subject and category; attachment
// get gives a client the public file and never an internal note's.
func TestTicketShowUpdateAttachments(t *testing.T) {
	c := newCLI(t, "sqlite")
	c.ok(nil, "company", "add", "--name", "Acme", "--domain", "acme.example")
	c.ok(nil, "user", "add", "--email", "ana@acme.example", "--company", "Acme")
	c.ok(nil, "user", "add", "--email", "tech@helpdesk.example", "--role", "tech")
	c.ok(nil, "category", "add", "--name", "Hardware")
	c.ok(nil, "category", "add", "--name", "Impressora", "--parent", "Hardware")
	var tk ticketShowOut
	c.ok(&tk, "ticket", "create", "--requester", "ana@acme.example", "--subject", "Impressora", "--category", "Hardware/Impressora")
	if tk.Category == nil || *tk.Category != "Hardware" || tk.Subcategory == nil || *tk.Subcategory != "Impressora" || tk.Attachments == nil {
		t.Fatalf("show: category %v subcategory %v attachments %v", tk.Category, tk.Subcategory, tk.Attachments)
	}
	n := fmt.Sprint(tk.Number)

	// update
	c.ok(&tk, "ticket", "update", n, "--priority", "urgent", "--subject", "Impressora parada", "--category", "Hardware")
	if tk.Priority != "urgent" || tk.Subject != "Impressora parada" || *tk.Category != "Hardware" || tk.Subcategory != nil {
		t.Fatalf("update: %+v", tk)
	}
	c.fails(2, `unknown priority "panic"`, "ticket", "update", n, "--priority", "panic")
	c.fails(2, "", "ticket", "update", n)
	c.fails(1, "not allowed", "ticket", "update", n, "--subject", "mine", "--as", "ana@acme.example")

	// comment from a file and from stdin
	body := filepath.Join(t.TempDir(), "reply.txt")
	if err := os.WriteFile(body, []byte("Linha 1\nLinha 2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.ok(&tk, "ticket", "comment", n, "--body-file", body)
	r := c.run("nota interna\nde várias linhas\n", "ticket", "comment", n, "--internal", "--body-file", "-", "-o", "json", "--as", "tech@helpdesk.example")
	if r.code != 0 {
		t.Fatalf("--body-file -: %+v", r)
	}
	if err := json.Unmarshal([]byte(r.stdout), &tk); err != nil {
		t.Fatal(err)
	}
	if len(tk.Comments) != 2 || tk.Comments[0].Body != "Linha 1\nLinha 2" || tk.Comments[1].Body != "nota interna\nde várias linhas" || !tk.Comments[1].Internal {
		t.Fatalf("comments: %+v", tk.Comments)
	}
	c.fails(2, "", "ticket", "comment", n, "--body", "x", "--body-file", body)
	c.fails(2, "", "ticket", "comment", n)

	// attachments: one public (on the ticket), one on the internal note
	st := openCLIStore(t, c)
	var internalID int64
	var public, internal store.Attachment
	ctx := context.Background()
	if err := st.InTx(ctx, func(q *store.Q) error {
		t2, err := q.TicketByNumber(ctx, store.AllCompanies(), tk.Number, false)
		if err != nil {
			return err
		}
		cs, err := q.Comments(ctx, t2.ID, true)
		if err != nil {
			return err
		}
		for _, cm := range cs {
			if cm.Internal {
				internalID = cm.ID
			}
		}
		public = store.Attachment{TicketID: t2.ID, Filename: "print.png", ContentType: "image/png"}
		internal = store.Attachment{TicketID: t2.ID, CommentID: &internalID, Filename: "debug.log", ContentType: "text/plain"}
		if err := q.AddAttachment(ctx, &public, []byte("PNG bytes")); err != nil {
			return err
		}
		return q.AddAttachment(ctx, &internal, []byte("secret log"))
	}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	c.ok(&tk, "ticket", "show", n)
	if len(tk.Attachments) != 2 {
		t.Fatalf("admin show attachments: %+v", tk.Attachments)
	}
	c.ok(&tk, "ticket", "show", n, "--as", "ana@acme.example")
	if len(tk.Attachments) != 1 || tk.Attachments[0].Filename != "print.png" || tk.Attachments[0].Size != 9 {
		t.Fatalf("client show attachments: %+v", tk.Attachments)
	}
	c.wantArray(2, "ticket", "attachment", "list", n)
	c.wantArray(1, "ticket", "attachment", "list", n, "--as", "ana@acme.example")

	// The client's only attachment needs no id; its bytes go to stdout.
	r = c.run("", "ticket", "attachment", "get", n, "--as", "ana@acme.example")
	if r.code != 0 || r.stdout != "PNG bytes" {
		t.Fatalf("client get: %+v", r)
	}
	c.fails(1, "not found", "ticket", "attachment", "get", n, fmt.Sprint(internal.ID), "--as", "ana@acme.example")
	c.fails(2, "has 2 attachments", "ticket", "attachment", "get", n)
	out := filepath.Join(t.TempDir(), "debug.log")
	var meta struct {
		Filename string
		Size     int64
	}
	c.ok(&meta, "ticket", "attachment", "get", n, fmt.Sprint(internal.ID), "--out", out, "--as", "tech@helpdesk.example")
	if b, err := os.ReadFile(out); err != nil || string(b) != "secret log" || meta.Filename != "debug.log" || meta.Size != 10 {
		t.Fatalf("--out: %q %v %+v", b, err, meta)
	}
	c.fails(1, "exists", "ticket", "attachment", "get", n, fmt.Sprint(internal.ID), "--out", out)
}
