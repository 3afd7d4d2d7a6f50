package ticketing_test

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// storeMail records an ingested mail of ticket tk (the opening when
// commentID is nil) and returns its id.
func storeMail(t *testing.T, st *store.Store, tk *store.Ticket, commentID *int64, raw string) int64 {
	t.Helper()
	m := &store.MailMessage{MessageID: "<" + raw[:8] + "@x>", ContentHash: raw, Source: "pipe", FromAddr: "maria@acme.example",
		Subject: "s", Kind: "human", Action: store.MailTicket, TicketID: &tk.ID, CommentID: commentID,
		RawSize: int64(len(raw)), RawGz: store.Gzip([]byte(raw))}
	if commentID != nil {
		m.Action = store.MailComment
	}
	if err := st.InTx(context.Background(), func(q *store.Q) error { return q.InsertMailMessage(context.Background(), m) }); err != nil {
		t.Fatal(err)
	}
	return m.ID
}

func TestMailSourceIsStaffOnlyAndOfTheTicket(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		tk := w.create(t)
		other, err := w.svc.Create(ctx, w.outsider, ticketing.CreateInput{Requester: w.outsider, Subject: "Outro", Body: "x"})
		if err != nil {
			t.Fatal(err)
		}
		opening := storeMail(t, st, tk, nil, "From: maria@acme.example\r\n\r\nopening message\r\n")
		foreign := storeMail(t, st, other, nil, "From: eve@globex.example\r\n\r\nnot yours either\r\n")
		for _, tc := range []struct {
			name   string
			actor  *store.User
			number int64
			id     int64
			ok     bool
		}{
			{"tech gets the opening mail", w.tech, tk.Number, opening, true},
			{"admin too", w.admin, tk.Number, opening, true},
			{"the requester is told nothing is there", w.client, tk.Number, opening, false},
			{"a colleague of a sharing company neither", w.colleague, tk.Number, opening, false},
			{"another company's mail through this ticket", w.tech, tk.Number, foreign, false},
			{"another company's requester", w.outsider, other.Number, foreign, false},
			{"an id that does not exist", w.tech, tk.Number, foreign + 100, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				m, raw, err := w.svc.MailSource(ctx, tc.actor, tc.number, tc.id)
				if !tc.ok {
					if !errors.Is(err, ticketing.ErrNotFound) || raw != nil {
						t.Fatalf("got %d bytes, %v; want ErrNotFound", len(raw), err)
					}
					return
				}
				if err != nil || m.ID != tc.id || !strings.Contains(string(raw), "opening message") {
					t.Fatalf("%v %q %v", m, raw, err)
				}
			})
		}
		if _, err := w.svc.TicketMails(ctx, w.client, tk.Number); !errors.Is(err, ticketing.ErrNotFound) {
			t.Fatalf("requester lists mails: %v", err)
		}
	})
}

func TestStatusHistoryHidesTheInternalSide(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		tk := w.create(t)
		if _, err := w.svc.Assign(ctx, w.tech, tk.Number, w.tech); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Comment(ctx, w.tech, tk.Number, ticketing.CommentInput{Body: "Vou verificar."}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.SetStatus(ctx, w.tech, tk.Number, store.StatusResolved, ticketing.StatusInput{Solution: "Troquei o toner."}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.SetStatus(ctx, w.tech, tk.Number, store.StatusClosed, ticketing.StatusInput{Reason: "motivo interno",
			Evaluation: "avaliação secreta do técnico", Classification: "tecnico"}); err != nil {
			t.Fatal(err)
		}
		steps := func(h []ticketing.StatusChange) string {
			var s []string
			for _, c := range h {
				s = append(s, c.From+">"+c.To+"|"+c.Actor+"|"+c.Reason)
			}
			return strings.Join(s, " ")
		}
		for _, tc := range []struct {
			name  string
			actor *store.User
			want  string
		}{
			{"staff see the close reason", w.tech,
				">new|maria@acme.example| new>open|tech@helpdesk.example| open>resolved|tech@helpdesk.example|Troquei o toner. resolved>closed|tech@helpdesk.example|motivo interno"},
			{"the requester does not", w.client,
				">new|maria@acme.example| new>open|tech@helpdesk.example| open>resolved|tech@helpdesk.example|Troquei o toner. resolved>closed|tech@helpdesk.example|"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				h, err := w.svc.StatusHistory(ctx, tc.actor, tk.Number)
				if err != nil {
					t.Fatal(err)
				}
				if got := steps(h); got != tc.want {
					t.Fatalf("got  %s\nwant %s", got, tc.want)
				}
				for _, c := range h {
					if strings.Contains(c.Reason, "avaliação") {
						t.Fatalf("the evaluation leaked: %+v", c)
					}
				}
			})
		}
		if _, err := w.svc.StatusHistory(ctx, w.outsider, tk.Number); !errors.Is(err, ticketing.ErrNotFound) && !errors.Is(err, ticketing.ErrNotAllowed) {
			t.Fatalf("another company's requester: %v", err)
		}
	})
}

