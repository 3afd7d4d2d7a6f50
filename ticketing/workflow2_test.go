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

func ticketActions(t *testing.T, st *store.Store, id int64) string {
	t.Helper()
	log, err := st.R().AuditLog(context.Background(), "ticket", id)
	if err != nil {
		t.Fatal(err)
	}
	var as []string
	for _, e := range log {
		as = append(as, e.Action)
	}
	return strings.Join(as, " ")
}

// note adds an internal note with an attachment to ticket tk.
func (w *world) note(t *testing.T, tk *store.Ticket, body string) (*store.Comment, *store.Attachment) {
	t.Helper()
	ctx := context.Background()
	c, err := w.svc.Comment(ctx, w.tech, tk.Number, ticketing.CommentInput{Body: body, Internal: true})
	if err != nil {
		t.Fatal(err)
	}
	a := &store.Attachment{TicketID: tk.ID, CommentID: &c.ID, Filename: "interno.txt", ContentType: "text/plain"}
	if err := w.st.InTx(ctx, func(q *store.Q) error { return q.AddAttachment(ctx, a, []byte(body)) }); err != nil {
		t.Fatal(err)
	}
	return c, a
}

func TestLinkTickets(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		a, b := w.create(t), w.create(t)
		other, err := w.svc.Create(ctx, w.outsider, ticketing.CreateInput{Requester: w.outsider, Subject: "Globex"})
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name  string
			actor *store.User
			a, b  int64
			kind  string
			want  error
		}{
			{"client", w.client, a.Number, b.Number, store.LinkRelated, ticketing.ErrNotAllowed},
			{"bad kind", w.tech, a.Number, b.Number, "dup", ticketing.ErrInvalid},
			{"merged kind", w.tech, a.Number, b.Number, store.LinkMerged, ticketing.ErrInvalid},
			{"itself", w.tech, a.Number, a.Number, store.LinkRelated, ticketing.ErrInvalid},
			{"other company", w.tech, a.Number, other.Number, store.LinkRelated, ticketing.ErrInvalid},
			{"no such ticket", w.tech, a.Number, 99999, store.LinkRelated, ticketing.ErrNotFound},
		} {
			if err := w.svc.LinkTickets(ctx, tc.actor, tc.a, tc.b, tc.kind); !errors.Is(err, tc.want) {
				t.Fatalf("%s: %v, want %v", tc.name, err, tc.want)
			}
		}
		if err := w.svc.LinkTickets(ctx, w.tech, b.Number, a.Number, store.LinkRelated); err != nil {
			t.Fatal(err)
		}
		// Related is symmetric: the same pair the other way exists already.
		if err := w.svc.LinkTickets(ctx, w.tech, a.Number, b.Number, store.LinkRelated); !errors.Is(err, ticketing.ErrConflict) {
			t.Fatalf("again: %v", err)
		}
		if err := w.svc.LinkTickets(ctx, w.tech, b.Number, a.Number, store.LinkFollowUp); err != nil {
			t.Fatal(err)
		}
		v, err := w.svc.Get(ctx, w.client, a.Number)
		if err != nil || len(v.Links) != 2 {
			t.Fatalf("links of a: %+v %v", v.Links, err)
		}
		if err := w.svc.UnlinkTickets(ctx, w.tech, a.Number, b.Number, store.LinkRelated); err != nil {
			t.Fatal(err)
		}
		if err := w.svc.UnlinkTickets(ctx, w.tech, a.Number, b.Number, store.LinkRelated); !errors.Is(err, ticketing.ErrNotFound) {
			t.Fatalf("unlink twice: %v", err)
		}
		for _, tk := range []*store.Ticket{a, b} {
			if got := ticketActions(t, st, tk.ID); !strings.Contains(got, "link link unlink") {
				t.Fatalf("audit of #%d: %s", tk.Number, got)
			}
		}
	})
}

