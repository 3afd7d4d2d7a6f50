package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// TestTicketPageShowsSenderAuthentication: a mail-originated message
// carries a badge saying whether its sender was verified; mail from
// before the check, and messages typed in the portal, carry none.
func TestTicketPageShowsSenderAuthentication(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newTicketWorld(t, st)
		ctx := context.Background()
		tk, err := w.svc.Create(ctx, w.client, ticketing.CreateInput{Requester: w.client, Subject: "Impressora", Body: "por mail", Source: store.SourceEmail})
		if err != nil {
			t.Fatal(err)
		}
		c, err := w.svc.Comment(ctx, w.tech, tk.Number, ticketing.CommentInput{Body: "resposta por mail", Source: store.SourceEmail})
		if err != nil {
			t.Fatal(err)
		}
		mailRow := func(hash string, commentID *int64, action, verdict string) {
			t.Helper()
			err := st.InTx(ctx, func(q *store.Q) error {
				m := &store.MailMessage{ContentHash: hash, Source: "smtp", Action: action, RawGz: store.Gzip([]byte("x")), ReceivedAt: time.Now(),
					TicketID: &tk.ID, CommentID: commentID, AuthVerdict: verdict, AuthSummary: "dkim=none; dmarc=none header.from=acme.example"}
				return q.InsertMailMessage(ctx, m)
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		res := w.get("/tickets/"+num(tk.Number), w.signIn(w.tech))
		if strings.Contains(res.Body, "Remetente") {
			t.Fatal("a badge before any mail was checked")
		}
		mailRow("h-open", nil, store.MailTicket, store.MailAuthNone)
		mailRow("h-reply", &c.ID, store.MailComment, store.MailAuthPass)
		for _, u := range []*store.User{w.client, w.tech} {
			res := w.get("/tickets/"+num(tk.Number), w.signIn(u))
			expect(t, "page", res, 200, "", "Remetente verificado", "Remetente não verificado", `title="dkim=none; dmarc=none header.from=acme.example"`)
			if n := strings.Count(res.Body, "Remetente "); n != 2 {
				t.Errorf("%s: %d badges, want 2", u.Email, n)
			}
		}
	})
}
