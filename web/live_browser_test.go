package web_test

// Live pages in two real Chromiums: a requester on the chat and a
// technician on the ticket page of one ticket, each seeing the other's
// messages, presence and typing without a reload, over SSE and (with
// EventSource removed from the page) over the polling fallback.

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// runLive runs the portal's live hub and presence until the test ends.
func (p *portal) runLive() {
	p.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { _ = p.srv.RunLive(ctx); done <- struct{}{} }()
	go func() { _ = p.srv.RunPresence(ctx); done <- struct{}{} }()
	p.t.Cleanup(func() {
		p.srv.CloseStreams()
		cancel()
		<-done
		<-done
	})
}

// live waits until live.js is connected the way want says ("sse" or
// "poll").
func (b *browser) live(want string) {
	b.t.Helper()
	b.run("live "+want, chromedp.WaitReady(chromedp.CSS(`body[data-live="`+want+`"]`)))
}

// noEventSource removes EventSource from every page this tab loads from
// now on, as an old browser or a blocked stream would.
func (b *browser) noEventSource() {
	b.t.Helper()
	b.run("remove EventSource", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: "delete window.EventSource;"})
		return err
	}))
}

// chatSay types text into the chat box and sends it with the button
// (live.js posts it without a reload).
func (b *browser) chatSay(text string) {
	b.t.Helper()
	b.run("chat "+text, chromedp.WaitVisible(chromedp.CSS("#chat-text")), chromedp.SetValue(chromedp.CSS("#chat-text"), text),
		chromedp.Click(chromedp.CSS(`[data-chat-form] button[type=submit]`)))
	b.waitText(".chat-log", text)
}

func (b *browser) hasText(sel, text string) bool {
	b.t.Helper()
	return strings.Contains(value(b, "text of "+sel, chromedp.Evaluate[string](
		`(document.querySelector(`+jsString(sel)+`)||{innerText:""}).innerText`)), text)
}

