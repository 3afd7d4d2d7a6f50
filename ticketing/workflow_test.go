package ticketing_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

var closeIn = ticketing.StatusInput{Reason: "resolvido", Evaluation: "driver antigo; SEGREDO-INTERNO", Classification: "tecnico"}

// take assigns tk to w.tech.
func (w *world) take(t testing.TB, tk *store.Ticket) {
	t.Helper()
	if _, err := w.svc.Assign(context.Background(), w.tech, tk.Number, w.tech); err != nil {
		t.Fatal(err)
	}
}

// TestShareTicketsWithinCompany: with sharing off a colleague neither
// sees, lists nor answers another's ticket, unless brought in; turning it
// on through UpdateCompany lets them.
func TestShareTicketsWithinCompany(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		set := func(share bool) {
			t.Helper()
			if _, err := w.svc.UpdateCompany(ctx, w.admin, "Acme", func(in *ticketing.CompanyInput) { in.ShareTickets = share }); err != nil {
				t.Fatal(err)
			}
		}
		tk := w.create(t)
		set(false)
		if _, err := w.svc.Get(ctx, w.colleague, tk.Number); !errors.Is(err, ticketing.ErrNotAllowed) {
			t.Fatalf("colleague get, not sharing: %v", err)
		}
		if _, err := w.svc.Comment(ctx, w.colleague, tk.Number, ticketing.CommentInput{Body: "eu também"}); !errors.Is(err, ticketing.ErrNotAllowed) {
			t.Fatalf("colleague comment, not sharing: %v", err)
		}
		if ts, err := w.svc.List(ctx, w.colleague, store.TicketFilter{}); err != nil || len(ts) != 0 {
			t.Fatalf("colleague lists %d (%v)", len(ts), err)
		}
		// The requester still sees theirs; a participant sees it too.
		if ts, err := w.svc.List(ctx, w.client, store.TicketFilter{}); err != nil || len(ts) != 1 {
			t.Fatalf("requester lists %d (%v)", len(ts), err)
		}
		if err := w.svc.AddParticipant(ctx, w.tech, tk.Number, w.colleague); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Get(ctx, w.colleague, tk.Number); err != nil {
			t.Fatalf("participant get: %v", err)
		}
		if err := w.svc.RemoveParticipant(ctx, w.tech, tk.Number, w.colleague); err != nil {
			t.Fatal(err)
		}
		set(true)
		if _, err := w.svc.Get(ctx, w.colleague, tk.Number); err != nil {
			t.Fatalf("colleague get, sharing: %v", err)
		}
		if ts, err := w.svc.List(ctx, w.colleague, store.TicketFilter{}); err != nil || len(ts) != 1 {
			t.Fatalf("colleague lists %d (%v), sharing", len(ts), err)
		}
		// New companies start not sharing.
		c, err := w.svc.CreateCompany(ctx, w.admin, ticketing.CompanyInput{Name: "Nova", Domains: []string{"nova.example"}})
		if err != nil || c.ShareTickets {
			t.Fatalf("new company shares: %+v %v", c, err)
		}
	})
}