// TestMergeTicket: the merged ticket's conversation and files move, it
// closes with a pointer, and mail threaded on it lands on the target.
func TestMergeTicket(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		into, from := w.create(t), w.create(t)
		if _, err := w.svc.Comment(ctx, w.client, from.Number, ticketing.CommentInput{Body: "mais detalhes"}); err != nil {
			t.Fatal(err)
		}
		w.note(t, from, "nota interna")
		if err := st.InTx(ctx, func(q *store.Q) error {
			return q.AddMessageID(ctx, store.MessageRef{MessageID: "dup.1@acme.example", TicketID: from.ID, Direction: "in"})
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.MergeTicket(ctx, w.client, from.Number, into.Number); !errors.Is(err, ticketing.ErrNotAllowed) {
			t.Fatalf("client merges: %v", err)
		}
		if _, err := w.svc.MergeTicket(ctx, w.tech, from.Number, from.Number); !errors.Is(err, ticketing.ErrInvalid) {
			t.Fatalf("merge into itself: %v", err)
		}
		res, err := w.svc.MergeTicket(ctx, w.superv, from.Number, into.Number)
		if err != nil {
			t.Fatal(err)
		}
		if res.Comments != 2 || res.Attachments != 1 || res.From.Status != store.StatusClosed || !strings.Contains(res.From.CloseReason, "#1001") {
			t.Fatalf("merge: %+v %+v", res, res.From)
		}
		v, err := w.svc.Get(ctx, w.tech, into.Number)
		if err != nil || len(v.Comments) != 2 || len(v.Attachments) != 1 {
			t.Fatalf("target has %d comments, %d attachments (%v)", len(v.Comments), len(v.Attachments), err)
		}
		// The requester sees the moved public comment, not the note.
		if cv, _ := w.svc.Get(ctx, w.client, into.Number); len(cv.Comments) != 1 || len(cv.Attachments) != 0 {
			t.Fatalf("requester sees %d comments, %d attachments", len(cv.Comments), len(cv.Attachments))
		}
		fv, _ := w.svc.Get(ctx, w.tech, from.Number)
		if len(fv.Comments) != 0 || len(fv.Links) != 1 || fv.Links[0].Kind != store.LinkMerged || fv.Links[0].OtherID != into.ID {
			t.Fatalf("merged ticket: %d comments, links %+v", len(fv.Comments), fv.Links)
		}
		// Mail threading: the Message-ID and the merged pointer both lead
		// to the target.
		ref, err := st.R().FindMessageRef(ctx, []string{"dup.1@acme.example"})
		if err != nil || ref.TicketID != into.ID {
			t.Fatalf("message ref %+v %v", ref, err)
		}
		err = w.svc.TxWith(ctx, func(tx *ticketing.Tx) error {
			t0, err := tx.TicketByID(ctx, from.ID)
			if err != nil {
				return err
			}
			got, err := tx.FollowMerged(ctx, t0)
			if err == nil && got.ID != into.ID {
				t.Errorf("FollowMerged → #%d", got.Number)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.MergeTicket(ctx, w.superv, from.Number, into.Number); !errors.Is(err, ticketing.ErrInvalid) {
			t.Fatalf("merge twice: %v", err)
		}
		if got := ticketActions(t, st, from.ID); !strings.HasSuffix(got, "merge") {
			t.Fatalf("audit of the merged: %s", got)
		}
		if got := ticketActions(t, st, into.ID); !strings.HasSuffix(got, "merge_in") {
			t.Fatalf("audit of the target: %s", got)
		}
	})
}

// TestReactions: a toggle per user and emoji from a short list, only
// where one may comment, never on what one may not see.
func TestReactions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		tk := w.create(t)
		pub, err := w.svc.Comment(ctx, w.tech, tk.Number, ticketing.CommentInput{Body: "Reinicie"})
		if err != nil {
			t.Fatal(err)
		}
		note, _ := w.note(t, tk, "nota")
		if c, err := w.svc.React(ctx, w.client, pub.ID, "👍"); err != nil || c["👍"] != 1 {
			t.Fatalf("react: %v %v", c, err)
		}
		if c, err := w.svc.React(ctx, w.tech, pub.ID, "👍"); err != nil || c["👍"] != 2 {
			t.Fatalf("second user: %v %v", c, err)
		}
		if c, err := w.svc.React(ctx, w.client, pub.ID, "👍"); err != nil || c["👍"] != 1 {
			t.Fatalf("toggle off: %v %v", c, err)
		}
		for _, tc := range []struct {
			name  string
			actor *store.User
			id    int64
			emoji string
			want  error
		}{
			{"not in the list", w.client, pub.ID, "<b>", ticketing.ErrInvalid},
			{"client on an internal note", w.client, note.ID, "👍", ticketing.ErrNotFound},
			{"outsider", w.outsider, pub.ID, "👍", ticketing.ErrNotFound},
			{"no such comment", w.client, 99999, "👍", ticketing.ErrNotFound},
		} {
			if _, err := w.svc.React(ctx, tc.actor, tc.id, tc.emoji); !errors.Is(err, tc.want) {
				t.Fatalf("%s: %v, want %v", tc.name, err, tc.want)
			}
		}
		if _, err := w.svc.React(ctx, w.tech, note.ID, "👀"); err != nil {
			t.Fatal(err)
		}
		rs, err := w.svc.Reactions(ctx, w.client, tk.Number)
		if err != nil || rs[pub.ID]["👍"] != 1 || rs[note.ID] != nil {
			t.Fatalf("client's reactions %v %v", rs, err)
		}
		if rs, _ := w.svc.Reactions(ctx, w.tech, tk.Number); rs[note.ID]["👀"] != 1 {
			t.Fatalf("staff reactions %v", rs)
		}
	})
}

