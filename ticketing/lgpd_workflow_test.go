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

// workflowTraces gives the client's ticket the reply tools' data: drafts
// (hers and a tech's quoting her), reactions (hers and the tech's), a
// canned response of the tech's and a shared one naming her.
func workflowTraces(t *testing.T, w *world) (*store.Ticket, *store.Comment) {
	t.Helper()
	ctx := context.Background()
	tk := w.create(t)
	c, err := w.svc.Comment(ctx, w.tech, tk.Number, ticketing.CommentInput{Body: "Pode reiniciar a impressora?"})
	if err != nil {
		t.Fatal(err)
	}
	steps := []error{
		func() error {
			_, err := w.svc.SaveDraft(ctx, w.client, tk.Number, ticketing.DraftInput{Body: "Rascunho da Maria: minha senha do wifi é girassol42"})
			return err
		}(),
		func() error {
			_, err := w.svc.SaveDraft(ctx, w.tech, tk.Number, ticketing.DraftInput{Body: "Nota: ligar para maria@acme.example amanhã", Internal: true})
			return err
		}(),
		func() error { _, err := w.svc.React(ctx, w.client, c.ID, "👍"); return err }(),
		func() error { _, err := w.svc.React(ctx, w.tech, c.ID, "👀"); return err }(),
		func() error {
			_, err := w.svc.CreateCanned(ctx, w.tech, ticketing.CannedInput{Name: "Impressora", Body: "Reinicie a impressora, por favor."})
			return err
		}(),
		func() error {
			_, err := w.svc.CreateCanned(ctx, w.admin, ticketing.CannedInput{Name: "Contato Acme", Body: "Falar com maria@acme.example", Shared: true})
			return err
		}(),
	}
	for _, err := range steps {
		if err != nil {
			t.Fatal(err)
		}
	}
	return tk, c
}

func TestExportCoversDraftsReactionsCanned(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		tk, c := workflowTraces(t, w)
		x, err := w.svc.Export(ctx, w.client, w.client.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(x.Drafts) != 1 || x.Drafts[0].TicketNumber != tk.Number || !strings.Contains(x.Drafts[0].Body, "girassol42") {
			t.Fatalf("drafts %+v", x.Drafts)
		}
		if len(x.Reactions) != 1 || x.Reactions[0].CommentID != c.ID || x.Reactions[0].Emoji != "👍" || x.Reactions[0].TicketNumber != tk.Number {
			t.Fatalf("reactions %+v", x.Reactions)
		}
		if len(x.Canned) != 0 {
			t.Fatalf("a requester has canned responses: %+v", x.Canned)
		}
		tx, err := w.svc.Export(ctx, w.admin, w.tech.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(tx.Canned) != 1 || tx.Canned[0].Name != "Impressora" {
			t.Fatalf("the tech's canned %+v", tx.Canned)
		}
		if len(tx.Drafts) != 0 {
			t.Fatalf("an internal draft was exported: %+v", tx.Drafts)
		}
		if len(tx.Reactions) != 1 || tx.Reactions[0].Emoji != "👀" {
			t.Fatalf("the tech's reactions %+v", tx.Reactions)
		}
	})
}

func TestAnonymizeCoversDraftsReactionsCanned(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		tk, c := workflowTraces(t, w)
		res, err := w.svc.Anonymize(ctx, w.admin, w.client.ID, false)
		if err != nil {
			t.Fatal(err)
		}
		if res.Drafts < 2 || res.Reactions != 1 || res.Canned != 1 {
			t.Fatalf("counts: drafts %d reactions %d canned %d", res.Drafts, res.Reactions, res.Canned)
		}
		q := st.R()
		for _, needle := range []string{"girassol42", "maria@acme.example"} {
			hits, err := q.FindText(ctx, needle)
			if err != nil {
				t.Fatal(err)
			}
			for col := range hits {
				if strings.HasPrefix(col, "ticket_drafts.") || strings.HasPrefix(col, "canned_responses.") {
					t.Errorf("%q is still in %s", needle, col)
				}
			}
		}
		if d, err := q.Draft(ctx, w.client.ID, tk.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("her draft: %+v %v", d, err)
		}
		counts, err := q.ReactionCounts(ctx, []int64{c.ID})
		if err != nil || len(counts) != 1 || counts[0].Emoji != "👀" {
			t.Fatalf("reactions left: %+v %v", counts, err)
		}
		// The tech's own canned response goes with the tech.
		if _, err := w.svc.Anonymize(ctx, w.admin, w.tech.ID, false); err != nil {
			t.Fatal(err)
		}
		left, err := q.CannedOf(ctx, w.tech.ID)
		if err != nil || len(left) != 0 {
			t.Fatalf("the tech's canned responses: %+v %v", left, err)
		}
	})
}

func TestRetentionCoversDraftsAndReactions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		tk, c := workflowTraces(t, w)
		var counts store.RetentionCounts
		err := st.InTx(ctx, func(q *store.Q) error {
			anon, err := q.RetentionAnonymous(ctx, w.acme.ID)
			if err != nil {
				return err
			}
			counts, err = q.RetainTickets(ctx, []int64{tk.ID}, anon)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if counts.Drafts != 2 || counts.Reactions != 1 {
			t.Fatalf("drafts %d reactions %d, want 2 and 1", counts.Drafts, counts.Reactions)
		}
		q := st.R()
		if d, err := q.Draft(ctx, w.tech.ID, tk.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the tech's draft on a retained ticket: %+v %v", d, err)
		}
		// Staff reactions are counts, like ratings: they stay.
		rc, err := q.ReactionCounts(ctx, []int64{c.ID})
		if err != nil || len(rc) != 1 || rc[0].Emoji != "👀" {
			t.Fatalf("reactions left: %+v %v", rc, err)
		}
		// Canned responses are the staff's templates, not ticket data:
		// retention leaves them (erasure covers the personal ones).
		all, err := q.CannedOf(ctx, w.tech.ID)
		if err != nil || len(all) != 1 {
			t.Fatalf("canned after retention: %+v %v", all, err)
		}
	})
}
