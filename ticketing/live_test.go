package ticketing_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// TestLiveLogKeepsTheEvaluationOut: closing (with the technician's
// evaluation) and rating write log entries the requester may receive;
// none of them carries the evaluation or the classification.
func TestLiveLogKeepsTheEvaluationOut(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		ctx := context.Background()
		tk := w.create(t)
		if _, err := w.svc.Assign(ctx, w.tech, tk.Number, w.tech); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.SetStatus(ctx, w.tech, tk.Number, "resolved", ticketing.StatusInput{Solution: "feito", Reason: "feito",
			Evaluation: "AVALIACAO-SECRETA", Classification: "tecnico"}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Rate(ctx, w.client, tk.Number, 4, "rápido"); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.SetStatus(ctx, w.tech, tk.Number, "closed", ticketing.StatusInput{Reason: "feito",
			Evaluation: "AVALIACAO-SECRETA", Classification: "tecnico"}); err != nil {
			t.Fatal(err)
		}
		es, err := st.R().EventsAfter(ctx, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[string]bool{}
		rd := w.svc.LiveReader(w.client, -1)
		for _, e := range es {
			kinds[e.Kind] = true
			if strings.Contains(e.Data, "SECRETA") {
				t.Errorf("%s event %d carries the evaluation: %s", e.Kind, e.ID, e.Data)
			}
			if e.TicketID == nil || *e.TicketID != tk.ID || e.CompanyID == nil || *e.CompanyID != tk.CompanyID {
				t.Errorf("event %d without its ticket and company: %+v", e.ID, e)
			}
		}
		for _, k := range []string{"created", "assigned", "resolved", "rated", "closed"} {
			if !kinds[k] {
				t.Errorf("no %s event in %v", k, kinds)
			}
		}
		// The requester receives the ticket's events (not other people's
		// notifications).
		for _, e := range es {
			ok, err := rd.Allowed(ctx, e)
			if err != nil {
				t.Fatal(err)
			}
			mine := e.UserID == nil || *e.UserID == w.client.ID
			if ok != mine {
				t.Errorf("requester, %s event %d (user %v): allowed %v", e.Kind, e.ID, e.UserID, ok)
			}
		}
	})
}

// TestLiveReaderPolicy: who receives a ticket's events, and its internal
// ones, is the policy's, for the reader as they are now.
func TestLiveReaderPolicy(t *testing.T) {
	w := newWorld(t, storetest.Open(t, store.SQLite))
	ctx := context.Background()
	tk := w.create(t)
	if _, err := w.svc.Comment(ctx, w.tech, tk.Number, ticketing.CommentInput{Body: "nota", Internal: true}); err != nil {
		t.Fatal(err)
	}
	es, err := w.st.R().EventsAfter(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var public, internal *store.Event
	for _, e := range es {
		if e.UserID == nil && e.Kind == "created" {
			public = e
		}
		if e.UserID == nil && e.Kind == "commented" {
			internal = e
		}
	}
	if public == nil || internal == nil || !internal.Internal {
		t.Fatalf("events %+v", es)
	}
	for _, c := range []struct {
		who              *store.User
		public, internal bool
	}{
		{w.admin, true, true},
		{w.tech2, true, true},
		{w.client, true, false},
		{w.colleague, true, false}, // Acme shares tickets
		{w.outsider, false, false},
	} {
		rd := w.svc.LiveReader(c.who, -1)
		pub, err := rd.Allowed(ctx, public)
		if err != nil {
			t.Fatal(err)
		}
		in, err := rd.Allowed(ctx, internal)
		if err != nil {
			t.Fatal(err)
		}
		if pub != c.public || in != c.internal {
			t.Errorf("%s: public %v internal %v, want %v %v", c.who.Email, pub, in, c.public, c.internal)
		}
		_, err = rd.Subscribe(ctx, ticketing.TicketTopic(tk.ID))
		if (err == nil) != c.public {
			t.Errorf("%s: subscribe: %v", c.who.Email, err)
		}
	}
	// Acme stops sharing: the colleague's stream sees no more.
	rd := w.svc.LiveReader(w.colleague, -1)
	if _, err := w.svc.UpdateCompany(ctx, w.admin, "Acme", func(in *ticketing.CompanyInput) { in.ShareTickets = false }); err != nil {
		t.Fatal(err)
	}
	if ok, err := rd.Allowed(ctx, public); err != nil || ok {
		t.Fatalf("after sharing stopped: %v %v", ok, err)
	}
}
