package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/jcservicedesk/servicedesk/configs"
	"github.com/jcservicedesk/servicedesk/mailbox/delivery"
	"github.com/jcservicedesk/servicedesk/mailbox/intake"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
)

// withIntake rebuilds w's portal with a real intake behind the
// quarantine's reprocess, wired as cmd/servicedesk wires it.
func withIntake(t *testing.T, w *world) {
	t.Helper()
	in := intake.New(intake.Config{
		Addresses: []string{"support@helpdesk.example"}, CommentAddress: "comment@helpdesk.example",
		UnknownSender: intake.UnknownCreate, DefaultCompany: "Acme", ReopenDays: 14, SubjectTagPrefix: "#",
		RateLimitPerHour: 30, Secret: []byte("0123456789abcdef0123456789abcdef"), LoopValues: []string{"helpdesk.example"},
		MaxMessageBytes: 25 << 20, MaxAttachment: 10 << 20,
	}, w.svc, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("intake: %v", err)
		}
	})
	var err error
	w.srv, err = New(Deps{Cfg: configs.Defaults(), Svc: w.svc, Log: slog.New(slog.NewTextHandler(syncWriter{w.logs}, nil)),
		Reprocess: func(ctx context.Context, actor *store.User, id int64) (Reprocessed, error) {
			res, err := in.Reprocess(ctx, actor, id)
			o := res.Outcome
			return Reprocessed{Action: o.Action, TicketNumber: o.TicketNum, QuarantineID: o.QuarantineID, Reason: o.Reason}, err
		}})
	if err != nil {
		t.Fatal(err)
	}
	w.h = w.srv.Handler()
}

// hold puts raw in the quarantine as the intake would, addressed to the
// support address.
func hold(t *testing.T, w *world, subject, raw string) *store.Quarantined {
	t.Helper()
	env, _ := json.Marshal(delivery.Envelope{Source: delivery.SourceSMTP, MailFrom: "maria@acme.example", Recipients: []string{"support@helpdesk.example"}})
	m := &store.Quarantined{Reason: "test_reason", Source: "smtp", Envelope: string(env), ContentHash: subject, FromAddr: "maria@acme.example",
		Subject: subject, RawSize: int64(len(raw)), RawGz: store.Gzip([]byte(raw))}
	if err := w.st.InTx(context.Background(), func(q *store.Q) error { return q.Quarantine(context.Background(), m) }); err != nil {
		t.Fatal(err)
	}
	return m
}

const evilMail = "From: Maria <maria@acme.example>\r\nTo: support@helpdesk.example\r\nSubject: <b>Impressora</b> <script>alert(1)</script>\r\n" +
	"Message-ID: <q1@acme.example>\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" +
	"<html><body><script>window.pwned=1</script><img src=x onerror=alert(2)><p>Não imprime</p></body></html>\r\n"

