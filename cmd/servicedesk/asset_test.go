package main

import (
	"fmt"
	"strings"
	"testing"
)

// TestCLIAssetsAndTicketPage: assets of a company, the asset of a ticket,
// the status history, the original mails and the recipients of a reply,
// through the same ticketing functions as the portal.
func TestCLIAssetsAndTicketPage(t *testing.T) {
	eachDriver(t, func(t *testing.T, c *cli) {
		c.ok(nil, "company", "add", "--name", "Acme Ltda", "--domain", "acme.com.br")
		c.ok(nil, "company", "add", "--name", "Globex", "--domain", "globex.example")
		c.ok(nil, "user", "add", "--email", "maria@acme.com.br", "--name", "Maria", "--company", "acme ltda")
		c.ok(nil, "user", "add", "--email", "tech@helpdesk.example", "--role", "tech")
		var asset struct {
			ID        int64  `json:"id"`
			CompanyID int64  `json:"company_id"`
			Name, Tag string `json:"-"`
		}
		c.ok(&asset, "asset", "add", "--company", "Acme Ltda", "--name", "Notebook da recepção", "--tag", "NB-1", "--serial", "5CG1")
		if asset.ID == 0 {
			t.Fatalf("asset add: %+v", asset)
		}
		c.ok(nil, "asset", "add", "--company", "Globex", "--name", "Servidor")
		var list []map[string]any
		c.ok(&list, "asset", "list", "--company", "acme ltda")
		if len(list) != 1 || list[0]["tag"] != "NB-1" {
			t.Fatalf("asset list: %v", list)
		}
		c.ok(&list, "asset", "list", "--as", "maria@acme.com.br")
		if len(list) != 1 {
			t.Fatalf("a client lists other companies' assets: %v", list)
		}
		c.fails(1, "only a supervisor or an admin", "asset", "add", "--company", "Acme Ltda", "--name", "x", "--as", "tech@helpdesk.example")
		c.fails(1, "already has an asset tagged", "asset", "add", "--company", "Acme Ltda", "--name", "Outro", "--tag", "nb-1")

		var tk ticketOut
		c.ok(&tk, "ticket", "create", "--requester", "maria@acme.com.br", "--subject", "Tela azul", "--asset", "NB-1")
		n := fmt.Sprint(tk.Number)
		c.fails(1, "unknown asset", "ticket", "update", n, "--asset", "Servidor")
		c.ok(nil, "ticket", "update", n, "--asset", "")
		c.ok(nil, "ticket", "assign", n, "--to", "tech@helpdesk.example")
		c.ok(nil, "ticket", "status", n, "resolved", "--solution", "memória trocada", "--as", "tech@helpdesk.example")
		c.ok(nil, "ticket", "status", n, "closed", "--reason", "motivo-interno", "--evaluation", "avaliação", "--classification", "tecnico",
			"--as", "tech@helpdesk.example")
		var hist []struct{ From, To, Reason, Actor string }
		c.ok(&hist, "ticket", "history", n)
		steps := []string{}
		for _, h := range hist {
			steps = append(steps, h.From+">"+h.To)
		}
		if got := strings.Join(steps, " "); got != ">new new>open open>resolved resolved>closed" || hist[3].Reason != "motivo-interno" {
			t.Fatalf("history %s %+v", got, hist)
		}
		var theirs []struct{ From, To, Reason string }
		c.ok(&theirs, "ticket", "history", n, "--as", "maria@acme.com.br")
		if len(theirs) != 4 || theirs[3].Reason != "" || theirs[2].Reason != "memória trocada" {
			t.Fatalf("the requester's history %+v", theirs)
		}
		var mails []map[string]any
		c.ok(&mails, "ticket", "mail", "list", n)
		if len(mails) != 0 {
			t.Fatalf("mails of a CLI ticket: %v", mails)
		}
		c.fails(1, "not found", "ticket", "mail", "get", n, "1")
		c.fails(1, "not found", "ticket", "mail", "list", n, "--as", "maria@acme.com.br")

		// Reply recipients: reopen, then a reply to the requester and a typed Cc.
		c.ok(&tk, "ticket", "create", "--requester", "maria@acme.com.br", "--subject", "Cópia")
		m := fmt.Sprint(tk.Number)
		c.ok(nil, "ticket", "comment", m, "--body", "Resposta", "--cc", "fornecedor@outside.example", "--as", "tech@helpdesk.example")
		c.ok(nil, "ticket", "comment", m, "--body", "Só a Maria", "--to", "maria@acme.com.br", "--as", "tech@helpdesk.example")
		c.fails(1, "neither the requester nor a participant", "ticket", "comment", m, "--body", "x", "--to", "eve@globex.example")
		c.fails(2, "--internal note", "ticket", "comment", m, "--body", "x", "--internal", "--cc", "a@b.example")
	})
}

