package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log"
	"mime/quotedprintable"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-smtp"
)

// End-to-end tests of outbound mail through the real binary: `serve`
// delivers the outbox through a go-smtp relay that runs inside the test,
// and what people (or robots) answer comes back through the daemon's own
// SMTP receiver.

// relayed is one message the test relay accepted.
type relayed struct {
	From string   // envelope sender
	To   []string // envelope recipients
	Raw  []byte
	Hdr  mail.Header
	Text string // the first text/plain part, decoded
	At   time.Time
}

func (m relayed) header(k string) string { return strings.TrimSpace(m.Hdr.Get(k)) }

func (m relayed) replyTo() string {
	as, err := m.Hdr.AddressList("Reply-To")
	if err != nil || len(as) == 0 {
		return ""
	}
	return as[0].Address
}

func (m relayed) subject() string {
	s, _ := m.Hdr.Subject()
	return s
}

func (m relayed) sentTo(addr string) bool {
	for _, to := range m.To {
		if strings.EqualFold(to, addr) {
			return true
		}
	}
	return false
}

// testRelay is the SMTP relay `serve` sends through: a real go-smtp server
// that records every message, can answer 451 to the next transactions and
// 550 to some recipients, and can call a function for each message it
// accepted (the auto-responder).
type testRelay struct {
	port int

	mu       sync.Mutex
	msgs     []relayed
	tempFail int             // transactions still to refuse with 451 at MAIL FROM
	refused  map[string]bool // recipients refused with 550 at RCPT TO
	tempSeen int             // 451 answers given
	onMsg    func(relayed)   // run in its own goroutine after the 250
	closed   bool
	wg       sync.WaitGroup
}

func startRelay(t *testing.T) *testRelay {
	t.Helper()
	r := &testRelay{refused: map[string]bool{}}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &relaySession{r: r}, nil
	}))
	srv.Domain = "relay.test"
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	srv.MaxRecipients = 50
	srv.ErrorLog = log.New(io.Discard, "", 0)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.port = l.Addr().(*net.TCPAddr).Port
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() {
		r.mu.Lock()
		r.closed = true
		r.mu.Unlock()
		_ = srv.Close()
		r.wg.Wait() // the responder's sends are bounded in time
	})
	return r
}

// env is what `serve` (and the CLI) need to send through the relay.
func (r *testRelay) env() []string {
	return []string{
		"SERVICEDESK_MAIL_SERVER=127.0.0.1",
		"SERVICEDESK_MAIL_PORT=" + strconv.Itoa(r.port),
		"SERVICEDESK_MAIL_USE_TLS=false",
		"SERVICEDESK_MAIL_SUPPRESS_SEND=false",
		"SERVICEDESK_MAIL_ADDRESSES=support@localhost",
	}
}

func (r *testRelay) setOnMsg(fn func(relayed)) {
	r.mu.Lock()
	r.onMsg = fn
	r.mu.Unlock()
}

func (r *testRelay) failNext(n int) {
	r.mu.Lock()
	r.tempFail = n
	r.mu.Unlock()
}

func (r *testRelay) refuse(addr string) {
	r.mu.Lock()
	r.refused[strings.ToLower(addr)] = true
	r.mu.Unlock()
}

func (r *testRelay) tempAnswers() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tempSeen
}

// to lists the accepted messages for addr, oldest first.
func (r *testRelay) to(addr string) []relayed {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []relayed
	for _, m := range r.msgs {
		if m.sentTo(addr) {
			out = append(out, m)
		}
	}
	return out
}

func (r *testRelay) all() []relayed {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]relayed(nil), r.msgs...)
}

// waitTo waits up to d for at least n messages for addr.
func (r *testRelay) waitTo(t *testing.T, c *cli, addr string, n int, d time.Duration) []relayed {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		got := r.to(addr)
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			out := c.run("", "mail", "outbox", "list", "-o", "json")
			t.Fatalf("relay got %d messages for %s within %v, want %d; outbox: %s %s", len(got), addr, d, n, out.stdout, out.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type relaySession struct {
	r    *testRelay
	from string
	to   []string
}

func (s *relaySession) Mail(from string, _ *smtp.MailOptions) error {
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	if s.r.tempFail > 0 {
		s.r.tempFail--
		s.r.tempSeen++
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Relay overloaded, try again later"}
	}
	s.from = from
	return nil
}

func (s *relaySession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	if s.r.refused[strings.ToLower(to)] {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "Mailbox unavailable: no such user here"}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *relaySession) Data(rd io.Reader) error {
	raw, err := io.ReadAll(rd)
	if err != nil {
		return err
	}
	m := relayed{From: s.from, To: append([]string(nil), s.to...), Raw: raw, At: time.Now()}
	if err := parseRelayed(&m); err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "unparsable message: " + err.Error()}
	}
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	s.r.msgs = append(s.r.msgs, m)
	if fn := s.r.onMsg; fn != nil && !s.r.closed {
		s.r.wg.Go(func() { fn(m) })
	}
	return nil
}

