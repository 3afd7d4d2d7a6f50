package store_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
)

// searchFixture is two companies' tickets with Portuguese text, comments
// (one internal) and attachments (one on the internal note).
type searchFixture struct {
	acme, other       *store.Company
	client, colleague *store.User
	tech              *store.User
	// printer: "Impressão" in the subject; monitor: "impressão" only in
	// the description; password: a public comment, an internal note and
	// a file on each; color: another company's.
	printer, monitor, password, color *store.Ticket
	publicComment, internalNote       *store.Comment
}

func newSearchFixture(t testing.TB, s *store.Store) *searchFixture {
	t.Helper()
	ctx := context.Background()
	f := &searchFixture{}
	err := s.InTx(ctx, func(q *store.Q) error {
		f.acme, f.other = &store.Company{Name: "Acme Ltda"}, &store.Company{Name: "Outra SA"}
		for _, c := range []*store.Company{f.acme, f.other} {
			if err := q.CreateCompany(ctx, c); err != nil {
				return err
			}
		}
		aid, oid := f.acme.ID, f.other.ID
		f.client = &store.User{Email: "maria@acme.example", Name: "Maria", Role: store.RoleClient, CompanyID: &aid}
		f.colleague = &store.User{Email: "joao@acme.example", Name: "João", Role: store.RoleClient, CompanyID: &aid}
		f.tech = &store.User{Email: "ana@help.example", Name: "Ana", Role: store.RoleTech}
		outsider := &store.User{Email: "pedro@outra.example", Name: "Pedro", Role: store.RoleClient, CompanyID: &oid}
		for _, u := range []*store.User{f.client, f.colleague, f.tech, outsider} {
			if err := q.CreateUser(ctx, u); err != nil {
				return err
			}
		}
		ticket := func(company, requester int64, subject, description string) (*store.Ticket, error) {
			n, err := q.NextTicketNumber(ctx)
			if err != nil {
				return nil, err
			}
			tk := &store.Ticket{Number: n, CompanyID: company, RequesterID: requester, Priority: store.PriorityNormal,
				Status: store.StatusNew, Subject: subject, Description: description, Source: store.SourceWeb}
			return tk, q.CreateTicket(ctx, tk)
		}
		var err error
		if f.printer, err = ticket(aid, f.client.ID, "Impressão falhando no segundo andar", "A impressora não imprime nada desde ontem."); err != nil {
			return err
		}
		if f.monitor, err = ticket(aid, f.colleague.ID, "Monitor piscando", "A tela apaga; pode ser a mesma impressão de cabo solto."); err != nil {
			return err
		}
		if f.password, err = ticket(aid, f.client.ID, "Senha expirada", "Não consigo entrar no sistema."); err != nil {
			return err
		}
		if f.color, err = ticket(oid, outsider.ID, "Impressão colorida manchada", "Cores erradas."); err != nil {
			return err
		}
		tid := f.tech.ID
		f.publicComment = &store.Comment{TicketID: f.password.ID, AuthorID: &tid, BodyText: "Enviei o relatório do toner em anexo.", Source: store.SourceWeb}
		f.internalNote = &store.Comment{TicketID: f.password.ID, AuthorID: &tid, BodyText: "Senha do cofre: xyzzy, não repassar.", Internal: true, Source: store.SourceWeb}
		for _, c := range []*store.Comment{f.publicComment, f.internalNote} {
			if err := q.CreateComment(ctx, c); err != nil {
				return err
			}
		}
		pc, ic := f.publicComment.ID, f.internalNote.ID
		if err := q.AddAttachment(ctx, &store.Attachment{TicketID: f.password.ID, CommentID: &pc, Filename: "relatorio_financeiro.pdf", ContentType: "application/pdf"}, []byte("a")); err != nil {
			return err
		}
		return q.AddAttachment(ctx, &store.Attachment{TicketID: f.password.ID, CommentID: &ic, Filename: "planilha-confidencial.xlsx", ContentType: "application/vnd.ms-excel"}, []byte("b"))
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func search(t testing.TB, s *store.Store, sc store.Scope, f store.SearchFilter) []*store.SearchHit {
	t.Helper()
	hits, err := s.R().SearchTickets(context.Background(), sc, f)
	if err != nil {
		t.Fatalf("search %q: %v", f.Text, err)
	}
	return hits
}

// foundByStaff is the numbers of the tickets a search for text finds
// across companies, internal units included.
func foundByStaff(t testing.TB, s *store.Store, text string) []int64 {
	t.Helper()
	return hitNumbers(search(t, s, store.AllCompanies(), store.SearchFilter{Text: text, WithInternal: true}))
}

func hitNumbers(hits []*store.SearchHit) []int64 {
	out := make([]int64, len(hits))
	for i, h := range hits {
		out[i] = h.Ticket.Number
	}
	return out
}

func numbers(ts ...*store.Ticket) []int64 {
	out := make([]int64, len(ts))
	for i, t := range ts {
		out[i] = t.Number
	}
	return out
}

func sameSet(a, b []int64) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func TestSearchTickets(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		f := newSearchFixture(t, s)
		all := store.AllCompanies()
		staff := func(text string) store.SearchFilter { return store.SearchFilter{Text: text, WithInternal: true} }
		public := func(text string) store.SearchFilter { return store.SearchFilter{Text: text} }
		acme := store.CompanyScope(f.acme.ID)
		for _, c := range []struct {
			name string
			sc   store.Scope
			f    store.SearchFilter
			want []*store.Ticket
		}{
			{"without the accent", all, staff("impressao"), []*store.Ticket{f.printer, f.monitor, f.color}},
			{"upper case with the accent", all, staff("IMPRESSÃO"), []*store.Ticket{f.printer, f.monitor, f.color}},
			{"prefix of the last word", all, staff("impres"), []*store.Ticket{f.printer, f.monitor, f.color}},
			{"phrase", all, staff(`"não imprime"`), []*store.Ticket{f.printer}},
			{"phrase out of order", all, staff(`"imprime não"`), nil},
			{"excluded word", all, staff("impressao -monitor"), []*store.Ticket{f.printer, f.color}},
			{"excluded phrase", all, staff(`impressao -"segundo andar"`), []*store.Ticket{f.monitor, f.color}},
			{"OR", all, staff("monitor OR senha"), []*store.Ticket{f.monitor, f.password}},
			{"words in different parts of one ticket", all, staff("senha toner"), []*store.Ticket{f.password}},
			{"comment", all, public("relatório"), []*store.Ticket{f.password}},
			{"attachment name", all, public("financeiro"), []*store.Ticket{f.password}},
			{"company scope", acme, public("impressao"), []*store.Ticket{f.printer, f.monitor}},
			{"internal note, staff", all, staff("xyzzy"), []*store.Ticket{f.password}},
			{"internal note, requester", acme, public("xyzzy"), nil},
			{"internal attachment, staff", all, staff("confidencial"), []*store.Ticket{f.password}},
			{"internal attachment, requester", acme, public("confidencial"), nil},
			// An excluded word only an internal note holds excludes nothing
			// for whoever cannot see the note, and does for staff.
			{"excluded internal word, requester", acme, public("senha -xyzzy"), []*store.Ticket{f.password}},
			{"excluded internal word, staff", all, staff("senha -xyzzy"), nil},
			{"involving a user", acme, store.SearchFilter{Text: "impressao", TicketFilter: store.TicketFilter{InvolvingUserID: f.client.ID}}, []*store.Ticket{f.printer}},
			{"status filter", all, store.SearchFilter{Text: "impressao", TicketFilter: store.TicketFilter{Statuses: []string{store.StatusClosed}}}, nil},
		} {
			got := hitNumbers(search(t, s, c.sc, c.f))
			if !sameSet(got, numbers(c.want...)) {
				t.Errorf("%s: %q found %v, want %v", c.name, c.f.Text, got, numbers(c.want...))
			}
		}

		// A subject match ranks above a body match.
		hits := search(t, s, acme, public("impressao"))
		if len(hits) != 2 || hits[0].Ticket.ID != f.printer.ID || hits[0].Score <= hits[1].Score {
			t.Fatalf("ranking: %v", hitNumbers(hits))
		}
		// The snippet marks the word as written, accent and all.
		h := hits[0]
		if h.Match != store.MatchTicket || h.MatchID != f.printer.ID {
			t.Errorf("match = %s %d", h.Match, h.MatchID)
		}
		var marked []string
		for _, p := range h.Snippet {
			if p.Match {
				marked = append(marked, p.Text)
			}
		}
		if len(marked) == 0 || marked[0] != "Impressão" || !strings.Contains(h.SnippetText(), "falhando") {
			t.Errorf("snippet = %+v", h.Snippet)
		}
		if h.Ticket.Company == nil || h.Ticket.Requester == nil {
			t.Errorf("hit's ticket without its relations: %+v", h.Ticket)
		}
		// Where it matched: a comment, an attachment.
		if hits := search(t, s, all, public("toner")); len(hits) != 1 || hits[0].Match != store.MatchComment || hits[0].MatchID != f.publicComment.ID {
			t.Errorf("comment hit = %+v", hits)
		}
		if hits := search(t, s, all, public("financeiro")); len(hits) != 1 || hits[0].Match != store.MatchAttachment {
			t.Errorf("attachment hit = %+v", hits)
		} else if hits[0].SnippetText() == "" {
			t.Errorf("attachment hit without a snippet")
		}

		// Paging.
		p1 := search(t, s, all, store.SearchFilter{Text: "impressao", TicketFilter: store.TicketFilter{Limit: 2}})
		p2 := search(t, s, all, store.SearchFilter{Text: "impressao", TicketFilter: store.TicketFilter{Limit: 2, Offset: 2}})
		if len(p1) != 2 || len(p2) != 1 || slices.Contains(hitNumbers(p1), p2[0].Ticket.Number) {
			t.Errorf("pages %v %v", hitNumbers(p1), hitNumbers(p2))
		}

		// Nothing to look for, a scope forgotten: errors, not every ticket.
		for _, text := range []string{"", "   ", "-impressao", `""`, "OR", "!!"} {
			if _, err := s.R().SearchTickets(context.Background(), all, public(text)); !errors.Is(err, store.ErrBadSearch) {
				t.Errorf("search %q: err = %v, want ErrBadSearch", text, err)
			}
		}
		if _, err := s.R().SearchTickets(context.Background(), store.Scope{}, public("impressao")); !errors.Is(err, store.ErrNoScope) {
			t.Errorf("zero scope: err = %v", err)
		}
		// Database syntax is text.
		for _, text := range []string{`impressao"`, `NEAR(a b)`, `subject:senha`, `a & b | !c`, `'x':*`, `(`, `*`, `^senha`} {
			if _, err := s.R().SearchTickets(context.Background(), all, staff(text)); err != nil && !errors.Is(err, store.ErrBadSearch) {
				t.Errorf("search %q: %v", text, err)
			}
		}
	})
}

// TestSearchIndexFollowsWrites: the index follows every write path,
// including the raw statements of retention and erasure, and keeps no
// searchable copy of removed text.
func TestSearchIndexFollowsWrites(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newSearchFixture(t, s)
		found := func(text string) []int64 {
			t.Helper()
			return foundByStaff(t, s, text)
		}
		exec := func(query string, args ...any) {
			t.Helper()
			if _, err := s.DB().NewRaw(query, args...).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
		// A new comment is found at once; an edited one by its new text.
		c := &store.Comment{TicketID: f.monitor.ID, BodyText: "Troquei o cabo HDMI.", Source: store.SourceWeb}
		if err := s.InTx(ctx, func(q *store.Q) error { return q.CreateComment(ctx, c) }); err != nil {
			t.Fatal(err)
		}
		if got := found("hdmi"); !sameSet(got, numbers(f.monitor)) {
			t.Fatalf("new comment: %v", got)
		}
		c.BodyText = "Troquei o cabo DisplayPort."
		if err := s.InTx(ctx, func(q *store.Q) error { return q.UpdateCommentBodies(ctx, c) }); err != nil {
			t.Fatal(err)
		}
		if got := found("hdmi"); len(got) != 0 {
			t.Fatalf("edited comment still found by its old text: %v", got)
		}
		if got := found("displayport"); !sameSet(got, numbers(f.monitor)) {
			t.Fatalf("edited comment: %v", got)
		}
		exec("DELETE FROM ticket_comments WHERE id = ?", c.ID)
		if got := found("displayport"); len(got) != 0 {
			t.Fatalf("deleted comment still found: %v", got)
		}
		// A comment made internal takes its attachments along.
		exec("UPDATE ticket_comments SET internal = ? WHERE id = ?", true, f.publicComment.ID)
		acme := store.CompanyScope(f.acme.ID)
		for _, w := range []string{"toner", "financeiro"} {
			if hits := search(t, s, acme, store.SearchFilter{Text: w}); len(hits) != 0 {
				t.Errorf("%s: found through a comment made internal", w)
			}
		}
		// A ticket's subject change; a ticket moved with its comments.
		exec("UPDATE tickets SET subject = ? WHERE id = ?", "Tela escura", f.monitor.ID)
		if got := found("piscando"); len(got) != 0 {
			t.Errorf("old subject still found: %v", got)
		}
		if got := found("escura"); !sameSet(got, numbers(f.monitor)) {
			t.Errorf("new subject: %v", got)
		}
		exec("UPDATE ticket_comments SET ticket_id = ? WHERE ticket_id = ?", f.printer.ID, f.password.ID)
		exec("UPDATE attachments SET ticket_id = ? WHERE ticket_id = ?", f.printer.ID, f.password.ID)
		if got := found("xyzzy"); !sameSet(got, numbers(f.printer)) {
			t.Errorf("moved note: %v", got)
		}
		if got := found("confidencial"); !sameSet(got, numbers(f.printer)) {
			t.Errorf("moved attachment: %v", got)
		}

		// Retention: nothing of the ticket is found any more.
		err := s.InTx(ctx, func(q *store.Q) error {
			anon, err := q.RetentionAnonymous(ctx, f.acme.ID)
			if err != nil {
				return err
			}
			_, err = q.RetainTickets(ctx, []int64{f.printer.ID}, anon)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range []string{"impressora", "xyzzy", "confidencial", "financeiro", "toner"} {
			if got := found(w); slices.Contains(got, f.printer.Number) {
				t.Errorf("retained ticket found by %q", w)
			}
		}
		// Erasure: the person's words leave the index.
		err = s.InTx(ctx, func(q *store.Q) error {
			_, err := q.ErasePerson(ctx, store.EraseTarget{UserID: f.client.ID, AnonEmail: "anon-1@invalid",
				AnonName: "Titular #1", Placeholder: "[removido]"})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := found("sistema"); len(got) != 0 {
			t.Errorf("erased person's description still found: %v", got)
		}
		if got := found("expirada"); len(got) != 0 {
			t.Errorf("erased person's subject still found: %v", got)
		}
		// A deleted ticket takes its units along (the cascade fires the
		// comments' and attachments' triggers).
		exec("DELETE FROM tickets WHERE id = ?", f.color.ID)
		if got := found("colorida"); len(got) != 0 {
			t.Errorf("deleted ticket found: %v", got)
		}
		var units int
		if err := s.DB().NewRaw("SELECT count(*) FROM ticket_search WHERE ticket_id = ?", f.color.ID).Scan(ctx, &units); err != nil {
			t.Fatal(err)
		}
		if units != 0 {
			t.Errorf("%d index rows left for a deleted ticket", units)
		}
		// No removed word is left in the index itself (SQLite: secure-delete
		// removes the terms, not only marks the rows deleted).
		if s.Driver() == store.SQLite {
			exec("CREATE VIRTUAL TABLE temp.search_vocab USING fts5vocab(main, ticket_search, 'row')")
			var terms []string
			if err := s.DB().NewRaw("SELECT term FROM temp.search_vocab WHERE term IN (?)",
				bun.In([]string{"xyzzy", "piscando", "hdmi", "displayport", "colorida", "impressora", "expirada"})).Scan(ctx, &terms); err != nil {
				t.Fatal(err)
			}
			if len(terms) != 0 {
				t.Errorf("removed terms still in the index: %v", terms)
			}
		}
		// The index equals what a rebuild from the tables would hold.
		var want, got int
		if err := s.DB().NewRaw(`SELECT (SELECT count(*) FROM tickets) + (SELECT count(*) FROM ticket_comments) +
			(SELECT count(*) FROM attachments)`).Scan(ctx, &want); err != nil {
			t.Fatal(err)
		}
		if err := s.DB().NewRaw("SELECT count(*) FROM ticket_search").Scan(ctx, &got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("index holds %d units, the tables %d", got, want)
		}
	})
}
