package store_test

import (
	"context"
	"testing"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
)

// The search index learns of new rows at the end of each write
// transaction (SQLite: one statement per table, search_index.go), of
// rows inserted by hand at the next IndexSearch, and of a deferring
// transaction's rows only then.
func TestSearchIndexCatchesUp(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newSearchFixture(t, s)
		found := func(text string) []int64 {
			t.Helper()
			return foundByStaff(t, s, text)
		}
		tid := f.tech.ID

		// Inserted, then changed and made internal in the same
		// transaction: indexed once, as it ended.
		c := &store.Comment{TicketID: f.monitor.ID, AuthorID: &tid, BodyText: "Cabo VGA trocado.", Source: store.SourceWeb}
		err := s.InTx(ctx, func(q *store.Q) error {
			if err := q.CreateComment(ctx, c); err != nil {
				return err
			}
			c.BodyText = "Cabo DVI trocado."
			if err := q.UpdateCommentBodies(ctx, c); err != nil {
				return err
			}
			_, err := q.DB().NewRaw("UPDATE ticket_comments SET internal = ? WHERE id = ?", true, c.ID).Exec(ctx)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := found("vga"); len(got) != 0 {
			t.Errorf("old text found: %v", got)
		}
		if got := found("dvi"); !sameSet(got, numbers(f.monitor)) {
			t.Errorf("comment changed in its own transaction: %v", got)
		}
		if hits := search(t, s, store.CompanyScope(f.acme.ID), store.SearchFilter{Text: "dvi"}); len(hits) != 0 {
			t.Errorf("a comment made internal before its first index is public: %v", hitNumbers(hits))
		}

		// A deferring transaction's ticket waits for IndexSearch.
		var late *store.Ticket
		err = s.InTx(ctx, func(q *store.Q) error {
			q.DeferSearchIndex()
			n, err := q.NextTicketNumber(ctx)
			if err != nil {
				return err
			}
			late = &store.Ticket{Number: n, CompanyID: f.acme.ID, RequesterID: f.client.ID, Priority: store.PriorityNormal,
				Status: store.StatusNew, Subject: "Projetor sem sinal", Source: store.SourceEmail}
			return q.CreateTicket(ctx, late)
		})
		if err != nil {
			t.Fatal(err)
		}
		if s.Driver() == store.SQLite {
			if got := found("projetor"); len(got) != 0 {
				t.Errorf("deferred ticket indexed before IndexSearch: %v", got)
			}
		}
		if err := s.IndexSearch(ctx); err != nil {
			t.Fatal(err)
		}
		if got := found("projetor"); !sameSet(got, numbers(late)) {
			t.Errorf("deferred ticket after IndexSearch: %v", got)
		}

		// A row put in by hand (an import, a repair) is caught up too.
		if _, err := s.DB().NewRaw(`INSERT INTO ticket_comments (ticket_id, author_id, body_text, body_html, internal, source, message_id, created_at)
			VALUES (?, ?, 'Roteador reiniciado.', '', FALSE, 'web', '', CURRENT_TIMESTAMP)`, f.printer.ID, tid).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if err := s.IndexSearch(ctx); err != nil {
			t.Fatal(err)
		}
		if got := found("roteador"); !sameSet(got, numbers(f.printer)) {
			t.Errorf("comment inserted by hand: %v", got)
		}

		if s.Driver() == store.SQLite {
			// Every unit once, and FTS5's own consistency check.
			var units, docs int
			if err := s.DB().NewRaw(`SELECT (SELECT count(*) FROM tickets) + (SELECT count(*) FROM ticket_comments) + (SELECT count(*) FROM attachments)`).Scan(ctx, &units); err != nil {
				t.Fatal(err)
			}
			if err := s.DB().NewRaw(`SELECT count(*) FROM ticket_search`).Scan(ctx, &docs); err != nil {
				t.Fatal(err)
			}
			if units != docs {
				t.Errorf("search index has %d documents for %d units", docs, units)
			}
			if _, err := s.DB().NewRaw(`INSERT INTO ticket_search (ticket_search) VALUES ('integrity-check')`).Exec(ctx); err != nil {
				t.Errorf("FTS5 integrity-check: %v", err)
			}
		}
	})
}