func (s *relaySession) Reset()        { s.from, s.to = "", nil }
func (s *relaySession) Logout() error { return nil }

// parseRelayed fills in the header and the text part of m.Raw.
func parseRelayed(m *relayed) error {
	mr, err := mail.CreateReader(bytes.NewReader(m.Raw))
	if err != nil {
		return err
	}
	defer mr.Close()
	m.Hdr = mr.Header
	for range 20 {
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if h, ok := p.Header.(*mail.InlineHeader); ok && m.Text == "" {
			if ct, _, _ := h.ContentType(); ct == "text/plain" {
				b, err := io.ReadAll(p.Body)
				if err != nil {
					return err
				}
				m.Text = string(b)
			}
		}
	}
	return nil
}

// outboxRow is one line of `mail outbox list -o json`.
type outboxRow struct {
	ID            int64     `json:"id"`
	To            string    `json:"to"`
	Event         string    `json:"event"`
	AutoKind      string    `json:"auto_kind"`
	Subject       string    `json:"subject"`
	MessageID     string    `json:"message_id"`
	Status        string    `json:"status"`
	Attempts      int       `json:"attempts"`
	LastError     string    `json:"last_error"`
	NextAttemptAt time.Time `json:"next_attempt_at"`
}

func outboxTo(c *cli, addr string, args ...string) []outboxRow {
	var rows []outboxRow
	c.ok(&rows, append([]string{"mail", "outbox", "list", "--limit", "500"}, args...)...)
	var out []outboxRow
	for _, r := range rows {
		if strings.EqualFold(r.To, addr) {
			out = append(out, r)
		}
	}
	return out
}

