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

func TestRevisionsAndConsent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		svc := w.svc

		// The migration seeds a published global policy: every company
		// has one in force before an admin writes any.
		global, err := svc.CurrentRevision(ctx, w.acme.ID)
		if err != nil {
			t.Fatal(err)
		}
		if global.CompanyID != nil || global.Status != store.RevisionPublished || global.Version != "1" || global.BodyHTML == "" {
			t.Fatalf("seeded revision %+v", global)
		}

		if _, err := svc.AddRevision(ctx, w.superv, ticketing.RevisionInput{CompanyID: w.acme.ID, Body: "x"}); !errors.Is(err, ticketing.ErrNotAllowed) {
			t.Fatalf("supervisor adds a revision: %v", err)
		}
		if _, err := svc.AddRevision(ctx, w.admin, ticketing.RevisionInput{CompanyID: w.acme.ID, Body: "  \n"}); !errors.Is(err, ticketing.ErrInvalid) {
			t.Fatalf("empty policy: %v", err)
		}

		md := "# Política Acme\n\nTexto **forte**.\n\n<script>alert('x')</script>\n\n[clique](javascript:alert(1))\n"
		r1, err := svc.AddRevision(ctx, w.admin, ticketing.RevisionInput{CompanyID: w.acme.ID, Title: "Acme v1", Body: md})
		if err != nil {
			t.Fatal(err)
		}
		if r1.Version != "1" || r1.Status != store.RevisionDraft || r1.CompanyIDValue() != w.acme.ID {
			t.Fatalf("r1 %+v", r1)
		}
		if !strings.Contains(r1.BodyHTML, "<strong>forte</strong>") || strings.Contains(r1.BodyHTML, "<script") || strings.Contains(r1.BodyHTML, "javascript:") {
			t.Fatalf("rendered policy is not safe: %s", r1.BodyHTML)
		}
		// A draft changes nothing for the requesters.
		if cur, _ := svc.CurrentRevision(ctx, w.acme.ID); cur.ID != global.ID {
			t.Fatalf("draft is in force: %+v", cur)
		}

		need, cur, err := svc.NeedsConsent(ctx, w.client)
		if err != nil || !need || cur.ID != global.ID {
			t.Fatalf("client before any consent: %v %+v %v", need, cur, err)
		}
		if need, _, _ := svc.NeedsConsent(ctx, w.tech); need {
			t.Fatal("staff held back by the policy")
		}
		if _, err := svc.Accept(ctx, w.client, global.ID, "203.0.113.7", "fax"); !errors.Is(err, ticketing.ErrInvalid) {
			t.Fatalf("bad channel: %v", err)
		}
		if _, err := svc.Accept(ctx, w.client, r1.ID, "203.0.113.7", store.ChannelWeb); !errors.Is(err, ticketing.ErrInvalid) {
			t.Fatalf("accepting a draft: %v", err)
		}
		if _, err := svc.Accept(ctx, w.client, global.ID, "203.0.113.7", store.ChannelWeb); err != nil {
			t.Fatal(err)
		}
		if need, _, _ := svc.NeedsConsent(ctx, w.client); need {
			t.Fatal("client still asked after accepting")
		}

		// Publishing Acme's own policy asks Acme's requesters again, not
		// Globex's.
		if _, err := svc.Accept(ctx, w.outsider, global.ID, "", store.ChannelMail); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.PublishRevision(ctx, w.admin, r1.ID); err != nil {
			t.Fatal(err)
		}
		if need, cur, _ := svc.NeedsConsent(ctx, w.client); !need || cur.ID != r1.ID {
			t.Fatalf("after publish: %v %+v", need, cur)
		}
		if need, _, _ := svc.NeedsConsent(ctx, w.outsider); need {
			t.Fatal("another company's requester asked again")
		}
		if _, err := svc.PublishRevision(ctx, w.admin, r1.ID); !errors.Is(err, ticketing.ErrInvalid) {
			t.Fatalf("publish twice: %v", err)
		}

		r2, err := svc.AddRevision(ctx, w.admin, ticketing.RevisionInput{CompanyID: w.acme.ID, Body: "v2", Publish: true})
		if err != nil {
			t.Fatal(err)
		}
		if r2.Version != "2" || r2.Status != store.RevisionPublished || r2.PublishedBy == nil || *r2.PublishedBy != w.admin.ID {
			t.Fatalf("r2 %+v", r2)
		}
		old, _ := svc.Revision(ctx, w.admin, r1.ID)
		if old.Status != store.RevisionSuperseded {
			t.Fatalf("r1 after r2 published: %s", old.Status)
		}
		// The global series numbers on its own.
		g2, err := svc.AddRevision(ctx, w.admin, ticketing.RevisionInput{Body: "global 2"})
		if err != nil || g2.Version != "2" || g2.CompanyID != nil {
			t.Fatalf("global v2 %+v %v", g2, err)
		}
		acme := w.acme.ID
		if rs, err := svc.Revisions(ctx, w.admin, &acme); err != nil || len(rs) != 2 {
			t.Fatalf("acme revisions %d %v", len(rs), err)
		}

		if _, err := svc.Accept(ctx, w.client, r2.ID, "198.51.100.1", store.ChannelCLI); err != nil {
			t.Fatal(err)
		}
		rows, err := svc.Consents(ctx, w.admin, w.acme.ID, "")
		if err != nil || len(rows) != 2 || rows[0].RevisionID != r2.ID || rows[0].Channel != "cli" || rows[0].Email != w.client.Email {
			t.Fatalf("acme consents %+v %v", rows, err)
		}
		rows, err = svc.Consents(ctx, w.admin, w.acme.ID, "2")
		if err != nil || len(rows) != 1 || rows[0].IP != "198.51.100.1" {
			t.Fatalf("acme consents to v2 %+v %v", rows, err)
		}

		// Who published what and when is in the audit log, with the actor.
		log, err := st.R().AuditLog(ctx, "lgpd_revision", r1.ID)
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range log {
			actions = append(actions, e.Action)
			if e.ActorID == nil || *e.ActorID != w.admin.ID {
				t.Fatalf("audit without the admin: %+v", e)
			}
		}
		if strings.Join(actions, ",") != "create,publish" {
			t.Fatalf("audit actions %v", actions)
		}
		u, _ := st.R().User(ctx, store.AllCompanies(), w.client.ID)
		if u.LGPDRevisionID == nil || *u.LGPDRevisionID != r2.ID || u.LGPDConsentAt == nil {
			t.Fatalf("old consent columns %+v", u)
		}
	})
}

