package outbound_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/jcservicedesk/servicedesk/mailbox/compose"
	"github.com/jcservicedesk/servicedesk/mailbox/outbound"
	"github.com/jcservicedesk/servicedesk/mailbox/thread"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// queued returns the outbox rows queued since the last take, as stored:
// not rendered.
func (d *desk) queued() []*store.OutboxMail {
	d.t.Helper()
	ms, err := d.st.R().OutboxList(context.Background(), store.OutboxFilter{Limit: 1000})
	if err != nil {
		d.t.Fatal(err)
	}
	var out []*store.OutboxMail
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].ID > d.sent {
			m, err := d.st.R().OutboxGet(context.Background(), ms[i].ID)
			if err != nil {
				d.t.Fatal(err)
			}
			out = append(out, m)
			d.sent = ms[i].ID
		}
	}
	return out
}

// TestQueuedUnrendered: the transaction of a change writes the row with
// what was decided (recipient, Message-ID, subject, threading) and no
// bytes; rendering after commit, by this or any other process (a crash
// between commit and render loses nothing), gives a mail that carries
// exactly that Message-ID and subject, the same bytes each time.
func TestQueuedUnrendered(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		d := newDesk(t, st)
		out := d.deliver("From: Maria <maria@acme.example>\r\nTo: support@helpdesk.example\r\nSubject: Impressora não imprime\r\nMessage-ID: <unr-1@acme.example>\r\n\r\nDesde ontem.\r\n")
		if out.Action != "ticket" {
			t.Fatalf("outcome %+v", out)
		}
		if _, err := d.svc.Comment(ctx, d.tech, out.TicketNum, ticketing.CommentInput{Body: "Reinicie o spooler, Maria."}); err != nil {
			t.Fatal(err)
		}
		rows := d.queued()
		if len(rows) != 2 {
			t.Fatalf("queued %d rows, want the acknowledgement and the reply", len(rows))
		}
		// Another process, as after a restart: the same configuration.
		other := outbound.New(outbound.Config{
			From: compose.Address{Name: "Suporte JC", Email: "support@helpdesk.example"}, ReplyBase: "support@helpdesk.example",
			PublicURL: "https://helpdesk.example", Secret: secret, LoopValue: "helpdesk.example", Lang: "pt-BR",
		}, mustComposer(t), slog.New(slog.NewTextHandler(io.Discard, nil)))
		for _, m := range rows {
			if m.Rendered() || m.RenderInput == "" || m.MessageID == "" || m.Subject == "" || !strings.HasPrefix(m.MessageID, "jc.") {
				t.Fatalf("row %d as queued: rendered %v, input %d bytes, id %q, subject %q", m.ID, m.Rendered(), len(m.RenderInput), m.MessageID, m.Subject)
			}
			raw, subject, err := d.ob.Render(m)
			if err != nil {
				t.Fatal(err)
			}
			again, _, err := other.Render(m)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(raw, again) {
				t.Errorf("row %d renders differently in another process", m.ID)
			}
			h := header(t, raw)
			if id, _ := h.MessageID(); id != m.MessageID {
				t.Errorf("row %d: Message-ID %q, decided %q", m.ID, id, m.MessageID)
			}
			if s, _ := h.Subject(); s != m.Subject || subject != m.Subject {
				t.Errorf("row %d: subject %q (Render says %q), decided %q", m.ID, s, subject, m.Subject)
			}
			if to, _ := h.AddressList("To"); len(to) != 1 || to[0].Address != m.Recipients {
				t.Errorf("row %d: To %v, row to %q", m.ID, to, m.Recipients)
			}
		}
		// Threading was decided in the transaction: a reply quoting the
		// reply's id lands on the ticket.
		ref, err := st.R().FindMessageRef(ctx, []string{thread.NormalizeID(rows[1].MessageID)})
		if err != nil || ref.TicketID == 0 {
			t.Fatalf("message ref of the queued reply: %+v %v", ref, err)
		}
	})
}

// TestRenderUsesTheOverrideOfTheTransaction: an override set after the
// change committed does not change a mail queued before; a broken input
// fails as ErrRender.
func TestRenderUsesTheOverrideOfTheTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		d := newDesk(t, st)
		set := func(text string) {
			t.Helper()
			if err := st.InTx(ctx, func(q *store.Q) error {
				return q.SetEmailTemplate(ctx, &store.EmailTemplate{Event: ticketing.NoticeAck, Language: "pt-BR", BodyText: text})
			}); err != nil {
				t.Fatal(err)
			}
		}
		set("Versão A do aviso.")
		d.deliver("From: maria@acme.example\r\nTo: support@helpdesk.example\r\nSubject: Versões\r\nMessage-ID: <ver-1@acme.example>\r\n\r\nOi.\r\n")
		rows := d.queued()
		if len(rows) != 1 {
			t.Fatalf("queued %d rows", len(rows))
		}
		set("Versão B do aviso.")
		raw, _, err := d.ob.Render(rows[0])
		if err != nil {
			t.Fatal(err)
		}
		if text := textPart(t, raw); !strings.Contains(text, "Versão A") {
			t.Errorf("rendered with another override than the transaction's:\n%s", text)
		}

		broken := *rows[0]
		broken.RenderInput = `{"v":1,"data":{"Event":"no_such_event"}}`
		if _, _, err := d.ob.Render(&broken); !errors.Is(err, outbound.ErrRender) {
			t.Errorf("unknown event: %v, want ErrRender", err)
		}
		broken.RenderInput = `{"v":`
		if _, _, err := d.ob.Render(&broken); !errors.Is(err, outbound.ErrRender) || !strings.Contains(err.Error(), "unreadable") {
			t.Errorf("truncated input: %v, want ErrRender", err)
		}
	})
}

func mustComposer(t testing.TB) *compose.Composer {
	t.Helper()
	c, err := compose.New()
	if err != nil {
		t.Fatal(err)
	}
	return c
}
