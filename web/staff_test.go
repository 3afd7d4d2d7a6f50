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

// staffWorld adds to world a second technician, a colleague of the
// requester and a client of another company.
type staffWorld struct {
	*world
	tech2, colleague, outsider *store.User
	other                      *store.Company
	cookies                    map[int64]*http.Cookie
}

func newStaffWorld(t *testing.T, st *store.Store) *staffWorld {
	t.Helper()
	w := &staffWorld{world: newWorld(t, st), cookies: map[int64]*http.Cookie{}}
	ctx := context.Background()
	err := st.InTx(ctx, func(q *store.Q) error {
		w.other = &store.Company{Name: "Globex", Domains: []string{"globex.example"}}
		if err := q.CreateCompany(ctx, w.other); err != nil {
			return err
		}
		hash, err := ticketing.HashPassword(testPassword)
		if err != nil {
			return err
		}
		now := time.Now()
		mk := func(email, role string, c *store.Company) *store.User {
			u := &store.User{Email: email, Role: role, Name: email, Language: "pt-BR", PasswordHash: hash, ConfirmedAt: &now}
			if c != nil {
				id := c.ID
				u.CompanyID = &id
			}
			if err := q.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			return u
		}
		w.tech2 = mk("tech2@helpdesk.example", store.RoleTech, nil)
		w.colleague = mk("joao@acme.example", store.RoleClient, w.acme)
		w.outsider = mk("eve@globex.example", store.RoleClient, w.other)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *staffWorld) cookie(u *store.User) *http.Cookie {
	if c := w.cookies[u.ID]; c != nil {
		return c
	}
	c := w.signIn(u)
	w.cookies[u.ID] = c
	if !u.IsStaff() { // accept the privacy policy, so pages answer instead of redirecting
		ctx := context.Background()
		rev, err := w.svc.CurrentRevision(ctx, u.CompanyIDValue())
		if err != nil {
			w.t.Fatal(err)
		}
		if _, err := w.svc.Accept(ctx, u, rev.ID, "", store.ChannelWeb); err != nil {
			w.t.Fatal(err)
		}
	}
	return c
}

// as posts form to path as u, with u's CSRF token.
func (w *staffWorld) as(u *store.User, path string, form url.Values) resp {
	c := w.cookie(u)
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf_token", w.csrf[c.Value])
	return w.post(path, form, c)
}

func (w *staffWorld) ticket(subject, body string) *store.Ticket {
	w.t.Helper()
	t, err := w.svc.Create(context.Background(), w.client, ticketing.CreateInput{Requester: w.client, Subject: subject, Body: body})
	if err != nil {
		w.t.Fatal(err)
	}
	return t
}

func (w *staffWorld) reload(n int64) *store.Ticket {
	w.t.Helper()
	v, err := w.svc.Get(context.Background(), w.admin, n)
	if err != nil {
		w.t.Fatal(err)
	}
	return v.Ticket
}

func staffNum(n int64) string { return strconv.FormatInt(n, 10) }

// TestStaffActionAccess is the access table of the staff routes: role ×
// relation × action, with the status each gets. Requesters are refused
// every staff action; techs where the policy says so.
func TestStaffActionAccess(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newStaffWorld(t, st)
		ctx := context.Background()
		type row struct {
			name   string
			setup  func(tk *store.Ticket) // before the request
			actor  func() *store.User
			path   string // %d is the ticket number
			form   url.Values
			status int
			check  func(t *testing.T, tk *store.Ticket) // after
		}
		assignTo := func(u **store.User) func(tk *store.Ticket) {
			return func(tk *store.Ticket) {
				if _, err := w.svc.Assign(ctx, w.admin, tk.Number, *u); err != nil {
					t.Fatal(err)
				}
			}
		}
		unchangedStatus := func(t *testing.T, tk *store.Ticket) {
			if got := w.reload(tk.Number); got.Status != tk.Status && !(tk.Status == store.StatusNew && got.Status == store.StatusOpen) {
				t.Errorf("status changed to %s", got.Status)
			}
		}
		staffOnly := []struct{ path string }{
			{"/tickets/%d/take"}, {"/tickets/%d/assign"}, {"/tickets/%d/participants"}, {"/tickets/%d/update"},
			{"/tickets/%d/status"}, {"/tickets/%d/resolve"}, {"/tickets/%d/close"}, {"/tickets/%d/sla/pause"},
			{"/tickets/%d/links"}, {"/tickets/%d/merge"}, {"/tickets/%d/reply"}, {"/tickets/%d/comments/1/move"},
			{"/tickets/%d/comments/1/split"}, {"/tickets/bulk"}, {"/tickets/views"}, {"/canned"},
		}
		var rows []row
		for _, p := range staffOnly {
			for _, who := range []struct {
				n string
				u func() *store.User
			}{{"requester", func() *store.User { return w.client }}, {"colleague", func() *store.User { return w.colleague }}, {"outsider", func() *store.User { return w.outsider }}} {
				rows = append(rows, row{name: who.n + " " + p.path, actor: who.u, path: p.path,
					form:   url.Values{"assignee_id": {staffNum(w.tech.ID)}, "body": {"x"}, "internal": {"1"}, "solution": {"s"}, "n": {"1"}},
					status: http.StatusForbidden, check: unchangedStatus})
			}
		}
		rows = append(rows,
			row{name: "tech takes an unassigned ticket", actor: func() *store.User { return w.tech }, path: "/tickets/%d/take", status: http.StatusSeeOther,
				check: func(t *testing.T, tk *store.Ticket) {
					if !w.reload(tk.Number).AssignedTo(w.tech) {
						t.Error("not assigned")
					}
				}},
			row{name: "tech cannot take another's ticket", setup: assignTo(&w.tech2), actor: func() *store.User { return w.tech }, path: "/tickets/%d/take", status: http.StatusForbidden},
			row{name: "assignee transfers", setup: assignTo(&w.tech), actor: func() *store.User { return w.tech }, path: "/tickets/%d/assign",
				form: url.Values{"assignee_id": {staffNum(w.tech2.ID)}}, status: http.StatusSeeOther,
				check: func(t *testing.T, tk *store.Ticket) {
					if !w.reload(tk.Number).AssignedTo(w.tech2) {
						t.Error("not transferred")
					}
				}},
			row{name: "non-assignee tech cannot transfer", setup: assignTo(&w.tech), actor: func() *store.User { return w.tech2 }, path: "/tickets/%d/assign",
				form: url.Values{"assignee_id": {staffNum(w.tech2.ID)}}, status: http.StatusForbidden},
			row{name: "transfer to a client is refused", setup: assignTo(&w.tech), actor: func() *store.User { return w.admin }, path: "/tickets/%d/assign",
				form: url.Values{"assignee_id": {staffNum(w.client.ID)}}, status: http.StatusUnprocessableEntity},
			row{name: "non-assignee tech cannot resolve", setup: assignTo(&w.tech), actor: func() *store.User { return w.tech2 }, path: "/tickets/%d/resolve",
				form: url.Values{"solution": {"done"}}, status: http.StatusForbidden, check: unchangedStatus},
			row{name: "non-assignee tech cannot close", setup: assignTo(&w.tech), actor: func() *store.User { return w.tech2 }, path: "/tickets/%d/close",
				form: url.Values{"reason": {"ok"}, "evaluation": {"e"}, "classification": {"outro"}}, status: http.StatusForbidden, check: unchangedStatus},
			row{name: "non-assignee tech cannot change the status", setup: assignTo(&w.tech), actor: func() *store.User { return w.tech2 }, path: "/tickets/%d/status",
				form: url.Values{"status": {store.StatusPending}}, status: http.StatusForbidden, check: unchangedStatus},
			row{name: "non-assignee tech cannot merge another's ticket", setup: assignTo(&w.tech), actor: func() *store.User { return w.tech2 }, path: "/tickets/%d/merge",
				form: url.Values{"into": {"1001"}}, status: http.StatusForbidden, check: unchangedStatus},
			row{name: "admin changes the status of anyone's ticket", setup: assignTo(&w.tech), actor: func() *store.User { return w.admin }, path: "/tickets/%d/status",
				form: url.Values{"status": {store.StatusPending}}, status: http.StatusSeeOther,
				check: func(t *testing.T, tk *store.Ticket) {
					if w.reload(tk.Number).Status != store.StatusPending {
						t.Error("status not changed")
					}
				}},
			row{name: "resolve needs a solution", setup: assignTo(&w.tech), actor: func() *store.User { return w.tech }, path: "/tickets/%d/resolve",
				status: http.StatusUnprocessableEntity, check: unchangedStatus},
			row{name: "assignee resolves", setup: assignTo(&w.tech), actor: func() *store.User { return w.tech }, path: "/tickets/%d/resolve",
				form: url.Values{"solution": {"done"}}, status: http.StatusSeeOther,
				check: func(t *testing.T, tk *store.Ticket) {
					if got := w.reload(tk.Number); got.Status != store.StatusResolved || got.Solution != "done" {
						t.Errorf("status %s solution %q", got.Status, got.Solution)
					}
				}},
			row{name: "close without evaluation is refused", setup: assignTo(&w.tech), actor: func() *store.User { return w.tech }, path: "/tickets/%d/close",
				form: url.Values{"reason": {"ok"}, "classification": {"usuario"}}, status: http.StatusUnprocessableEntity,
				check: func(t *testing.T, tk *store.Ticket) {
					if got := w.reload(tk.Number); got.Status == store.StatusClosed || got.CloseReason != "" {
						t.Errorf("changed: %s %q", got.Status, got.CloseReason)
					}
				}},
			row{name: "close with an unknown classification is refused", setup: assignTo(&w.tech), actor: func() *store.User { return w.tech }, path: "/tickets/%d/close",
				form: url.Values{"reason": {"ok"}, "evaluation": {"e"}, "classification": {"nope"}}, status: http.StatusUnprocessableEntity},
			row{name: "close with evaluation", setup: assignTo(&w.tech), actor: func() *store.User { return w.tech }, path: "/tickets/%d/close",
				form: url.Values{"reason": {"ok"}, "evaluation": {"user forgot the cable"}, "classification": {"usuario"}}, status: http.StatusSeeOther,
				check: func(t *testing.T, tk *store.Ticket) {
					got := w.reload(tk.Number)
					if got.Status != store.StatusClosed || got.TechEvaluation != "user forgot the cable" || got.Classification != "usuario" {
						t.Errorf("got %s %q %q", got.Status, got.TechEvaluation, got.Classification)
					}
					v, err := w.svc.Get(ctx, w.client, tk.Number)
					if err != nil || v.Ticket.TechEvaluation != "" {
						t.Errorf("the requester sees the evaluation: %v %q", err, v.Ticket.TechEvaluation)
					}
				}},
			row{name: "status to a status needing input is refused", actor: func() *store.User { return w.admin }, path: "/tickets/%d/status",
				form: url.Values{"status": {store.StatusClosed}}, status: http.StatusUnprocessableEntity},
			row{name: "tech adds a participant", actor: func() *store.User { return w.tech }, path: "/tickets/%d/participants",
				form: url.Values{"user_id": {staffNum(w.tech2.ID)}}, status: http.StatusSeeOther},
			row{name: "a client cannot be invited as a technician", actor: func() *store.User { return w.admin }, path: "/tickets/%d/participants",
				form: url.Values{"user_id": {staffNum(w.outsider.ID)}}, status: http.StatusUnprocessableEntity},
			row{name: "removing someone not on the ticket finds nobody", actor: func() *store.User { return w.admin }, path: "/tickets/%d/participants/" + staffNum(w.tech2.ID) + "/remove",
				status: http.StatusNotFound},
			row{name: "internal note by a tech", actor: func() *store.User { return w.tech }, path: "/tickets/%d/reply",
				form: url.Values{"body": {"nota interna"}, "internal": {"1"}}, status: http.StatusSeeOther},
			row{name: "a requester's draft on another company's ticket does not exist", actor: func() *store.User { return w.outsider }, path: "/tickets/%d/draft",
				form: url.Values{"body": {"oi"}}, status: http.StatusNotFound},
			row{name: "a requester keeps a draft on their ticket", actor: func() *store.User { return w.client }, path: "/tickets/%d/draft",
				form: url.Values{"body": {"oi"}}, status: http.StatusSeeOther},
			row{name: "an internal draft is refused to a requester", actor: func() *store.User { return w.client }, path: "/tickets/%d/draft",
				form: url.Values{"body": {"oi"}, "internal": {"1"}}, status: http.StatusForbidden},
			row{name: "pause without an SLA plan", actor: func() *store.User { return w.admin }, path: "/tickets/%d/sla/pause", status: http.StatusUnprocessableEntity},
			row{name: "unknown ticket number", actor: func() *store.User { return w.admin }, path: "/tickets/999999/take", status: http.StatusNotFound},
			row{name: "not a number", actor: func() *store.User { return w.admin }, path: "/tickets/abc/take", status: http.StatusNotFound},
			row{name: "update priority", actor: func() *store.User { return w.tech }, path: "/tickets/%d/update",
				form: url.Values{"priority": {store.PriorityUrgent}}, status: http.StatusSeeOther,
				check: func(t *testing.T, tk *store.Ticket) {
					if w.reload(tk.Number).Priority != store.PriorityUrgent {
						t.Error("priority not changed")
					}
				}},
			row{name: "update priority of another's ticket by a tech", setup: assignTo(&w.tech2), actor: func() *store.User { return w.tech }, path: "/tickets/%d/update",
				form: url.Values{"priority": {store.PriorityUrgent}}, status: http.StatusForbidden},
		)
		for _, rw := range rows {
			t.Run(rw.name, func(t *testing.T) {
				tk := w.ticket("Acesso "+rw.name, "corpo")
				if rw.setup != nil {
					rw.setup(tk)
					tk = w.reload(tk.Number)
				}
				path := rw.path
				if strings.Contains(path, "%d") {
					path = strings.Replace(path, "%d", staffNum(tk.Number), 1)
				}
				form := url.Values{}
				for k, v := range rw.form {
					form[k] = v
				}
				if strings.HasPrefix(path, "/tickets/bulk") {
					form.Set("n", staffNum(tk.Number))
				}
				res := w.as(rw.actor(), path, form)
				if res.StatusCode != rw.status {
					t.Fatalf("POST %s: %d, want %d\n%.400s", path, res.StatusCode, rw.status, res.Body)
				}
				if rw.check != nil {
					rw.check(t, tk)
				}
			})
		}
	})
}

