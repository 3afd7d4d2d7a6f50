package ticketing_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// TestSendChat: a chat message is a comment with source chat, under the
// comment rules (policy, closed tickets, internal notes), so the SLA's
// first response, the events and the audit see it.
func TestSendChat(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		tk := w.create(t)

		_, c, err := w.svc.SendChat(ctx, w.client, tk.Number, ticketing.ChatInput{Text: "  Oi, alguém aí?\r\nVeja https://exemplo.com\x07  "})
		if err != nil {
			t.Fatal(err)
		}
		if c.Source != store.SourceChat || c.Internal || c.BodyText != "Oi, alguém aí?\nVeja https://exemplo.com" {
			t.Fatalf("the requester's chat comment is %+v", c)
		}
		last := w.events[len(w.events)-1]
		if last.Kind != ticketing.EventCommented || last.Comment.ID != c.ID {
			t.Fatalf("the last event is %s", last.Kind)
		}

		got, c2, err := w.svc.SendChat(ctx, w.tech, tk.Number, ticketing.ChatInput{Text: "Estou vendo."})
		if err != nil {
			t.Fatal(err)
		}
		if got.FirstResponseAt == nil || !got.FirstResponseAt.Equal(c2.CreatedAt) || got.Status != store.StatusOpen {
			t.Fatalf("after staff's first chat message the ticket is %s with first response %v", got.Status, got.FirstResponseAt)
		}
		if _, _, err := w.svc.SendChat(ctx, w.tech, tk.Number, ticketing.ChatInput{Text: "só a equipe vê", Internal: true}); err != nil {
			t.Fatal(err)
		}
		v, err := w.svc.Get(ctx, w.client, tk.Number)
		if err != nil {
			t.Fatal(err)
		}
		var texts []string
		for _, c := range v.Comments {
			texts = append(texts, c.BodyText)
		}
		if len(v.Comments) != 2 || strings.Contains(strings.Join(texts, "|"), "só a equipe") {
			t.Fatalf("the requester sees %q", texts)
		}
		es, err := st.R().AuditLog(ctx, "ticket", tk.ID)
		if err != nil {
			t.Fatal(err)
		}
		chats := 0
		for _, e := range es {
			if e.Action == "comment" && strings.Contains(e.After, `"source":"chat"`) {
				chats++
			}
		}
		if chats != 3 {
			t.Errorf("%d audit rows of chat comments, want 3", chats)
		}
	})
}

// TestSendChatRefusals: the rules of comments hold for chat messages.
func TestSendChatRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		tk := w.create(t)
		closed := w.create(t)
		if _, err := w.svc.SetStatus(ctx, w.admin, closed.Number, store.StatusOpen, ticketing.StatusInput{}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.SetStatus(ctx, w.admin, closed.Number, store.StatusClosed, ticketing.StatusInput{
			Reason: "feito", Evaluation: "ok", Classification: "tecnico"}); err != nil {
			t.Fatal(err)
		}
		long := strings.Repeat("a", ticketing.MaxChatText+1)
		for _, c := range []struct {
			name   string
			actor  *store.User
			number int64
			in     ticketing.ChatInput
			want   error
		}{
			{"empty", w.client, tk.Number, ticketing.ChatInput{Text: " \n\t "}, ticketing.ErrInvalid},
			{"too long", w.client, tk.Number, ticketing.ChatInput{Text: long}, ticketing.ErrInvalid},
			{"not UTF-8", w.client, tk.Number, ticketing.ChatInput{Text: "\xff\xfe"}, ticketing.ErrInvalid},
			{"requester marks it internal", w.client, tk.Number, ticketing.ChatInput{Text: "oi", Internal: true}, ticketing.ErrNotAllowed},
			{"another company's ticket", w.outsider, tk.Number, ticketing.ChatInput{Text: "oi"}, ticketing.ErrNotFound},
			{"closed ticket", w.client, closed.Number, ticketing.ChatInput{Text: "oi"}, ticketing.ErrInvalid},
			{"internal without a ticket", w.tech, 0, ticketing.ChatInput{Text: "oi", Internal: true}, ticketing.ErrInvalid},
		} {
			t.Run(c.name, func(t *testing.T) {
				if _, _, err := w.svc.SendChat(ctx, c.actor, c.number, c.in); !errors.Is(err, c.want) {
					t.Fatalf("got %v, want %v", err, c.want)
				}
			})
		}
	})
}

