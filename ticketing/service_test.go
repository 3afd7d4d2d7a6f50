package ticketing_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

type world struct {
	svc                *ticketing.Service
	st                 *store.Store
	admin, tech, tech2 *store.User
	client, colleague  *store.User
	outsider, superv   *store.User
	acme, globex       *store.Company
	events             []ticketing.Event
}

func newWorld(t testing.TB, st *store.Store) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{st: st}
	w.svc = ticketing.NewService(st, ticketing.WithListener(func(ev ticketing.Event) { w.events = append(w.events, ev) }))
	err := st.InTx(ctx, func(q *store.Q) error {
		// Acme shares tickets within the company; Globex does not.
		w.acme = &store.Company{Name: "Acme", Domains: []string{"acme.example"}, ShareTickets: true}
		w.globex = &store.Company{Name: "Globex", Domains: []string{"globex.example"}}
		for _, c := range []*store.Company{w.acme, w.globex} {
			if err := q.CreateCompany(ctx, c); err != nil {
				return err
			}
		}
		mk := func(email, role string, c *store.Company) *store.User {
			u := &store.User{Email: email, Role: role, Name: email}
			if c != nil {
				id := c.ID
				u.CompanyID = &id
			}
			if err := q.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			return u
		}
		w.admin = mk("admin@helpdesk.example", store.RoleAdmin, nil)
		w.superv = mk("super@helpdesk.example", store.RoleSupervisor, nil)
		w.tech = mk("tech@helpdesk.example", store.RoleTech, nil)
		w.tech2 = mk("tech2@helpdesk.example", store.RoleTech, nil)
		w.client = mk("maria@acme.example", store.RoleClient, w.acme)
		w.colleague = mk("joao@acme.example", store.RoleClient, w.acme)
		w.outsider = mk("eve@globex.example", store.RoleClient, w.globex)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) create(t testing.TB) *store.Ticket {
	t.Helper()
	tk, err := w.svc.Create(context.Background(), w.client, ticketing.CreateInput{
		Requester: w.client, Subject: "  Impressora   não imprime ", Body: "Desde ontem.", Source: store.SourceEmail})
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func TestLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		tk := w.create(t)
		if tk.Number < 1001 || tk.Status != "new" || tk.Subject != "Impressora não imprime" || tk.CompanyID != w.acme.ID {
			t.Fatalf("created %+v", tk)
		}
		// A tech takes it: new → open.
		got, err := w.svc.Assign(ctx, w.tech, tk.Number, w.tech)
		if err != nil || got.Status != "open" || !got.AssignedTo(w.tech) {
			t.Fatalf("take: %+v %v", got, err)
		}
		// Another tech may not take it any more, nor transfer it.
		if _, err := w.svc.Assign(ctx, w.tech2, tk.Number, w.tech2); !errors.Is(err, ticketing.ErrNotAllowed) {
			t.Fatalf("second take: %v", err)
		}
		// Staff reply sets first response; internal note hidden from client.
		if _, err := w.svc.Comment(ctx, w.tech, tk.Number, ticketing.CommentInput{Body: "Pode reiniciar?"}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Comment(ctx, w.tech, tk.Number, ticketing.CommentInput{Body: "driver antigo", Internal: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Comment(ctx, w.client, tk.Number, ticketing.CommentInput{Body: "secret", Internal: true}); !errors.Is(err, ticketing.ErrNotAllowed) {
			t.Fatalf("client internal comment: %v", err)
		}
		v, err := w.svc.Get(ctx, w.client, tk.Number)
		if err != nil {
			t.Fatal(err)
		}
		if len(v.Comments) != 1 || v.Comments[0].Internal || v.Ticket.FirstResponseAt == nil {
			t.Fatalf("client view: %d comments, first response %v", len(v.Comments), v.Ticket.FirstResponseAt)
		}
		if sv, _ := w.svc.Get(ctx, w.tech2, tk.Number); len(sv.Comments) != 2 {
			t.Fatalf("staff sees %d comments", len(sv.Comments))
		}
		// pending, then the requester answers: back to open.
		if _, err := w.svc.SetStatus(ctx, w.tech, tk.Number, "pending", ticketing.StatusInput{}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Comment(ctx, w.client, tk.Number, ticketing.CommentInput{Body: "Reiniciei."}); err != nil {
			t.Fatal(err)
		}
		if v, _ := w.svc.Get(ctx, w.tech, tk.Number); v.Ticket.Status != "open" {
			t.Fatalf("after requester reply: %s", v.Ticket.Status)
		}
		// The client may not resolve or close; another tech may not resolve.
		for _, actor := range []*store.User{w.client, w.tech2} {
			if _, err := w.svc.SetStatus(ctx, actor, tk.Number, "resolved", ticketing.StatusInput{}); !errors.Is(err, ticketing.ErrNotAllowed) {
				t.Fatalf("%s resolve: %v", actor.Email, err)
			}
		}
		// Closing without the evaluation is refused and changes nothing.
		if _, err := w.svc.SetStatus(ctx, w.tech, tk.Number, "closed", ticketing.StatusInput{}); !errors.Is(err, ticketing.ErrInvalid) {
			t.Fatalf("close open without evaluation: %v", err)
		}
		if _, err := w.svc.SetStatus(ctx, w.tech, tk.Number, "resolved", ticketing.StatusInput{Solution: "feito", Reason: "feito", Evaluation: "ok", Classification: "outro"}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Rate(ctx, w.colleague, tk.Number, 5, ""); !errors.Is(err, ticketing.ErrNotAllowed) {
			t.Fatalf("non-requester rate: %v", err)
		}
		if _, err := w.svc.Rate(ctx, w.client, tk.Number, 6, ""); !errors.Is(err, ticketing.ErrInvalid) {
			t.Fatalf("rate 6: %v", err)
		}
		if _, err := w.svc.Rate(ctx, w.client, tk.Number, 4, "rápido"); err != nil {
			t.Fatal(err)
		}
		closed, err := w.svc.SetStatus(ctx, w.superv, tk.Number, "closed", ticketing.StatusInput{Reason: "feito", Evaluation: "driver atualizado", Classification: "tecnico"})
		if err != nil || closed.ClosedAt == nil || closed.TechEvaluation != "driver atualizado" {
			t.Fatalf("close: %+v %v", closed, err)
		}
		// Comments on a closed ticket are refused; the requester reopens.
		if _, err := w.svc.Comment(ctx, w.client, tk.Number, ticketing.CommentInput{Body: "voltou"}); !errors.Is(err, ticketing.ErrInvalid) {
			t.Fatalf("comment on closed: %v", err)
		}
		re, err := w.svc.SetStatus(ctx, w.client, tk.Number, "reopened", ticketing.StatusInput{})
		if err != nil || re.Status != "reopened" || re.ClosedAt != nil || re.ReopenCount != 1 {
			t.Fatalf("reopen: %+v %v", re, err)
		}
		// Every change left an audit row.
		t2, _ := st.R().TicketByNumber(ctx, store.AllCompanies(), tk.Number, false)
		log, err := st.R().AuditLog(ctx, "ticket", t2.ID)
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range log {
			actions = append(actions, e.Action)
		}
		want := []string{"create", "take", "comment", "comment", "status", "comment", "status", "status", "rate", "status", "evaluation", "status"}
		if len(actions) != len(want) {
			t.Fatalf("audit actions = %v, want %v", actions, want)
		}
		for i := range want {
			if actions[i] != want[i] {
				t.Fatalf("audit actions = %v, want %v", actions, want)
			}
		}
	})
}

func TestTenantIsolation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		tk := w.create(t)
		if _, err := w.svc.Get(ctx, w.outsider, tk.Number); !errors.Is(err, ticketing.ErrNotFound) {
			t.Fatalf("outsider get: %v", err)
		}
		if _, err := w.svc.Comment(ctx, w.outsider, tk.Number, ticketing.CommentInput{Body: "hi"}); !errors.Is(err, ticketing.ErrNotFound) {
			t.Fatalf("outsider comment: %v", err)
		}
		ts, err := w.svc.List(ctx, w.outsider, store.TicketFilter{})
		if err != nil || len(ts) != 0 {
			t.Fatalf("outsider list: %d %v", len(ts), err)
		}
		// A colleague of the same company sees it.
		if _, err := w.svc.Get(ctx, w.colleague, tk.Number); err != nil {
			t.Fatalf("colleague: %v", err)
		}
		// A client cannot open a ticket for someone else.
		_, err = w.svc.Create(ctx, w.client, ticketing.CreateInput{Requester: w.colleague, Subject: "x"})
		if !errors.Is(err, ticketing.ErrNotAllowed) {
			t.Fatalf("create for other: %v", err)
		}
		// An outsider cannot be made a participant.
		if err := w.svc.AddParticipant(ctx, w.tech, tk.Number, w.outsider); !errors.Is(err, ticketing.ErrNotAllowed) {
			t.Fatalf("outsider participant: %v", err)
		}
	})
}

// TestFailedChangeWritesNothing: a change that fails in a hook leaves no
// ticket, comment or audit row behind.
func TestFailedChangeWritesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		boom := errors.New("outbox down")
		svc := ticketing.NewService(st, ticketing.WithTxHook(func(ctx context.Context, tx *ticketing.Tx, ev ticketing.Event) error { return boom }))
		_, err := svc.Create(ctx, w.client, ticketing.CreateInput{Requester: w.client, Subject: "x"})
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v", err)
		}
		ts, _ := w.svc.List(ctx, w.admin, store.TicketFilter{})
		if len(ts) != 0 {
			t.Fatalf("a failed create left %d tickets", len(ts))
		}
		n, err := st.R().AuditLog(ctx, "ticket", 1)
		if err != nil || len(n) != 0 {
			t.Fatalf("audit rows: %d %v", len(n), err)
		}
	})
}