func TestLiveChatBrowser(t *testing.T) {
	browserPaths(t)
	st := storetest.Open(t, store.SQLite)
	p := startPortal(t, st)
	p.runLive()
	ctx := context.Background()
	co := p.company("Cliente Exemplo", "cliente.example")
	maria := p.user(co, "maria@cliente.example", "Maria Reis")
	p.accept(maria)
	tech, err := p.svc.CreateUser(ctx, p.admin, ticketing.UserInput{Email: "teo@helpdesk.example", Name: "Téo Técnico", Password: testPassword, Role: store.RoleTech})
	if err != nil {
		t.Fatal(err)
	}
	tk, err := p.svc.Create(ctx, maria, ticketing.CreateInput{Requester: maria, Subject: "Impressora não liga", Body: "Desde ontem, veja https://exemplo.com/erro."})
	if err != nil {
		t.Fatal(err)
	}
	num := itoa(tk.Number)

	req := newBrowser(t, p.base) // the requester, on the chat
	req.login(maria.Email, testPassword)
	req.open("/chat?ticket=" + num)
	req.live("sse")
	req.waitText(".chat-log", "Desde ontem")
	if href := value(req, "link", chromedp.Evaluate[string](`document.querySelector(".chat-log a[href]").getAttribute("href")`)); href != "https://exemplo.com/erro" {
		t.Errorf("the address in the message links to %q", href)
	}

	staff := req.another() // the technician, on the ticket page, in a second browser context
	staff.login(tech.Email, testPassword)
	staff.open("/tickets/" + num)
	staff.live("sse")

	// Presence, both ways.
	staff.waitText("[data-presence]", "Maria Reis está vendo")
	req.waitText("[data-presence]", "Téo Técnico está vendo")

	// A chat message reaches the ticket page; a staff reply the chat.
	req.chatSay("Alguém pode olhar? https://exemplo.com/foto")
	staff.waitText(".conversation", "Alguém pode olhar?")
	if !staff.exists(`.conversation a[href]`) && staff.hasText(".conversation", "<a") {
		t.Error("the message's text became markup")
	}
	staff.fill(map[string]string{"#r-body": "Vou verificar agora."})
	staff.submit(`form[action="/tickets/` + num + `/reply"] button.btn-primary`)
	req.waitText(".chat-log", "Vou verificar agora.")

	// The requester's bell rose with the reply; reading all brings it down.
	req.waitText("#bell-count", "1")
	req.page("chat", true)

	// An internal message never reaches the requester: the public one
	// sent after it arrives, the internal one does not.
	staff.open("/chat?ticket=" + num)
	staff.live("sse")
	staff.check("#chat-internal")
	staff.chatSay("nota só da equipe")
	staff.run("uncheck internal", chromedp.Click(chromedp.CSS("#chat-internal")))
	// Typing shows on the other side.
	staff.run("type", chromedp.SendKeys(chromedp.CSS("#chat-text"), "Es"))
	req.waitText("[data-typing]", "Téo Técnico está digitando")
	staff.chatSay("Estou no local.")
	req.waitText(".chat-log", "Estou no local.")
	if req.hasText("body", "nota só da equipe") {
		t.Error("the requester sees the internal message")
	}

	// The bell's "read all" is a form of the page as it was loaded.
	req.open("/chat?ticket=" + num)
	req.run("open the bell", chromedp.Click(chromedp.CSS("#bell > summary")), chromedp.WaitVisible(chromedp.CSS(`form[action="/notify/read_all"] button`)))
	req.submit(`form[action="/notify/read_all"] button`)
	req.run("bell empty", chromedp.WaitReady(chromedp.CSS("#bell-count[hidden]")))

	// Without EventSource the requester's page polls, and gets the same.
	req.noEventSource()
	req.open("/chat?ticket=" + num)
	req.live("poll")
	staff.chatSay("pelo polling também")
	req.waitText(".chat-log", "pelo polling também")
	staff.check("#chat-internal")
	staff.chatSay("outra nota interna")
	staff.run("uncheck internal", chromedp.Click(chromedp.CSS("#chat-internal")))
	staff.chatSay("e a última pública")
	req.waitText(".chat-log", "e a última pública")
	if req.hasText("body", "outra nota interna") {
		t.Error("the polling requester sees the internal message")
	}
	if _, err := p.svc.Comment(ctx, tech, tk.Number, ticketing.CommentInput{Body: "Resposta pela página do chamado"}); err != nil {
		t.Fatal(err)
	}
	req.waitText(".chat-log", "Resposta pela página do chamado")
	// The staff messages since the bell was read raised it again.
	req.run("bell rises by polling", chromedp.WaitReady(chromedp.CSS("#bell-count:not([hidden])")))
	req.waitText("[data-presence]", "Téo Técnico")

	// Without JavaScript the chat still sends, by a form post.
	staff.noJS(true)
	staff.open("/chat?ticket=" + num)
	staff.fill(map[string]string{"#chat-text": "sem JavaScript"})
	staff.submit(`[data-chat-form] button[type=submit]`)
	staff.wantPath("/chat")
	staff.waitText(".chat-log", "sem JavaScript")
	staff.noJS(false)
	req.waitText(".chat-log", "sem JavaScript")

	// The ticket page appends a file sent with a comment and follows the
	// status, live.
	staff.open("/tickets/" + num)
	staff.live("sse")
	if _, err := p.svc.Comment(ctx, maria, tk.Number, ticketing.CommentInput{Body: "Segue o registro.",
		Files: []ticketing.FileInput{{Name: "registro.txt", ContentType: "text/plain", Data: []byte("erro 42")}}}); err != nil {
		t.Fatal(err)
	}
	staff.waitText(".conversation", "registro.txt")
	if href := value(staff, "file link", chromedp.Evaluate[string](`[...document.querySelectorAll(".conversation .files a")].pop().getAttribute("href")`)); !strings.HasPrefix(href, "/tickets/"+num+"/attachments/") {
		t.Errorf("the live file links to %q", href)
	}
	if _, err := p.svc.SetStatus(ctx, p.admin, tk.Number, store.StatusPending, ticketing.StatusInput{}); err != nil {
		t.Fatal(err)
	}
	staff.waitText("[data-live-status]", "Aguardando")
	req.waitText(".chat-head", "Aguardando")
}

// TestLiveChatOpensTicket: a message sent from the chat's "new
// conversation" box opens a ticket and shows it; the queue of a
// technician says so live.
func TestLiveChatOpensTicket(t *testing.T) {
	browserPaths(t)
	st := storetest.Open(t, store.SQLite)
	p := startPortal(t, st)
	p.runLive()
	co := p.company("Cliente Exemplo", "cliente.example")
	maria := p.user(co, "maria@cliente.example", "Maria Reis")
	p.accept(maria)
	tech, err := p.svc.CreateUser(context.Background(), p.admin, ticketing.UserInput{Email: "teo@helpdesk.example", Name: "Téo Técnico", Password: testPassword, Role: store.RoleTech})
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, p.base)
	queue := b.another() // a technician on the queue
	queue.login(tech.Email, testPassword)
	queue.open("/tickets/")
	queue.live("sse")

	b.login(maria.Email, testPassword)
	b.open("/chat")
	b.waitText(".chat-main", "Escolha uma conversa")
	b.page("chat-empty", false)
	b.fill(map[string]string{"#chat-new-text": "O monitor pisca\nDesde a troca do cabo."})
	b.submit(`[data-chat-new] button[type=submit]`)
	b.waitText(".chat-head", "O monitor pisca")
	b.waitText(".chat-list", "O monitor pisca")
	// The queue learns of the new ticket without a reload.
	queue.waitText("[data-live-bar]", "1 chamado(s) novo(s)")
	queue.shot("queue-live-bar")
	queue.submit("[data-live-bar] button")
	queue.waitText(".staff-queue", "O monitor pisca")
	ts, err := p.svc.ChatTickets(context.Background(), maria)
	if err != nil || len(ts) != 1 || ts[0].Subject != "O monitor pisca" {
		t.Fatalf("tickets after the chat: %v %v", ts, err)
	}
}