// TestStaffCommentIDOR: comment ids of other tickets and internal notes.
func TestStaffCommentIDOR(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newStaffWorld(t, st)
		ctx := context.Background()
		a := w.ticket("Primeiro", "a")
		note, err := w.svc.Comment(ctx, w.tech, a.Number, ticketing.CommentInput{Body: "interno", Internal: true})
		if err != nil {
			t.Fatal(err)
		}
		pub, err := w.svc.Comment(ctx, w.tech, a.Number, ticketing.CommentInput{Body: "público"})
		if err != nil {
			t.Fatal(err)
		}
		// The requester reacts to the public reply, not to the note.
		if res := w.as(w.client, "/tickets/"+staffNum(a.Number)+"/comments/"+staffNum(pub.ID)+"/react", url.Values{"emoji": {"👍"}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("react: %d", res.StatusCode)
		}
		if res := w.as(w.client, "/tickets/"+staffNum(a.Number)+"/comments/"+staffNum(note.ID)+"/react", url.Values{"emoji": {"👍"}}); res.StatusCode != http.StatusNotFound {
			t.Fatalf("react to an internal note: %d, want 404", res.StatusCode)
		}
		// Another company's requester learns nothing of either.
		if res := w.as(w.outsider, "/tickets/"+staffNum(a.Number)+"/comments/"+staffNum(pub.ID)+"/react", url.Values{"emoji": {"👍"}}); res.StatusCode != http.StatusNotFound {
			t.Fatalf("outsider reacts: %d, want 404", res.StatusCode)
		}
		counts, err := w.svc.Reactions(ctx, w.admin, a.Number)
		if err != nil || counts[pub.ID]["👍"] != 1 || counts[note.ID]["👍"] != 0 {
			t.Fatalf("reactions %v %v", counts, err)
		}
		// Moving a comment into another company's ticket is refused.
		other, err := w.svc.Create(ctx, w.outsider, ticketing.CreateInput{Requester: w.outsider, Subject: "Globex", Body: "g"})
		if err != nil {
			t.Fatal(err)
		}
		if res := w.as(w.admin, "/tickets/"+staffNum(a.Number)+"/comments/"+staffNum(pub.ID)+"/move", url.Values{"to": {staffNum(other.Number)}}); res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("move across companies: %d", res.StatusCode)
		}
		// Split makes a new ticket of the same company.
		res := w.as(w.admin, "/tickets/"+staffNum(a.Number)+"/comments/"+staffNum(pub.ID)+"/split", url.Values{"subject": {"Outro pedido"}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("split: %d", res.StatusCode)
		}
		loc := res.Header.Get("Location")
		if loc == "/tickets/"+staffNum(a.Number) || !strings.HasPrefix(loc, "/tickets/") {
			t.Fatalf("split went to %s", loc)
		}
		// Bulk with one ticket the actor may not change changes nothing.
		b := w.ticket("Segundo", "b")
		if _, err := w.svc.Assign(ctx, w.admin, b.Number, w.tech2); err != nil {
			t.Fatal(err)
		}
		c := w.ticket("Terceiro", "c")
		res = w.as(w.tech, "/tickets/bulk", url.Values{"n": {staffNum(c.Number), staffNum(b.Number)}, "priority": {store.PriorityHigh}})
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("bulk over another's ticket: %d, want 403", res.StatusCode)
		}
		if w.reload(c.Number).Priority == store.PriorityHigh {
			t.Fatal("bulk changed a ticket although it was refused")
		}
		res = w.as(w.admin, "/tickets/bulk", url.Values{"n": {staffNum(c.Number), staffNum(b.Number)}, "priority": {store.PriorityHigh}, "back": {"https://evil.example/"}})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/tickets/" {
			t.Fatalf("bulk by admin: %d %s", res.StatusCode, res.Header.Get("Location"))
		}
		if w.reload(c.Number).Priority != store.PriorityHigh || w.reload(b.Number).Priority != store.PriorityHigh {
			t.Fatal("bulk did not change both")
		}
	})
}