func TestCLIAssetUsageErrorsExit2(t *testing.T) {
	c := newCLI(t, "sqlite")
	for _, args := range [][]string{
		{"asset", "bogus"},
		{"asset", "add"},
		{"asset", "add", "--company", "x"},
		{"asset", "list", "extra"},
		{"asset", "list", "--nope"},
		{"ticket", "history"},
		{"ticket", "history", "abc"},
		{"ticket", "mail", "get", "1001"},
		{"ticket", "mail", "get", "1001", "x"},
	} {
		r := c.run("", args...)
		if r.code != 2 || !strings.HasPrefix(strings.TrimSpace(lastLine(r.stderr)), "servicedesk: ") {
			t.Errorf("%v: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
}

// TestCLIAssetUpdateDelete: asset update and delete, their exit codes
// (2 for bad arguments, 1 for a refusal or a missing asset) and the
// detaching of the tickets about a deleted asset.
func TestCLIAssetUpdateDelete(t *testing.T) {
	eachDriver(t, func(t *testing.T, c *cli) {
		c.ok(nil, "company", "add", "--name", "Acme Ltda", "--domain", "acme.com.br")
		c.ok(nil, "company", "add", "--name", "Globex", "--domain", "globex.example")
		c.ok(nil, "user", "add", "--email", "maria@acme.com.br", "--name", "Maria", "--company", "acme ltda")
		c.ok(nil, "user", "add", "--email", "tech@helpdesk.example", "--role", "tech")
		c.ok(nil, "user", "add", "--email", "super@helpdesk.example", "--role", "supervisor")
		var asset struct {
			ID              int64 `json:"id"`
			Name, Tag, Kind string
			Serial, Notes   string
		}
		c.ok(&asset, "asset", "add", "--company", "Acme Ltda", "--name", "Notebook", "--tag", "NB-1", "--serial", "5CG1")
		id := fmt.Sprint(asset.ID)
		c.ok(nil, "asset", "add", "--company", "Acme Ltda", "--name", "Impressora", "--tag", "PR-1")

		// Bad arguments: one line, exit 2.
		c.fails(2, "invalid asset id", "asset", "update", "abc", "--name", "x")
		c.fails(2, "invalid asset id", "asset", "delete", "0")
		c.fails(2, "nothing to change", "asset", "update", id)
		c.fails(2, "accepts 1 arg", "asset", "delete")
		// Refusals and a missing asset: one line, exit 1.
		c.fails(1, "not found", "asset", "update", "999999", "--name", "x")
		c.fails(1, "not found", "asset", "delete", "999999", "--yes")
		c.fails(1, "only a supervisor or an admin", "asset", "update", id, "--name", "x", "--as", "tech@helpdesk.example")
		c.fails(1, "only a supervisor or an admin", "asset", "delete", id, "--as", "maria@acme.com.br")
		c.fails(1, "is not of company", "asset", "update", id, "--company", "Globex", "--name", "x")
		c.fails(1, "is not of company", "asset", "delete", id, "--company", "Globex")
		c.fails(1, "already has an asset tagged", "asset", "update", id, "--tag", "pr-1")

		// Only the flags given change; an empty --tag clears it.
		c.ok(&asset, "asset", "update", id, "--name", "Notebook 2", "--tag", "", "--as", "super@helpdesk.example")
		if asset.Name != "Notebook 2" || asset.Tag != "" || asset.Serial != "5CG1" {
			t.Fatalf("update: %+v", asset)
		}
		c.ok(&asset, "asset", "update", id, "--company", "acme ltda", "--kind", "notebook")
		if asset.Name != "Notebook 2" || asset.Kind != "notebook" {
			t.Fatalf("update: %+v", asset)
		}

		var tk ticketOut
		c.ok(&tk, "ticket", "create", "--requester", "maria@acme.com.br", "--subject", "Tela", "--asset", id)
		var dry struct {
			DryRun bool `json:"dry_run"`
			Target struct {
				Detached []int64 `json:"detached_tickets"`
			} `json:"target"`
		}
		c.ok(&dry, "asset", "delete", id, "--dry-run")
		if !dry.DryRun || len(dry.Target.Detached) != 1 || dry.Target.Detached[0] != tk.Number {
			t.Fatalf("dry run: %+v", dry)
		}
		var del struct {
			Asset    struct{ ID int64 } `json:"asset"`
			Detached []int64            `json:"detached_tickets"`
		}
		c.ok(&del, "asset", "delete", id, "--yes")
		if del.Asset.ID != asset.ID || len(del.Detached) != 1 || del.Detached[0] != tk.Number {
			t.Fatalf("delete: %+v", del)
		}
		var list []map[string]any
		c.ok(&list, "asset", "list", "--company", "acme ltda")
		if len(list) != 1 || list[0]["tag"] != "PR-1" {
			t.Fatalf("after delete: %v", list)
		}
		// The detach is the ticket's newest audit row.
		var rows []map[string]any
		c.ok(&rows, "audit", "list", "--entity", "ticket", "--limit", "1")
		if len(rows) != 1 || rows[0]["action"] != "update" || !strings.Contains(fmt.Sprint(rows[0]["after"]), "asset deleted") {
			t.Fatalf("audit of the detach: %v", rows)
		}
		c.fails(1, "not found", "asset", "delete", id, "--yes")
	})
}
