package ticketing_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
)

// TestAnonymizeScrubsUnrenderedOutbox: a mail queued but not rendered yet
// keeps what it is composed of (names, comment text) in render_input
// (mailbox/outbound). Erasure takes the person out of it as out of raw,
// leaves it readable, and leaves others' unrendered mail alone.
func TestAnonymizeScrubsUnrenderedOutbox(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := newWorld(t, s)
		p := seedTitular(t, w)
		email := p.u.Email
		input := func(to, name, comment string) string {
			b, err := json.Marshal(map[string]any{"v": 1, "data": map[string]any{
				"Event": "commented", "To": []map[string]string{{"Name": name, "Email": to}},
				"RequesterName": "João Colega", "ActorName": titularName,
				"CommentText": comment, "CommentHTML": "<p>" + comment + "</p>",
			}})
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
		otherID, unrelatedID := p.other.ID, p.unrelated.ID
		theirs := &store.OutboxMail{TicketID: &otherID, Event: "commented", MailFrom: "suporte@helpdesk.example", Recipients: w.tech.Email,
			Subject: "[#1] Rede lenta", MessageID: "jc.1@helpdesk.example",
			RenderInput: input(w.tech.Email, "Técnico", "Também aqui "+titularPhrase+" & <mais> — escreva para "+email)}
		others := &store.OutboxMail{TicketID: &unrelatedID, Event: "commented", MailFrom: "suporte@helpdesk.example", Recipients: w.outsider.Email,
			Subject: "[#3] Sem relação", MessageID: "jc.2@helpdesk.example", RenderInput: input(w.outsider.Email, "Eve", "nada a ver")}
		if err := s.InTx(ctx, func(q *store.Q) error {
			if err := q.EnqueueMail(ctx, theirs); err != nil {
				return err
			}
			return q.EnqueueMail(ctx, others)
		}); err != nil {
			t.Fatal(err)
		}

		if _, err := w.svc.Anonymize(ctx, w.admin, p.u.ID, false); err != nil {
			t.Fatal(err)
		}
		got, err := s.R().OutboxGet(ctx, theirs.ID)
		if err != nil {
			t.Fatalf("the tech's mail about a ticket they took part in: %v", err)
		}
		for _, n := range []string{titularName, titularPhrase, email} {
			if strings.Contains(strings.ToLower(got.RenderInput), strings.ToLower(n)) {
				t.Errorf("render_input still holds %q: %s", n, got.RenderInput)
			}
		}
		var v struct {
			V    int `json:"v"`
			Data struct {
				CommentText string
				To          []struct{ Name, Email string }
			} `json:"data"`
		}
		if err := json.Unmarshal([]byte(got.RenderInput), &v); err != nil || v.V != 1 || len(v.Data.To) != 1 || v.Data.To[0].Email != w.tech.Email {
			t.Fatalf("render_input unreadable after erasure (%v): %s", err, got.RenderInput)
		}
		if !strings.Contains(v.Data.CommentText, "& <mais>") || got.Rendered() {
			t.Errorf("erasure took more than theirs, or made bytes: comment %q, raw %d bytes", v.Data.CommentText, len(got.Raw))
		}
		kept, err := s.R().OutboxGet(ctx, others.ID)
		if err != nil || kept.RenderInput != others.RenderInput {
			t.Errorf("others' unrendered mail changed: %v\n%s", err, kept.RenderInput)
		}
	})
}