// TestStaffReplyCollision: two technicians answer against the same
// version; the second is refused with 409, sees the new message above
// the untouched text, and can send anyway.
func TestStaffReplyCollision(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newStaffWorld(t, st)
		ctx := context.Background()
		tk := w.ticket("Colisão", "a impressora não imprime")
		v, err := w.svc.Get(ctx, w.admin, tk.Number)
		if err != nil {
			t.Fatal(err)
		}
		seen := staffNum(v.Version)
		path := "/tickets/" + staffNum(tk.Number) + "/reply"
		if res := w.as(w.admin, path, url.Values{"body": {"Resposta da Ana"}, "seen": {seen}, "internal": {"0"}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("first reply: %d\n%s", res.StatusCode, res.Body)
		}
		res := w.as(w.tech, path, url.Values{"body": {"Resposta do Téo <b>"}, "seen": {seen}, "internal": {"0"}})
		if res.StatusCode != http.StatusConflict {
			t.Fatalf("second reply: %d, want 409", res.StatusCode)
		}
		for _, want := range []string{"Resposta da Ana", "Resposta do Téo &lt;b&gt;", "Enviar mesmo assim", `name="send_anyway"`} {
			if !strings.Contains(res.Body, want) {
				t.Errorf("the collision page lacks %q", want)
			}
		}
		if strings.Contains(res.Body, "Resposta do Téo <b>") {
			t.Error("the draft is not escaped")
		}
		after, _ := w.svc.Get(ctx, w.admin, tk.Number)
		if len(after.Comments) != 1 {
			t.Fatalf("%d comments after the refusal, want 1", len(after.Comments))
		}
		// The text is kept as a draft.
		if d, err := w.svc.Draft(ctx, w.tech, tk.Number); err != nil || d == nil || d.Body != "Resposta do Téo <b>" {
			t.Fatalf("draft %+v %v", d, err)
		}
		res = w.as(w.tech, path, url.Values{"body": {"Resposta do Téo <b>"}, "seen": {seen}, "internal": {"0"}, "send_anyway": {"1"}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("send anyway: %d", res.StatusCode)
		}
		after, _ = w.svc.Get(ctx, w.admin, tk.Number)
		if len(after.Comments) != 2 {
			t.Fatalf("%d comments, want 2", len(after.Comments))
		}
		// An internal note never collides.
		if res := w.as(w.tech2, path, url.Values{"body": {"nota"}, "seen": {seen}, "internal": {"1"}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("internal note: %d", res.StatusCode)
		}
	})
}

// TestStaffSearch: a Portuguese word found without its accent, matches
// marked and escaped; a requester never finds a word only an internal
// note holds, nor another company's tickets.
func TestStaffSearch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newStaffWorld(t, st)
		ctx := context.Background()
		tk := w.ticket("Impressora não liga <script>", "A impressão falhou na recepção")
		if _, err := w.svc.Comment(ctx, w.tech, tk.Number, ticketing.CommentInput{Body: "senha do roteador: xyzzyplugh", Internal: true}); err != nil {
			t.Fatal(err)
		}
		res := w.get("/search?q=recepcao", w.cookie(w.tech))
		if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, "/tickets/"+staffNum(tk.Number)) {
			t.Fatalf("tech search without accent: %d\n%s", res.StatusCode, res.Body)
		}
		// The matched word is marked. (PostgreSQL's headline does not mark
		// a word matched only through accent folding, so this uses the
		// word as written.)
		if res := w.get("/search?q=impressora", w.cookie(w.tech)); !strings.Contains(res.Body, "<mark>Impressora</mark>") {
			t.Errorf("no highlighted match: %s", regexpFind(t, res.Body, `(?s)(<p class="staff-snippet">.*?</p>)`))
		}
		if strings.Contains(res.Body, "<script>") {
			t.Error("subject not escaped")
		}
		if res := w.get("/search?q=xyzzyplugh", w.cookie(w.tech)); !strings.Contains(res.Body, "/tickets/"+staffNum(tk.Number)) {
			t.Error("tech does not find the internal note")
		}
		if res := w.get("/search?q=xyzzyplugh", w.cookie(w.client)); strings.Contains(res.Body, "/tickets/"+staffNum(tk.Number)) || res.StatusCode != http.StatusOK {
			t.Errorf("requester finds a word only in an internal note (%d %s)", res.StatusCode, res.Header.Get("Location"))
		}
		if res := w.get("/search?q=impressora", w.cookie(w.client)); !strings.Contains(res.Body, "/tickets/"+staffNum(tk.Number)) {
			t.Error("requester does not find their own ticket")
		}
		if res := w.get("/search?q=impressora", w.cookie(w.outsider)); strings.Contains(res.Body, "/tickets/"+staffNum(tk.Number)) {
			t.Error("another company's requester finds the ticket")
		}
		if res := w.get("/search?q=impressora"); res.StatusCode != http.StatusSeeOther {
			t.Errorf("anonymous search: %d", res.StatusCode)
		}
		if res := w.get("/search?q=%22", w.cookie(w.tech)); res.StatusCode != http.StatusUnprocessableEntity && res.StatusCode != http.StatusOK {
			t.Errorf("a bad search: %d", res.StatusCode)
		}
	})
}

