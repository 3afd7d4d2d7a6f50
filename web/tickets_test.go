package web

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// ticketWorld adds to world a colleague of the requester, a client of
// another company, and a ticket with a public and an internal attachment.
type ticketWorld struct {
	*world
	colleague, outsider *store.User
	other               *store.Company
	t1, t2              *store.Ticket // t1: Maria's (Acme); t2: the outsider's (Other)
	pubFile, intFile    int64         // attachment ids on t1
	t2File              int64
}

const secretNote = "NOTA-INTERNA-segredo"

func newTicketWorld(t *testing.T, st *store.Store) *ticketWorld {
	t.Helper()
	ctx := context.Background()
	w := &ticketWorld{world: newWorld(t, st)}
	err := st.InTx(ctx, func(q *store.Q) error {
		w.other = &store.Company{Name: "Other", Domains: []string{"other.example"}}
		if err := q.CreateCompany(ctx, w.other); err != nil {
			return err
		}
		hash, _ := ticketing.HashPassword(testPassword)
		now := time.Now()
		mk := func(email string, c *store.Company) *store.User {
			id := c.ID
			u := &store.User{Email: email, Role: store.RoleClient, Name: email, Language: "pt-BR", PasswordHash: hash, ConfirmedAt: &now, CompanyID: &id}
			if err := q.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			return u
		}
		w.colleague = mk("joao@acme.example", w.acme)
		w.outsider = mk("ze@other.example", w.other)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []*store.User{w.client, w.colleague, w.outsider} { // the privacy policy in force, accepted
		if need, cur, err := w.svc.NeedsConsent(ctx, u); err == nil && need {
			if _, err := w.svc.Accept(ctx, u, cur.ID, "127.0.0.1", "web"); err != nil {
				t.Fatal(err)
			}
		}
	}
	w.t1, err = w.svc.Create(ctx, w.client, ticketing.CreateInput{Requester: w.client, Subject: "Impressora parada", Body: "Não imprime.",
		Files: []ticketing.FileInput{{Name: "foto.png", ContentType: "image/png", Data: pngBytes}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Comment(ctx, w.tech, w.t1.Number, ticketing.CommentInput{Body: "Reinicie, por favor.",
		Files: []ticketing.FileInput{{Name: "manual.pdf", ContentType: "application/pdf", Data: []byte("%PDF-1.4 público")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Comment(ctx, w.tech, w.t1.Number, ticketing.CommentInput{Body: secretNote, Internal: true,
		Files: []ticketing.FileInput{{Name: "senhas.txt", ContentType: "text/plain", Data: []byte("cofre: xyzzy")}}}); err != nil {
		t.Fatal(err)
	}
	w.t2, err = w.svc.Create(ctx, w.outsider, ticketing.CreateInput{Requester: w.outsider, Subject: "Outro chamado", Body: "De outra empresa.",
		Files: []ticketing.FileInput{{Name: "outra.txt", ContentType: "text/plain", Data: []byte("da outra empresa")}}})
	if err != nil {
		t.Fatal(err)
	}
	as, err := st.R().Attachments(ctx, w.t1.ID, true)
	if err != nil || len(as) != 3 {
		t.Fatalf("attachments of t1: %v %d", err, len(as))
	}
	for _, a := range as {
		switch a.Filename {
		case "manual.pdf":
			w.pubFile = a.ID
		case "senhas.txt":
			w.intFile = a.ID
		}
	}
	as2, _ := st.R().Attachments(ctx, w.t2.ID, true)
	w.t2File = as2[0].ID
	return w
}

var pngBytes = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89")

func (w *ticketWorld) setSharing(t *testing.T, on bool) {
	t.Helper()
	if _, err := w.svc.UpdateCompany(context.Background(), w.admin, "Acme", func(in *ticketing.CompanyInput) { in.ShareTickets = on }); err != nil {
		t.Fatal(err)
	}
}

// postAs posts form as the signed-in user of cookie c, with its CSRF token.
func (w *ticketWorld) postAs(c *http.Cookie, path string, form url.Values) resp {
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf_token", w.csrf[c.Value])
	return w.post(path, form, c)
}

func (w *ticketWorld) multipartAs(c *http.Cookie, path string, fields map[string]string, files map[string][]byte) resp {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("csrf_token", w.csrf[c.Value])
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	for name, data := range files {
		fw, _ := mw.CreateFormFile("files", name)
		_, _ = fw.Write(data)
	}
	_ = mw.Close()
	r := httptest.NewRequest("POST", path, &buf)
	r.Header.Set("Content-Type", mw.FormDataContentType())
	r.AddCookie(c)
	return w.do(r)
}

func num(n int64) string { return strconv.FormatInt(n, 10) }

// TestTicketAccess is the access table of the requester's routes: role ×
// relation × action, with IDOR attempts on numbers and attachment ids.
func TestTicketAccess(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newTicketWorld(t, st)
		who := map[string]*store.User{"owner": w.client, "colleague": w.colleague, "outsider": w.outsider, "tech": w.tech, "admin": w.admin}
		cookies := map[string]*http.Cookie{}
		for k, u := range who {
			cookies[k] = w.signIn(u)
		}
		t1, t2 := num(w.t1.Number), num(w.t2.Number)
		for _, sharing := range []bool{false, true} {
			w.setSharing(t, sharing)
			type row struct {
				role, action string
				ok           bool
			}
			seesT1 := map[string]bool{"owner": true, "colleague": sharing, "outsider": false, "tech": true, "admin": true}
			for role, c := range cookies {
				staff := role == "tech" || role == "admin"
				// view
				res := w.get("/tickets/"+t1, c)
				if seesT1[role] {
					expect(t, role+" view t1", res, 200, "", "Impressora parada", "manual.pdf")
					if staff != strings.Contains(res.Body, secretNote) || staff != strings.Contains(res.Body, "senhas.txt") {
						t.Errorf("sharing=%v %s: internal note shown=%v", sharing, role, strings.Contains(res.Body, secretNote))
					}
				} else if res.StatusCode != 404 || strings.Contains(res.Body, "Impressora") {
					t.Errorf("sharing=%v %s view t1: %d (want 404, nothing shown)", sharing, role, res.StatusCode)
				}
				// IDOR: the other company's ticket by number.
				res = w.get("/tickets/"+t2, c)
				if wantT2 := role == "outsider" || staff; (res.StatusCode == 200) != wantT2 || (!wantT2 && strings.Contains(res.Body, "Outro chamado")) {
					t.Errorf("sharing=%v %s view t2: %d", sharing, role, res.StatusCode)
				}
				// attachments: public, internal, and another ticket's id under t1's number.
				res = w.get("/tickets/"+t1+"/attachments/"+num(w.pubFile), c)
				if (res.StatusCode == 200) != seesT1[role] {
					t.Errorf("sharing=%v %s public attachment: %d", sharing, role, res.StatusCode)
				}
				res = w.get("/tickets/"+t1+"/attachments/"+num(w.intFile), c)
				if (res.StatusCode == 200) != staff || (!staff && strings.Contains(res.Body, "xyzzy")) {
					t.Errorf("sharing=%v %s internal attachment: %d", sharing, role, res.StatusCode)
				}
				res = w.get("/tickets/"+t1+"/attachments/"+num(w.t2File), c)
				if res.StatusCode != 404 || strings.Contains(res.Body, "da outra empresa") {
					t.Errorf("sharing=%v %s t2's attachment under t1: %d", sharing, role, res.StatusCode)
				}
				// comment (public; an "internal" field from a requester is ignored)
				body := "comentário de " + role + " " + strconv.FormatBool(sharing)
				res = w.postAs(c, "/tickets/"+t1+"/comments", url.Values{"body": {body}, "internal": {"1"}})
				canComment := seesT1[role]
				if (res.StatusCode == http.StatusSeeOther) != canComment {
					t.Errorf("sharing=%v %s comment: %d", sharing, role, res.StatusCode)
				}
				if canComment && !staff { // the requester's page shows it: it is public
					if got := w.get("/tickets/"+t1, cookies["owner"]); !strings.Contains(got.Body, body) {
						t.Errorf("%s's comment is not public", role)
					}
				}
				// the signed-in rating form and reopen are the requester's: the
				// ticket is open, so even they are refused, but nobody else gets a 2xx.
				res = w.postAs(c, "/tickets/"+t1+"/reopen", nil)
				if res.StatusCode < 400 {
					t.Errorf("sharing=%v %s reopen of an open ticket: %d", sharing, role, res.StatusCode)
				}
				res = w.postAs(c, "/tickets/"+t2+"/comments", url.Values{"body": {"idor"}})
				if wantT2 := role == "outsider" || staff; (res.StatusCode == http.StatusSeeOther) != wantT2 {
					t.Errorf("sharing=%v %s comment on t2: %d", sharing, role, res.StatusCode)
				}
			}
		}
		// Nothing a requester posted became internal.
		v, err := w.svc.Get(context.Background(), w.admin, w.t1.Number)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range v.Comments {
			if c.Internal && c.BodyText != secretNote {
				t.Errorf("a posted comment became internal: %q", c.BodyText)
			}
		}
	})
}

// TestTicketReopenAndRate: reopen (mail's rule) and the requester's rating
// are the requester's alone.
func TestTicketReopenAndRate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newTicketWorld(t, st)
		w.setSharing(t, true)
		ctx := context.Background()
		if _, err := w.svc.Assign(ctx, w.tech, w.t1.Number, w.tech); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.SetStatus(ctx, w.tech, w.t1.Number, store.StatusResolved, ticketing.StatusInput{Solution: "Trocado o toner."}); err != nil {
			t.Fatal(err)
		}
		owner, colleague, outsider := w.signIn(w.client), w.signIn(w.colleague), w.signIn(w.outsider)
		t1 := num(w.t1.Number)
		page := w.get("/tickets/"+t1, owner)
		expect(t, "owner sees rate and reopen", page, 200, "", `action="/tickets/`+t1+`/rate"`, `action="/tickets/`+t1+`/reopen"`, "Muito Bom", "Excelente")
		if cp := w.get("/tickets/"+t1, colleague); strings.Contains(cp.Body, "/reopen") || strings.Contains(cp.Body, `/rate"`) {
			t.Error("a colleague is offered reopen or rating")
		}
		// Staff get the panel's reopen button, not the requester's card.
		if tp := w.get("/tickets/"+t1, w.signIn(w.tech)); strings.Contains(tp.Body, "reopen-card") || !strings.Contains(tp.Body, `action="/tickets/`+t1+`/reopen"`) {
			t.Error("a technician sees the requester's reopen card, or no reopen button")
		}
		for name, c := range map[string]*http.Cookie{"colleague": colleague, "outsider": outsider} {
			if res := w.postAs(c, "/tickets/"+t1+"/rate", url.Values{"stars": {"1"}}); res.StatusCode < 400 {
				t.Errorf("%s rated: %d", name, res.StatusCode)
			}
			if res := w.postAs(c, "/tickets/"+t1+"/reopen", nil); res.StatusCode < 400 {
				t.Errorf("%s reopened: %d", name, res.StatusCode)
			}
		}
		res := w.postAs(owner, "/tickets/"+t1+"/rate", url.Values{"stars": {"4"}, "comment": {"Rápido"}})
		expect(t, "owner rates", res, 303, "/tickets/"+t1)
		if res := w.postAs(owner, "/tickets/"+t1+"/rate", url.Values{"stars": {"1"}}); res.StatusCode != http.StatusConflict {
			t.Errorf("second rating: %d", res.StatusCode)
		}
		got, _ := w.svc.Get(ctx, w.admin, w.t1.Number)
		if got.Ticket.Rating == nil || *got.Ticket.Rating != 4 {
			t.Fatalf("rating = %v", got.Ticket.Rating)
		}
		res = w.postAs(owner, "/tickets/"+t1+"/reopen", url.Values{"body": {"Voltou a falhar"}})
		expect(t, "owner reopens", res, 303, "/tickets/"+t1)
		got, _ = w.svc.Get(ctx, w.admin, w.t1.Number)
		if got.Ticket.Status != store.StatusReopened {
			t.Fatalf("status after reopen = %s", got.Ticket.Status)
		}
		// Closed long ago (mail.reopen_days = 14): a follow-up ticket.
		if _, err := w.svc.SetStatus(ctx, w.tech, w.t1.Number, store.StatusClosed, ticketing.StatusInput{Reason: "ok", Evaluation: "ok", Classification: "tecnico"}); err != nil {
			t.Fatal(err)
		}
		if err := st.InTx(ctx, func(q *store.Q) error {
			tk, err := q.TicketByNumber(ctx, store.AllCompanies(), w.t1.Number, true)
			if err != nil {
				return err
			}
			old := time.Now().Add(-30 * 24 * time.Hour)
			tk.ClosedAt = &old
			return q.UpdateTicket(ctx, tk)
		}); err != nil {
			t.Fatal(err)
		}
		page = w.get("/tickets/"+t1, owner)
		expect(t, "follow-up offered", page, 200, "", "Abrir continuação")
		res = w.postAs(owner, "/tickets/"+t1+"/reopen", url.Values{"body": {"De novo"}})
		if res.StatusCode != 303 || res.Header.Get("Location") == "/tickets/"+t1 {
			t.Fatalf("follow-up: %d %s", res.StatusCode, res.Header.Get("Location"))
		}
		fu := w.get(res.Header.Get("Location"), owner)
		expect(t, "follow-up page", fu, 200, "", "Impressora parada", "Continuação de", "#"+t1)
	})
}
