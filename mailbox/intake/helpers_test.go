package intake_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jcservicedesk/servicedesk/mailbox/delivery"
	"github.com/jcservicedesk/servicedesk/mailbox/intake"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

var secret = []byte("test-secret-key-for-reply-tokens")

type rig struct {
	t      testing.TB
	st     *store.Store
	svc    *ticketing.Service
	in     *intake.Intake
	cfg    intake.Config
	acme   *store.Company
	tech   *store.User
	mu     sync.Mutex
	events []ticketing.Event
}

func newRig(t testing.TB, st *store.Store, mod ...func(*intake.Config)) *rig {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	r := &rig{t: t, st: st}
	r.svc = ticketing.NewService(st, ticketing.WithListener(func(ev ticketing.Event) {
		r.mu.Lock()
		r.events = append(r.events, ev)
		r.mu.Unlock()
	}))
	err := st.InTx(ctx, func(q *store.Q) error {
		if err := q.CreateCompany(ctx, &store.Company{Name: "Default"}); err != nil {
			return err
		}
		r.acme = &store.Company{Name: "Acme", Domains: []string{"acme.example"}, ShareTickets: true}
		if err := q.CreateCompany(ctx, r.acme); err != nil {
			return err
		}
		r.tech = &store.User{Email: "tech@helpdesk.example", Role: store.RoleTech, Name: "Tech"}
		return q.CreateUser(ctx, r.tech)
	})
	if err != nil {
		t.Fatal(err)
	}
	r.cfg = intake.Config{
		Addresses: []string{"support@helpdesk.example"}, CommentAddress: "comment@helpdesk.example",
		UnknownSender: intake.UnknownCreate, DefaultCompany: "Default", ReopenDays: 14, SubjectTagPrefix: "#",
		RateLimitPerHour: 30, Secret: secret, LoopValues: []string{"helpdesk.example"},
		MaxMessageBytes: 25 << 20, MaxAttachment: 10 << 20,
	}
	for _, f := range mod {
		f(&r.cfg)
	}
	r.in = intake.New(r.cfg, r.svc, slog.New(slog.NewTextHandler(io.Discard, nil)))
	// The group committer runs as serve runs it: started before the first
	// delivery, stopped (and joined) before the store closes.
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.in.Run(runCtx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("intake run: %v", err)
		}
	})
	return r
}

func (r *rig) deliver(src delivery.Source, raw string) delivery.Outcome {
	r.t.Helper()
	out, err := r.in.Deliver(context.Background(), delivery.Envelope{Source: src, MailFrom: "x@y", Recipients: []string{"support@helpdesk.example"}}, []byte(raw))
	if err != nil {
		r.t.Fatalf("deliver: %v", err)
	}
	return out
}

func (r *rig) ticket(n int64) *ticketing.View {
	r.t.Helper()
	v, err := r.svc.Get(context.Background(), ticketing.SystemActor(), n)
	if err != nil {
		r.t.Fatalf("ticket #%d: %v", n, err)
	}
	return v
}

func (r *rig) ticketCount() int {
	ts, err := r.svc.List(context.Background(), ticketing.SystemActor(), store.TicketFilter{Limit: 1000})
	if err != nil {
		r.t.Fatal(err)
	}
	return len(ts)
}

// mail builds a message; extra headers come first, then a body.
func mail(from, subject, body string, headers ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: Support <support@helpdesk.example>\r\nSubject: %s\r\n", from, subject)
	fmt.Fprintf(&b, "Date: %s\r\n", time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC).Format(time.RFC1123Z))
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	b.WriteString(strings.ReplaceAll(body, "\n", "\r\n"))
	return b.String()
}