func bulkPriority(p string) ticketing.BulkInput { return ticketing.BulkInput{Priority: p} }

func httptestForm(r *http.Request, form url.Values) *http.Request {
	r2 := httptest.NewRequest(r.Method, r.URL.String(), strings.NewReader(form.Encode()))
	r2.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r2
}

// TestStaffInternalNoteFiles: an internal note's attachment stays
// internal: staff download it, the requester neither sees nor gets it.
func TestStaffInternalNoteFiles(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newStaffWorld(t, st)
		ctx := context.Background()
		tk := w.ticket("Anexo interno", "a")
		c := w.cookie(w.tech)
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		_ = mw.WriteField("csrf_token", w.csrf[c.Value])
		_ = mw.WriteField("body", "log do servidor")
		_ = mw.WriteField("internal", "1")
		fw, _ := mw.CreateFormFile("files", "servidor.log")
		_, _ = fw.Write([]byte("senha=segredo\n"))
		_ = mw.Close()
		r := httptest.NewRequest("POST", "/tickets/"+staffNum(tk.Number)+"/reply", &buf)
		r.Header.Set("Content-Type", mw.FormDataContentType())
		r.AddCookie(c)
		if res := w.do(r); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("internal note with a file: %d\n%.300s", res.StatusCode, res.Body)
		}
		staffView, err := w.svc.Get(ctx, w.tech, tk.Number)
		if err != nil || len(staffView.Attachments) != 1 {
			t.Fatalf("staff sees %d attachments (%v)", len(staffView.Attachments), err)
		}
		a := staffView.Attachments[0]
		path := "/tickets/" + staffNum(tk.Number) + "/attachments/" + staffNum(a.ID)
		if res := w.get(path, c); res.StatusCode != http.StatusOK {
			t.Fatalf("staff download: %d", res.StatusCode)
		}
		if res := w.get(path, w.cookie(w.client)); res.StatusCode != http.StatusNotFound {
			t.Fatalf("requester download of an internal file: %d", res.StatusCode)
		}
		if res := w.get("/tickets/"+staffNum(tk.Number), w.cookie(w.client)); strings.Contains(res.Body, "servidor.log") || strings.Contains(res.Body, "log do servidor") {
			t.Fatal("the requester's page shows the internal note or its file")
		}
	})
}

