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
	// Participants with how they came in: a colleague Cc'd on a reply
	// ("Cc") and one invited by staff ("convidado").
	joao := p.user(co, "joao@cliente.example", "João Cc")
	pedro := p.user(co, "pedro@cliente.example", "Pedro Convidado")
	if _, err := p.svc.Comment(ctx, p.admin, tk.Number, ticketing.CommentInput{Body: "Copiando o João.",
		Recipients: &ticketing.ReplyRecipients{To: []string{maria.Email}, Cc: []string{joao.Email}}}); err != nil {
		t.Fatal(err)
	}
	if err := p.svc.AddParticipant(ctx, p.admin, tk.Number, pedro); err != nil {
		t.Fatal(err)
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
	for _, want := range []string{"João Cc Entrou por: Cc", "Pedro Convidado Entrou por: convidado"} {
		if got := b.text(".staff-panel"); !strings.Contains(strings.Join(strings.Fields(got), " "), want) {
			t.Errorf("the participants read %q, want %q", got, want)
		}
	}
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

// TestBrowserAssetPages: the asset register as an admin sees it (list,
// add form, edit and delete), with axe, shots and the phone width, and
// the requester's ticket page with the participants' badges.
func TestBrowserAssetPages(t *testing.T) {
	browserPaths(t)
	st := storetest.Open(t, store.SQLite)
	p := startPortal(t, st)
	ctx := context.Background()
	co := p.company("Cliente Exemplo", "cliente.example")
	maria := p.user(co, "maria@cliente.example", "Maria Reis")
	pedro := p.user(co, "pedro@cliente.example", "Pedro Convidado")
	nb, err := p.svc.CreateAsset(ctx, p.admin, ticketing.AssetInput{Company: co.Name, Name: "Notebook da recepção com nome comprido", Tag: "NB-0042", Kind: "notebook", Serial: "5CG1234XYZ"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.svc.CreateAsset(ctx, p.admin, ticketing.AssetInput{Company: co.Name, Name: "Impressora", Tag: "PR-1"}); err != nil {
		t.Fatal(err)
	}
	tk, err := p.svc.Create(ctx, maria, ticketing.CreateInput{Requester: maria, Subject: "Tela azul", Body: "Desde ontem.", Asset: "NB-0042"})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.svc.AddParticipant(ctx, p.admin, tk.Number, pedro); err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t, p.base)
	b.login(p.admin.Email, p.adminPassword)
	b.open("/admin/assets")
	b.waitText("main h1", "Ativos")
	b.page("admin-assets", true)
	b.open("/admin/assets/" + itoa(nb.ID))
	b.waitText("main h1", "Notebook")
	b.page("admin-asset-edit", true)
	// Delete without scripts' help: the box is required, then the list.
	b.check(`form[action$="/delete"] input[name=confirm]`)
	b.submit(`form[action$="/delete"] button`)
	b.wantPath("/admin/assets")
	if strings.Contains(b.text(".asset-table"), "NB-0042") {
		t.Error("the deleted asset is still listed")
	}
	b.logout()

	b.login(maria.Email, testPassword)
	b.acceptPolicy()
	b.open("/tickets/" + itoa(tk.Number))
	b.waitText(".ticket-side", "Pedro Convidado")
	if got := strings.Join(strings.Fields(b.text(".ticket-side")), " "); !strings.Contains(got, "Pedro Convidado Entrou por: convidado") {
		t.Errorf("the requester's participants read %q", got)
	}
	b.page("requester-ticket-participants", true)
}
