package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// TestBrowserStaffPages walks the technician's pages in Chromium: the
// queue (axe, shots, phone width), the shortcuts, a search without
// accents, the ticket page's panel, taking the ticket and the collision
// prompt of a second reply.
func TestBrowserStaffPages(t *testing.T) {
	browserPaths(t)
	st := storetest.Open(t, store.SQLite)
	p := startPortal(t, st)
	ctx := context.Background()
	co := p.company("Cliente Exemplo", "cliente.example")
	maria := p.user(co, "maria@cliente.example", "Maria Reis")
	tech, err := p.svc.CreateUser(ctx, p.admin, ticketing.UserInput{Email: "teo@helpdesk.example", Name: "Téo Técnico", Password: testPassword, Role: store.RoleTech})
	if err != nil {
		t.Fatal(err)
	}
	var tk *store.Ticket
	for i, s := range []string{"Impressora não liga na recepção", "VPN cai toda hora", "Senha do e-mail expirou"} {
		x, err := p.svc.Create(ctx, maria, ticketing.CreateInput{Requester: maria, Subject: s, Body: "Detalhes do problema " + s})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			tk = x
		}
	}
	b := newBrowser(t, p.base)
	b.login(tech.Email, testPassword)
	b.open("/tickets/")
	b.waitText(".staff-queue h1", "Fila de chamados")
	b.page("staff-queue", true)

	// j moves to the first row, ? shows the shortcuts.
	press := func(key string) {
		value(b, "press "+key, chromedp.Evaluate[bool](`document.dispatchEvent(new KeyboardEvent("keydown", {key: `+jsString(key)+`, bubbles: true}))`))
	}
	press("j")
	if !b.exists("tr.is-current") {
		t.Error("j did not select a row")
	}
	press("?")
	if !b.exists("[data-shortcut-help]:not([hidden])") {
		t.Error("? did not show the shortcuts")
	}
	b.shot("staff-queue-shortcuts")
	press("Escape")

	b.open("/search?q=recepcao")
	b.waitText(".staff-hits", "Impressora")
	b.page("staff-search", true)

	b.open("/tickets/" + itoa(tk.Number))
	b.waitText(".staff-panel", "Assumir")
	b.page("staff-ticket", true)
	b.submit(`form[action="/tickets/` + itoa(tk.Number) + `/take"] button`)
	b.waitText(".staff-panel", "Téo Técnico")

	// A reply written against the page's version while the admin answers.
	b.fill(map[string]string{"#r-body": "Já estou verificando."})
	if _, err := p.svc.Comment(ctx, p.admin, tk.Number, ticketing.CommentInput{Body: "Resposta da supervisão"}); err != nil {
		t.Fatal(err)
	}
	b.submit(`form[action="/tickets/` + itoa(tk.Number) + `/reply"] button.btn-primary`)
	b.waitText(".staff-reply", "Resposta da supervisão")
	if got := value(b, "draft kept", chromedp.Evaluate[string](`document.querySelector("#r-body").value`)); !strings.Contains(got, "Já estou verificando.") {
		t.Errorf("the draft is %q after the collision", got)
	}
	b.page("staff-collision", false)
	b.submit(`button[name="send_anyway"]`)
	b.waitText(".conversation", "Já estou verificando.")
}
