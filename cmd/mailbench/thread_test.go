package main

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jcservicedesk/servicedesk/mailbox/intake"
	"github.com/jcservicedesk/servicedesk/mailbox/smtpd"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

var threadN = flag.Int("thread.n", 200, "messages of the thread set in TestThreadSetThroughSMTP (half requests, half replies)")

// startDaemon runs the intake's group committer and the SMTP receiver on
// st, for mail to "to", until the test ends; it returns the address.
func startDaemon(t *testing.T, st *store.Store, to, unknownSender string) string {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	in := intake.New(intake.Config{Addresses: []string{to}, UnknownSender: unknownSender, DefaultCompany: "Default",
		ReopenDays: 14, Secret: []byte("mailbench-test-secret"), LoopValues: []string{"helpdesk.example"},
		MaxMessageBytes: 25 << 20, MaxAttachment: 10 << 20}, ticketing.NewService(st), log)
	runCtx, stop := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- in.Run(runCtx) }()
	srv := smtpd.New(smtpd.Config{Hostname: "mx.test", Addresses: []string{to}, MaxMessageBytes: 25 << 20}, in, log)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	// Cleanups run last first: the receiver stops, then the committer.
	t.Cleanup(func() {
		stop()
		if err := <-ran; err != nil {
			t.Errorf("intake: %v", err)
		}
	})
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	})
	return l.Addr().String()
}

// TestThreadSetThroughSMTP sends the thread set through the real SMTP
// receiver into the intake, with mail.unknown_sender create and then
// quarantine, and checks where every message went: each reply from a
// person on the thread is a comment on its conversation's ticket; each
// stranger's reply is a new ticket linked to it (create) or held
// (quarantine); the ticket count is the requests plus the strangers'
// replies (create) or the requests (quarantine).
func TestThreadSetThroughSMTP(t *testing.T) {
	for _, policy := range []string{intake.UnknownCreate, intake.UnknownQuarantine} {
		t.Run(policy, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, st *store.Store) { threadSet(t, st, policy, *threadN) })
		})
	}
}

func threadSet(t *testing.T, st *store.Store, policy string, n int) {
	ctx := context.Background()
	err := st.InTx(ctx, func(q *store.Q) error {
		if err := q.CreateCompany(ctx, &store.Company{Name: "Default"}); err != nil {
			return err
		}
		for _, d := range threadDomains {
			if err := q.CreateCompany(ctx, &store.Company{Name: d, Domains: []string{d}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	const to = "support@helpdesk.example"
	addr := startDaemon(t, st, to, policy)

	res := run(options{addr: addr, to: to, helo: "client.test", n: n, c: 4, seed: 1, run: "t", timeout: 10 * time.Minute, set: "thread"})
	if res.OK != n {
		t.Fatalf("not every message was accepted: %s", res.summary())
	}
	e := res.Expect
	g := newThreadGenerator(1, "t", to, n, time.Date(2026, 3, 2, 9, 0, 0, 0, time.FixedZone("-0300", -3*3600)))

	mails, err := st.R().MailPage(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]*store.MailMessage{}
	for _, m := range mails {
		byID[strings.Trim(strings.ToLower(m.MessageID), "<>")] = m
	}
	tickets := map[int64]bool{} // every ticket here was opened by a mail
	for _, m := range mails {
		if m.Action == store.MailTicket && m.TicketID != nil {
			tickets[*m.TicketID] = true
		}
	}
	held, err := st.R().QuarantinePage(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Where each message went, counted before any check fails, so that
	// the figures of another rule can be read off this test too.
	var onTicket, split, strangerOK int
	for i, tm := range g.thread {
		if g.metas[i].kind != kindReply {
			continue
		}
		m := byID[strings.Trim(strings.ToLower(g.metas[i].messageID), "<>")]
		req := byID[strings.Trim(strings.ToLower(g.metas[g.convs[tm.conv].msgs[0]].messageID), "<>")]
		if tm.stranger {
			switch {
			case policy == intake.UnknownQuarantine && m == nil:
				strangerOK++
			case policy == intake.UnknownCreate && m != nil && m.Action == store.MailTicket && linked(t, st, m, req):
				strangerOK++
			}
			continue
		}
		if m != nil && req != nil && m.Action == store.MailComment && m.TicketID != nil && req.TicketID != nil && *m.TicketID == *req.TicketID {
			onTicket++
		} else if m != nil && m.Action == store.MailTicket {
			split++
		}
	}
	t.Logf("%s, %d messages (%d requests, replies %v): %d tickets, %d replies on their ticket, %d replies split off, %d strangers handled, %d quarantined",
		policy, n, e.Requests, e.Replies, len(tickets), onTicket, split, strangerOK, len(held))
	if onTicket != e.Comments {
		t.Errorf("%d of %d replies from people on the thread landed on their ticket (%d opened tickets)", onTicket, e.Comments, split)
	}
	if strangerOK != e.Quarantined {
		t.Errorf("%d of %d strangers' replies were a linked ticket / held", strangerOK, e.Quarantined)
	}
	want, wantHeld := e.TicketsCreate, 0
	if policy == intake.UnknownQuarantine {
		want, wantHeld = e.TicketsQuarantine, e.Quarantined
	}
	if len(tickets) != want || len(held) != wantHeld {
		t.Errorf("%d tickets and %d held, want %d and %d", len(tickets), len(held), want, wantHeld)
	}
}

// linked reports whether m's new ticket is linked (related) to req's.
func linked(t *testing.T, st *store.Store, m, req *store.MailMessage) bool {
	if m.TicketID == nil || req == nil || req.TicketID == nil {
		return false
	}
	links, err := st.R().TicketLinks(context.Background(), *m.TicketID)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range links {
		if l.Kind == store.LinkRelated && (l.TicketID == *req.TicketID || l.OtherID == *req.TicketID) {
			return true
		}
	}
	return false
}
