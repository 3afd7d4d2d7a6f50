package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// TestAssetPages: the asset register's list, add, edit and delete forms
// (CSRF, POST-redirect-GET, refusals shown on the form), and who may.
func TestAssetPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		admin, tech, client := w.signIn(w.admin), w.signIn(w.tech), w.signIn(w.client)

		list := w.get("/admin/assets", admin)
		if list.StatusCode != 200 || !strings.Contains(list.Body, "Nenhum ativo cadastrado") || !strings.Contains(list.Body, `method="post" action="/admin/assets"`) {
			t.Fatalf("empty list: %d\n%s", list.StatusCode, list.Body)
		}
		token := formToken(t, list.Body)
		add := url.Values{"csrf_token": {token}, "company": {itoaID(w.acme.ID)}, "name": {"Notebook da recepção"}, "tag": {"NB-1"}, "serial": {"5CG1"}}
		if res := w.post("/admin/assets", url.Values{"company": {itoaID(w.acme.ID)}, "name": {"x"}}, admin); res.StatusCode != http.StatusForbidden {
			t.Fatalf("add without CSRF: %d", res.StatusCode)
		}
		res := w.post("/admin/assets", add, admin)
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/admin/assets" {
			t.Fatalf("add: %d %s", res.StatusCode, res.Body)
		}
		as, err := w.svc.Assets(ctx, w.admin, w.acme.ID)
		if err != nil || len(as) != 1 || as[0].Tag != "NB-1" || as[0].Serial != "5CG1" {
			t.Fatalf("after add: %+v %v", as, err)
		}
		nb := as[0]
		edit := "/admin/assets/" + itoaID(nb.ID)
		if body := w.get("/admin/assets", admin).Body; !strings.Contains(body, "Notebook da recepção") || !strings.Contains(body, `href="`+edit+`"`) {
			t.Fatalf("list lacks the asset:\n%s", body)
		}
		// A refusal comes back on the form, with what was typed.
		add.Set("name", "Outro notebook")
		add.Set("tag", "nb-1")
		if res := w.post("/admin/assets", add, admin); res.StatusCode != http.StatusConflict ||
			!strings.Contains(res.Body, "já tem um ativo com essa etiqueta") || !strings.Contains(res.Body, `value="Outro notebook"`) {
			t.Fatalf("same tag: %d\n%s", res.StatusCode, res.Body)
		}
		add.Set("name", "  ")
		add.Set("tag", "NB-9")
		if res := w.post("/admin/assets", add, admin); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "Dê um nome ao ativo") {
			t.Fatalf("no name: %d", res.StatusCode)
		}

		// Edit.
		page := w.get(edit, admin)
		if page.StatusCode != 200 || !strings.Contains(page.Body, `value="NB-1"`) || !strings.Contains(page.Body, "Nenhum chamado cita este ativo") {
			t.Fatalf("edit page: %d\n%s", page.StatusCode, page.Body)
		}
		upd := url.Values{"csrf_token": {formToken(t, page.Body)}, "name": {"Notebook 2"}, "tag": {"NB-2"}, "kind": {"notebook"}, "serial": {"5CG1"}, "notes": {"troca de tela"}}
		if res := w.post(edit, upd, admin); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/admin/assets" {
			t.Fatalf("update: %d %s", res.StatusCode, res.Body)
		}
		if a, err := st.R().Asset(ctx, nb.ID); err != nil || a.Name != "Notebook 2" || a.Tag != "NB-2" || a.Kind != "notebook" || a.Notes != "troca de tela" {
			t.Fatalf("after update: %+v %v", a, err)
		}
		upd.Set("name", "")
		if res := w.post(edit, upd, admin); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "Dê um nome ao ativo") {
			t.Fatalf("update without a name: %d", res.StatusCode)
		}

		// Who may: staff read, supervisors and admins change, requesters
		// never reach it.
		if res := w.get("/admin/assets", tech); res.StatusCode != 200 || strings.Contains(res.Body, `method="post" action="/admin/assets"`) || strings.Contains(res.Body, `href="`+edit+`"`) {
			t.Fatalf("a tech's list: %d has forms", res.StatusCode)
		}
		if res := w.get(edit, tech); res.StatusCode != 200 || strings.Contains(res.Body, `action="`+edit+`"`) {
			t.Fatalf("a tech's edit page: %d", res.StatusCode)
		}
		techToken := w.csrf[tech.Value]
		for _, p := range []string{"/admin/assets", edit, edit + "/delete"} {
			if res := w.post(p, url.Values{"csrf_token": {techToken}, "company": {itoaID(w.acme.ID)}, "name": {"x"}, "confirm": {"yes"}}, tech); res.StatusCode != http.StatusForbidden {
				t.Errorf("tech POST %s: %d", p, res.StatusCode)
			}
			if res := w.post(p, url.Values{"csrf_token": {w.csrf[client.Value]}, "name": {"x"}, "confirm": {"yes"}}, client); res.StatusCode != http.StatusForbidden && res.StatusCode != http.StatusNotFound {
				t.Errorf("client POST %s: %d", p, res.StatusCode)
			}
		}
		if res := w.get("/admin/assets", client); res.StatusCode != http.StatusForbidden && res.StatusCode != http.StatusNotFound {
			t.Errorf("client GET: %d", res.StatusCode)
		}
		for _, p := range []string{"/admin/assets/999999", "/admin/assets/abc"} {
			if res := w.get(p, admin); res.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s: %d", p, res.StatusCode)
			}
		}

		// Delete: the page says what it detaches; without the box ticked
		// nothing happens; then the ticket is about no asset.
		tk, err := w.svc.Create(ctx, w.client, ticketing.CreateInput{Requester: w.client, Subject: "Tela", Body: "quebrada", Asset: "NB-2"})
		if err != nil {
			t.Fatal(err)
		}
		page = w.get(edit, admin)
		if !strings.Contains(page.Body, "1 chamado(s) citam este ativo") {
			t.Fatalf("delete section:\n%s", page.Body)
		}
		del := url.Values{"csrf_token": {formToken(t, page.Body)}}
		if res := w.post(edit+"/delete", del, admin); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != edit {
			t.Fatalf("unconfirmed delete: %d %s", res.StatusCode, res.Header.Get("Location"))
		}
		if _, err := st.R().Asset(ctx, nb.ID); err != nil {
			t.Fatalf("an unconfirmed delete deleted: %v", err)
		}
		del.Set("confirm", "yes")
		if res := w.post(edit+"/delete", del, admin); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/admin/assets" {
			t.Fatalf("delete: %d %s", res.StatusCode, res.Body)
		}
		if _, err := st.R().Asset(ctx, nb.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("after delete: %v", err)
		}
		if v, err := w.svc.Get(ctx, w.admin, tk.Number); err != nil || v.Ticket.AssetID != nil {
			t.Fatalf("the ticket still points at the deleted asset: %v", err)
		}
		if res := w.post(edit+"/delete", del, admin); res.StatusCode != http.StatusNotFound {
			t.Fatalf("deleting twice: %d", res.StatusCode)
		}
	})
}
