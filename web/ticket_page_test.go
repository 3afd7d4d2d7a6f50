package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// mailTicket opens a ticket as if by mail, with its original message
// stored, and returns it with the mail's id.
func (w *staffWorld) mailTicket(requester *store.User, raw string) (*store.Ticket, int64) {
	w.t.Helper()
	ctx := context.Background()
	tk, err := w.svc.Create(ctx, requester, ticketing.CreateInput{Requester: requester, Subject: "Por e-mail", Body: "corpo", Source: store.SourceEmail})
	if err != nil {
		w.t.Fatal(err)
	}
	m := &store.MailMessage{MessageID: "<" + requester.Email + ">", ContentHash: "h-" + requester.Email, Source: "pipe",
		FromAddr: requester.Email, Kind: "human", Action: store.MailTicket, TicketID: &tk.ID,
		RawSize: int64(len(raw)), RawGz: store.Gzip([]byte(raw))}
	if err := w.st.InTx(ctx, func(q *store.Q) error { return q.InsertMailMessage(ctx, m) }); err != nil {
		w.t.Fatal(err)
	}
	return tk, m.ID
}

// TestTicketMailSourceAccess: the original .eml is a download for staff
// only; anyone else, and any id not of that ticket, is a 404.
func TestTicketMailSourceAccess(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newStaffWorld(t, st)
		tk, mail := w.mailTicket(w.client, "From: maria@acme.example\r\nSubject: x\r\n\r\n<script>alert(1)</script>\r\n")
		other, otherMail := w.mailTicket(w.outsider, "From: eve@globex.example\r\n\r\nglobex\r\n")
		eml := func(n, id int64) string { return "/tickets/" + num(n) + "/messages/" + num(id) + "/eml" }

		page := w.get("/tickets/"+num(tk.Number), w.cookie(w.tech))
		if !strings.Contains(page.Body, eml(tk.Number, mail)) {
			t.Fatal("the staff page does not link the original mail")
		}
		if page := w.get("/tickets/"+num(tk.Number), w.cookie(w.client)); strings.Contains(page.Body, "/eml") {
			t.Fatal("the requester's page links the original mail")
		}
		res := w.get(eml(tk.Number, mail), w.cookie(w.tech))
		if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, "<script>alert(1)</script>") {
			t.Fatalf("staff download: %d %q", res.StatusCode, res.Body)
		}
		h := res.Header
		if !strings.HasPrefix(h.Get("Content-Disposition"), "attachment;") || h.Get("X-Content-Type-Options") != "nosniff" ||
			!strings.Contains(h.Get("Content-Security-Policy"), "sandbox") {
			t.Fatalf("headers %v", h)
		}
		for _, tc := range []struct {
			name string
			who  *store.User
			path string
		}{
			{"the requester", w.client, eml(tk.Number, mail)},
			{"a colleague", w.colleague, eml(tk.Number, mail)},
			{"another company's requester", w.outsider, eml(tk.Number, mail)},
			{"their own ticket's mail, as a requester", w.outsider, eml(other.Number, otherMail)},
			{"another ticket's mail through this number", w.tech, eml(tk.Number, otherMail)},
			{"a bad id", w.tech, "/tickets/" + num(tk.Number) + "/messages/x/eml"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if res := w.get(tc.path, w.cookie(tc.who)); res.StatusCode != http.StatusNotFound || strings.Contains(res.Body, "alert(1)") {
					t.Fatalf("%d, want 404", res.StatusCode)
				}
			})
		}
		if res := w.get(eml(tk.Number, mail)); res.StatusCode == http.StatusOK {
			t.Fatal("anonymous download")
		}
	})
}

// TestTicketPageHistoryAndRecent: the status history shows to both sides
// without the close reason or evaluation for the requester; staff see the
// requester's other tickets.
func TestTicketPageHistoryAndRecent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newStaffWorld(t, st)
		older := w.ticket("Outro chamado antigo", "x")
		tk := w.ticket("Impressora", "não imprime")
		if _, err := w.svc.Create(ctx, w.outsider, ticketing.CreateInput{Requester: w.outsider, Subject: "Da Globex", Body: "y"}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Assign(ctx, w.admin, tk.Number, w.admin); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.SetStatus(ctx, w.admin, tk.Number, store.StatusResolved, ticketing.StatusInput{Solution: "Toner trocado"}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.SetStatus(ctx, w.admin, tk.Number, store.StatusClosed, ticketing.StatusInput{Reason: "motivo-interno-x",
			Evaluation: "avaliacao-secreta-y", Classification: "tecnico"}); err != nil {
			t.Fatal(err)
		}
		staff := w.get("/tickets/"+num(tk.Number), w.cookie(w.tech)).Body
		req := w.get("/tickets/"+num(tk.Number), w.cookie(w.client)).Body
		for _, want := range []string{"Histórico de status", "Toner trocado", "Ana Admin"} {
			if !strings.Contains(staff, want) || !strings.Contains(req, want) {
				t.Errorf("%q missing from a page", want)
			}
		}
		if !strings.Contains(staff, "motivo-interno-x") {
			t.Error("staff do not see the close reason")
		}
		for _, secret := range []string{"motivo-interno-x", "avaliacao-secreta-y"} {
			if strings.Contains(req, secret) {
				t.Errorf("the requester's page shows %q", secret)
			}
		}
		if !strings.Contains(staff, `href="/tickets/`+num(older.Number)+`"`) || strings.Contains(staff, "Da Globex") {
			t.Error("the requester's other tickets are wrong in the staff panel")
		}
		if strings.Contains(req, "Outros chamados do solicitante") {
			t.Error("the requester sees the staff panel's list")
		}
	})
}

