package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
)

var queueRow = regexp.MustCompile(`data-open>#(\d+)</a>`)

func queueNumbers(body string) []string {
	var out []string
	for _, m := range queueRow.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// TestStaffQueue: the tabs hold each ticket once, pages follow the keyset
// cursor, a saved view comes back, and a requester never gets the queue.
func TestStaffQueue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newStaffWorld(t, st)
		ctx := context.Background()
		unassigned := w.ticket("Sem ninguém", "a")
		active := w.ticket("Com alguém", "b")
		if _, err := w.svc.Assign(ctx, w.admin, active.Number, w.tech); err != nil {
			t.Fatal(err)
		}
		done := w.ticket("Pronto", "c")
		if _, err := w.svc.Assign(ctx, w.admin, done.Number, w.tech2); err != nil {
			t.Fatal(err)
		}
		if err := w.as(w.tech2, "/tickets/"+staffNum(done.Number)+"/resolve", url.Values{"solution": {"ok"}}); err.StatusCode != http.StatusSeeOther {
			t.Fatalf("resolve: %d", err.StatusCode)
		}
		tabs := map[string][]string{
			"unassigned": {staffNum(unassigned.Number)},
			"active":     {staffNum(active.Number)},
			"closed":     {staffNum(done.Number)},
			"mine":       {staffNum(active.Number)},
		}
		for tab, want := range tabs {
			res := w.get("/tickets/?tab="+tab, w.cookie(w.tech))
			if res.StatusCode != http.StatusOK {
				t.Fatalf("tab %s: %d\n%s", tab, res.StatusCode, res.Body)
			}
			if got := queueNumbers(res.Body); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("tab %s: %v, want %v", tab, got, want)
			}
		}
		res := w.get("/tickets/?tab=active", w.cookie(w.tech))
		if !strings.Contains(res.Body, "Acme") || !strings.Contains(res.Body, w.tech.Name) {
			t.Error("the queue does not show the company group and the assignee")
		}
		// Paging: 25 more unassigned tickets, pages of 50 → use a filter
		// and the next link until it ends; each ticket once.
		for range 55 {
			w.ticket("Lote", "x")
		}
		seen := map[string]bool{}
		next := "/tickets/?tab=unassigned&sort=created"
		pages := 0
		for next != "" {
			pages++
			res := w.get(next, w.cookie(w.tech))
			if res.StatusCode != http.StatusOK {
				t.Fatalf("%s: %d", next, res.StatusCode)
			}
			for _, n := range queueNumbers(res.Body) {
				if seen[n] {
					t.Fatalf("ticket %s twice", n)
				}
				seen[n] = true
			}
			next = ""
			if m := regexp.MustCompile(`href="([^"]+)" rel="next"`).FindStringSubmatch(res.Body); m != nil {
				next = strings.ReplaceAll(m[1], "&amp;", "&")
			}
		}
		if len(seen) != 56 || pages != 2 {
			t.Fatalf("%d tickets over %d pages, want 56 over 2", len(seen), pages)
		}
		// Filters: priority.
		if err := w.svc.Bulk(ctx, w.admin, []int64{unassigned.Number}, bulkPriority(store.PriorityUrgent)); err != nil {
			t.Fatal(err)
		}
		res = w.get("/tickets/?tab=unassigned&priority=urgent", w.cookie(w.tech))
		if got := queueNumbers(res.Body); len(got) != 1 || got[0] != staffNum(unassigned.Number) {
			t.Fatalf("priority filter: %v", got)
		}
		// A saved view.
		res = w.as(w.tech, "/tickets/views", url.Values{"name": {"Urgentes"}, "query": {"tab=unassigned&priority=urgent"}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("save view: %d", res.StatusCode)
		}
		res = w.get("/tickets/", w.cookie(w.tech))
		if !strings.Contains(res.Body, "Urgentes") || !strings.Contains(res.Body, `href="/tickets/?priority=urgent&amp;tab=unassigned"`) {
			t.Error("the saved view is not listed")
		}
		// A requester gets their own list, never the queue.
		res = w.get("/tickets/?tab=unassigned", w.cookie(w.client))
		if strings.Contains(res.Body, "/tickets/bulk") {
			t.Error("a requester sees the staff queue")
		}
		// Bulk from the queue form.
		res = w.as(w.admin, "/tickets/bulk", url.Values{"n": {staffNum(unassigned.Number)}, "assignee": {staffNum(w.tech2.ID)}, "back": {"/tickets/?tab=active"}})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/tickets/?tab=active" {
			t.Fatalf("bulk: %d %s", res.StatusCode, res.Header.Get("Location"))
		}
		if !w.reload(unassigned.Number).AssignedTo(w.tech2) {
			t.Fatal("bulk assign did nothing")
		}
	})
}

