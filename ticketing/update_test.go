package ticketing_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

func ptr[T any](v T) *T { return &v }

// TestUpdate: priority, subject and category change in one audited step
// under ActEdit; a client may not, a bad value changes nothing.
func TestUpdate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		tk := w.create(t)
		hw, err := w.svc.CreateCategory(ctx, w.admin, "Hardware", "")
		if err != nil {
			t.Fatal(err)
		}
		pr, err := w.svc.CreateCategory(ctx, w.admin, "Impressora", "Hardware")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Update(ctx, w.client, tk.Number, ticketing.UpdateInput{Priority: ptr("urgent")}); !errors.Is(err, ticketing.ErrNotAllowed) {
			t.Fatalf("client update: %v", err)
		}
		for _, in := range []ticketing.UpdateInput{
			{Priority: ptr("panic")}, {Subject: ptr("  ")}, {Category: ptr("Nope")}, {},
		} {
			if _, err := w.svc.Update(ctx, w.tech, tk.Number, in); !errors.Is(err, ticketing.ErrInvalid) {
				t.Fatalf("update %+v: %v", in, err)
			}
		}
		got, err := w.svc.Update(ctx, w.tech, tk.Number, ticketing.UpdateInput{
			Priority: ptr("high"), Subject: ptr(" Impressora  parada "), Category: ptr("Hardware/Impressora")})
		if err != nil {
			t.Fatal(err)
		}
		if got.Priority != "high" || got.Subject != "Impressora parada" || got.CategoryID == nil || *got.CategoryID != hw.ID ||
			got.SubcategoryID == nil || *got.SubcategoryID != pr.ID {
			t.Fatalf("updated %+v", got)
		}
		log, err := st.R().AuditLog(ctx, "ticket", tk.ID)
		if err != nil {
			t.Fatal(err)
		}
		last := log[len(log)-1]
		if len(log) != 2 || last.Action != "update" || last.ActorID == nil || *last.ActorID != w.tech.ID {
			t.Fatalf("audit %+v", log)
		}
		// Clearing the category clears the subcategory too.
		got, err = w.svc.Update(ctx, w.tech, tk.Number, ticketing.UpdateInput{Category: ptr("")})
		if err != nil || got.CategoryID != nil || got.SubcategoryID != nil {
			t.Fatalf("clear category: %+v %v", got, err)
		}
	})
}

// TestAttachmentAccess: a client gets the public attachments of their
// ticket and never an internal note's, nor another ticket's by id.
func TestAttachmentAccess(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		tk := w.create(t)
		other, err := w.svc.Create(ctx, w.outsider, ticketing.CreateInput{Requester: w.outsider, Subject: "x"})
		if err != nil {
			t.Fatal(err)
		}
		note, err := w.svc.Comment(ctx, w.tech, tk.Number, ticketing.CommentInput{Body: "log", Internal: true})
		if err != nil {
			t.Fatal(err)
		}
		var public, internal, foreign store.Attachment
		err = st.InTx(ctx, func(q *store.Q) error {
			public = store.Attachment{TicketID: tk.ID, Filename: "print.png", ContentType: "image/png"}
			internal = store.Attachment{TicketID: tk.ID, CommentID: &note.ID, Filename: "debug.log", ContentType: "text/plain"}
			foreign = store.Attachment{TicketID: other.ID, Filename: "globex.pdf", ContentType: "application/pdf"}
			for _, a := range []struct {
				a    *store.Attachment
				data string
			}{{&public, "png"}, {&internal, "secret log"}, {&foreign, "pdf"}} {
				if err := q.AddAttachment(ctx, a.a, []byte(a.data)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if a, data, err := w.svc.Attachment(ctx, w.client, tk.Number, public.ID); err != nil || string(data) != "png" || a.Filename != "print.png" {
			t.Fatalf("client, public: %+v %q %v", a, data, err)
		}
		if _, _, err := w.svc.Attachment(ctx, w.client, tk.Number, internal.ID); !errors.Is(err, ticketing.ErrNotFound) {
			t.Fatalf("client, internal note's attachment: %v", err)
		}
		if _, data, err := w.svc.Attachment(ctx, w.tech, tk.Number, internal.ID); err != nil || string(data) != "secret log" {
			t.Fatalf("tech, internal: %q %v", data, err)
		}
		// Another ticket's attachment through this ticket's number.
		if _, _, err := w.svc.Attachment(ctx, w.admin, tk.Number, foreign.ID); !errors.Is(err, ticketing.ErrNotFound) {
			t.Fatalf("foreign attachment via another ticket: %v", err)
		}
		if _, _, err := w.svc.Attachment(ctx, w.client, other.Number, foreign.ID); !errors.Is(err, ticketing.ErrNotFound) {
			t.Fatalf("client, other company's ticket: %v", err)
		}
	})
}
