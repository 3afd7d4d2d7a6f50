package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jcservicedesk/servicedesk/configs"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestRatingLinks: a GET shows the form (stars pre-selected) and records
// nothing; the POST records once; a second POST and an expired link are
// 410; old /tickets/N/rate?t= links of another ticket's number fail.
func TestRatingLinks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newTicketWorld(t, st)
		ctx := context.Background()
		clk := &fakeClock{t: time.Now()}
		svc := ticketing.NewService(st, ticketing.WithClock(clk.now))
		srv, err := New(Deps{Cfg: configs.Defaults(), Svc: svc, Log: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		w.h = srv.Handler() // anonymous requests only: the rating pages
		closeTicket := func(n int64) *store.Ticket {
			if _, err := svc.Assign(ctx, w.tech, n, w.tech); err != nil {
				t.Fatal(err)
			}
			tk, err := svc.SetStatus(ctx, w.tech, n, store.StatusClosed, ticketing.StatusInput{Reason: "ok", Evaluation: "bom", Classification: "tecnico"})
			if err != nil {
				t.Fatal(err)
			}
			return tk
		}
		tk := closeTicket(w.t1.Number)
		tok := svc.RatingToken(tk)
		res := w.get("/tickets/rate/" + tok + "?stars=3")
		expect(t, "GET link", res, 200, "", "Impressora parada", `value="3" required checked`, "Regular", "Excelente")
		// The closing mail's links choose the stars with r= (mailbox/compose).
		expect(t, "GET mailed link", w.get("/tickets/rate/"+tok+"?r=2"), 200, "", `value="2" required checked`)
		if v, _ := svc.Get(ctx, w.admin, w.t1.Number); v.Ticket.Rating != nil {
			t.Fatal("a GET recorded a rating")
		}
		anon, csrf := w.anonToken()
		if res := w.post("/tickets/rate/"+tok, url.Values{"stars": {"5"}}, anon); res.StatusCode != http.StatusForbidden {
			t.Errorf("POST without CSRF: %d", res.StatusCode)
		}
		res = w.post("/tickets/rate/"+tok, url.Values{"csrf_token": {csrf}, "stars": {"5"}, "comment": {"Ótimo"}}, anon)
		expect(t, "POST link", res, 200, "", "Excelente")
		if v, _ := svc.Get(ctx, w.admin, w.t1.Number); v.Ticket.Rating == nil || *v.Ticket.Rating != 5 {
			t.Fatalf("rating not recorded: %v", v.Ticket.Rating)
		}
		res = w.post("/tickets/rate/"+tok, url.Values{"csrf_token": {csrf}, "stars": {"1"}}, anon)
		expect(t, "second POST", res, http.StatusGone, "", "expirou ou já foi usado")
		expect(t, "GET after use", w.get("/tickets/rate/"+tok), http.StatusGone, "")
		if v, _ := svc.Get(ctx, w.admin, w.t1.Number); *v.Ticket.Rating != 5 {
			t.Fatal("the second POST changed the rating")
		}
		// An old-format path with this token under another number.
		expect(t, "legacy path, wrong number", w.get("/tickets/"+num(w.t2.Number)+"/rate?t="+tok), http.StatusGone, "")
		// Expired.
		tk2 := closeTicket(w.t2.Number)
		tok2 := svc.RatingToken(tk2)
		expect(t, "fresh link", w.get("/tickets/rate/"+tok2), 200, "")
		clk.add(31 * 24 * time.Hour)
		expect(t, "expired GET", w.get("/tickets/rate/"+tok2), http.StatusGone, "")
		res = w.post("/tickets/rate/"+tok2, url.Values{"csrf_token": {csrf}, "stars": {"4"}}, anon)
		expect(t, "expired POST", res, http.StatusGone, "")
		expect(t, "forged", w.get("/tickets/rate/AAAA.BBBB"), http.StatusGone, "")
		expect(t, "not a rating path", w.get("/tickets/other/thing"), http.StatusNotFound, "")
	})
}

