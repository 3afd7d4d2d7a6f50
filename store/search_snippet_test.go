package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
)

// TestSearchSnippetMarksFoldedMatches: the snippet marks the words the
// search matched, as written, on both databases, where the index found
// them through accent folding, a prefix or a phrase, and inside host
// names and paths (which PostgreSQL's ts_headline left unmarked); the
// quote keeps the text at its edges.
func TestSearchSnippetMarksFoldedMatches(t *testing.T) {
	cases := []struct {
		name, subject, query string
		marked               []string
		text                 string // the whole snippet, when the subject is short
	}{
		{"accent folded", "Impressão falhando", "impressao", []string{"Impressão"}, "Impressão falhando"},
		{"accent in the query", "A impressao saiu borrada", "impressão", []string{"impressao"}, "A impressao saiu borrada"},
		{"upper case, punctuation kept", "IMPRESSÃO!!!", "impressão", []string{"IMPRESSÃO"}, "IMPRESSÃO!!!"},
		{"host name", "Acesse www.impressão.com.br para a segunda via", "impressao", []string{"impressão"},
			"Acesse www.impressão.com.br para a segunda via"},
		{"path", "Salvei em /dados/impressão/relatorio ontem", "impressao", []string{"impressão"},
			"Salvei em /dados/impressão/relatorio ontem"},
		{"file name", "Arquivo impressão.txt anexado", "impressao", []string{"impressão"}, "Arquivo impressão.txt anexado"},
		{"prefix", "A impressora parou de novo", "impres", []string{"impressora"}, "A impressora parou de novo"},
		{"phrase", "Emissão da Nota Fiscal eletrônica", `"nota fiscal"`, []string{"Nota", "Fiscal"}, "Emissão da Nota Fiscal eletrônica"},
		{"two words", "Usuário bloqueado após a troca de senha", "usuario senha", []string{"Usuário", "senha"},
			"Usuário bloqueado após a troca de senha"},
	}
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		scopes := make([]store.Scope, len(cases))
		err := s.InTx(ctx, func(q *store.Q) error {
			for i, c := range cases {
				co := &store.Company{Name: fmt.Sprintf("Empresa %d", i)}
				if err := q.CreateCompany(ctx, co); err != nil {
					return err
				}
				cid := co.ID
				u := &store.User{Email: fmt.Sprintf("c%d@empresa.example", i), Name: "Cliente", Role: store.RoleClient, CompanyID: &cid}
				if err := q.CreateUser(ctx, u); err != nil {
					return err
				}
				n, err := q.NextTicketNumber(ctx)
				if err != nil {
					return err
				}
				tk := &store.Ticket{Number: n, CompanyID: cid, RequesterID: u.ID, Priority: store.PriorityNormal,
					Status: store.StatusNew, Subject: c.subject, Source: store.SourceWeb}
				if err := q.CreateTicket(ctx, tk); err != nil {
					return err
				}
				scopes[i] = store.CompanyScope(cid)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range cases {
			hits := search(t, s, scopes[i], store.SearchFilter{Text: c.query})
			if len(hits) != 1 {
				t.Errorf("%s: %q found %d tickets, want 1", c.name, c.query, len(hits))
				continue
			}
			var marked []string
			for _, p := range hits[0].Snippet {
				if p.Match {
					marked = append(marked, p.Text)
				}
			}
			if !slices.Equal(marked, c.marked) || hits[0].SnippetText() != c.text {
				t.Errorf("%s: %q snippet %+v, want %q marked in %q", c.name, c.query, hits[0].Snippet, c.marked, c.text)
			}
		}
	})
}
