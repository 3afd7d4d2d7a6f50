package main

import (
	"fmt"
	"strings"
	"testing"
)

// TestCLIOutboxShowUnrendered: a mail queued by a CLI change (no sender
// runs) is not rendered yet; show says so, and --raw prints a rendering
// with the Message-ID and subject decided when it was queued.
func TestCLIOutboxShowUnrendered(t *testing.T) {
	c := newCLI(t, "sqlite")
	c.ok(nil, "company", "add", "--name", "Acme Ltda", "--domain", "acme.com.br")
	c.ok(nil, "user", "add", "--email", "maria@acme.com.br", "--name", "Maria", "--company", "acme ltda")
	c.ok(nil, "user", "add", "--email", "tech@helpdesk.example", "--role", "tech")
	var tk ticketOut
	c.ok(&tk, "ticket", "create", "--requester", "maria@acme.com.br", "--subject", "Tela azul")
	c.ok(nil, "ticket", "comment", fmt.Sprint(tk.Number), "--body", "Reinicie, por favor", "--as", "tech@helpdesk.example")
	var rows []outboxRow
	c.ok(&rows, "mail", "outbox", "list", "--status", "queued")
	var row *outboxRow
	for i := range rows {
		if rows[i].Event == "commented" {
			row = &rows[i]
		}
	}
	if row == nil {
		t.Fatalf("no queued reply in %+v", rows)
	}
	var shown struct {
		MessageID string `json:"message_id"`
		Subject   string `json:"subject"`
		Rendered  bool   `json:"rendered"`
	}
	id := fmt.Sprint(row.ID)
	c.ok(&shown, "mail", "outbox", "show", id)
	if shown.Rendered || shown.MessageID == "" || !strings.Contains(shown.Subject, "Tela azul") {
		t.Fatalf("show: %+v", shown)
	}
	r := c.run("", "mail", "outbox", "show", id, "--raw")
	if r.code != 0 || !strings.Contains(r.stderr, "not rendered yet") {
		t.Fatalf("show --raw: exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "Message-ID: <"+shown.MessageID+">\r\n") || !strings.Contains(r.stdout, "Reinicie, por favor") {
		t.Fatalf("show --raw printed:\n%s", r.stdout)
	}
}