// TestStaffOwnedIDOR: one technician's saved views and canned responses
// do not exist for another, whatever id the form carries.
func TestStaffOwnedIDOR(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newStaffWorld(t, st)
		ctx := context.Background()
		v, err := w.svc.SaveView(ctx, w.tech, "Minha", "tab=mine", false)
		if err != nil {
			t.Fatal(err)
		}
		c, err := w.svc.CreateCanned(ctx, w.tech, ticketing.CannedInput{Name: "Minha", Body: "Olá"})
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{"/tickets/views/" + staffNum(v.ID) + "/delete", "/canned/" + staffNum(c.ID) + "/delete"} {
			if res := w.as(w.tech2, path, nil); res.StatusCode != http.StatusNotFound {
				t.Errorf("%s by another tech: %d, want 404", path, res.StatusCode)
			}
			if res := w.as(w.client, path, nil); res.StatusCode != http.StatusForbidden {
				t.Errorf("%s by a requester: %d, want 403", path, res.StatusCode)
			}
		}
		if res := w.get("/canned", w.cookie(w.tech2)); strings.Contains(res.Body, "Olá") {
			t.Error("another tech lists a personal canned response")
		}
		// Someone else's canned id in the ticket page's ?canned= inserts nothing.
		tk := w.ticket("Canned", "x")
		if res := w.get("/tickets/"+staffNum(tk.Number)+"?canned="+staffNum(c.ID), w.cookie(w.tech2)); strings.Contains(res.Body, ">Olá<") {
			t.Error("another tech's canned text was inserted")
		}
		for _, path := range []string{"/tickets/views/" + staffNum(v.ID) + "/delete", "/canned/" + staffNum(c.ID) + "/delete"} {
			if res := w.as(w.tech, path, nil); res.StatusCode != http.StatusSeeOther {
				t.Errorf("%s by its owner: %d", path, res.StatusCode)
			}
		}
	})
}