func TestQuarantinePages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		withIntake(t, w)
		m := hold(t, w, "<b>Impressora</b> <script>alert(1)</script>", evilMail)
		other := hold(t, w, "outro", "not a mail at all")
		admin, tech, client := w.signIn(w.admin), w.signIn(w.tech), w.signIn(w.client)
		path := "/admin/quarantine/" + itoaID(m.ID)

		// Who may: admins (requireMailAdmin); a tech is refused by ticketing,
		// a requester by the staff door.
		for _, c := range []struct {
			name   string
			cookie *http.Cookie
			want   int
		}{{"admin", admin, 200}, {"tech", tech, 403}, {"client", client, 404}} {
			for _, p := range []string{"/admin/quarantine", path, path + "/delete", "/admin/quarantine?page=2"} {
				if res := w.get(p, c.cookie); res.StatusCode != c.want && !(c.want == 404 && res.StatusCode == 403) {
					t.Errorf("%s GET %s: %d, want %d", c.name, p, res.StatusCode, c.want)
				}
			}
		}
		if res := w.get(path); res.StatusCode != http.StatusSeeOther {
			t.Errorf("anonymous: %d", res.StatusCode)
		}
		if res := w.get("/admin/quarantine/999999", admin); res.StatusCode != 404 {
			t.Errorf("unknown entry: %d", res.StatusCode)
		}
		if res := w.get("/admin/quarantine/abc", admin); res.StatusCode != 404 {
			t.Errorf("bad id: %d", res.StatusCode)
		}

		list := w.get("/admin/quarantine", admin)
		if !strings.Contains(list.Body, "test_reason") || !strings.Contains(list.Body, "/admin/quarantine/"+itoaID(other.ID)) {
			t.Errorf("list lacks the entries:\n%s", list.Body)
		}
		// The raw message is text: every tag escaped, none rendered.
		show := w.get(path, admin)
		for _, bad := range []string{"<script>", "<img src=x", "<b>Impressora"} {
			if strings.Contains(show.Body, bad) {
				t.Errorf("show page carries %q unescaped", bad)
			}
		}
		for _, good := range []string{"&lt;script&gt;window.pwned=1&lt;/script&gt;", "&lt;img src=x onerror=alert(2)&gt;", "Message-Id", "test_reason"} {
			if !strings.Contains(show.Body, good) {
				t.Errorf("show page lacks %q:\n%s", good, show.Body)
			}
		}
		token := formToken(t, show.Body)

		// Tech and client POSTs change nothing; a POST without the CSRF
		// token is refused.
		for _, c := range []*http.Cookie{tech, client} {
			for _, p := range []string{path + "/reprocess", path + "/delete"} {
				if res := w.post(p, url.Values{"csrf_token": {w.csrf[c.Value]}, "confirm": {"yes"}}, c); res.StatusCode != 403 && res.StatusCode != 404 {
					t.Errorf("POST %s by %s: %d", p, c.Value[:4], res.StatusCode)
				}
			}
		}
		if res := w.post(path+"/delete", url.Values{"confirm": {"yes"}}, admin); res.StatusCode != 403 {
			t.Errorf("delete without CSRF: %d", res.StatusCode)
		}
		if _, _, err := st.R().QuarantineGet(ctx, m.ID); err != nil {
			t.Fatalf("refused POSTs changed the entry: %v", err)
		}
		// Without the confirmation, the delete asks first.
		if res := w.post(path+"/delete", url.Values{"csrf_token": {token}}, admin); res.StatusCode != http.StatusSeeOther ||
			res.Header.Get("Location") != path+"/delete" {
			t.Errorf("unconfirmed delete: %d %s", res.StatusCode, res.Header.Get("Location"))
		}

		// Reprocess: the mail becomes a ticket; the entry is released and
		// leaves the list, as `mail quarantine reprocess` does.
		res := w.post(path+"/reprocess", url.Values{"csrf_token": {token}}, admin)
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/tickets/") {
			t.Fatalf("reprocess: %d %s %s", res.StatusCode, res.Header.Get("Location"), w.logs)
		}
		held, _, err := st.R().QuarantineGet(ctx, m.ID)
		if err != nil || held.ReleasedAt == nil {
			t.Fatalf("after reprocess: %+v %v", held, err)
		}
		ts, err := w.svc.List(ctx, w.admin, store.TicketFilter{})
		if err != nil || len(ts) != 1 || ts[0].RequesterID != w.client.ID {
			t.Fatalf("tickets after reprocess: %v %v", ts, err)
		}
		if strings.Contains(w.get("/admin/quarantine", admin).Body, path+"\"") {
			t.Error("the released entry is still listed")
		}

		// Delete (confirmed): gone, audited, as `mail quarantine delete`.
		opath := "/admin/quarantine/" + itoaID(other.ID)
		if !strings.Contains(w.get(opath+"/delete", admin).Body, `name="confirm"`) {
			t.Error("no confirmation form")
		}
		if res := w.post(opath+"/delete", url.Values{"csrf_token": {token}, "confirm": {"yes"}}, admin); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("delete: %d", res.StatusCode)
		}
		if _, _, err := st.R().QuarantineGet(ctx, other.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleted entry: %v", err)
		}
		rows, err := st.R().AuditList(ctx, store.AuditFilter{Entity: "mail_quarantine"})
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, r := range rows {
			actions = append(actions, r.Action+":"+r.ActorEmail)
		}
		if !strings.Contains(strings.Join(actions, " "), "delete:admin@helpdesk.example") {
			t.Errorf("audit: %v", actions)
		}
	})
}