func TestRequesterRecent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		var all []*store.Ticket
		for range 7 {
			all = append(all, w.create(t))
		}
		cur := all[3]
		got, err := w.svc.RequesterRecent(ctx, w.tech, cur.Number, 5)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 5 {
			t.Fatalf("%d tickets, want 5", len(got))
		}
		for _, o := range got {
			if o.ID == cur.ID || o.RequesterID != w.client.ID {
				t.Fatalf("listed %d of requester %d", o.Number, o.RequesterID)
			}
		}
		if _, err := w.svc.RequesterRecent(ctx, w.outsider, cur.Number, 5); err == nil {
			t.Fatal("another company's requester saw the list")
		}
	})
}

func TestAssets(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		if _, err := w.svc.CreateAsset(ctx, w.tech, ticketing.AssetInput{Company: "Acme", Name: "NB"}); !errors.Is(err, ticketing.ErrNotAllowed) {
			t.Fatalf("a tech added an asset: %v", err)
		}
		if _, err := w.svc.CreateAsset(ctx, w.admin, ticketing.AssetInput{Company: "Acme", Name: "  "}); !errors.Is(err, ticketing.ErrInvalid) {
			t.Fatalf("no name: %v", err)
		}
		nb, err := w.svc.CreateAsset(ctx, w.admin, ticketing.AssetInput{Company: "Acme", Name: " Notebook  da recepção ", Tag: "NB-1"})
		if err != nil || nb.Name != "Notebook da recepção" || nb.CompanyID != w.acme.ID {
			t.Fatalf("%+v %v", nb, err)
		}
		if _, err := w.svc.CreateAsset(ctx, w.superv, ticketing.AssetInput{Company: "Acme", Name: "Outro", Tag: "nb-1"}); !errors.Is(err, ticketing.ErrConflict) {
			t.Fatalf("the same tag twice: %v", err)
		}
		gx, err := w.svc.CreateAsset(ctx, w.superv, ticketing.AssetInput{Company: "Globex", Name: "Impressora"})
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name    string
			actor   *store.User
			company int64
			want    []int64
		}{
			{"staff, every company", w.tech, 0, []int64{nb.ID, gx.ID}},
			{"staff, one company", w.tech, w.globex.ID, []int64{gx.ID}},
			{"a requester: their company's only", w.client, w.globex.ID, []int64{nb.ID}},
			{"the other requester", w.outsider, 0, []int64{gx.ID}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				as, err := w.svc.Assets(ctx, tc.actor, tc.company)
				if err != nil {
					t.Fatal(err)
				}
				var ids []int64
				for _, a := range as {
					ids = append(ids, a.ID)
				}
				slices.Sort(ids)
				if !slices.Equal(ids, tc.want) {
					t.Fatalf("got %v, want %v", ids, tc.want)
				}
			})
		}
		// A ticket is about its own company's equipment only.
		if _, err := w.svc.Create(ctx, w.client, ticketing.CreateInput{Requester: w.client, Subject: "x", Body: "y",
			Asset: itoa(gx.ID)}); !errors.Is(err, ticketing.ErrInvalid) {
			t.Fatalf("another company's asset on create: %v", err)
		}
		tk, err := w.svc.Create(ctx, w.client, ticketing.CreateInput{Requester: w.client, Subject: "x", Body: "y", Asset: itoa(nb.ID)})
		if err != nil || tk.AssetID == nil || *tk.AssetID != nb.ID {
			t.Fatalf("%+v %v", tk, err)
		}
		bad := itoa(gx.ID)
		if _, err := w.svc.Update(ctx, w.tech, tk.Number, ticketing.UpdateInput{Asset: &bad}); !errors.Is(err, ticketing.ErrInvalid) {
			t.Fatalf("another company's asset on update: %v", err)
		}
		none := ""
		up, err := w.svc.Update(ctx, w.tech, tk.Number, ticketing.UpdateInput{Asset: &none})
		if err != nil || up.AssetID != nil {
			t.Fatalf("clear: %+v %v", up, err)
		}
		if _, err := w.svc.Update(ctx, w.client, tk.Number, ticketing.UpdateInput{Asset: &none}); !errors.Is(err, ticketing.ErrNotAllowed) {
			t.Fatalf("a requester changed the asset: %v", err)
		}
		log, err := st.R().AuditLog(ctx, "ticket", tk.ID)
		if err != nil {
			t.Fatal(err)
		}
		last := log[len(log)-1]
		if last.Action != "update" || !strings.Contains(last.Before, `"asset_id":`+itoa(nb.ID)) || !strings.Contains(last.After, `"asset_id":null`) {
			t.Fatalf("audit %s %s %s", last.Action, last.Before, last.After)
		}
	})
}

