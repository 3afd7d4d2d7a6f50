package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/jcservicedesk/servicedesk/mailbox/delivery"
	"github.com/jcservicedesk/servicedesk/mailbox/intake"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
)

// deliverMail runs raw through a real intake, as the SMTP receiver does.
func deliverMail(t *testing.T, w *world, from, raw string) delivery.Outcome {
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
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("intake: %v", err)
		}
	}()
	out, err := in.Deliver(ctx, delivery.Envelope{Source: delivery.SourceSMTP, MailFrom: from, Recipients: []string{"support@helpdesk.example"}}, []byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// participantItem is the <li> of name in a participants list of body.
func participantItem(t *testing.T, body, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<li>` + regexp.QuoteMeta(name) + `(.*?)</li>`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

// TestParticipantBadges: each participant says how they came in, to
// staff and to the requester: "Cc" for one named in the Cc of the mail
// that opened the ticket, "convidado" for one invited by staff; the
// requester's list leaves out the help desk's followers.
func TestParticipantBadges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		mk := func(email, name string) *store.User {
			u := &store.User{Email: email, Name: name, Role: store.RoleClient, CompanyID: &w.acme.ID}
			if err := st.InTx(ctx, func(q *store.Q) error { return q.CreateUser(ctx, u) }); err != nil {
				t.Fatal(err)
			}
			return u
		}
		mk("joao@acme.example", "João Cc")
		pedro := mk("pedro@acme.example", "Pedro Convidado")
		out := deliverMail(t, w, "maria@acme.example", "From: Maria Silva <maria@acme.example>\r\nTo: support@helpdesk.example\r\n"+
			"Cc: João <joao@acme.example>\r\nSubject: Impressora\r\nMessage-ID: <badge1@acme.example>\r\n\r\nNão imprime.\r\n")
		if out.Action != store.MailTicket || out.TicketNum == 0 {
			t.Fatalf("intake: %+v", out)
		}
		n := itoaID(out.TicketNum)
		// A requester who only wrote by mail has not accepted the privacy
		// policy the portal asks for first: she accepts it here.
		if need, rev, err := w.svc.NeedsConsent(ctx, w.client); err == nil && need {
			if _, err := w.svc.Accept(ctx, w.client, rev.ID, "127.0.0.1", "web"); err != nil {
				t.Fatal(err)
			}
		}
		tech, client := w.signIn(w.tech), w.signIn(w.client)

		// Staff invite a colleague of the requester and another staff member.
		if err := w.svc.AddParticipant(ctx, w.tech, out.TicketNum, pedro); err != nil {
			t.Fatal(err)
		}
		page := w.get("/tickets/"+n, tech)
		if res := w.post("/tickets/"+n+"/participants", url.Values{"csrf_token": {formToken(t, page.Body)}, "user_id": {itoaID(w.admin.ID)}}, tech); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("invite: %d %s", res.StatusCode, res.Body)
		}

		ccBadge := `<span class="visually-hidden">Entrou por: </span>Cc</span>`
		invitedBadge := `<span class="visually-hidden">Entrou por: </span>convidado</span>`
		for _, tc := range []struct {
			who     string
			cookie  *http.Cookie
			name    string
			want    string // "" : not listed
			notWant string
		}{
			{"staff", tech, "João Cc", ccBadge, invitedBadge},
			{"staff", tech, "Pedro Convidado", invitedBadge, ccBadge},
			{"staff", tech, "Ana Admin", invitedBadge, ccBadge},
			{"requester", client, "João Cc", ccBadge, invitedBadge},
			{"requester", client, "Pedro Convidado", invitedBadge, ccBadge},
			{"requester", client, "Ana Admin", "", ""},
		} {
			body := w.get("/tickets/"+n, tc.cookie).Body
			li := participantItem(t, body, tc.name)
			switch {
			case tc.want == "" && li != "":
				t.Errorf("%s sees the help desk's follower %s: %s", tc.who, tc.name, li)
			case tc.want != "" && !strings.Contains(li, tc.want):
				t.Errorf("%s: %s lacks %q: %q\n%s", tc.who, tc.name, tc.want, li, body)
			case tc.notWant != "" && strings.Contains(li, tc.notWant):
				t.Errorf("%s: %s has %q: %q", tc.who, tc.name, tc.notWant, li)
			}
		}
		// English, with the description as the badge's title.
		w.client.Language = "en"
		if err := st.InTx(ctx, func(q *store.Q) error { return q.UpdateUser(ctx, w.client) }); err != nil {
			t.Fatal(err)
		}
		body := w.get("/tickets/"+n, w.signIn(w.client)).Body
		if li := participantItem(t, body, "Pedro Convidado"); !strings.Contains(li, `title="Added by the help desk team"`) ||
			!strings.Contains(li, `<span class="visually-hidden">Joined by: </span>invited</span>`) {
			t.Errorf("English badge: %q", li)
		}
	})
}