// TestTicketReplyRecipients: the reply form lists the requester and the
// Cc participants as ticked boxes; the choice and typed addresses reach
// ticketing, which refuses anyone else.
func TestTicketReplyRecipients(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newStaffWorld(t, st)
		tk := w.ticket("Cópia", "x")
		if err := w.svc.AddParticipant(ctx, w.admin, tk.Number, w.colleague); err != nil {
			t.Fatal(err)
		}
		page := w.get("/tickets/"+num(tk.Number), w.cookie(w.tech)).Body
		for _, want := range []string{`name="to" value="maria@acme.example" checked`, `name="to" value="joao@acme.example" checked`, `name="cc"`} {
			if !strings.Contains(page, want) {
				t.Errorf("the reply form lacks %s", want)
			}
		}
		path := "/tickets/" + num(tk.Number) + "/reply"
		res := w.as(w.tech, path, url.Values{"body": {"Só para o João"}, "internal": {"0"}, "rcpt": {"1"},
			"to": {"joao@acme.example"}, "cc": {"fornecedor@outside.example; "}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("reply: %d\n%s", res.StatusCode, res.Body)
		}
		log, err := st.R().AuditLog(ctx, "ticket", tk.ID)
		if err != nil {
			t.Fatal(err)
		}
		last := log[len(log)-1]
		for _, e := range log {
			if e.Action == "comment" {
				last = e
			}
		}
		if !strings.Contains(last.After, `"to":["joao@acme.example"]`) || !strings.Contains(last.After, `"cc":["fornecedor@outside.example"]`) {
			t.Fatalf("the comment's audit %s", last.After)
		}
		res = w.as(w.tech, path, url.Values{"body": {"Para a Globex"}, "internal": {"0"}, "rcpt": {"1"}, "to": {"eve@globex.example"}})
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("another company's user as a recipient: %d", res.StatusCode)
		}
	})
}

// TestAssetSelects: the asset (and queue) selects of the new-ticket form
// list the requester's company's assets only, and the staff ticket page
// changes the asset through ticketing's rule.
func TestAssetSelects(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newStaffWorld(t, st)
		mine, err := w.svc.CreateAsset(ctx, w.admin, ticketing.AssetInput{Company: "Acme", Name: "Notebook Acme", Tag: "NB-7"})
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := w.svc.CreateAsset(ctx, w.admin, ticketing.AssetInput{Company: "Globex", Name: "Servidor Globex"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.CreateQueue(ctx, w.admin, "Infra", ""); err != nil {
			t.Fatal(err)
		}
		form := w.get("/tickets/new", w.cookie(w.client)).Body
		if !strings.Contains(form, "Notebook Acme (NB-7)") || strings.Contains(form, "Servidor Globex") || !strings.Contains(form, `name="queue"`) {
			t.Fatalf("the new-ticket form's selects:\n%s", form)
		}
		c := w.cookie(w.client)
		res := w.postAs(c, "/tickets/new", url.Values{"subject": {"Com ativo"}, "description": {"x"}, "asset": {num(theirs.ID)}})
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("another company's asset: %d", res.StatusCode)
		}
		res = w.postAs(c, "/tickets/new", url.Values{"subject": {"Com ativo"}, "description": {"x"}, "asset": {num(mine.ID)}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("create: %d\n%s", res.StatusCode, res.Body)
		}
		ts, err := w.svc.List(ctx, w.admin, store.TicketFilter{RequesterID: w.client.ID})
		if err != nil || len(ts) == 0 || ts[0].AssetID == nil || *ts[0].AssetID != mine.ID {
			t.Fatalf("the new ticket's asset: %+v %v", ts, err)
		}
		tk := ts[0]
		page := w.get("/tickets/"+num(tk.Number), w.cookie(w.tech)).Body
		if !strings.Contains(page, `name="asset"`) || strings.Contains(page, "Servidor Globex") {
			t.Fatal("the staff asset select is wrong")
		}
		upd := "/tickets/" + num(tk.Number) + "/update"
		if res := w.as(w.tech, upd, url.Values{"asset": {num(theirs.ID)}}); res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("another company's asset on the ticket: %d", res.StatusCode)
		}
		if res := w.as(w.tech, upd, url.Values{"asset": {""}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("clear the asset: %d", res.StatusCode)
		}
		if w.reload(tk.Number).AssetID != nil {
			t.Fatal("the asset stayed")
		}
	})
}

func (w *staffWorld) postAs(c *http.Cookie, path string, form url.Values) resp {
	form.Set("csrf_token", w.csrf[c.Value])
	return w.post(path, form, c)
}