// TestCloseNeedsEvaluation: resolve needs a solution; close, from open,
// pending or resolved, needs reason, evaluation and a known
// classification; a refused change changes nothing; the requester never
// reads the evaluation.
func TestCloseNeedsEvaluation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		for _, from := range []string{store.StatusOpen, store.StatusPending, store.StatusResolved} {
			t.Run(from, func(t *testing.T) {
				tk := w.create(t)
				w.take(t, tk)
				switch from {
				case store.StatusPending:
					if _, err := w.svc.SetStatus(ctx, w.tech, tk.Number, from, ticketing.StatusInput{}); err != nil {
						t.Fatal(err)
					}
				case store.StatusResolved:
					if _, err := w.svc.SetStatus(ctx, w.tech, tk.Number, from, ticketing.StatusInput{}); !errors.Is(err, ticketing.ErrInvalid) ||
						!strings.Contains(err.Error(), "solution") {
						t.Fatalf("resolve without solution: %v", err)
					}
					if _, err := w.svc.SetStatus(ctx, w.tech, tk.Number, from, ticketing.StatusInput{Solution: "  driver novo "}); err != nil {
						t.Fatal(err)
					}
				}
				for _, tc := range []struct {
					name string
					in   ticketing.StatusInput
					want string
				}{
					{"nothing", ticketing.StatusInput{}, "a reason, the technician's evaluation, a classification"},
					{"no reason", ticketing.StatusInput{Evaluation: "x", Classification: "outro"}, "a reason"},
					{"no evaluation", ticketing.StatusInput{Reason: "x", Classification: "outro"}, "evaluation"},
					{"no classification", ticketing.StatusInput{Reason: "x", Evaluation: "x"}, "classification"},
					{"bad classification", ticketing.StatusInput{Reason: "x", Evaluation: "x", Classification: "bug"}, `unknown classification "bug"`},
					{"blank", ticketing.StatusInput{Reason: " ", Evaluation: "\t", Classification: "outro"}, "a reason"},
					{"long reason", ticketing.StatusInput{Reason: strings.Repeat("é", 256), Evaluation: "x", Classification: "outro"}, "longer than 255"},
				} {
					_, err := w.svc.SetStatus(ctx, w.tech, tk.Number, store.StatusClosed, tc.in)
					if !errors.Is(err, ticketing.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
						t.Fatalf("%s: %v, want %q", tc.name, err, tc.want)
					}
				}
				if v, _ := w.svc.Get(ctx, w.tech, tk.Number); v.Ticket.Status != from {
					t.Fatalf("a refused close changed the status to %s", v.Ticket.Status)
				}
				closed, err := w.svc.SetStatus(ctx, w.tech, tk.Number, store.StatusClosed, closeIn)
				if err != nil {
					t.Fatal(err)
				}
				if closed.CloseReason != "resolvido" || closed.Classification != "tecnico" || !strings.Contains(closed.TechEvaluation, "SEGREDO") {
					t.Fatalf("stored %+v", closed)
				}
				if from == store.StatusResolved && closed.Solution != "driver novo" {
					t.Fatalf("solution %q", closed.Solution)
				}
				// Staff read the evaluation; the requester does not,
				// neither on the ticket nor in the list.
				if v, _ := w.svc.Get(ctx, w.superv, tk.Number); v.Ticket.TechEvaluation == "" {
					t.Fatal("staff lost the evaluation")
				}
				v, err := w.svc.Get(ctx, w.client, tk.Number)
				if err != nil || v.Ticket.TechEvaluation != "" || v.Ticket.Classification != "" || v.Ticket.CloseReason != "resolvido" {
					t.Fatalf("requester reads %+v (%v)", v.Ticket, err)
				}
				ts, _ := w.svc.List(ctx, w.client, store.TicketFilter{})
				for _, x := range ts {
					if x.TechEvaluation != "" || x.Classification != "" {
						t.Fatalf("requester's list carries the evaluation of #%d", x.Number)
					}
				}
				// The status row of the audit log carries no evaluation.
				log, _ := st.R().AuditLog(ctx, "ticket", tk.ID)
				var evals int
				for _, e := range log {
					if e.Action == "status" && strings.Contains(e.After, "SEGREDO") {
						t.Fatalf("status history row carries the evaluation: %s", e.After)
					}
					if e.Action == "evaluation" {
						evals++
					}
				}
				if evals != 1 {
					t.Fatalf("%d evaluation rows", evals)
				}
			})
		}
		// A new ticket cannot be closed before it is opened; the
		// classifications have labels in both languages.
		tk := w.create(t)
		if _, err := w.svc.SetStatus(ctx, w.admin, tk.Number, store.StatusClosed, closeIn); !errors.Is(err, ticketing.ErrInvalid) {
			t.Fatalf("close new: %v", err)
		}
		for _, c := range ticketing.Classifications {
			if ticketing.ClassificationLabel(c, "pt-BR") == c || ticketing.ClassificationLabel(c, "en") == c {
				t.Fatalf("classification %s has no label", c)
			}
		}
		if ticketing.ClassificationLabel("sistemico", "pt-BR") != "Erro sistêmico" {
			t.Fatal("label")
		}
	})
}

