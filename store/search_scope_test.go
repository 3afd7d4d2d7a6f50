package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
)

// TestSearchIndexKnowsTheCompany: the index narrows a company's search
// by the company it holds for each unit (migration 20261203000002), so
// it must follow a ticket moved to another company, keep internal units
// internal there, and never take its company marks for typed words.
func TestSearchIndexKnowsTheCompany(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newSearchFixture(t, s)
		acme, other := store.CompanyScope(f.acme.ID), store.CompanyScope(f.other.ID)
		if _, err := s.DB().NewRaw("UPDATE tickets SET company_id = ? WHERE id = ?", f.other.ID, f.password.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		// A comment written after the move is indexed under the new company.
		c := &store.Comment{TicketID: f.password.ID, BodyText: "Cartucho novo instalado.", Source: store.SourceWeb}
		if err := s.InTx(ctx, func(q *store.Q) error { return q.CreateComment(ctx, c) }); err != nil {
			t.Fatal(err)
		}
		public := func(text string) store.SearchFilter { return store.SearchFilter{Text: text} }
		staffOf := func(company int64, text string) store.SearchFilter {
			return store.SearchFilter{Text: text, WithInternal: true, TicketFilter: store.TicketFilter{CompanyID: company}}
		}
		for _, c := range []struct {
			name string
			sc   store.Scope
			f    store.SearchFilter
			want []*store.Ticket
		}{
			{"subject, old company", acme, public("senha"), nil},
			{"subject, new company", other, public("senha"), []*store.Ticket{f.password}},
			{"public comment, old company", acme, public("toner"), nil},
			{"public comment, new company", other, public("toner"), []*store.Ticket{f.password}},
			{"public file, new company", other, public("financeiro"), []*store.Ticket{f.password}},
			{"comment after the move", other, public("cartucho"), []*store.Ticket{f.password}},
			{"internal note, new company, public", other, public("xyzzy"), nil},
			{"internal file, new company, public", other, public("confidencial"), nil},
			{"internal note, new company, staff", store.AllCompanies(), staffOf(f.other.ID, "xyzzy"), []*store.Ticket{f.password}},
			{"internal note, old company, staff", store.AllCompanies(), staffOf(f.acme.ID, "xyzzy"), nil},
			{"two words across units, new company", other, public("toner senha"), []*store.Ticket{f.password}},
			{"scope and filter disagree", acme, store.SearchFilter{Text: "impressao", TicketFilter: store.TicketFilter{CompanyID: f.other.ID}}, nil},
			{"scope and filter agree", acme, store.SearchFilter{Text: "impressao", TicketFilter: store.TicketFilter{CompanyID: f.acme.ID}}, []*store.Ticket{f.printer, f.monitor}},
			// SQLite keeps the company as words "c<id>" and "p<id>" of a
			// column typed words are kept out of.
			{"company mark c, public", acme, public(fmt.Sprintf("c%d", f.acme.ID)), nil},
			{"company mark p, public", acme, public(fmt.Sprintf("p%d", f.acme.ID)), nil},
			{"company mark p, staff", store.AllCompanies(), staffOf(0, fmt.Sprintf("p%d", f.other.ID)), nil},
			{"company mark, prefix", store.AllCompanies(), staffOf(0, fmt.Sprintf("c%d*", f.acme.ID)), nil},
		} {
			got := hitNumbers(search(t, s, c.sc, c.f))
			if !sameSet(got, numbers(c.want...)) {
				t.Errorf("%s: %q found %v, want %v", c.name, c.f.Text, got, numbers(c.want...))
			}
		}
	})
}