func TestCannedResponses(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		mine, err := w.svc.CreateCanned(ctx, w.tech, ticketing.CannedInput{Name: " Reinício ", Body: "Olá {{requester_name}}, sobre o chamado {{ticket_number}}: reinicie. {{agente}}"})
		if err != nil || mine.OwnerID == nil || mine.Name != "Reinício" {
			t.Fatalf("create: %+v %v", mine, err)
		}
		if _, err := w.svc.CreateCanned(ctx, w.tech, ticketing.CannedInput{Name: "x", Body: "y", Shared: true}); !errors.Is(err, ticketing.ErrNotAllowed) {
			t.Fatalf("tech shares: %v", err)
		}
		if _, err := w.svc.CreateCanned(ctx, w.client, ticketing.CannedInput{Name: "x", Body: "y"}); !errors.Is(err, ticketing.ErrNotAllowed) {
			t.Fatalf("client: %v", err)
		}
		if _, err := w.svc.CreateCanned(ctx, w.tech, ticketing.CannedInput{Name: " ", Body: "y"}); !errors.Is(err, ticketing.ErrInvalid) {
			t.Fatalf("no name: %v", err)
		}
		gid := w.globex.ID
		shared, err := w.svc.CreateCanned(ctx, w.superv, ticketing.CannedInput{Name: "Boas-vindas", Body: "Bem-vindo", Shared: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.CreateCanned(ctx, w.superv, ticketing.CannedInput{Name: "Globex", Body: "só Globex", Shared: true, CompanyID: &gid}); err != nil {
			t.Fatal(err)
		}
		names := func(u *store.User, company int64) string {
			cs, err := w.svc.Canned(ctx, u, company)
			if err != nil {
				t.Fatal(err)
			}
			var n []string
			for _, c := range cs {
				n = append(n, c.Name)
			}
			return strings.Join(n, ",")
		}
		if got := names(w.tech, w.acme.ID); got != "Boas-vindas,Reinício" {
			t.Fatalf("tech on Acme: %s", got)
		}
		if got := names(w.tech2, w.globex.ID); got != "Boas-vindas,Globex" {
			t.Fatalf("tech2 on Globex: %s", got)
		}
		if err := w.svc.DeleteCanned(ctx, w.tech2, mine.ID); !errors.Is(err, ticketing.ErrNotFound) {
			t.Fatalf("another's: %v", err)
		}
		if err := w.svc.DeleteCanned(ctx, w.tech, shared.ID); !errors.Is(err, ticketing.ErrNotAllowed) {
			t.Fatalf("tech removes shared: %v", err)
		}
		tk := w.create(t)
		v, _ := w.svc.Get(ctx, w.tech, tk.Number)
		if got := ticketing.RenderCanned(mine.Body, v.Ticket, w.tech); got != "Olá maria@acme.example, sobre o chamado #1001: reinicie. {{agente}}" {
			t.Fatalf("rendered %q", got)
		}
		if err := w.svc.DeleteCanned(ctx, w.tech, mine.ID); err != nil {
			t.Fatal(err)
		}
		if got := names(w.tech, 0); got != "Boas-vindas,Globex" {
			t.Fatalf("after delete: %s", got)
		}
	})
}