// TestInternalAttachmentsHiddenFromClients: a file on an internal note is
// neither listed nor downloadable for the client.
func TestInternalAttachmentsHiddenFromClients(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		tk := w.create(t)
		note, err := w.svc.Comment(ctx, w.tech, tk.Number, ticketing.CommentInput{Body: "salários", Internal: true})
		if err != nil {
			t.Fatal(err)
		}
		var att store.Attachment
		err = st.InTx(ctx, func(q *store.Q) error {
			att = store.Attachment{TicketID: tk.ID, CommentID: &note.ID, Filename: "salaries.pdf", ContentType: "application/pdf"}
			return q.AddAttachment(ctx, &att, []byte("%PDF secret"))
		})
		if err != nil {
			t.Fatal(err)
		}
		v, err := w.svc.Get(ctx, w.client, tk.Number)
		if err != nil || len(v.Attachments) != 0 {
			t.Fatalf("client sees %d attachments (%v)", len(v.Attachments), err)
		}
		if sv, _ := w.svc.Get(ctx, w.tech, tk.Number); len(sv.Attachments) != 1 {
			t.Fatalf("staff sees %d attachments", len(sv.Attachments))
		}
		if _, _, err := st.R().Attachment(ctx, w.client.Scope(), att.ID, false); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("client downloads the internal attachment: %v", err)
		}
	})
}
