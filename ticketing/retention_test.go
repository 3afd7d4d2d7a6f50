package ticketing_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// The personal data of the retained tickets: none of it may survive a run
// (the requester's own account row excepted: it stays while active).
const (
	retName    = "Gertrudes Vasconcelos"
	retEmail   = "gertrudes@acme.example"
	retPhrase  = "o grampeador azul explodiu"
	retSubject = "Impressora do terceiro andar"
	retCc      = "cc.pessoa@fornecedor.example"
	retIP      = "198.51.100.77"
	retFile    = "contrato-assinado-gertrudes.pdf"
	retBlob    = "conteudo secreto do anexo de gertrudes"
)

var retPolicy = ticketing.RetentionPolicy{ClosedTicketDays: 365, AuditDays: 730, QuarantineDays: 90, OutboxDays: 30}

// retWorld seeds three companies: Acme (the default 365 days), Globex
// (0: forever) and Initech (30 days). Returns the number of tickets a run
// must retain per company and the requester.
type retWorld struct {
	*world
	initech *store.Company
	req     *store.User
	due     map[int64]int64 // company → tickets due
}

func seedRetention(t testing.TB, st *store.Store, oldCount int) *retWorld {
	t.Helper()
	ctx := context.Background()
	w := &retWorld{world: newWorld(t, st), due: map[int64]int64{}}
	err := st.InTx(ctx, func(q *store.Q) error {
		w.initech = &store.Company{Name: "Initech", Domains: []string{"initech.example"}}
		if err := q.CreateCompany(ctx, w.initech); err != nil {
			return err
		}
		acme := w.acme.ID
		w.req = &store.User{Email: retEmail, Name: retName, Role: store.RoleClient, CompanyID: &acme}
		return q.CreateUser(ctx, w.req)
	})
	if err != nil {
		t.Fatal(err)
	}
	zero, thirty := 0, 30
	if err := w.svc.SetCompanyRetention(ctx, w.admin, w.globex.ID, &zero); err != nil {
		t.Fatal(err)
	}
	if err := w.svc.SetCompanyRetention(ctx, w.admin, w.initech.ID, &thirty); err != nil {
		t.Fatal(err)
	}
	initechUser := &store.User{Email: "bob@initech.example", Name: "Bob Initech", Role: store.RoleClient, CompanyID: &w.initech.ID}
	if err := st.InTx(ctx, func(q *store.Q) error { return q.CreateUser(ctx, initechUser) }); err != nil {
		t.Fatal(err)
	}
	real := time.Now()
	at := func(ago time.Duration) *ticketing.Service {
		return ticketing.NewService(st, ticketing.WithClock(func() time.Time { return real.Add(-ago) }))
	}
	const day = 24 * time.Hour
	// open → close at the given age; the requester comments with the
	// phrase, the tech answers.
	ticket := func(svc *ticketing.Service, req *store.User, subject, body string, to string) *store.Ticket {
		t.Helper()
		tk, err := svc.Create(ctx, w.admin, ticketing.CreateInput{Requester: req, Subject: subject, Body: body, Source: store.SourceEmail})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Comment(ctx, req, tk.Number, ticketing.CommentInput{Body: body + " (comentário)"}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Comment(ctx, w.admin, tk.Number, ticketing.CommentInput{Body: "Trocamos a peça."}); err != nil {
			t.Fatal(err)
		}
		if to != "" {
			if _, err := svc.SetStatus(ctx, w.admin, tk.Number, store.StatusResolved, ticketing.StatusInput{Solution: "feito", Reason: "feito", Evaluation: "ok", Classification: "outro"}); err != nil {
				t.Fatal(err)
			}
		}
		if to == store.StatusClosed {
			if _, err := svc.SetStatus(ctx, w.admin, tk.Number, store.StatusClosed, ticketing.StatusInput{Reason: "feito", Evaluation: "Cliente " + req.Name + " satisfeito", Classification: "outro"}); err != nil {
				t.Fatal(err)
			}
		}
		return tk
	}
	var retained []*store.Ticket
	old := at(400 * day)
	for i := 0; i < oldCount; i++ {
		retained = append(retained, ticket(old, w.req, fmt.Sprintf("%s %d", retSubject, i), "Socorro: "+retPhrase, store.StatusClosed))
	}
	w.due[w.acme.ID] = int64(oldCount)
	// Not due: resolved but never closed, closed recently, still open,
	// Globex keeps forever.
	ticket(old, w.colleague, "Resolvido sem fechar", "texto do joão", store.StatusResolved)
	ticket(at(100*day), w.colleague, "Fechado há pouco", "texto do joão", store.StatusClosed)
	ticket(old, w.colleague, "Ainda aberto", "texto do joão", "")
	ticket(old, w.outsider, "Globex guarda tudo", "texto da eve", store.StatusClosed)
	// Initech keeps 30 days: closed 40 days ago is due.
	ticket(at(40*day), initechUser, "Initech antigo", "texto do bob", store.StatusClosed)
	w.due[w.initech.ID] = 1

	// Mail, attachments, outbox copies and message ids of the retained
	// tickets, naming the requester and a Cc.
	err = st.InTx(ctx, func(q *store.Q) error {
		for i, tk := range retained {
			id := tk.ID
			raw := []byte(fmt.Sprintf("From: %s <%s>\r\nCc: %s\r\nSubject: %s\r\n\r\n%s\r\n", retName, retEmail, retCc, tk.Subject, retPhrase))
			m := &store.MailMessage{MessageID: fmt.Sprintf("msg%d@acme.example", i), ContentHash: fmt.Sprintf("hash-%d-%d", id, i),
				Source: "smtp", MailFrom: retEmail, Recipients: "support@helpdesk.example," + retCc, RemoteAddr: retIP,
				FromAddr: retEmail, Subject: tk.Subject, DateHeader: "Mon, 1 Jan 2024 10:00:00 -0300", Kind: "human",
				Action: "ticket", TicketID: &id, RawSize: int64(len(raw)), RawGz: store.Gzip(raw), ReceivedAt: time.Now()}
			if err := q.InsertMailMessage(ctx, m); err != nil {
				return err
			}
			if err := q.AddMessageID(ctx, store.MessageRef{MessageID: m.MessageID, OriginalID: m.MessageID, TicketID: id, Direction: "in", Recipient: retCc}); err != nil {
				return err
			}
			a := &store.Attachment{TicketID: id, Filename: retFile, ContentType: "application/pdf", UploadedBy: &w.req.ID}
			if err := q.AddAttachment(ctx, a, []byte(retBlob)); err != nil { // one blob for all
				return err
			}
			if err := q.EnqueueMail(ctx, &store.OutboxMail{TicketID: &id, Event: "reply", MailFrom: "support@helpdesk.example",
				Recipients: retEmail, Subject: "Re: " + tk.Subject, MessageID: fmt.Sprintf("out%d@helpdesk.example", i),
				Raw: []byte("To: " + retName + " <" + retEmail + ">\r\n\r\n" + retPhrase)}); err != nil {
				return err
			}
			if _, err := q.AddParticipant(ctx, id, w.colleague.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func counts(t testing.TB, st *store.Store) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	out := map[string]int64{}
	for _, c := range retPolicyCompanies(t, st) {
		n, err := st.R().CountRetentionDue(ctx, c, time.Now().AddDate(0, 0, -365))
		if err != nil {
			t.Fatal(err)
		}
		out[fmt.Sprint(c)] = n.Tickets
	}
	return out
}

func retPolicyCompanies(t testing.TB, st *store.Store) []int64 {
	cs, err := st.R().RetentionCompanies(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	return ids
}

func TestRetentionRemovesPersonalDataOfOldClosedTickets(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := seedRetention(t, st, 3)

		// The search sees the seeded data where it is stored.
		for needle, where := range map[string]string{retPhrase: "ticket_comments.body_text", retCc: "mail_messages.recipients",
			retIP: "mail_messages.remote_addr", retBlob: "blobs.data", retSubject: "audit_log.after", retEmail: "mail_outbox.recipients"} {
			hits, err := st.R().FindText(ctx, needle)
			if err != nil || hits[where] == 0 {
				t.Fatalf("before the run %q is not found in %s: %v %v", needle, where, hits, err)
			}
		}

		dry, err := w.svc.RunRetention(ctx, w.admin, ticketing.RetentionOptions{Policy: retPolicy, DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		byCompany := func(r *ticketing.RetentionReport) map[int64]store.RetentionCounts {
			m := map[int64]store.RetentionCounts{}
			for _, c := range r.Companies {
				m[c.ID] = c.RetentionCounts
			}
			return m
		}
		want := map[int64]store.RetentionCounts{
			// Notifications: the notification centre's rows written with each change (ticketing/notification.go).
			w.acme.ID:    {Tickets: 3, Comments: 6, Attachments: 3, Mails: 3, MessageIDs: 3, Outbox: 3, Notifications: 12, Participants: 3, AuditRows: 21},
			w.initech.ID: {Tickets: 1, Comments: 2, Notifications: 4, AuditRows: 7},
		}
		got := byCompany(dry)
		// A dry run cannot know which blobs would be freed.
		for id, c := range want {
			if got[id] != c {
				t.Errorf("dry run, company %d: %+v, want %+v", id, got[id], c)
			}
		}
		if len(got) != 2 {
			t.Errorf("dry run companies: %+v", got)
		}

		if _, err := w.svc.RunRetention(ctx, w.client, ticketing.RetentionOptions{Policy: retPolicy}); !errors.Is(err, ticketing.ErrNotAllowed) {
			t.Fatalf("a client ran retention: %v", err)
		}
		rep, err := w.svc.RunRetention(ctx, ticketing.SystemActor(), ticketing.RetentionOptions{Policy: retPolicy, BatchSize: 2})
		if err != nil {
			t.Fatal(err)
		}
		want[w.acme.ID] = store.RetentionCounts{Tickets: 3, Comments: 6, Attachments: 3, Blobs: 1, Mails: 3, MessageIDs: 3, Outbox: 3, Notifications: 12, Participants: 3, AuditRows: 21}
		got = byCompany(rep)
		for id, c := range want {
			if got[id] != c {
				t.Errorf("run, company %d: %+v, want %+v", id, got[id], c)
			}
		}
		if rep.Total.Tickets != 4 || rep.Batches != 3 {
			t.Errorf("total %+v, batches %d", rep.Total, rep.Batches)
		}

		// Statistics stay; the ticket points at the company's placeholder.
		assertRetained(t, st, w)

		// The raw mails are empty (gzip hides text from the search below).
		mails, err := st.R().MailList(ctx, 100)
		if err != nil || len(mails) != 3 {
			t.Fatalf("mails: %d %v", len(mails), err)
		}
		for _, m := range mails {
			if _, raw, err := st.R().MailRaw(ctx, m.ID); err != nil || len(raw) != 0 || m.RawSize == 0 {
				t.Errorf("mail %d: raw %q (size %d kept), %v", m.ID, raw, m.RawSize, err)
			}
		}

		// Every text column of every table, and the SQLite file.
		for _, needle := range []string{retName, retEmail, retPhrase, retSubject, retCc, retIP, retFile, retBlob} {
			hits, err := st.R().FindText(ctx, needle)
			if err != nil {
				t.Fatal(err)
			}
			switch needle {
			case retName:
				delete(hits, "users.name") // the account stays while active
			case retEmail:
				delete(hits, "users.email")
			}
			if len(hits) > 0 {
				t.Errorf("%q still in %v", needle, hits)
			}
		}
		if path, _ := st.SQLiteFile(ctx); path != "" {
			if err := st.Checkpoint(ctx); err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{path, path + "-wal"} {
				b, err := os.ReadFile(f)
				if err != nil && !os.IsNotExist(err) {
					t.Fatal(err)
				}
				for _, needle := range []string{retPhrase, retSubject, retCc, retIP, retFile, retBlob} {
					if bytes.Contains(b, []byte(needle)) {
						t.Errorf("%q still in the bytes of %s", needle, f)
					}
				}
			}
		}

		// One summary audit row, with counts and no personal data.
		rows, err := st.R().AuditList(ctx, store.AuditFilter{Entity: "retention"})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || rows[0].Action != "run" || rows[0].ActorEmail != store.SystemActorEmail {
			t.Fatalf("summary audit rows: %+v", rows)
		}

		// A second run changes nothing.
		again, err := w.svc.RunRetention(ctx, w.admin, ticketing.RetentionOptions{Policy: retPolicy})
		if err != nil {
			t.Fatal(err)
		}
		if again.Total != (store.RetentionCounts{}) || len(again.Companies) != 0 {
			t.Fatalf("second run: %+v", again.Total)
		}
		assertRetained(t, st, w)
	})
}

// assertRetained checks what a run leaves: due tickets point at the
// placeholder with placeholder text and their numbers intact; the others
// are untouched.
func assertRetained(t *testing.T, st *store.Store, w *retWorld) {
	t.Helper()
	ctx := context.Background()
	ts, err := st.R().Tickets(ctx, store.AllCompanies(), store.TicketFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	retained := map[int64]int64{}
	for _, tk := range ts {
		if tk.RetainedAt == nil {
			if tk.Subject == store.RetentionPlaceholder {
				t.Errorf("#%d blanked but not marked", tk.Number)
			}
			continue
		}
		retained[tk.CompanyID]++
		if tk.Subject != store.RetentionPlaceholder || tk.Description != store.RetentionPlaceholder || tk.RequesterID == w.req.ID ||
			tk.Status != store.StatusClosed || tk.ClosedAt == nil || tk.ResolvedAt == nil || tk.Priority == "" {
			t.Errorf("retained #%d: %+v", tk.Number, tk)
		}
		cs, err := st.R().Comments(ctx, tk.ID, true)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != 2 {
			t.Errorf("#%d has %d comments, want the 2 it had", tk.Number, len(cs))
		}
		for _, c := range cs {
			if c.BodyText != store.RetentionPlaceholder {
				t.Errorf("#%d comment %q", tk.Number, c.BodyText)
			}
			if c.AuthorID != nil && *c.AuthorID == w.req.ID {
				t.Errorf("#%d comment still by the requester", tk.Number)
			}
		}
	}
	if retained[w.acme.ID] != w.due[w.acme.ID] || retained[w.initech.ID] != w.due[w.initech.ID] || len(retained) != 2 {
		t.Errorf("retained per company %v, want %v", retained, w.due)
	}
	// The requester's account stays.
	if u, err := st.R().UserByEmail(ctx, store.AllCompanies(), retEmail); err != nil || u.Disabled {
		t.Errorf("requester account: %v %v", u, err)
	}
}

// TestRetentionResumesAfterAStoppedRun stops a run after its first batch
// (as a kill would) and checks that the next run finishes with the same
// final state as one uninterrupted run.
func TestRetentionResumesAfterAStoppedRun(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := seedRetention(t, st, 5)
		stop, cancel := context.WithCancel(ctx)
		batches := 0
		_, err := w.svc.RunRetention(stop, w.admin, ticketing.RetentionOptions{Policy: retPolicy, BatchSize: 2,
			AfterBatch: func(int64, store.RetentionCounts) { batches++; cancel() }})
		if !errors.Is(err, context.Canceled) || batches != 1 {
			t.Fatalf("stopped run: %v after %d batches", err, batches)
		}
		// Exactly one batch committed.
		if n := counts(t, st)[fmt.Sprint(w.acme.ID)]; n != 3 {
			t.Fatalf("after the stopped run %d Acme tickets are still due, want 3", n)
		}
		rep, err := w.svc.RunRetention(ctx, w.admin, ticketing.RetentionOptions{Policy: retPolicy, BatchSize: 2})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Total.Tickets != 4 { // Acme's last 3 and Initech's one
			t.Fatalf("resumed run retained %d", rep.Total.Tickets)
		}
		assertRetained(t, st, w)
	})
}

// TestRetentionOneRunAtATime: a held lease makes a second run refuse
// with ErrJobRunning and change nothing.
func TestRetentionOneRunAtATime(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := seedRetention(t, st, 1)
		if err := st.AcquireLease(ctx, "retention", "other-host/1/x", time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.RunRetention(ctx, w.admin, ticketing.RetentionOptions{Policy: retPolicy}); !errors.Is(err, ticketing.ErrJobRunning) {
			t.Fatalf("second run: %v", err)
		}
		if n := counts(t, st)[fmt.Sprint(w.acme.ID)]; n != 1 {
			t.Fatalf("a refused run changed tickets: %d due", n)
		}
	})
}

// TestRetentionPurgesByAge: audit rows, quarantined mail and sent outbox
// mail older than their periods are deleted; younger ones stay.
func TestRetentionPurgesByAge(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		w.create(t)
		err := st.InTx(ctx, func(q *store.Q) error {
			for i := 0; i < 3; i++ {
				if err := q.Quarantine(ctx, &store.Quarantined{Reason: "unknown sender", Source: "smtp", ContentHash: fmt.Sprint("q", i), RawGz: store.Gzip([]byte("x"))}); err != nil {
					return err
				}
				if err := q.EnqueueMail(ctx, &store.OutboxMail{MailFrom: "a@b", Recipients: "c@d", MessageID: fmt.Sprint("m", i), Raw: []byte("x")}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		ms, err := st.ClaimMail(ctx, 2, time.Minute)
		if err != nil || len(ms) != 2 {
			t.Fatalf("claim: %v %v", ms, err)
		}
		for _, m := range ms {
			if err := st.MailSent(ctx, m.ID, m.ClaimToken); err != nil {
				t.Fatal(err)
			}
		}
		audits, err := st.R().AuditList(ctx, store.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		// Everything is 1,000 days old to a service whose clock is ahead.
		later := ticketing.NewService(st, ticketing.WithClock(func() time.Time { return time.Now().AddDate(0, 0, 1000) }))
		p := ticketing.RetentionPolicy{AuditDays: 730, QuarantineDays: 90, OutboxDays: 30}
		dry, err := later.RunRetention(ctx, w.admin, ticketing.RetentionOptions{Policy: p, DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := later.RunRetention(ctx, w.admin, ticketing.RetentionOptions{Policy: p})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range []*ticketing.RetentionReport{dry, rep} {
			if r.Audit != int64(len(audits)) || r.Quarantine != 3 || r.OutboxSent != 2 {
				t.Errorf("dry %v: audit %d (of %d), quarantine %d, outbox %d", r.DryRun, r.Audit, len(audits), r.Quarantine, r.OutboxSent)
			}
		}
		left, err := st.R().OutboxList(ctx, store.OutboxFilter{Limit: -1})
		if err != nil || len(left) != 1 || left[0].Status != store.OutboxQueued {
			t.Errorf("outbox left: %v %v", left, err)
		}
		// Nothing is old to today's clock.
		now, err := w.svc.RunRetention(ctx, w.admin, ticketing.RetentionOptions{Policy: retPolicy})
		if err != nil || now.Audit != 0 || now.Quarantine != 0 || now.OutboxSent != 0 {
			t.Errorf("today: %+v %v", now, err)
		}
	})
}
