package store_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
)

// TestSearchDecomposedAccents: mail clients on macOS send decomposed
// accents (NFD: "e" then U+0301), others composed ones (NFC); a word
// written one way is found when typed the other way, or without accents,
// on both databases.
func TestSearchDecomposedAccents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		words := []string{"manutenção", "impressão", "café"}
		type unit struct {
			where string
			form  norm.Form
		}
		units := []unit{{"subject", norm.NFD}, {"subject", norm.NFC}, {"body", norm.NFD}, {"body", norm.NFC},
			{"comment", norm.NFD}, {"comment", norm.NFC}}
		// One ticket per (word, unit): the word appears only there.
		tickets := map[string]map[unit]*store.Ticket{}
		err := s.InTx(ctx, func(q *store.Q) error {
			c := &store.Company{Name: "Acme"}
			if err := q.CreateCompany(ctx, c); err != nil {
				return err
			}
			cid := c.ID
			u := &store.User{Email: "maria@acme.example", Role: store.RoleClient, CompanyID: &cid}
			if err := q.CreateUser(ctx, u); err != nil {
				return err
			}
			for _, w := range words {
				tickets[w] = map[unit]*store.Ticket{}
				for _, un := range units {
					text := un.form.String("A " + w + " falhou no segundo andar")
					subject, body := "Chamado", "Sem detalhes."
					switch un.where {
					case "subject":
						subject = text
					case "body":
						body = text
					}
					n, err := q.NextTicketNumber(ctx)
					if err != nil {
						return err
					}
					tk := &store.Ticket{Number: n, CompanyID: cid, RequesterID: u.ID, Priority: store.PriorityNormal,
						Status: store.StatusNew, Subject: subject, Description: body, Source: store.SourceEmail}
					if err := q.CreateTicket(ctx, tk); err != nil {
						return err
					}
					if un.where == "comment" {
						if err := q.CreateComment(ctx, &store.Comment{TicketID: tk.ID, AuthorID: &u.ID, BodyText: text, Source: store.SourceEmail}); err != nil {
							return err
						}
					}
					tickets[w][un] = tk
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		bare := map[string]string{"manutenção": "manutencao", "impressão": "impressao", "café": "cafe"}
		for _, w := range words {
			want := make([]int64, 0, len(units))
			for _, un := range units {
				want = append(want, tickets[w][un].Number)
			}
			for _, qc := range []struct{ name, text string }{
				{"NFC", norm.NFC.String(w)},
				{"NFD", norm.NFD.String(w)},
				{"no accents", bare[w]},
				{"NFC, not last", norm.NFC.String(w) + " andar"},
				{"NFD, not last", norm.NFD.String(w) + " andar"},
				{"NFD phrase", `"` + norm.NFD.String(w+" falhou") + `"`},
				{"NFC upper", norm.NFC.String(upper(w))},
				{"NFD upper", norm.NFD.String(upper(w))},
			} {
				hits := search(t, s, store.AllCompanies(), store.SearchFilter{Text: qc.text})
				if got := hitNumbers(hits); !sameSet(got, want) {
					t.Errorf("%s %s (%q): found %v, want %v (NFD/NFC in subject, body, comment)", w, qc.name, qc.text, got, want)
				}
				// The quote marks the word too, in whichever form it was written.
				for _, h := range hits {
					marked := false
					for _, p := range h.Snippet {
						marked = marked || (p.Match && strings.Contains(strings.ToLower(norm.NFC.String(p.Text)), norm.NFC.String(w)))
					}
					if !marked {
						t.Errorf("%s %s: #%d's snippet %+v does not mark the word", w, qc.name, h.Ticket.Number, h.Snippet)
					}
				}
			}
		}
	})
}

func upper(s string) string {
	r := []rune(s)
	for i := range r {
		if r[i] >= 'a' && r[i] <= 'z' {
			r[i] -= 'a' - 'A'
		}
	}
	return string(r)
}

// TestSearchDecomposedReindex: on PostgreSQL, the migration that composes
// text before indexing indexes again what the old function had split
// (a database that took NFD mail before it).
func TestSearchDecomposedReindex(t *testing.T) {
	s := storetest.Open(t, store.Postgres)
	ctx := context.Background()
	f := newSearchFixture(t, s)
	nfd := norm.NFD.String("Manutenção do café")
	db := s.DB()
	if _, err := db.NewRaw("UPDATE tickets SET subject = ? WHERE id = ?", nfd, f.password.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	// The index as the function before 20261204000030 wrote it.
	old := `setweight(to_tsvector('sd_portuguese', regexp_replace(left(coalesce(t.subject, ''), 100000), '[[:punct:]]+', ' ', 'g')), 'A') ||
		setweight(to_tsvector('sd_portuguese', regexp_replace(left(coalesce(t.description, ''), 100000), '[[:punct:]]+', ' ', 'g')), 'B')`
	if _, err := db.NewRaw("UPDATE ticket_search s SET doc = "+old+" FROM tickets t WHERE s.unit_id = t.id * 4 + 1 AND t.id = ?", f.password.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	find := func() []int64 {
		return hitNumbers(search(t, s, store.AllCompanies(), store.SearchFilter{Text: "manutenção", WithInternal: true}))
	}
	if got := find(); len(got) != 0 {
		t.Fatalf("the old index found the decomposed subject: %v", got)
	}
	sql, err := os.ReadFile("migrations/postgres/20261204000030_search_nfc.tx.up.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range strings.Split(string(sql), "--bun:split")[1:] {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	if got, want := find(), numbers(f.password); !sameSet(got, want) {
		t.Fatalf("after the migration: %v, want %v", got, want)
	}
}