// TestCollision: a public reply written against an old version of the
// conversation is refused with the newer messages, changes nothing and
// keeps the draft; sending anyway or against the new version goes
// through and removes the draft.
func TestCollision(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		tk := w.create(t)
		w.take(t, tk)
		v, err := w.svc.Get(ctx, w.tech, tk.Number)
		if err != nil || v.Version != 0 {
			t.Fatalf("version of an empty conversation: %d %v", v.Version, err)
		}
		seen := v.Version
		if _, err := w.svc.SaveDraft(ctx, w.tech, tk.Number, ticketing.DraftInput{Body: "Olá Maria, reinicie"}); err != nil {
			t.Fatal(err)
		}
		// Tech2 answers first; an internal note does not count.
		first, err := w.svc.Comment(ctx, w.tech2, tk.Number, ticketing.CommentInput{Body: "Já vi, reinicie", Seen: &seen})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Comment(ctx, w.tech2, tk.Number, ticketing.CommentInput{Body: "nota", Internal: true}); err != nil {
			t.Fatal(err)
		}
		_, err = w.svc.Comment(ctx, w.tech, tk.Number, ticketing.CommentInput{Body: "Olá Maria, reinicie", Seen: &seen})
		var ce *ticketing.CollisionError
		if !errors.As(err, &ce) || !errors.Is(err, ticketing.ErrConflict) {
			t.Fatalf("second reply: %v", err)
		}
		if len(ce.Newer) != 1 || ce.Newer[0].ID != first.ID || ce.Version != first.ID || ce.Newer[0].Internal {
			t.Fatalf("collision carries %+v", ce)
		}
		if v, _ := w.svc.Get(ctx, w.tech, tk.Number); len(v.Comments) != 2 || v.Version != first.ID {
			t.Fatalf("refused reply left %d comments, version %d", len(v.Comments), v.Version)
		}
		if d, err := w.svc.Draft(ctx, w.tech, tk.Number); err != nil || d == nil || d.Body != "Olá Maria, reinicie" {
			t.Fatalf("draft after collision: %+v %v", d, err)
		}
		// An internal note is never refused for a collision.
		if _, err := w.svc.Comment(ctx, w.tech, tk.Number, ticketing.CommentInput{Body: "ok", Internal: true, Seen: &seen}); err != nil {
			t.Fatal(err)
		}
		for _, in := range []ticketing.CommentInput{
			{Body: "De novo", Seen: &ce.Version},
			{Body: "Olá Maria, reinicie", Seen: &seen, SendAnyway: true},
		} {
			if _, err := w.svc.Comment(ctx, w.tech, tk.Number, in); err != nil {
				t.Fatalf("%+v: %v", in, err)
			}
		}
		if d, err := w.svc.Draft(ctx, w.tech, tk.Number); err != nil || d != nil {
			t.Fatalf("draft after send: %+v %v", d, err)
		}
	})
}

// TestDrafts: one draft per user and ticket, private to its writer,
// replaced on save and removed by an empty one; an internal draft needs
// internal rights; a stranger cannot keep one.
func TestDrafts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		tk := w.create(t)
		for _, body := range []string{"primeiro", "segundo"} {
			if _, err := w.svc.SaveDraft(ctx, w.client, tk.Number, ticketing.DraftInput{Body: body}); err != nil {
				t.Fatal(err)
			}
		}
		if d, err := w.svc.Draft(ctx, w.client, tk.Number); err != nil || d.Body != "segundo" {
			t.Fatalf("draft %+v %v", d, err)
		}
		if d, err := w.svc.Draft(ctx, w.tech, tk.Number); err != nil || d != nil {
			t.Fatalf("another user's draft: %+v %v", d, err)
		}
		if _, err := w.svc.SaveDraft(ctx, w.client, tk.Number, ticketing.DraftInput{Body: "x", Internal: true}); !errors.Is(err, ticketing.ErrNotAllowed) {
			t.Fatalf("client internal draft: %v", err)
		}
		if _, err := w.svc.SaveDraft(ctx, w.outsider, tk.Number, ticketing.DraftInput{Body: "x"}); !errors.Is(err, ticketing.ErrNotFound) {
			t.Fatalf("outsider draft: %v", err)
		}
		if _, err := w.svc.SaveDraft(ctx, w.client, tk.Number, ticketing.DraftInput{Body: "  "}); err != nil {
			t.Fatal(err)
		}
		if d, _ := w.svc.Draft(ctx, w.client, tk.Number); d != nil {
			t.Fatal("an empty save kept the draft")
		}
		if _, err := w.svc.SaveDraft(ctx, w.client, tk.Number, ticketing.DraftInput{Body: "terceiro"}); err != nil {
			t.Fatal(err)
		}
		if err := w.svc.DeleteDraft(ctx, w.client, tk.Number); err != nil {
			t.Fatal(err)
		}
		if d, _ := w.svc.Draft(ctx, w.client, tk.Number); d != nil {
			t.Fatal("deleted draft is back")
		}
	})
}