func TestReplyRecipients(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		var told []string
		w := newWorld(t, st)
		w.svc = ticketing.NewService(st, ticketing.WithTxHook(func(ctx context.Context, tx *ticketing.Tx, ev ticketing.Event) error {
			if ev.Kind != ticketing.EventCommented {
				return nil
			}
			ns, err := tx.Notices(ctx, ev, ticketing.NotifyConfig{})
			for _, n := range ns {
				told = append(told, n.Address)
			}
			return err
		}))
		// A third Acme person, not on the ticket yet.
		var ana *store.User
		if err := st.InTx(ctx, func(q *store.Q) error {
			id := w.acme.ID
			ana = &store.User{Email: "ana@acme.example", Name: "Ana", Role: store.RoleClient, CompanyID: &id}
			return q.CreateUser(ctx, ana)
		}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name       string
			actor      *store.User
			internal   bool
			rcpt       *ticketing.ReplyRecipients
			want       string // who is told, sorted
			err        error
			followsAna bool
		}{
			{"no choice: everyone who follows", w.tech, false, nil, "joao@acme.example maria@acme.example", nil, false},
			{"the requester only", w.tech, false, &ticketing.ReplyRecipients{To: []string{"Maria@Acme.example"}}, "maria@acme.example", nil, false},
			{"nobody outside", w.tech, false, &ticketing.ReplyRecipients{To: []string{}}, "", nil, false},
			{"a typed outsider: this reply only", w.tech, false,
				&ticketing.ReplyRecipients{To: []string{}, Cc: []string{"fornecedor@outside.example"}}, "fornecedor@outside.example", nil, false},
			{"a typed colleague follows from now on", w.tech, false,
				&ticketing.ReplyRecipients{To: []string{"maria@acme.example"}, Cc: []string{"ana@acme.example"}}, "ana@acme.example maria@acme.example", nil, true},
			{"another company's user as To", w.tech, false, &ticketing.ReplyRecipients{To: []string{"eve@globex.example"}}, "", ticketing.ErrInvalid, false},
			{"a bad address", w.tech, false, &ticketing.ReplyRecipients{Cc: []string{"not an address"}}, "", ticketing.ErrInvalid, false},
			{"an internal note picks nobody", w.tech, true, &ticketing.ReplyRecipients{To: []string{"maria@acme.example"}}, "", ticketing.ErrInvalid, false},
			{"a requester picks nobody", w.client, false, &ticketing.ReplyRecipients{To: []string{"joao@acme.example"}}, "", ticketing.ErrInvalid, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				tk := w.create(t)
				if err := w.svc.AddParticipant(ctx, w.tech, tk.Number, w.colleague); err != nil {
					t.Fatal(err)
				}
				told = nil
				_, err := w.svc.Comment(ctx, tc.actor, tk.Number, ticketing.CommentInput{Body: "Resposta", Internal: tc.internal, Recipients: tc.rcpt})
				if tc.err != nil {
					if !errors.Is(err, tc.err) {
						t.Fatalf("err %v, want %v", err, tc.err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				var outside []string
				for _, a := range told {
					if !strings.HasSuffix(a, "@helpdesk.example") {
						outside = append(outside, a)
					}
				}
				sort.Strings(outside)
				if got := strings.Join(outside, " "); got != tc.want {
					t.Fatalf("told %q, want %q", got, tc.want)
				}
				follows, err := st.R().IsParticipant(ctx, tk.ID, ana.ID)
				if err != nil || follows != tc.followsAna {
					t.Fatalf("ana follows: %v %v", follows, err)
				}
				ext, err := st.R().UserByEmail(ctx, store.AllCompanies(), "fornecedor@outside.example")
				if err == nil {
					t.Fatalf("a typed address became an account: %+v", ext)
				}
			})
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// BenchmarkTicketPageReads is what the ticket page now reads besides the
// conversation, for a ticket of 50 comments (one audit row each): the
// status history, the original mails and the requester's other tickets.
//
//	go test ./ticketing -run '^$' -bench TicketPageReads -benchtime 2s
func BenchmarkTicketPageReads(b *testing.B) {
	eachDB(b, func(b *testing.B, w *world) {
		ctx := context.Background()
		tk := w.create(b)
		for range 5 {
			w.create(b)
		}
		for i := range 50 {
			if _, err := w.svc.Comment(ctx, w.tech, tk.Number, ticketing.CommentInput{Body: "comentário " + strconv.Itoa(i)}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if h, err := w.svc.StatusHistory(ctx, w.tech, tk.Number); err != nil || len(h) != 2 {
				b.Fatalf("%v %v", h, err)
			}
			if _, err := w.svc.TicketMails(ctx, w.tech, tk.Number); err != nil {
				b.Fatal(err)
			}
			if r, err := w.svc.RequesterRecent(ctx, w.tech, tk.Number, 5); err != nil || len(r) != 5 {
				b.Fatalf("%d %v", len(r), err)
			}
		}
	})
}
