package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/smtp"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jcservicedesk/servicedesk/configs"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
)

// Integration tests of the mail paths of the real binary: the `mail ingest`
// pipe, the quarantine CLI, and the SMTP receiver of `servicedesk serve`,
// including a SIGKILL while mail is arriving.

const swaksBinary = "/usr/bin/swaks"

// mailDate is fixed so that the same arguments always give the same bytes:
// a resent message is then exactly what an MTA retry would send.
const mailDate = "Mon, 01 Jan 2024 10:00:00 +0000"

// rfc5322 builds a plain-text message with CRLF line endings.
func rfc5322(from, to, subject, body, msgid string, extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: %s\r\n", from, to, subject, mailDate, msgid)
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	b.WriteString(strings.ReplaceAll(body, "\n", "\r\n") + "\r\n")
	return b.String()
}

// ingest runs `mail ingest -o json` (bounded in time) and returns the
// outcomes and the exit code.
func (c *cli) ingest(stdin string, args ...string) ([]outcomeJSON, result) {
	c.t.Helper()
	r := c.runBounded(60*time.Second, stdin, append([]string{"mail", "ingest", "-o", "json"}, args...)...)
	var outs []outcomeJSON
	if r.stdout != "" {
		if err := json.Unmarshal([]byte(r.stdout), &outs); err != nil {
			c.t.Fatalf("mail ingest %v: bad JSON %q: %v (stderr %q)", args, r.stdout, err, r.stderr)
		}
	}
	return outs, r
}

// runBounded is c.run with a deadline: a hung command fails the test
// instead of the whole run.
func (c *cli) runBounded(d time.Duration, stdin string, args ...string) result {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, append(append([]string{}, args...), c.db...)...)
	cmd.Dir, cmd.Env = c.dir, c.env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		c.t.Fatalf("%v: no answer within %v (stderr %q)", args, d, errb.String())
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}
}

func oneOutcome(t *testing.T, what string, outs []outcomeJSON, r result, code int, action string) outcomeJSON {
	t.Helper()
	if r.code != code || len(outs) != 1 || outs[0].Action != action {
		t.Fatalf("%s: exit %d (want %d), outcomes %+v (want one %q); stderr %q", what, r.code, code, outs, action, r.stderr)
	}
	return outs[0]
}