// TestRatingLinks: a closed ticket's rating link shows the form as often
// as asked, records one rating of 1 to 5 as the requester, then stops
// working; it stops too when forged, expired, or superseded by a reopen.
func TestRatingLinks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
		svc := ticketing.NewService(st, ticketing.WithClock(func() time.Time { return now }),
			ticketing.WithAccounts(ticketing.AccountConfig{Secret: []byte("rating secret")}), ticketing.WithRatingTTL(48*time.Hour))
		tk := w.create(t)
		w.take(t, tk)
		closeTk := func() string {
			t.Helper()
			c, err := svc.SetStatus(ctx, w.tech, tk.Number, store.StatusClosed, closeIn)
			if err != nil {
				t.Fatal(err)
			}
			return svc.RatingToken(c)
		}
		if open, _ := svc.Get(ctx, w.tech, tk.Number); svc.RatingToken(open.Ticket) != "" {
			t.Fatal("an open ticket has a rating link")
		}
		tok := closeTk()
		for range 2 { // a GET spends nothing
			f, err := svc.RatingForm(ctx, tok)
			if err != nil || f.Number != tk.Number || f.RequesterName != w.client.Name || !f.Expires.Equal(now.Add(48*time.Hour).Truncate(time.Second)) {
				t.Fatalf("form %+v %v", f, err)
			}
		}
		for _, stars := range []int{0, 6, -1} {
			if _, err := svc.RateByToken(ctx, tok, stars, ""); !errors.Is(err, ticketing.ErrInvalid) {
				t.Fatalf("%d stars: %v", stars, err)
			}
		}
		forged := tok[:len(tok)-2] + "xx"
		for _, bad := range []string{"", "abc", forged, "t1aaaaaaaaaaaaaaaaaaaa"} {
			if _, err := svc.RatingForm(ctx, bad); !errors.Is(err, ticketing.ErrBadToken) {
				t.Fatalf("token %q: %v", bad, err)
			}
		}
		rated, err := svc.RateByToken(ctx, tok, 4, "  rápido ")
		if err != nil || *rated.Rating != 4 || rated.RatingComment != "rápido" || rated.TechEvaluation != "" {
			t.Fatalf("rate: %+v %v", rated, err)
		}
		if _, err := svc.RateByToken(ctx, tok, 5, ""); !errors.Is(err, ticketing.ErrBadToken) {
			t.Fatalf("second use: %v", err)
		}
		if _, err := svc.RatingForm(ctx, tok); !errors.Is(err, ticketing.ErrBadToken) {
			t.Fatalf("form after use: %v", err)
		}
		log, _ := st.R().AuditLog(ctx, "ticket", tk.ID)
		if last := log[len(log)-1]; last.Action != "rate" || last.ActorID == nil || *last.ActorID != w.client.ID {
			t.Fatalf("rating audited as %+v", last)
		}
		// Reopened and closed again: the old link is void, the new one
		// works until it expires.
		now = now.Add(time.Hour)
		if _, err := svc.SetStatus(ctx, w.client, tk.Number, store.StatusReopened, ticketing.StatusInput{}); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Hour)
		tok2 := closeTk()
		if _, err := svc.RatingForm(ctx, tok); !errors.Is(err, ticketing.ErrBadToken) {
			t.Fatalf("old link after a new closing: %v", err)
		}
		now = now.Add(48 * time.Hour)
		if _, err := svc.RateByToken(ctx, tok2, 3, ""); !errors.Is(err, ticketing.ErrBadToken) {
			t.Fatalf("expired link: %v", err)
		}
		now = now.Add(-time.Minute - 48*time.Hour + 47*time.Hour)
		if _, err := svc.RateByToken(ctx, tok2, 3, ""); err != nil {
			t.Fatalf("fresh link: %v", err)
		}
		if ticketing.RatingLabel(4, "pt-BR") != "Muito Bom" || ticketing.RatingLabel(1, "en") != "Poor" || ticketing.RatingLabel(6, "") != "" {
			t.Fatal("labels")
		}
	})
}
