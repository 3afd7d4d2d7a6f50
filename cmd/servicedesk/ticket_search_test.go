package main

import (
	"fmt"
	"testing"
)

type searchOut struct {
	ticketOut
	Match *struct {
		In      string `json:"in"`
		Text    string `json:"text"`
		Snippet []struct {
			Text  string `json:"text"`
			Match bool   `json:"match"`
		} `json:"snippet"`
	} `json:"match"`
}

// TestTicketListSearch: --search is the full-text search, under the same
// rules as everywhere (a client never finds a ticket by an internal
// note); --subject keeps the plain "subject contains".
func TestTicketListSearch(t *testing.T) {
	eachDriver(t, func(t *testing.T, c *cli) {
		c.ok(nil, "company", "add", "--name", "Acme", "--domain", "acme.example")
		c.ok(nil, "company", "add", "--name", "Globex", "--domain", "globex.example")
		c.ok(nil, "user", "add", "--email", "ana@acme.example", "--company", "Acme")
		c.ok(nil, "user", "add", "--email", "eve@globex.example", "--company", "Globex")
		c.ok(nil, "user", "add", "--email", "tech@helpdesk.example", "--role", "tech")
		var printer, monitor, globex ticketOut
		c.ok(&printer, "ticket", "create", "--requester", "ana@acme.example", "--subject", "Impressão manchada", "--body", "Sai tudo borrado.")
		c.ok(&monitor, "ticket", "create", "--requester", "ana@acme.example", "--subject", "Monitor", "--body", "Depois da impressão a tela apaga.")
		c.ok(&globex, "ticket", "create", "--requester", "eve@globex.example", "--subject", "Impressão da Globex")
		c.ok(nil, "ticket", "comment", fmt.Sprint(printer.Number), "--internal", "--body", "Fornecedor xyzzy", "--as", "tech@helpdesk.example")

		var hits []searchOut
		c.ok(&hits, "ticket", "list", "--search", "impressao", "--company", "Acme")
		if len(hits) != 2 || hits[0].Number != printer.Number || hits[1].Number != monitor.Number {
			t.Fatalf("--search impressao: %+v", hits)
		}
		if m := hits[0].Match; m == nil || m.In != "ticket" || len(m.Snippet) == 0 || m.Text == "" {
			t.Fatalf("match: %+v", hits[0].Match)
		}
		c.ok(&hits, "ticket", "list", "--search", "IMPRES")
		if len(hits) != 3 {
			t.Fatalf("--search IMPRES: %+v", hits)
		}
		c.ok(&hits, "ticket", "list", "--search", "impressão", "--as", "eve@globex.example")
		if len(hits) != 1 || hits[0].Number != globex.Number {
			t.Fatalf("another company's tickets: %+v", hits)
		}
		c.ok(&hits, "ticket", "list", "--search", "xyzzy", "--as", "tech@helpdesk.example")
		if len(hits) != 1 || hits[0].Match == nil || hits[0].Match.In != "comment" {
			t.Fatalf("tech finds the internal note: %+v", hits)
		}
		c.ok(&hits, "ticket", "list", "--search", "xyzzy", "--as", "ana@acme.example")
		if len(hits) != 0 {
			t.Fatalf("client found a ticket by an internal note: %+v", hits)
		}
		c.ok(&hits, "ticket", "list", "--search", "impressao -borrado", "--all")
		if len(hits) != 2 {
			t.Fatalf("--all with -word: %+v", hits)
		}
		var plain []ticketOut
		c.ok(&plain, "ticket", "list", "--subject", "Monitor")
		if len(plain) != 1 || plain[0].Number != monitor.Number {
			t.Fatalf("--subject: %+v", plain)
		}
		c.fails(2, "nothing to look for", "ticket", "list", "--search", "-impressao")
		c.fails(2, "", "ticket", "list", "--search", "a", "--subject", "b")
	})
}