func TestMailIngestPipe(t *testing.T) {
	eachDriver(t, func(t *testing.T, c *cli) {
		c.env = append(c.env, "SERVICEDESK_MAIL_UNKNOWN_SENDER=create")
		first := rfc5322("Ana Souza <ana@cliente.test>", "support@localhost", "Impressora parada",
			"A impressora do 2o andar parou.", "<first-1@cliente.test>")

		outs, r := c.ingest(first)
		created := oneOutcome(t, "new message", outs, r, 0, "ticket")
		if created.Ticket < 1 {
			t.Fatalf("new message: no ticket number: %+v", created)
		}
		n := fmt.Sprint(created.Ticket)

		outs, r = c.ingest(first)
		if dup := oneOutcome(t, "same message again", outs, r, 0, "duplicate"); dup.Ticket != created.Ticket {
			t.Fatalf("duplicate points at ticket %d, want %d", dup.Ticket, created.Ticket)
		}

		reply := rfc5322("Ana Souza <ana@cliente.test>", "support@localhost", "Re: Impressora parada",
			"Voltou a funcionar depois de reiniciar.\n\nEm seg, 1 de jan de 2024, Suporte escreveu:\n> A impressora do 2o andar parou.\n> Algo mais?",
			"<reply-1@cliente.test>", "In-Reply-To: <first-1@cliente.test>", "References: <first-1@cliente.test>")
		outs, r = c.ingest(reply)
		if cm := oneOutcome(t, "reply", outs, r, 0, "comment"); cm.Ticket != created.Ticket {
			t.Fatalf("reply went to ticket %d, want %d", cm.Ticket, created.Ticket)
		}
		var tk ticketOut
		c.ok(&tk, "ticket", "show", n)
		if len(tk.Comments) != 1 {
			t.Fatalf("ticket %s comments: %+v", n, tk.Comments)
		}
		body := tk.Comments[0].Body
		if !strings.Contains(body, "Voltou a funcionar") || strings.Contains(body, "> ") ||
			strings.Contains(body, "2o andar") || strings.Contains(body, "escreveu") {
			t.Fatalf("comment body should be the new text without the quote, got %q", body)
		}
		if tk.Comments[0].Author != "ana@cliente.test" {
			t.Fatalf("comment author %q", tk.Comments[0].Author)
		}

		// Not mail: kept whole in quarantine, exit 65.
		garbage := "\x00\x01 not mail"
		outs, r = c.ingest(garbage)
		if q := oneOutcome(t, "garbage", outs, r, exDataErr, "quarantine"); q.Reason != "not an RFC 5322 message" {
			t.Fatalf("garbage reason %q", q.Reason)
		}
		var held []struct {
			ID     int64  `json:"id"`
			Reason string `json:"reason"`
			Size   int64  `json:"size"`
		}
		c.ok(&held, "mail", "quarantine", "list")
		if len(held) != 1 || held[0].Reason != "not an RFC 5322 message" || held[0].Size != int64(len(garbage)) {
			t.Fatalf("quarantine list: %+v", held)
		}
		id := fmt.Sprint(held[0].ID)
		if r := c.run("", "mail", "quarantine", "show", id, "--raw"); r.code != 0 || r.stdout != garbage {
			t.Fatalf("quarantine show --raw: exit %d, %q (want %q); stderr %q", r.code, r.stdout, garbage, r.stderr)
		}
		if r := c.run("", "mail", "quarantine", "delete", id); r.code != 0 {
			t.Fatalf("quarantine delete: exit %d: %s", r.code, r.stderr)
		}
		c.ok(&held, "mail", "quarantine", "list")
		if len(held) != 0 {
			t.Fatalf("quarantine list after delete: %+v", held)
		}
		if r := c.run("", "mail", "quarantine", "show", id, "--raw"); r.code == 0 {
			t.Fatalf("deleted quarantine entry still shows: %q", r.stdout)
		}

		// An mbox of three messages: three outcomes, three tickets.
		var mb strings.Builder
		for i := 1; i <= 3; i++ {
			mb.WriteString("From MAILER-DAEMON Mon Jan  1 10:00:00 2024\n")
			mb.WriteString(strings.ReplaceAll(rfc5322("bruno@cliente.test", "support@localhost",
				fmt.Sprintf("mbox message %d", i), fmt.Sprintf("Corpo %d.", i), fmt.Sprintf("<mbox-%d@cliente.test>", i)), "\r\n", "\n"))
			mb.WriteString("\n")
		}
		box := filepath.Join(t.TempDir(), "export.mbox")
		if err := os.WriteFile(box, []byte(mb.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		outs, r = c.ingest("", "--mbox", box)
		if r.code != 0 || len(outs) != 3 {
			t.Fatalf("--mbox: exit %d, outcomes %+v, stderr %q", r.code, outs, r.stderr)
		}
		seen := map[int64]bool{}
		for i, o := range outs {
			if o.Action != "ticket" || o.Ticket == 0 || seen[o.Ticket] || o.Source != fmt.Sprintf("%s#%d", box, i+1) {
				t.Fatalf("--mbox outcome %d: %+v", i, o)
			}
			seen[o.Ticket] = true
		}
		var list []ticketOut
		c.ok(&list, "ticket", "list", "--subject", "mbox message")
		if len(list) != 3 {
			t.Fatalf("tickets from the mbox: %+v", list)
		}

		// Store unavailable: exit 75 (the MTA retries), no output, one line.
		down := newCLI(t, "sqlite") // no --database of its own: the flag below is the only one
		down.env = c.env
		bad := "sqlite:////proc/nope/x.db"
		if c.db != nil {
			bad = "postgres://postgres@127.0.0.1:1/none?sslmode=disable"
		}
		r = down.runBounded(60*time.Second, first, "mail", "ingest", "-o", "json", "--database", bad)
		if r.code != exTempFail || r.stdout != "" || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Fatalf("store unavailable (%s): exit %d (want 75), stdout %q, stderr %q", bad, r.code, r.stdout, r.stderr)
		}
		// And nothing changed where the store is available.
		c.ok(&list, "ticket", "list")
		if len(list) != 4 {
			t.Fatalf("tickets at the end: %d, want 4", len(list))
		}
	})
}

// serveEnv is what the daemon tests add to the CLI's environment.
var serveEnv = []string{"SERVICEDESK_MAIL_UNKNOWN_SENDER=create", "SERVICEDESK_LOG_LEVEL=warn"}

// startServe runs `servicedesk serve` on free loopback ports with c's
// environment and database, and waits for /healthz. stop sends sig and
// waits for the exit (SIGKILL for a crash, SIGTERM for a clean stop); it
// returns the wait error, and the daemon is killed at cleanup anyway.
func startServe(t *testing.T, c *cli) (smtpAddr, base string, stop func(sig syscall.Signal) error) {
	t.Helper()
	httpAddr := "127.0.0.1:" + freePort(t)
	smtpAddr = "127.0.0.1:" + freePort(t)
	logPath := filepath.Join(t.TempDir(), "serve.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, append([]string{"serve"}, c.db...)...)
	cmd.Dir = c.dir
	cmd.Env = append(append(append([]string{}, c.env...), serveEnv...),
		"SERVICEDESK_HTTP_ADDR="+httpAddr, "SERVICEDESK_SMTP_ADDR="+smtpAddr)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logf.Close() // the child has its own copy
	done := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(done) }()
	serveLog := func() string { b, _ := os.ReadFile(logPath); return string(b) }
	var once sync.Once
	stop = func(sig syscall.Signal) error {
		once.Do(func() {
			_ = cmd.Process.Signal(sig)
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				_ = cmd.Process.Kill()
				<-done
				waitErr = fmt.Errorf("serve did not stop within 30s of %v; killed", sig)
			}
		})
		return waitErr
	}
	t.Cleanup(func() { _ = stop(syscall.SIGKILL) })

	base = "http://" + httpAddr
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-done:
			t.Fatalf("serve exited before it was healthy (%v):\n%s", waitErr, serveLog())
		default:
		}
		if resp, err := client.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve not healthy within 60s:\n%s", serveLog())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// /healthz answers before the SMTP listener is up: wait for it too.
	for {
		conn, err := net.DialTimeout("tcp", smtpAddr, time.Second)
		if err == nil {
			conn.Close()
			return smtpAddr, base, stop
		}
		if time.Now().After(deadline) {
			t.Fatalf("SMTP %s not listening: %v\n%s", smtpAddr, err, serveLog())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sendSMTP sends one message over one connection with the standard
// library's client, bounded to 30 seconds.
func sendSMTP(addr, from, to, subject, body, msgid string) error {
	return sendRaw(addr, from, to, rfc5322(from, to, subject, body, msgid))
}

func sendRaw(addr, from, to, msg string) error {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		return err
	}
	host, _, _ := net.SplitHostPort(addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("tests.localhost"); err != nil {
		return err
	}
	if err := c.Mail(from); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(msg)); err != nil {
		return err
	}
	if err := w.Close(); err != nil { // the server's answer to DATA
		return err
	}
	// 250 to DATA: the message is the server's. A lost QUIT changes nothing.
	_ = c.Quit()
	return nil
}

// smtpCode is the reply code of an SMTP error, 0 for other errors.
func smtpCode(err error) int {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

// ticketsWithSubject lists the tickets whose subject contains s.
func ticketsWithSubject(c *cli, s string) []ticketOut {
	var list []ticketOut
	c.ok(&list, "ticket", "list", "--subject", s, "--limit", "1000")
	return list
}

// openStoreOf opens c's database directly, for what the CLI does not show
// (attachments). Only while no daemon runs on it.
func openStoreOf(t *testing.T, c *cli) *store.Store {
	t.Helper()
	url := "sqlite:///" + filepath.Join(c.dir, "data", "servicedesk.db")
	if len(c.db) == 2 {
		url = c.db[1]
	}
	target, err := configs.ParseDatabaseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.Open(ctx, store.Options{Driver: target.Driver, DSN: target.DSN, MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestSMTPReceiverEndToEnd(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("signals")
	}
	eachDriver(t, func(t *testing.T, c *cli) {
		smtpAddr, _, stop := startServe(t, c)

		if err := sendSMTP(smtpAddr, "carla@cliente.test", "support@localhost", "SMTP owned address",
			"O monitor pisca.", "<smtp-1@cliente.test>"); err != nil {
			t.Fatalf("send to support@localhost: %v", err)
		}
		// A separate CLI process on the database the daemon is using.
		if got := ticketsWithSubject(c, "SMTP owned address"); len(got) != 1 || got[0].Requester != "carla@cliente.test" {
			t.Fatalf("ticket from SMTP: %+v", got)
		}

		err := sendSMTP(smtpAddr, "carla@cliente.test", "someone@elsewhere.test", "SMTP foreign",
			"Not ours.", "<smtp-2@cliente.test>")
		if smtpCode(err) != 550 {
			t.Fatalf("foreign RCPT: got %v, want a 550 reply", err)
		}
		if got := ticketsWithSubject(c, "SMTP foreign"); len(got) != 0 {
			t.Fatalf("foreign RCPT made a ticket: %+v", got)
		}

		if err := sendSMTP(smtpAddr, "carla@cliente.test", "support+financeiro@localhost", "SMTP plus tag",
			"Boleto errado.", "<smtp-3@cliente.test>"); err != nil {
			t.Fatalf("send to support+financeiro@localhost: %v", err)
		}
		if got := ticketsWithSubject(c, "SMTP plus tag"); len(got) != 1 {
			t.Fatalf("ticket from +tag address: %+v", got)
		}

		if _, err := os.Stat(swaksBinary); err != nil {
			storetest.SkipOrFail(t, "swaks part needs "+swaksBinary)
		}
		pdf := []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n" +
			strings.Repeat("binary-ish \x01\x02\xff payload ", 200))
		file := filepath.Join(t.TempDir(), "fatura.pdf")
		if err := os.WriteFile(file, pdf, 0o600); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, swaksBinary, "--server", smtpAddr, "--timeout", "30",
			"--from", "diego@cliente.test", "--to", "support@localhost", "--header", "Subject: swaks with PDF",
			"--body", "Segue a fatura.", "--attach-type", "application/pdf", "--attach", "@"+file).CombinedOutput()
		if err != nil {
			t.Fatalf("swaks: %v\n%s", err, out)
		}
		got := ticketsWithSubject(c, "swaks with PDF")
		if len(got) != 1 || got[0].Requester != "diego@cliente.test" {
			t.Fatalf("ticket from swaks: %+v", got)
		}
		var tk ticketOut
		c.ok(&tk, "ticket", "show", fmt.Sprint(got[0].Number))
		if tk.Number != got[0].Number || tk.Subject != "swaks with PDF" {
			t.Fatalf("ticket show: %+v", tk)
		}
		if err := stop(syscall.SIGTERM); err != nil {
			t.Fatalf("serve did not stop cleanly: %v", err)
		}

		// `ticket show -o json` has no attachments: read them from the store.
		st := openStoreOf(t, c)
		sctx, scancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer scancel()
		ticket, err := st.R().TicketByNumber(sctx, store.AllCompanies(), got[0].Number, false)
		if err != nil {
			t.Fatal(err)
		}
		as, err := st.R().Attachments(sctx, ticket.ID, true)
		if err != nil {
			t.Fatal(err)
		}
		if len(as) != 1 || as[0].Filename != "fatura.pdf" || as[0].ContentType != "application/pdf" || as[0].Size != int64(len(pdf)) {
			t.Fatalf("attachments of #%d: %+v", got[0].Number, as)
		}
		_, data, err := st.R().Attachment(sctx, store.AllCompanies(), as[0].ID, true)
		if err != nil || !bytes.Equal(data, pdf) {
			t.Fatalf("attachment bytes differ (%d bytes, want %d): %v", len(data), len(pdf), err)
		}
	})
}

// TestCrashWhileReceivingLosesNothing: every message that got a 250 is
// there exactly once after a SIGKILL, and resending it is a duplicate.
func TestCrashWhileReceivingLosesNothing(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("signals")
	}
	eachDriver(t, func(t *testing.T, c *cli) {
		// One sender per goroutine sends hundreds of messages: the loop
		// guard is not what this test is about.
		c.env = append(c.env, "SERVICEDESK_MAIL_RATE_LIMIT_PER_HOUR=0")
		token := fmt.Sprintf("crash%d", time.Now().UnixNano())
		const senders, perSender = 8, 900 // each sender's subjects fit one --limit 1000 listing
		type msg struct{ from, subject, body, msgid string }
		mk := func(g, i int) msg {
			return msg{
				from:    fmt.Sprintf("sender%d@cliente.test", g),
				subject: fmt.Sprintf("%s-g%d-m%04d", token, g, i),
				body:    fmt.Sprintf("message %d of sender %d", i, g),
				msgid:   fmt.Sprintf("<%s.%d.%d@cliente.test>", token, g, i),
			}
		}

		smtpAddr, _, stop := startServe(t, c)
		var mu sync.Mutex
		var accepted []msg
		var firstErr []string
		var inFlight []msg // the message each sender was sending when the daemon died
		var errBeforeKill error
		var killedAt time.Time
		var wg sync.WaitGroup
		// The kill comes once every sender has had some mail accepted: a
		// positive signal, where a fixed wait let a loaded machine reach
		// the kill with only 9 messages in.
		const perSenderBeforeKill = 25
		perSenderAccepted := make([]int, senders)
		ready := 0
		going := make(chan struct{})
		start := time.Now()
		for g := 0; g < senders; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < perSender; i++ {
					m := mk(g, i)
					if err := sendSMTP(smtpAddr, m.from, "support@localhost", m.subject, m.body, m.msgid); err != nil {
						mu.Lock()
						firstErr = append(firstErr, fmt.Sprintf("g%d after %d: %v", g, i, err))
						inFlight = append(inFlight, m)
						if killedAt.IsZero() && errBeforeKill == nil {
							errBeforeKill = fmt.Errorf("sender %d, message %d: %w", g, i, err)
						}
						mu.Unlock()
						return
					}
					mu.Lock()
					accepted = append(accepted, m)
					if perSenderAccepted[g]++; perSenderAccepted[g] == perSenderBeforeKill {
						if ready++; ready == senders {
							close(going)
						}
					}
					mu.Unlock()
				}
			}()
		}
		select {
		case <-going:
		case <-time.After(2 * time.Minute):
			mu.Lock()
			msg := fmt.Sprintf("senders did not get going: %v accepted per sender, errors %v", perSenderAccepted, firstErr)
			mu.Unlock()
			t.Fatal(msg)
		}
		mu.Lock()
		atKill := len(accepted)
		killedAt = time.Now()
		mu.Unlock()
		if err := stop(syscall.SIGKILL); err == nil {
			t.Fatal("serve exited cleanly before the SIGKILL: nothing was tested")
		}
		wg.Wait()
		t.Logf("%d accepted in %v (%d at the kill); senders stopped with: %v",
			len(accepted), time.Since(start).Round(time.Millisecond), atKill, firstErr)
		if errBeforeKill != nil {
			t.Fatalf("the daemon refused mail before the kill: %v", errBeforeKill)
		}
		if len(firstErr) != senders {
			t.Fatalf("only %d of %d senders were stopped by the crash; the kill came too late", len(firstErr), senders)
		}
		if len(accepted) < senders*perSenderBeforeKill {
			t.Fatalf("only %d messages accepted before the kill; the test proves nothing", len(accepted))
		}

		// Restart on the same database: recovery, health, a clean stop.
		_, _, stop = startServe(t, c)
		if err := stop(syscall.SIGTERM); err != nil {
			t.Fatalf("restarted serve did not stop cleanly: %v", err)
		}

		// count lists every ticket of this run, sender by sender.
		count := func() map[string]int {
			n := map[string]int{}
			for g := 0; g < senders; g++ {
				list := ticketsWithSubject(c, fmt.Sprintf("%s-g%d-", token, g))
				if len(list) >= 1000 {
					t.Fatalf("sender %d: listing is full (%d), cannot count", g, len(list))
				}
				for _, tk := range list {
					n[tk.Subject]++
				}
			}
			return n
		}
		before := count()
		total := 0
		for subject, k := range before {
			total += k
			if k != 1 {
				t.Errorf("%q is on %d tickets, want 1", subject, k)
			}
		}
		for _, m := range accepted {
			if before[m.subject] != 1 {
				t.Errorf("accepted message %q (%s) is on %d tickets after the crash", m.subject, m.msgid, before[m.subject])
			}
		}
		t.Logf("%d tickets after the crash for %d accepted messages", total, len(accepted))
		if t.Failed() {
			return
		}

		// The senders retry: the accepted messages again (an MTA that missed
		// the 250) are all duplicates; the ones in flight at the kill may or
		// may not be new, but each ends up on exactly one ticket.
		smtpAddr, _, stop = startServe(t, c)
		work := make(chan msg)
		var retryErrs []string
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for m := range work {
					if err := sendSMTP(smtpAddr, m.from, "support@localhost", m.subject, m.body, m.msgid); err != nil {
						mu.Lock()
						retryErrs = append(retryErrs, fmt.Sprintf("%s: %v", m.subject, err))
						mu.Unlock()
					}
				}
			}()
		}
		for _, m := range append(append([]msg{}, accepted...), inFlight...) {
			work <- m
		}
		close(work)
		wg.Wait()
		if len(retryErrs) > 0 {
			t.Fatalf("%d retries refused, e.g. %s", len(retryErrs), retryErrs[0])
		}
		if err := stop(syscall.SIGTERM); err != nil {
			t.Fatalf("serve did not stop cleanly after the retries: %v", err)
		}
		after := count()
		wantTotal := total
		for _, m := range inFlight {
			if after[m.subject] != 1 {
				t.Errorf("in-flight message %q is on %d tickets after its retry, want 1", m.subject, after[m.subject])
			}
			if before[m.subject] == 0 {
				wantTotal++ // lost with the daemon, delivered by the retry
			}
		}
		afterTotal := 0
		for subject, k := range after {
			afterTotal += k
			if k != before[subject] && before[subject] != 0 {
				t.Errorf("%q: %d tickets before the retries, %d after", subject, before[subject], k)
			}
		}
		if afterTotal != wantTotal {
			t.Fatalf("after resending %d accepted and %d in-flight messages: %d tickets, want %d (%d before)",
				len(accepted), len(inFlight), afterTotal, wantTotal, total)
		}
	})
}

// TestMailIngestOversizedKeptWhole: a message over smtp.max_message_bytes
// that reaches the pipe is quarantined whole, not cut at the limit.
func TestMailIngestOversizedKeptWhole(t *testing.T) {
	c := newCLI(t, "sqlite")
	c.env = append(c.env, "SERVICEDESK_SMTP_MAX_MESSAGE_BYTES=2000")
	big := rfc5322("ana@cliente.example", "support@localhost", "grande", strings.Repeat("x", 5000), "<big@cliente.example>")
	outs, r := c.ingest(big)
	oneOutcome(t, "oversized", outs, r, 0, "quarantine")
	var held []struct {
		ID   int64 `json:"id"`
		Size int64 `json:"size"`
	}
	c.ok(&held, "mail", "quarantine", "list")
	if len(held) != 1 || held[0].Size != int64(len(big)) {
		t.Fatalf("held %+v, want one of %d bytes", held, len(big))
	}
	raw := c.run("", "mail", "quarantine", "show", fmt.Sprint(held[0].ID), "--raw")
	if raw.stdout != big {
		t.Fatalf("quarantined copy is %d bytes, want %d", len(raw.stdout), len(big))
	}
}
