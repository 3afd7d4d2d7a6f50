package web_test

// The whole ticket workflow in Chromium, as its people walk it: a
// requester opens a ticket with a file, a technician finds it by a
// Portuguese word typed without its accent, takes it, writes an internal
// note with a file and a public reply, two technicians answer at once
// (the second gets the collision prompt), the ticket is resolved and
// closed, and the requester rates it through the link of the closing
// mail, which works once.

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

func TestBrowserE2E(t *testing.T) {
	browserPaths(t)
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		p := startPortal(t, st)
		ctx := context.Background()
		co := p.company("Cliente Exemplo", "cliente.example")
		const email = "maria@cliente.example"
		p.user(co, email, "Maria Reis")
		teo := p.staffUser("teo@helpdesk.example", "Téo Técnico")
		ana := p.staffUser("ana@helpdesk.example", "Ana Analista")
		// The pages are the same on both databases: check and photograph
		// them once (TestBrowserAccount does the same).
		check := func(b *browser, name string, phone bool) {
			if st.Driver() == store.SQLite {
				b.page(name, phone)
			}
		}
		files := t.TempDir()
		upload := func(name, body string) string {
			f := filepath.Join(files, name)
			if err := os.WriteFile(f, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			return f
		}

		// The requester opens a ticket with a file.
		rb := newBrowser(t, p.base)
		rb.open("/login")
		check(rb, "login", true)
		rb.login(email, testPassword)
		rb.acceptPolicy()
		rb.wantPath("/dashboard")
		check(rb, "requester-dashboard", true)
		rb.open("/tickets")
		check(rb, "requester-tickets-empty", false)
		rb.open("/tickets/new")
		rb.waitText("h1", "Abrir chamado")
		check(rb, "ticket-new", true)
		const subject = "Impressora da recepção com defeito"
		rb.fill(map[string]string{"#subject": subject, "#description": "A impressão sai borrada desde ontem."})
		rb.run("attach a file", chromedp.SetUploadFiles(chromedp.CSS("#files"), []string{upload("foto-da-folha.txt", "folha borrada")}))
		rb.submit(`form[action="/tickets/new"] button[type=submit]`)
		rb.waitText("h1", subject)
		rb.waitText(".conversation", "foto-da-folha.txt")
		num := strings.TrimPrefix(rb.path(), "/tickets/")
		number, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			t.Fatalf("after creating, the requester is at %s", rb.path())
		}
		tkPath := "/tickets/" + num
		check(rb, "requester-ticket-new", false)
		rb.open("/tickets")
		rb.waitText("main", subject)
		check(rb, "requester-tickets", true)

		// A technician finds it by the word without its accent.
		tb := newBrowser(t, p.base)
		tb.login(teo.Email, testPassword)
		tb.wantPath("/dashboard")
		check(tb, "staff-dashboard", true)
		tb.open("/tickets/")
		tb.waitText(".staff-queue", subject)
		check(tb, "staff-queue-e2e", true)
		tb.fill(map[string]string{"#q-search": "impressao"})
		tb.submit(`form.staff-searchbox button[type=submit]`)
		tb.wantPath("/search")
		tb.waitText(".staff-hits", subject)
		tb.run("highlight", chromedp.WaitVisible(chromedp.CSS(".staff-hits mark")))
		check(tb, "staff-search-unaccented", true)
		tb.submit(`.staff-hits a[href="` + tkPath + `"]`)
		tb.wantPath(tkPath)
		tb.waitText(".conversation", "A impressão sai borrada")

		// Takes it; an internal note with a file, then a public reply.
		tb.waitText(".staff-panel", "Assumir")
		tb.submit(`form[action="` + tkPath + `/take"] button`)
		tb.waitText(".staff-panel", "Téo Técnico")
		const note, noteFile = "Nota interna: o toner é pirata, trocar pelo original.", "orcamento-interno.txt"
		const answer = "Olá Maria, vamos trocar o cartucho hoje à tarde."
		reply := `form[action="` + tkPath + `/reply"]`
		tb.check(reply + ` input[name=internal][value="1"]`)
		tb.fill(map[string]string{"#r-body": note})
		tb.run("attach an internal file", chromedp.SetUploadFiles(chromedp.CSS("#r-files"), []string{upload(noteFile, "R$ 300,00")}))
		tb.submit(reply + ` button.btn-primary`)
		tb.waitText(".conversation .msg-internal", note)
		tb.waitText(".conversation .msg-internal", noteFile)
		internalFile := value(tb, "internal file link", chromedp.Evaluate[string](
			`document.querySelector(".msg-internal .files a[download]").getAttribute("href")`))
		tb.check(reply + ` input[name=internal][value="0"]`)
		tb.fill(map[string]string{"#r-body": answer})
		tb.submit(reply + ` button.btn-primary`)
		tb.waitText(".conversation", answer)
		check(tb, "staff-ticket", true)

		// The requester sees the reply, not the note nor its file.
		rb.open(tkPath)
		rb.waitText(".conversation", answer)
		conv := rb.text(".ticket-page")
		for _, secret := range []string{"toner é pirata", noteFile} {
			if strings.Contains(conv, secret) {
				t.Errorf("the requester's ticket page shows %q", secret)
			}
		}
		if rb.exists(".msg-internal") || rb.exists(`a[href="`+internalFile+`"]`) {
			t.Error("the requester's page has the internal note or a link to its file")
		}
		status := value(rb, "fetch the internal file", chromedp.Evaluate[int](
			`fetch(`+jsString(internalFile)+`, {redirect: "manual"}).then(r => r.status)`, chromedp.EvalAwaitPromise))
		if status != 404 && status != 403 {
			t.Errorf("the internal file %s answers %d to the requester, want 404 or 403", internalFile, status)
		}
		check(rb, "requester-ticket", true)

		// Two technicians reply at once: the second is asked first.
		ab := tb.another()
		ab.login(ana.Email, testPassword)
		ab.open(tkPath)
		tb.open(tkPath)
		const first, second = "Téo: o cartucho novo já foi pedido.", "Ana: posso passar aí amanhã cedo."
		tb.fill(map[string]string{"#r-body": first})
		ab.fill(map[string]string{"#r-body": second})
		tb.submit(reply + ` button.btn-primary`)
		tb.waitText(".conversation", first)
		if got := ab.submitStatus(reply + ` button.btn-primary`); got != 409 {
			t.Errorf("the second reply answered %d, want 409", got)
		}
		ab.waitText(".staff-newer", first)
		ab.waitText(".staff-reply [role=alert]", "Chegou uma mensagem nova")
		if got := value(ab, "draft kept", chromedp.Evaluate[string](`document.querySelector("#r-body").value`)); got != second {
			t.Errorf("the draft is %q after the collision, want %q", got, second)
		}
		if !value(ab, "order", chromedp.Evaluate[bool](`!!(document.querySelector(".staff-newer").compareDocumentPosition(document.querySelector("#r-body")) & Node.DOCUMENT_POSITION_FOLLOWING)`)) {
			t.Error("the new message is not above the draft")
		}
		check(ab, "staff-collision-e2e", true)
		ab.submit(`button[name="send_anyway"]`)
		ab.wantPath(tkPath)
		ab.waitText(".conversation", second)

		// Resolve, then close with the evaluation.
		tb.open(tkPath)
		tb.run("open the resolve form", chromedp.Click(chromedp.CSS(`details:has(form[action$="/resolve"]) > summary`)),
			chromedp.WaitVisible(chromedp.CSS("#s-solution")))
		const solution = "Cartucho original instalado; impressão testada."
		tb.fill(map[string]string{"#s-solution": solution})
		tb.submit(`form[action="` + tkPath + `/resolve"] button[type=submit]`)
		tb.waitText(".ticket-badges", "Resolvido")
		tb.waitText(".ticket-side", solution)
		tb.run("open the close form", chromedp.Click(chromedp.CSS(`details:has(form[action$="/close"]) > summary`)),
			chromedp.WaitVisible(chromedp.CSS("#s-reason")))
		const evaluation = "Cliente usava cartucho pirata; orientar compras."
		tb.fill(map[string]string{"#s-reason": "Resolvido com a troca", "#s-eval": evaluation})
		tb.check(`form[action="` + tkPath + `/close"] input[name=classification][value="usuario"]`)
		check(tb, "staff-close-form", false)
		tb.submit(`form[action="` + tkPath + `/close"] button[type=submit]`)
		tb.waitText(".ticket-badges", "Fechado")
		check(tb, "staff-ticket-closed", false)

		// The requester's page and mails never show the internal note,
		// its file or the technician's evaluation.
		rb.open(tkPath)
		rb.waitText(".ticket-badges", "Fechado")
		rb.waitText(".ticket-side", solution)
		check(rb, "requester-ticket-closed", false)
		page := rb.text(".ticket-page")
		mails := p.mailsTo(email)
		if len(mails) < 3 {
			t.Errorf("%d mails to the requester, want the opening, the replies and the closing", len(mails))
		}
		for _, secret := range []string{evaluation, "toner é pirata", noteFile} {
			if strings.Contains(page, secret) {
				t.Errorf("the requester's closed ticket shows %q", secret)
			}
			for _, m := range mails {
				if strings.Contains(m.Text+m.HTML, secret) {
					t.Errorf("the mail %q to the requester has %q", m.Subject, secret)
				}
			}
		}

		// The rating link of the closing mail, without signing in: the
		// GET shows the chosen stars, the POST records once.
		rate := p.ratingLink(email, 4)
		rb.logout()
		other := rb.another() // the same link opened twice, as a scanner or a second click does
		for _, b := range []*browser{rb, other} {
			if got := b.openStatus(rate); got != 200 {
				t.Fatalf("the rating link answers %d", got)
			}
			b.waitText(".rate-page", subject)
			b.run("stars pre-selected", chromedp.WaitReady(chromedp.CSS("#star-4:checked")))
		}
		check(rb, "rate", true)
		if v, err := p.svc.Get(ctx, p.admin, number); err == nil && v.Ticket.Rating != nil {
			t.Fatal("opening the rating link recorded a rating")
		}
		rb.fill(map[string]string{"#rate-comment": "Muito atenciosos!"})
		rb.submit(`.rate-page button[type=submit]`)
		rb.waitText(".rate-page h1", "Obrigado")
		rb.waitText(".rate-page", "Muito Bom")
		check(rb, "rate-done", false)
		if got := other.submitStatus(`.rate-page button[type=submit]`); got != 410 {
			t.Errorf("a second POST of the link answered %d, want 410", got)
		}
		other.waitText(".rate-page", "expirou ou já foi usado")
		if got := rb.openStatus(rate); got != 410 {
			t.Errorf("the used link answers %d, want 410", got)
		}
		rb.waitText(".rate-page h1", "Link indisponível")
		check(rb, "rate-gone", true)
		v, err := p.svc.Get(ctx, p.admin, number)
		if err != nil {
			t.Fatal(err)
		}
		if v.Ticket.Rating == nil || *v.Ticket.Rating != 4 || v.Ticket.RatingComment != "Muito atenciosos!" {
			t.Errorf("recorded rating %v %q, want 4 and the comment", v.Ticket.Rating, v.Ticket.RatingComment)
		}
	})
}