// waitOutbox polls `mail outbox list` until cond holds for a row to addr.
func waitOutbox(t *testing.T, c *cli, addr string, d time.Duration, what string, cond func(outboxRow) bool) outboxRow {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		rows := outboxTo(c, addr)
		for _, r := range rows {
			if cond(r) {
				return r
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("outbox to %s: not %s within %v: %+v", addr, what, d, rows)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

var replyToRe = regexp.MustCompile(`^support\+[A-Za-z0-9._=-]+@localhost$`)

// gmailReply is a reply as Gmail writes it: multipart/alternative, the new
// text on top, the "On … wrote:" line wrapped, the old text quoted with
// "> " in the text part and in a gmail_quote blockquote in the HTML part.
func gmailReply(from, to, subject, msgid, inReplyTo string, refs []string, newText, quotedText string) string {
	attr := "On Mon, Jan 1, 2024 at 10:05\u202fAM JC Service Desk <support@localhost>\nwrote:"
	var quoted []string
	for _, l := range strings.Split(strings.TrimRight(strings.ReplaceAll(quotedText, "\r\n", "\n"), "\n"), "\n") {
		if l == "" {
			quoted = append(quoted, ">")
		} else {
			quoted = append(quoted, "> "+l)
		}
	}
	text := newText + "\n\n" + attr + "\n\n" + strings.Join(quoted, "\n") + "\n"
	htmlBody := `<div dir="ltr">` + html.EscapeString(newText) + `</div><br><div class="gmail_quote gmail_quote_container">` +
		`<div dir="ltr" class="gmail_attr">` + html.EscapeString(strings.ReplaceAll(attr, "\n", " ")) + `<br></div>` +
		`<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex">` +
		strings.ReplaceAll(html.EscapeString(quotedText), "\n", "<br>") + `</blockquote></div>`
	qp := func(s string) string {
		var b bytes.Buffer
		w := quotedprintable.NewWriter(&b)
		_, _ = w.Write([]byte(strings.ReplaceAll(s, "\n", "\r\n")))
		_ = w.Close()
		return b.String()
	}
	const boundary = "000000000000a1b2c3d4e5f60718"
	var b strings.Builder
	fmt.Fprintf(&b, "MIME-Version: 1.0\r\nDate: Mon, 1 Jan 2024 10:07:00 -0300\r\nReferences: %s\r\nIn-Reply-To: %s\r\n",
		strings.Join(refs, " "), inReplyTo)
	fmt.Fprintf(&b, "Message-ID: %s\r\nSubject: %s\r\nFrom: %s\r\nTo: %s\r\n", msgid, subject, from, to)
	fmt.Fprintf(&b, "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n", boundary)
	fmt.Fprintf(&b, "--%s\r\nContent-Type: text/plain; charset=\"UTF-8\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n%s\r\n", boundary, qp(text))
	fmt.Fprintf(&b, "--%s\r\nContent-Type: text/html; charset=\"UTF-8\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n%s\r\n", boundary, qp(htmlBody))
	fmt.Fprintf(&b, "--%s--\r\n", boundary)
	return b.String()
}

// TestDaemonRoundTrip: new mail → acknowledgement through the relay; a
// tech's comment → mail to the requester; her Gmail reply → a comment with
// only the new text, and no mail back to her about her own comment.
func TestDaemonRoundTrip(t *testing.T) {
	eachDriver(t, func(t *testing.T, c *cli) {
		const maria = "maria@acme.example"
		relay := startRelay(t)
		c.env = append(c.env, relay.env()...)
		smtpAddr, _, _ := startServe(t, c)

		// Gmail-shaped and mixed case: "as written" must keep it so.
		origID := fmt.Sprintf("<CAHx7Q+Maria=%d.Toner@mail.gmail.com>", time.Now().UnixNano())
		if err := sendRaw(smtpAddr, maria, "support@localhost", rfc5322("Maria Souza <maria@acme.example>", "support@localhost",
			"Impressora sem toner", "A impressora da recepção está sem toner.", origID)); err != nil {
			t.Fatalf("send the new mail: %v", err)
		}
		got := ticketsWithSubject(c, "Impressora sem toner")
		if len(got) != 1 || got[0].Requester != maria {
			t.Fatalf("ticket from the mail: %+v", got)
		}
		n := got[0].Number
		tag := fmt.Sprintf("[#%d]", n)

		ack := relay.waitTo(t, c, maria, 1, 30*time.Second)[0]
		if v := ack.header("Auto-Submitted"); v != "auto-replied" {
			t.Errorf("acknowledgement Auto-Submitted %q, want auto-replied", v)
		}
		if s := ack.subject(); !strings.Contains(s, tag) {
			t.Errorf("acknowledgement subject %q has no %s", s, tag)
		}
		replyTo := ack.replyTo()
		if !replyToRe.MatchString(replyTo) {
			t.Errorf("acknowledgement Reply-To %q, want support+<token>@localhost", replyTo)
		}
		if v := ack.header("In-Reply-To"); v != origID {
			t.Errorf("acknowledgement In-Reply-To %q, want %q as written", v, origID)
		}
		if len(ack.To) != 1 || ack.From == "" {
			t.Errorf("acknowledgement envelope: from %q to %v", ack.From, ack.To)
		}
		if t.Failed() {
			t.Fatalf("acknowledgement as relayed:\n%s", ack.Raw)
		}

		// A tech answers from the CLI (another process: the daemon finds
		// the queued mail on its next poll).
		c.ok(nil, "user", "add", "--email", "tech@helpdesk.example", "--name", "Téo Técnico", "--role", "tech")
		const techText = "Trocamos o cartucho de toner. Pode testar de novo?"
		c.ok(nil, "ticket", "comment", fmt.Sprint(n), "--body", techText, "--as", "tech@helpdesk.example")
		// The comment may queue more than one mail to Maria (a tech's first
		// comment also opens the ticket): find the "commented" one.
		row := waitOutbox(t, c, maria, 30*time.Second, "a sent comment mail", func(r outboxRow) bool {
			return r.Event == "commented" && r.Status == "sent"
		})
		before := outboxTo(c, maria)
		var cm relayed
		for _, m := range relay.waitTo(t, c, maria, len(before), 30*time.Second) {
			if strings.Trim(m.header("Message-ID"), "<>") == row.MessageID {
				cm = m
			}
		}
		if cm.Raw == nil {
			t.Fatalf("outbox row %+v sent but not at the relay", row)
		}
		for _, r := range before {
			t.Logf("outbox to Maria before her reply: %d %s %s", r.ID, r.Event, r.Status)
		}
		if !strings.Contains(cm.Text, techText) {
			t.Errorf("comment mail text does not carry the comment:\n%s", cm.Text)
		}
		if s := cm.subject(); !strings.Contains(s, tag) {
			t.Errorf("comment mail subject %q has no %s", s, tag)
		}
		if cm.replyTo() != replyTo {
			t.Errorf("comment mail Reply-To %q, acknowledgement's %q", cm.replyTo(), replyTo)
		}
		ourID := cm.header("Message-ID")
		if ourID == "" {
			t.Fatalf("comment mail has no Message-ID:\n%s", cm.Raw)
		}

		// Maria answers from Gmail: to the Reply-To, threaded on our
		// Message-ID, with a subject she edited (no tag).
		const mariaText = "Funcionou, obrigada! A impressão voltou ao normal."
		reply := gmailReply("Maria Souza <maria@acme.example>", replyTo, "Re: toner trocado?",
			fmt.Sprintf("<CAHx7Q+Reply=%d@mail.gmail.com>", time.Now().UnixNano()), ourID,
			[]string{origID, ack.header("Message-ID"), ourID}, mariaText, cm.Text)
		if err := sendRaw(smtpAddr, maria, replyTo, reply); err != nil {
			t.Fatalf("send the Gmail reply: %v", err)
		}
		var tk ticketOut
		c.ok(&tk, "ticket", "show", fmt.Sprint(n))
		var mine []string
		for _, cmt := range tk.Comments {
			if cmt.Author == maria {
				mine = append(mine, cmt.Body)
				if cmt.Internal {
					t.Errorf("Maria's reply is an internal note")
				}
			}
		}
		if len(mine) != 1 {
			t.Fatalf("comments by %s on #%d: %q (all: %+v)", maria, n, mine, tk.Comments)
		}
		if strings.TrimSpace(mine[0]) != mariaText {
			t.Errorf("Maria's comment is %q, want only the new text %q", mine[0], mariaText)
		}
		if list := ticketsWithSubject(c, "toner trocado"); len(list) != 0 {
			t.Errorf("the reply opened a ticket of its own: %+v", list)
		}

		// The author is never notified. Whatever mail her comment causes
		// is queued in the outbox in the comment's own transaction, which
		// committed before the 250 sendRaw saw: the outbox now is the
		// proof, with no wait for the sender (a sleep proved nothing on a
		// slow machine and cost 7 s on a fast one). Nothing queued means
		// nothing can reach the relay either.
		if rows := outboxTo(c, maria); len(rows) != len(before) {
			t.Errorf("outbox rows to Maria after her reply: %+v, want the %d from before", rows, len(before))
		}
		if later := relay.to(maria); len(later) != len(before) {
			for _, m := range later[len(before):] {
				t.Errorf("Maria was mailed after her own comment: %q\n%s", m.subject(), m.Text)
			}
		}
		for _, m := range relay.all() {
			t.Logf("relayed %v %q (Auto-Submitted %q)", m.To, m.subject(), m.header("Auto-Submitted"))
		}
	})
}

// TestDaemonAutoResponderLoopStops: an auto-responder that answers every
// mail we send it, well or badly behaved, gets a bounded number of mails.
func TestDaemonAutoResponderLoopStops(t *testing.T) {
	const robot = "robot@robots.example"
	for _, v := range []struct {
		name    string
		good    bool // Auto-Submitted + In-Reply-To to our Reply-To
		maxMail int
	}{
		{"well-behaved", true, 1},
		{"badly-behaved", false, 3}, // the hourly per-recipient acknowledgement cap
	} {
		t.Run(v.name, func(t *testing.T) {
			c := newCLI(t, "sqlite")
			relay := startRelay(t)
			c.env = append(c.env, relay.env()...)
			smtpAddr, base, _ := startServe(t, c)

			const maxAnswers = 50
			nonce := time.Now().UnixNano()
			var mu sync.Mutex
			answers, answered := 0, 0 // answers begun, answers the daemon took (committed or refused)
			var sendErrs []string
			relay.setOnMsg(func(m relayed) {
				if !m.sentTo(robot) {
					return
				}
				mu.Lock()
				if answers >= maxAnswers {
					mu.Unlock()
					return
				}
				answers++
				k := answers
				mu.Unlock()
				id := fmt.Sprintf("<auto-%d-%d@robots.example>", k, nonce)
				var to, msg string
				if v.good {
					to = m.replyTo()
					if to == "" {
						to = "support@localhost"
					}
					msg = rfc5322("Robot <robot@robots.example>", to, "Automatic reply: "+m.subject(),
						"I am a robot and I received your message.", id,
						"Auto-Submitted: auto-replied", "In-Reply-To: "+m.header("Message-ID"), "References: "+m.header("Message-ID"))
				} else {
					to = "support@localhost"
					msg = rfc5322("Robot <robot@robots.example>", to, fmt.Sprintf("Robot notice %d-%d", k, nonce),
						"Thank you for your message. This mailbox is handled by a robot.", id)
				}
				err := sendRaw(smtpAddr, robot, to, msg)
				mu.Lock()
				answered++
				if err != nil {
					sendErrs = append(sendErrs, fmt.Sprintf("answer %d: %v", k, err))
				}
				mu.Unlock()
			})

			start := time.Now()
			if err := sendSMTP(smtpAddr, robot, "support@localhost", "Pedido do robô humano",
				"Olá, preciso de ajuda com o acesso.", fmt.Sprintf("<human-%d@robots.example>", nonce)); err != nil {
				t.Fatalf("send the first, human, mail: %v", err)
			}
			// Wait until the loop has settled, a state from which no more
			// mail to the robot can come: every mail it got is answered, the
			// daemon has taken every answer (what an answer queues is in the
			// outbox once its 250 came), and every outbox row to the robot
			// is sent. Or until the loop ran to 50 answers: it did not stop.
			settled := false
			for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
				mu.Lock()
				a, done := answers, answered
				mu.Unlock()
				if a >= maxAnswers {
					break
				}
				relayed := len(relay.to(robot))
				if relayed == 0 || a != relayed || done != a {
					continue
				}
				rows := outboxTo(c, robot)
				sent := 0
				for _, r := range rows {
					if r.Status == "sent" {
						sent++
					}
				}
				if len(rows) == relayed && sent == relayed && len(relay.to(robot)) == relayed {
					settled = true
					break
				}
			}
			mu.Lock()
			a, errs := answers, append([]string(nil), sendErrs...)
			mu.Unlock()
			mailed := relay.to(robot)
			t.Logf("%s: %d mails to the robot, %d answers, in %v; settled %v", v.name, len(mailed), a,
				time.Since(start).Round(time.Millisecond), settled)
			for _, m := range mailed {
				t.Logf("  to robot: %q Auto-Submitted %q", m.subject(), m.header("Auto-Submitted"))
			}
			if len(mailed) < 1 {
				t.Fatal("the first, human, mail was never acknowledged: nothing was tested")
			}
			if a < 1 {
				t.Fatal("the auto-responder never answered: nothing was tested")
			}
			var tickets []ticketOut
			c.ok(&tickets, "ticket", "list", "--limit", "1000")
			t.Logf("%d tickets in all", len(tickets))
			if v.good && len(tickets) != 1 {
				t.Errorf("the well-behaved auto-replies opened tickets: %d in all, want 1", len(tickets))
			}
			if len(mailed) > v.maxMail {
				t.Errorf("%d mails to the robot, want at most %d", len(mailed), v.maxMail)
			}
			if a >= maxAnswers {
				t.Errorf("the loop ran to %d answers: it did not stop", a)
			}
			if !settled && a < maxAnswers {
				t.Errorf("the loop did not settle within 90 s (%d mails to the robot, %d answers)", len(mailed), a)
			}
			for _, e := range errs {
				t.Errorf("the daemon refused the robot's mail: %s", e)
			}
			// Nothing more waiting to go either.
			if rows := outboxTo(c, robot); len(rows) > v.maxMail {
				t.Errorf("outbox rows to the robot: %d, want at most %d: %+v", len(rows), v.maxMail, rows)
			} else {
				for _, r := range rows {
					if r.Status != "sent" {
						t.Errorf("outbox row to the robot not sent: %+v", r)
					}
				}
			}
			resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(base + "/healthz")
			if err != nil {
				t.Fatalf("/healthz after the loop: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("/healthz after the loop: %d", resp.StatusCode)
			}
		})
	}
}

// TestDaemonRelayOutageRetries: a 451 leaves the acknowledgement queued
// with the relay's text; `mail outbox retry` makes it due now and the
// daemon's poll delivers it; a 550 fails it for good with the relay's text.
func TestDaemonRelayOutageRetries(t *testing.T) {
	const paula, ghost = "paula@cliente.example", "ghost@nowhere.example"
	c := newCLI(t, "sqlite")
	relay := startRelay(t)
	relay.failNext(2)
	relay.refuse(ghost)
	c.env = append(c.env, relay.env()...)
	smtpAddr, base, _ := startServe(t, c)
	nonce := time.Now().UnixNano()

	if err := sendSMTP(smtpAddr, paula, "support@localhost", "Relay fora do ar", "O sistema caiu.",
		fmt.Sprintf("<outage-%d@cliente.example>", nonce)); err != nil {
		t.Fatalf("send: %v", err)
	}
	is451 := func(r outboxRow) bool {
		return r.Status == "queued" && strings.Contains(r.LastError, "451") && strings.Contains(r.LastError, "try again later")
	}
	first := waitOutbox(t, c, paula, 30*time.Second, "queued after a 451", func(r outboxRow) bool { return is451(r) && r.Attempts >= 1 })
	wait := time.Until(first.NextAttemptAt)
	t.Logf("after the 451: %+v; next attempt in %v", first, wait.Round(time.Second))
	if first.Attempts != 1 {
		t.Errorf("attempts %d after one 451, want 1", first.Attempts)
	}
	// BackoffBase is 1 min ±20 % and no configuration key changes it.
	if wait < 40*time.Second || wait > 80*time.Second {
		t.Errorf("next attempt in %v, want about a minute", wait)
	}
	if got := relay.to(paula); len(got) != 0 {
		t.Fatalf("relay accepted mail despite the 451: %d", len(got))
	}

	// retry only re-queues (another process: no Wake); the daemon's 5 s
	// poll picks it up. The relay still has one 451 left.
	retry := func() time.Time {
		var m outboxRow
		c.ok(&m, "mail", "outbox", "retry", fmt.Sprint(first.ID))
		if m.Status != "queued" || m.ID != first.ID {
			t.Fatalf("outbox retry: %+v", m)
		}
		return time.Now()
	}
	retry()
	waitOutbox(t, c, paula, 30*time.Second, "attempted again after retry", func(r outboxRow) bool { return is451(r) && r.Attempts == 2 })
	at := retry()
	got := relay.waitTo(t, c, paula, 1, 30*time.Second)
	t.Logf("delivered %v after the second retry (%d 451 answers in all)", time.Since(at).Round(time.Millisecond), relay.tempAnswers())
	sent := waitOutbox(t, c, paula, 30*time.Second, "sent", func(r outboxRow) bool { return r.Status == "sent" })
	if sent.Attempts != 3 || sent.LastError != "" || sent.ID != first.ID {
		t.Errorf("after delivery: %+v, want attempts 3 and no last_error", sent)
	}
	if len(got) != 1 || got[0].header("Auto-Submitted") != "auto-replied" || relay.tempAnswers() != 2 {
		t.Errorf("relayed %d messages to %s, %d 451s", len(got), paula, relay.tempAnswers())
	}

	// A 550 for the only recipient: failed for good, with the relay's text.
	if err := sendSMTP(smtpAddr, ghost, "support@localhost", "Endereço inexistente", "Quem sou eu?",
		fmt.Sprintf("<ghost-%d@nowhere.example>", nonce)); err != nil {
		t.Fatalf("send: %v", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	var failed []outboxRow
	for {
		failed = outboxTo(c, ghost, "--status", "failed")
		if len(failed) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if len(failed) != 1 || !strings.Contains(failed[0].LastError, "550") || !strings.Contains(failed[0].LastError, "no such user here") {
		t.Fatalf("outbox --status failed to %s: %+v (all: %+v)", ghost, failed, outboxTo(c, ghost))
	}
	t.Logf("failed: %+v", failed[0])
	if got := relay.to(ghost); len(got) != 0 {
		t.Errorf("relay has mail for the refused %s", ghost)
	}
	// A 550 is the message's fault: the daemon stays ready.
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	var ready map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&ready)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || ready["ok"] != true {
		t.Errorf("/readyz after the 550: %d %v", resp.StatusCode, ready)
	}
}