func TestDataSubjectRequests(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		filed := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
		clock := filed
		svc := ticketing.NewService(st, ticketing.WithClock(func() time.Time { return clock }))

		if _, err := svc.AddRequest(ctx, w.tech, ticketing.RequestInput{Email: w.client.Email, Kind: "export"}); !errors.Is(err, ticketing.ErrNotAllowed) {
			t.Fatalf("tech files a request: %v", err)
		}
		if _, err := svc.AddRequest(ctx, w.admin, ticketing.RequestInput{Email: w.client.Email, Kind: "forget"}); !errors.Is(err, ticketing.ErrInvalid) {
			t.Fatalf("bad kind: %v", err)
		}
		r, err := svc.AddRequest(ctx, w.admin, ticketing.RequestInput{Email: w.client.Email, Kind: store.RequestErasure, Note: "por telefone"})
		if err != nil {
			t.Fatal(err)
		}
		if !r.DueAt.Equal(filed.AddDate(0, 0, 15)) || r.Status != store.RequestOpen {
			t.Fatalf("request %+v", r)
		}
		if _, err := svc.AddRequest(ctx, w.admin, ticketing.RequestInput{Email: w.outsider.Email, Kind: store.RequestExport}); err != nil {
			t.Fatal(err)
		}

		clock = filed.AddDate(0, 0, 14)
		if rs, _ := svc.Requests(ctx, w.admin, ticketing.RequestListFilter{Overdue: true}); len(rs) != 0 {
			t.Fatalf("overdue after 14 days: %d", len(rs))
		}
		clock = filed.AddDate(0, 0, 16)
		rs, err := svc.Requests(ctx, w.admin, ticketing.RequestListFilter{Overdue: true})
		if err != nil || len(rs) != 2 {
			t.Fatalf("overdue after 16 days: %d %v", len(rs), err)
		}
		closed, err := svc.CloseRequest(ctx, w.admin, r.ID, store.RequestDone, "anonimizado")
		if err != nil || closed.HandledBy == nil || *closed.HandledBy != w.admin.ID || closed.ClosedAt == nil {
			t.Fatalf("close %+v %v", closed, err)
		}
		if _, err := svc.CloseRequest(ctx, w.admin, r.ID, store.RequestRejected, ""); !errors.Is(err, ticketing.ErrInvalid) {
			t.Fatalf("close twice: %v", err)
		}
		rs, _ = svc.Requests(ctx, w.admin, ticketing.RequestListFilter{Overdue: true})
		if len(rs) != 1 || rs[0].User == nil || rs[0].User.Email != w.outsider.Email {
			t.Fatalf("overdue after closing one: %+v", rs)
		}
		if rs, _ := svc.Requests(ctx, w.admin, ticketing.RequestListFilter{Status: "done"}); len(rs) != 1 {
			t.Fatalf("done: %d", len(rs))
		}
	})
}