// TestStaffTicketPage: the panel and reply form on the ticket page, a
// canned response inserted without JavaScript, the draft restored.
func TestStaffTicketPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newStaffWorld(t, st)
		tk := w.ticket("Página", "corpo")
		res := w.as(w.tech, "/canned", url.Values{"name": {"Saudação"}, "body": {"Olá {{requester_name}}, sobre o {{ticket_number}}:"}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("canned: %d", res.StatusCode)
		}
		res = w.get("/canned", w.cookie(w.tech))
		id := regexpFind(t, res.Body, `action="/canned/(\d+)/delete"`)
		res = w.get("/tickets/"+staffNum(tk.Number)+"?canned="+id, w.cookie(w.tech))
		if res.StatusCode != http.StatusOK {
			t.Fatalf("ticket page: %d", res.StatusCode)
		}
		for _, want := range []string{"Olá Maria Silva, sobre o #" + staffNum(tk.Number) + ":", `action="/tickets/` + staffNum(tk.Number) + `/take"`,
			`name="seen"`, "maria@acme.example"} {
			if !strings.Contains(res.Body, want) {
				t.Errorf("the staff ticket page lacks %q", want)
			}
		}
		// Closing is offered to whoever may close: not a tech before taking it.
		if strings.Contains(res.Body, `name="classification"`) {
			t.Error("an unassigned ticket offers the tech the close form")
		}
		if res := w.get("/tickets/"+staffNum(tk.Number), w.cookie(w.admin)); !strings.Contains(res.Body, `name="classification"`) || !strings.Contains(res.Body, "Erro do usuário") {
			t.Error("the admin is not offered the close form with the classifications")
		}
		if res := w.as(w.tech, "/tickets/"+staffNum(tk.Number)+"/draft", url.Values{"body": {"rascunho guardado"}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("draft: %d", res.StatusCode)
		}
		if res := w.get("/tickets/"+staffNum(tk.Number), w.cookie(w.tech)); !strings.Contains(res.Body, "rascunho guardado") {
			t.Error("the draft is not restored")
		}
		// A fetch autosave answers 204.
		c := w.cookie(w.tech)
		r := newReq("POST", "/tickets/"+staffNum(tk.Number)+"/draft")
		r.Body = http.NoBody
		r = httptestForm(r, url.Values{"body": {"autosalvo"}})
		r.Header.Set("X-CSRF-Token", w.csrf[c.Value])
		r.Header.Set("X-Requested-With", "fetch")
		r.AddCookie(c)
		if res := w.do(r); res.StatusCode != http.StatusNoContent {
			t.Fatalf("autosave: %d", res.StatusCode)
		}
		// The requester's page has none of it.
		res = w.get("/tickets/"+staffNum(tk.Number), w.cookie(w.client))
		if strings.Contains(res.Body, "/take") || strings.Contains(res.Body, `name="classification"`) || strings.Contains(res.Body, "/reply") {
			t.Error("the requester's page shows staff forms")
		}
	})
}