// TestMoveAndSplitComment: staff move a misplaced comment (and its file)
// to another ticket of the company, or make it a ticket of its own.
func TestMoveAndSplitComment(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		a, b := w.create(t), w.create(t)
		note, att := w.note(t, a, "pertence ao outro")
		other, _ := w.svc.Create(ctx, w.outsider, ticketing.CreateInput{Requester: w.outsider, Subject: "Globex"})
		if _, err := w.svc.MoveComment(ctx, w.client, note.ID, b.Number); !errors.Is(err, ticketing.ErrNotAllowed) {
			t.Fatalf("client moves: %v", err)
		}
		if _, err := w.svc.MoveComment(ctx, w.tech, note.ID, other.Number); !errors.Is(err, ticketing.ErrInvalid) {
			t.Fatalf("to another company: %v", err)
		}
		if _, err := w.svc.MoveComment(ctx, w.tech, note.ID, a.Number); !errors.Is(err, ticketing.ErrInvalid) {
			t.Fatalf("to the same ticket: %v", err)
		}
		if _, err := w.svc.MoveComment(ctx, w.tech, note.ID, b.Number); err != nil {
			t.Fatal(err)
		}
		vb, _ := w.svc.Get(ctx, w.tech, b.Number)
		if len(vb.Comments) != 1 || len(vb.Attachments) != 1 || vb.Attachments[0].ID != att.ID {
			t.Fatalf("target: %d comments, %d attachments", len(vb.Comments), len(vb.Attachments))
		}
		if va, _ := w.svc.Get(ctx, w.tech, a.Number); len(va.Comments) != 0 || len(va.Attachments) != 0 {
			t.Fatal("the comment stayed")
		}
		if !strings.HasSuffix(ticketActions(t, st, a.ID), "move_comment") || !strings.HasSuffix(ticketActions(t, st, b.ID), "move_comment_in") {
			t.Fatal("move not audited on both")
		}
		// The requester's own comment becomes a ticket of theirs.
		req, err := w.svc.Comment(ctx, w.colleague, b.Number, ticketing.CommentInput{Body: "Outra coisa: o monitor piscou"})
		if err != nil {
			t.Fatal(err)
		}
		nt, err := w.svc.SplitComment(ctx, w.tech, req.ID, "Monitor piscando")
		if err != nil {
			t.Fatal(err)
		}
		if nt.RequesterID != w.colleague.ID || nt.CompanyID != w.acme.ID || nt.Description != req.BodyText || nt.Subject != "Monitor piscando" {
			t.Fatalf("split ticket %+v", nt)
		}
		nv, _ := w.svc.Get(ctx, w.tech, nt.Number)
		if len(nv.Comments) != 1 || nv.Comments[0].ID != req.ID || len(nv.Links) != 1 || nv.Links[0].Kind != store.LinkRelated {
			t.Fatalf("split: comments %d, links %+v", len(nv.Comments), nv.Links)
		}
		if !strings.HasSuffix(ticketActions(t, st, b.ID), "split_comment") || !strings.Contains(ticketActions(t, st, nt.ID), "create split_comment_in") {
			t.Fatal("split not audited on both")
		}
	})
}

// TestInternalContentNeverReachesTheRequester (S5): an internal note's
// text and file are not in the requester's ticket, comment list,
// attachment download, reactions or collision report.
func TestInternalContentNeverReachesTheRequester(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		tk := w.create(t)
		v0, _ := w.svc.Get(ctx, w.client, tk.Number)
		note, att := w.note(t, tk, "SEGREDO salário")
		for _, u := range []*store.User{w.client, w.colleague} {
			v, err := w.svc.Get(ctx, u, tk.Number)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range v.Comments {
				if c.Internal || strings.Contains(c.BodyText, "SEGREDO") {
					t.Fatalf("%s sees the note", u.Email)
				}
			}
			if len(v.Attachments) != 0 {
				t.Fatalf("%s sees %d attachments", u.Email, len(v.Attachments))
			}
			if _, _, err := w.svc.Attachment(ctx, u, tk.Number, att.ID); !errors.Is(err, ticketing.ErrNotFound) {
				t.Fatalf("%s downloads the note's file: %v", u.Email, err)
			}
		}
		if _, _, err := w.svc.Attachment(ctx, w.tech, tk.Number, att.ID); err != nil {
			t.Fatalf("staff download: %v", err)
		}
		// A note is no newer message for the requester's reply form.
		if _, err := w.svc.Comment(ctx, w.client, tk.Number, ticketing.CommentInput{Body: "e aí?", Seen: &v0.Version}); err != nil {
			t.Fatalf("requester reply after a note: %v", err)
		}
		if _, err := w.svc.React(ctx, w.client, note.ID, "👍"); !errors.Is(err, ticketing.ErrNotFound) {
			t.Fatalf("react on the note: %v", err)
		}
	})
}