// TestTicketCreate: several attachments, type and size limits, CSRF,
// staff on behalf of a requester, and an inactive company refused.
func TestTicketCreate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newTicketWorld(t, st)
		ctx := context.Background()
		c := w.signIn(w.client)
		form := map[string]string{"subject": "Sem rede", "description": "Cabo ok.", "priority": "high"}
		expect(t, "form", w.get("/tickets/new", c), 200, "", `name="subject"`, "Crítica", `enctype="multipart/form-data"`)
		expect(t, "old path", w.get("/tickets/create", c), 200, "", `name="subject"`)
		if res := w.post("/tickets/new", url.Values{"subject": {"x"}, "description": {"y"}}, c); res.StatusCode != http.StatusForbidden {
			t.Errorf("no CSRF: %d", res.StatusCode)
		}
		res := w.multipartAs(c, "/tickets/new", form, map[string][]byte{"a.txt": []byte("um"), "b.pdf": []byte("%PDF dois")})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("create: %d %s", res.StatusCode, res.Body)
		}
		n := strings.TrimPrefix(res.Header.Get("Location"), "/tickets/")
		page := w.get("/tickets/"+n, c)
		expect(t, "new ticket", page, 200, "", "Sem rede", "a.txt", "b.pdf", "Alta")
		expect(t, "bad type", w.multipartAs(c, "/tickets/new", form, map[string][]byte{"x.exe": []byte("MZ")}), http.StatusUnprocessableEntity, "", "tipo não aceito")
		// A requester cannot open for someone else; staff can.
		f2 := map[string]string{"subject": "Por telefone", "description": "Ligou.", "requester": w.colleague.Email}
		res = w.multipartAs(c, "/tickets/new", f2, nil)
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("client create: %d", res.StatusCode)
		}
		mine := w.get(res.Header.Get("Location"), c)
		expect(t, "requester field ignored for clients", mine, 200, "", "Maria Silva")
		tc := w.signIn(w.tech)
		expect(t, "staff form", w.get("/tickets/new", tc), 200, "", `name="requester"`)
		res = w.multipartAs(tc, "/tickets/new", f2, nil)
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("staff create: %d %s", res.StatusCode, res.Body)
		}
		expect(t, "on behalf", w.get(res.Header.Get("Location"), tc), 200, "", w.colleague.Email)
		// Inactive company.
		if _, err := w.svc.UpdateCompany(ctx, w.admin, "Acme", func(in *ticketing.CompanyInput) { in.Inactive = true }); err != nil {
			t.Fatal(err)
		}
		expect(t, "inactive form", w.get("/tickets/new", c), 200, "", "empresa está inativa")
		expect(t, "inactive dashboard", w.get("/dashboard", c), 200, "", "alert-error")
		res = w.multipartAs(c, "/tickets/new", form, nil)
		expect(t, "inactive create", res, http.StatusForbidden, "", "empresa está inativa")
		if _, err := w.svc.Create(ctx, w.client, ticketing.CreateInput{Requester: w.client, Subject: "x", Body: "y"}); err == nil {
			t.Error("ticketing.Create accepted an inactive company's ticket")
		}
	})
}

// TestTicketPageXSS: HTML in a subject, a name, a text body and a mail's
// HTML reaches the page only escaped, or inside a sandboxed srcdoc
// without scripts and with its own CSP.
func TestTicketPageXSS(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newTicketWorld(t, st)
		ctx := context.Background()
		evil := `<script>alert(1)</script><img src=x onerror=alert(2)><a href="javascript:alert(3)">x</a><svg onload=alert(4)>`
		tk, err := w.svc.Create(ctx, w.client, ticketing.CreateInput{Requester: w.client, Subject: "Oi " + evil, Body: "texto " + evil,
			BodyHTML: "<p>html</p>" + evil + `<blockquote>citado</blockquote>`, Source: store.SourceEmail})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Comment(ctx, w.tech, tk.Number, ticketing.CommentInput{Body: evil, BodyHTML: evil, Source: store.SourceEmail}); err != nil {
			t.Fatal(err)
		}
		for _, u := range []*store.User{w.client, w.tech} {
			res := w.get("/tickets/"+num(tk.Number), w.signIn(u))
			expect(t, "page", res, 200, "", "mail-frame", "Mostrar texto citado")
			outside := regexp.MustCompile(`(?s)srcdoc="[^"]*"`).ReplaceAllString(res.Body, "")
			for _, bad := range []string{`<script>alert`, `<[^>]*\sonerror=`, `<[^>]*\sonload=`, `href="javascript:`, `<svg onload`, `<img src=x`} {
				if regexp.MustCompile(bad).MatchString(outside) {
					t.Errorf("%s: %q outside srcdoc", u.Email, bad)
				}
			}
			for _, fr := range regexp.MustCompile(`<iframe[^>]*>`).FindAllString(res.Body, -1) {
				if !strings.Contains(fr, `sandbox="`) || strings.Contains(fr, "allow-scripts") || strings.Contains(fr, "allow-same-origin") {
					t.Errorf("iframe without a strict sandbox: %s", fr)
				}
				if !strings.Contains(fr, "Content-Security-Policy") || !strings.Contains(fr, "default-src &#39;none&#39;") {
					t.Errorf("srcdoc without its CSP: %.200s", fr)
				}
				if strings.Contains(fr, "<script") { // escaped inside the attribute
					t.Errorf("raw markup in srcdoc: %.200s", fr)
				}
			}
			if !strings.Contains(res.Body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
				t.Error("the subject/text is not shown escaped")
			}
		}
	})
}

// TestAttachmentHeaders: downloads are attachments with nosniff; inline
// only for real images with ?inline=1.
func TestAttachmentHeaders(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newTicketWorld(t, st)
		c := w.signIn(w.client)
		as, _ := st.R().Attachments(context.Background(), w.t1.ID, false)
		var png int64
		for _, a := range as {
			if a.Filename == "foto.png" {
				png = a.ID
			}
		}
		base := "/tickets/" + num(w.t1.Number) + "/attachments/"
		for _, tc := range []struct {
			path, disp, ctype string
		}{
			{base + num(w.pubFile), "attachment", "application/octet-stream"},
			{base + num(w.pubFile) + "?inline=1", "attachment", "application/octet-stream"},
			{base + num(png), "attachment", "application/octet-stream"},
			{base + num(png) + "?inline=1", "inline", "image/png"},
		} {
			res := w.get(tc.path, c)
			if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Disposition"), tc.disp+";") ||
				res.Header.Get("Content-Type") != tc.ctype || res.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("%s: %d %q %q %q", tc.path, res.StatusCode, res.Header.Get("Content-Disposition"), res.Header.Get("Content-Type"), res.Header.Get("X-Content-Type-Options"))
			}
		}
		expect(t, "bad id", w.get(base+"abc", c), 404, "")
		expect(t, "anonymous", w.get(base+num(w.pubFile)), 303, "/login?next="+url.QueryEscape(base+num(w.pubFile)))
	})
}