// staffUser creates a technician with testPassword.
func (p *portal) staffUser(email, name string) *store.User {
	p.t.Helper()
	u, err := p.svc.CreateUser(context.Background(), p.admin, ticketing.UserInput{Email: email, Name: name, Password: testPassword, Role: store.RoleTech})
	if err != nil {
		p.t.Fatalf("portal: staff user: %v", err)
	}
	return u
}

// mailsTo returns the queued mails to addr, newest first, parsed.
func (p *portal) mailsTo(addr string) []*sentMail {
	p.t.Helper()
	ctx := context.Background()
	list, err := p.st.R().OutboxList(ctx, store.OutboxFilter{Limit: 100})
	if err != nil {
		p.t.Fatalf("outbox: %v", err)
	}
	var out []*sentMail
	for _, m := range list {
		if !strings.Contains(strings.ToLower(m.Recipients), strings.ToLower(addr)) {
			continue
		}
		out = append(out, parseMail(p.t, p.rawOf(m.ID)))
	}
	return out
}

// ratingLink finds the queued mail to addr that carries rating links and
// returns the one for the given stars, as a path.
func (p *portal) ratingLink(addr string, stars int) string {
	p.t.Helper()
	want := regexp.MustCompile(`^/tickets/rate/[^?]+\?(.+&)?r=` + itoa(int64(stars)) + `$`)
	for _, m := range p.mailsTo(addr) {
		for _, l := range linkRE.FindAllString(m.Text+"\n"+m.HTML, -1) {
			l = strings.TrimRight(l, ".,;)>")
			if path, ok := strings.CutPrefix(l, p.base); ok {
				if path, err := url.PathUnescape(strings.ReplaceAll(path, "&amp;", "&")); err == nil && want.MatchString(path) {
					return path
				}
			}
		}
	}
	p.t.Fatalf("outbox: no mail to %s with a %d-star rating link", addr, stars)
	return ""
}