// TestSendChatOpensTicket: a message without a ticket opens one, as any
// new ticket is opened (audit, event), named after its first line.
func TestSendChatOpensTicket(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		text := strings.Repeat("Impressora ", 10) + "\nsegunda linha"
		tk, c, err := w.svc.SendChat(ctx, w.client, 0, ticketing.ChatInput{Text: text})
		if err != nil {
			t.Fatal(err)
		}
		if c != nil || tk.Description != text || tk.Status != store.StatusNew || tk.Source != store.SourceWeb || tk.CompanyID != w.acme.ID {
			t.Fatalf("opened %+v (comment %v)", tk, c)
		}
		if want := strings.TrimSpace(strings.Repeat("Impressora ", 7)) + "…"; tk.Subject != want {
			t.Errorf("subject %q, want %q", tk.Subject, want)
		}
		if last := w.events[len(w.events)-1]; last.Kind != ticketing.EventCreated || last.Ticket.ID != tk.ID {
			t.Errorf("the last event is %s", last.Kind)
		}
		es, err := st.R().AuditLog(ctx, "ticket", tk.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(es) == 0 || es[len(es)-1].Action != "create" && es[0].Action != "create" {
			t.Errorf("no create audit row: %+v", es)
		}
		// Short first lines are the subject as they are.
		tk2, _, err := w.svc.SendChat(ctx, w.client, 0, ticketing.ChatInput{Text: "VPN caiu\ndetalhes"})
		if err != nil {
			t.Fatal(err)
		}
		if tk2.Subject != "VPN caiu" {
			t.Errorf("subject %q", tk2.Subject)
		}
	})
}

// TestSplitChatComment: a chat comment split into its own ticket makes a
// web ticket (tickets have no chat source).
func TestSplitChatComment(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		tk := w.create(t)
		_, c, err := w.svc.SendChat(ctx, w.client, tk.Number, ticketing.ChatInput{Text: "Outro assunto: o monitor"})
		if err != nil {
			t.Fatal(err)
		}
		nt, err := w.svc.SplitComment(ctx, w.admin, c.ID, "Monitor")
		if err != nil {
			t.Fatal(err)
		}
		if nt.Source != store.SourceWeb {
			t.Errorf("the split ticket's source is %q", nt.Source)
		}
	})
}

// TestChatTickets: requesters list their own tickets; staff the ones in
// progress.
func TestChatTickets(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		mine := w.create(t)
		theirs, err := w.svc.Create(ctx, w.colleague, ticketing.CreateInput{Requester: w.colleague, Subject: "Do João", Body: "x"})
		if err != nil {
			t.Fatal(err)
		}
		ts, err := w.svc.ChatTickets(ctx, w.client)
		if err != nil {
			t.Fatal(err)
		}
		if len(ts) != 1 || ts[0].ID != mine.ID {
			t.Errorf("the requester's chat lists %d tickets", len(ts))
		}
		ts, err = w.svc.ChatTickets(ctx, w.tech)
		if err != nil {
			t.Fatal(err)
		}
		if len(ts) != 2 || ts[0].ID != theirs.ID {
			t.Errorf("the tech's chat lists %d tickets", len(ts))
		}
		if _, err := w.svc.Viewable(ctx, w.outsider, mine.Number); !errors.Is(err, ticketing.ErrNotFound) {
			t.Errorf("an outsider views the ticket: %v", err)
		}
		if _, err := w.svc.Viewable(ctx, w.colleague, mine.Number); err != nil {
			t.Errorf("a colleague of a sharing company cannot view it: %v", err)
		}
	})
}

// TestChatSeenByEverything: search and the requester's data export find
// a chat message like any comment.
func TestChatSeenByEverything(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		tk := w.create(t)
		if _, _, err := w.svc.SendChat(ctx, w.client, tk.Number, ticketing.ChatInput{Text: "O roteador zumbificado reinicia"}); err != nil {
			t.Fatal(err)
		}
		hits, err := w.svc.Search(ctx, w.tech, "zumbificado", store.TicketFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) != 1 || hits[0].Ticket.ID != tk.ID {
			t.Errorf("search finds %d tickets for a word of the chat", len(hits))
		}
		x, err := w.svc.Export(ctx, w.client, w.client.ID)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, c := range x.Comments {
			found = found || c.Source == store.SourceChat && strings.Contains(c.Body, "zumbificado")
		}
		if !found {
			t.Error("the export lacks the chat message")
		}
	})
}
