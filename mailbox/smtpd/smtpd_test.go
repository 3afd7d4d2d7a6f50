package smtpd

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/smtp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jcservicedesk/servicedesk/mailbox/delivery"
)

// sendStd sends one message with the standard library client.
func sendStd(addr, from string, to []string, msg []byte) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("client.test"); err != nil {
		return err
	}
	if err := c.Mail(from); err != nil {
		return err
	}
	for _, r := range to {
		if err := c.Rcpt(r); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func TestDeliverByteExact(t *testing.T) {
	rec := &recorder{}
	_, addr := startServer(t, Config{}, rec)

	// A leading dot (dot-stuffing), 8-bit UTF-8, trailing spaces, a bare
	// tab line: all must arrive unchanged.
	msg := message("byte exact", ".starts with a dot", "..two dots", "Olá, ação 日本語  ", "\t", "end")
	before := time.Now()
	if err := sendStd(addr, "alice@customer.test", []string{"Support+T-42@Example.COM", "sales@example.com"}, msg); err != nil {
		t.Fatal(err)
	}
	got := rec.delivered()
	if len(got) != 1 {
		t.Fatalf("delivered %d messages, want 1", len(got))
	}
	if !bytes.Equal(got[0].raw, msg) {
		t.Errorf("raw differs:\n got %q\nwant %q", got[0].raw, msg)
	}
	env := got[0].env
	if env.Source != delivery.SourceSMTP || env.MailFrom != "alice@customer.test" {
		t.Errorf("envelope source/from = %q %q", env.Source, env.MailFrom)
	}
	if want := []string{"Support+T-42@Example.COM", "sales@example.com"}; strings.Join(env.Recipients, ",") != strings.Join(want, ",") {
		t.Errorf("recipients = %v, want %v (as given)", env.Recipients, want)
	}
	if host, _, err := net.SplitHostPort(env.RemoteAddr); err != nil || host != "127.0.0.1" {
		t.Errorf("remote addr = %q", env.RemoteAddr)
	}
	if !env.ClientIP.Equal(net.IPv4(127, 0, 0, 1)) {
		t.Errorf("client IP = %v, want 127.0.0.1", env.ClientIP)
	}
	if env.Helo != "client.test" {
		t.Errorf("HELO = %q, want client.test", env.Helo)
	}
	if env.ReceivedAt.Before(before.Add(-time.Second)) || env.ReceivedAt.After(time.Now()) {
		t.Errorf("received at %v, not during the test", env.ReceivedAt)
	}
}

func TestRecipients(t *testing.T) {
	_, addr := startServer(t, Config{}, &recorder{})
	tests := []struct {
		rcpt string
		code int
	}{
		{"support@example.com", 250},
		{"SUPPORT@EXAMPLE.COM", 250},
		{"support+abc@example.com", 250},
		{"Support+T-123+x@Example.Com", 250},
		{"sales@example.com", 250}, // configured in mixed case
		{"sales+1@EXAMPLE.com", 250},
		{"billing@example.com", 550},
		{"support@other.example", 550},
		{"support@example.com.evil", 550},
		{"xsupport@example.com", 550},
		{"+support@example.com", 550},
		{"support-abc@example.com", 550},
	}
	c := dialRaw(t, addr)
	c.expect("EHLO client.test", 250)
	c.expect("MAIL FROM:<a@customer.test>", 250)
	for _, tt := range tests {
		code, msg := c.cmd("RCPT TO:<" + tt.rcpt + ">")
		if code != tt.code {
			t.Errorf("RCPT %s: %d %s, want %d", tt.rcpt, code, msg, tt.code)
		}
		if code == 550 && !strings.HasPrefix(msg, "5.1.1") {
			t.Errorf("RCPT %s: reply %q lacks 5.1.1", tt.rcpt, msg)
		}
	}
}

func TestEHLOAdvertises(t *testing.T) {
	cert, _ := selfSigned(t)
	_, addr := startServer(t, Config{MaxMessageBytes: 12345, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}}, &recorder{})
	c := dialRaw(t, addr)
	msg := c.expect("EHLO client.test", 250)
	for _, ext := range []string{"SIZE 12345", "8BITMIME", "SMTPUTF8", "PIPELINING", "STARTTLS", "ENHANCEDSTATUSCODES"} {
		if !strings.Contains(msg, ext) {
			t.Errorf("EHLO lacks %s:\n%s", ext, msg)
		}
	}
	if strings.Contains(msg, "AUTH") {
		t.Errorf("EHLO offers AUTH on an MX receiver:\n%s", msg)
	}
}

func TestSizeLimit(t *testing.T) {
	const max = 1000
	rec := &recorder{}
	_, addr := startServer(t, Config{MaxMessageBytes: max}, rec)
	tests := []struct {
		name     string
		mailFrom string
		bodyLen  int
		mailCode int
		dataCode int
	}{
		{"declared size too big", "MAIL FROM:<a@customer.test> SIZE=1001", 0, 552, 0},
		{"declared size ok", "MAIL FROM:<a@customer.test> SIZE=900", 500, 250, 250},
		{"actual data too big", "MAIL FROM:<a@customer.test>", 5000, 250, 552},
		{"lying SIZE", "MAIL FROM:<a@customer.test> SIZE=10", 5000, 250, 552},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(rec.delivered())
			c := dialRaw(t, addr)
			c.expect("EHLO client.test", 250)
			code, msg := c.cmd(tt.mailFrom)
			if code != tt.mailCode {
				t.Fatalf("MAIL: %d %s, want %d", code, msg, tt.mailCode)
			}
			if code != 250 {
				if !strings.HasPrefix(msg, "5.3.4") {
					t.Errorf("reply %q lacks 5.3.4", msg)
				}
				return
			}
			c.expect("RCPT TO:<support@example.com>", 250)
			body := message("size", strings.Repeat("x", tt.bodyLen))
			code, msg = c.data(body)
			if code != tt.dataCode {
				t.Fatalf("DATA: %d %s, want %d", code, msg, tt.dataCode)
			}
			wantN := before
			if code == 250 {
				wantN++
			} else if !strings.HasPrefix(msg, "5.3.4") {
				t.Errorf("reply %q lacks 5.3.4", msg)
			}
			if n := len(rec.delivered()); n != wantN {
				t.Errorf("delivered %d, want %d", n, wantN)
			}
			// The session survives a refused message.
			c.expect("NOOP", 250)
		})
	}
}

func TestTooManyRecipients(t *testing.T) {
	_, addr := startServer(t, Config{MaxRecipients: 2}, &recorder{})
	c := dialRaw(t, addr)
	c.expect("EHLO client.test", 250)
	c.expect("MAIL FROM:<a@customer.test>", 250)
	c.expect("RCPT TO:<support@example.com>", 250)
	c.expect("RCPT TO:<support+2@example.com>", 250)
	if msg := c.expect("RCPT TO:<support+3@example.com>", 452); !strings.HasPrefix(msg, "4.5.3") {
		t.Errorf("reply %q lacks 4.5.3", msg)
	}
	// The two accepted recipients still get the message.
	if code, msg := c.data(message("two")); code != 250 {
		t.Errorf("DATA: %d %s", code, msg)
	}
}

func TestDelivererErrors(t *testing.T) {
	tests := []struct {
		name    string
		fail    func(ctx context.Context) error
		code    int
		prefix  string
		retried bool // a retry on the same connection succeeds
	}{
		{"temporary", func(context.Context) error { return errors.New("database is locked") }, 451, "4.3.0 try again later", true},
		{"wrapped temporary", func(context.Context) error { return fmt.Errorf("intake: %w", context.DeadlineExceeded) }, 451, "4.3.0", true},
		{"permanent", func(context.Context) error { return &delivery.RejectError{Reason: "unknown sender\r\nnot allowed"} }, 550, "5.7.1 unknown sender not allowed", true},
		{"wrapped permanent", func(context.Context) error { return fmt.Errorf("intake: %w", &delivery.RejectError{Reason: "quota"}) }, 550, "5.7.1 quota", true},
		{"panic", func(context.Context) error { panic("boom") }, 451, "4.3.0", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{fn: func(ctx context.Context, n int, _ delivery.Envelope, _ []byte) error {
				if n == 1 {
					return tt.fail(ctx)
				}
				return nil
			}}
			_, addr := startServer(t, Config{}, rec)
			c := dialRaw(t, addr)
			c.expect("EHLO client.test", 250)
			c.expect("MAIL FROM:<a@customer.test>", 250)
			c.expect("RCPT TO:<support@example.com>", 250)
			code, msg := c.data(message("first try"))
			if code != tt.code || !strings.HasPrefix(msg, tt.prefix) {
				t.Fatalf("DATA: %d %q, want %d %q", code, msg, tt.code, tt.prefix)
			}
			if strings.Contains(msg, "first try") {
				t.Errorf("reply leaks message content: %q", msg)
			}
			if n := len(rec.delivered()); n != 0 {
				t.Fatalf("recorded %d after failure", n)
			}
			// The sender retries (same connection, as an MTA may) and succeeds.
			c.expect("MAIL FROM:<a@customer.test>", 250)
			c.expect("RCPT TO:<support@example.com>", 250)
			if code, msg := c.data(message("first try")); code != 250 {
				t.Fatalf("retry DATA: %d %s", code, msg)
			}
			if n := len(rec.delivered()); n != 1 {
				t.Fatalf("delivered %d after retry, want 1", n)
			}
		})
	}
}

func TestNullSender(t *testing.T) {
	rec := &recorder{}
	_, addr := startServer(t, Config{}, rec)
	bounce := message("Undelivered Mail Returned to Sender", "This is the mail system.")
	if err := sendStd(addr, "", []string{"support@example.com"}, bounce); err != nil {
		t.Fatal(err)
	}
	got := rec.delivered()
	if len(got) != 1 || got[0].env.MailFrom != "" {
		t.Fatalf("got %+v, want one message with empty MailFrom", got)
	}
}

func TestSTARTTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	rec := &recorder{}
	_, addr := startServer(t, Config{TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}}, rec)

	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); !ok {
		t.Fatal("STARTTLS not advertised")
	}
	if err := c.StartTLS(&tls.Config{RootCAs: pool, ServerName: "localhost"}); err != nil {
		t.Fatal(err)
	}
	if st, ok := c.TLSConnectionState(); !ok || !st.HandshakeComplete {
		t.Fatal("no TLS after STARTTLS")
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		t.Error("STARTTLS still advertised inside TLS")
	}
	msg := message("over tls")
	if err := c.Mail("alice@customer.test"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("support@example.com"); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	w.Write(msg)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	c.Quit()
	if got := rec.delivered(); len(got) != 1 || !bytes.Equal(got[0].raw, msg) {
		t.Fatalf("delivered %d messages, want the one sent over TLS", len(got))
	}
}

func TestNoSTARTTLSWithoutConfig(t *testing.T) {
	_, addr := startServer(t, Config{}, &recorder{})
	c := dialRaw(t, addr)
	if msg := c.expect("EHLO client.test", 250); strings.Contains(msg, "STARTTLS") {
		t.Error("STARTTLS advertised without a TLS config")
	}
	c.expect("STARTTLS", 502)
}

func TestConcurrentClients(t *testing.T) {
	rec := &recorder{}
	const clients, perClient = 50, 3
	_, addr := startServer(t, Config{MaxConnsPerIP: clients}, rec) // all from 127.0.0.1
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := range clients {
		wg.Go(func() {
			c, err := smtp.Dial(addr)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			for j := range perClient {
				if err := c.Mail("a@customer.test"); err != nil {
					errs <- err
					return
				}
				if err := c.Rcpt(fmt.Sprintf("support+%d@example.com", i)); err != nil {
					errs <- err
					return
				}
				w, err := c.Data()
				if err != nil {
					errs <- err
					return
				}
				w.Write(message(fmt.Sprintf("c%d m%d", i, j)))
				if err := w.Close(); err != nil {
					errs <- err
					return
				}
			}
			c.Quit()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	seen := map[string]int{}
	for _, d := range rec.delivered() {
		seen[string(d.raw)]++
	}
	if len(seen) != clients*perClient {
		t.Errorf("%d distinct messages delivered, want %d", len(seen), clients*perClient)
	}
	for m, n := range seen {
		if n != 1 {
			t.Errorf("message delivered %d times: %.60q", n, m)
		}
	}
}

func TestConnectionLimit(t *testing.T) {
	s, addr := startServer(t, Config{MaxConnections: 2}, &recorder{})
	a := dialRaw(t, addr)
	b := dialRaw(t, addr)
	a.expect("EHLO a.test", 250)
	b.expect("EHLO b.test", 250)

	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 128)
	n, _ := c.Read(buf)
	if !strings.HasPrefix(string(buf[:n]), "421 4.3.2") {
		t.Fatalf("third connection got %q, want 421", buf[:n])
	}
	if st := s.Stats(); st.RefusedConnections != 1 || st.Connections != 2 || st.MaxConnections != 2 {
		t.Errorf("stats %+v: want 1 refused, 2 of 2 open", st)
	}

	// A slot frees up when a client leaves.
	a.expect("QUIT", 221)
	deadline := time.Now().Add(5 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		n, _ := conn.Read(buf)
		conn.Close()
		if strings.HasPrefix(string(buf[:n]), "220") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("slot not released: %q", buf[:n])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestCommandLimit(t *testing.T) {
	// MaxCommands is raised to MaxRecipients+10: a message to every
	// allowed recipient must fit.
	_, addr := startServer(t, Config{MaxCommands: 4, MaxRecipients: 2}, &recorder{})
	c := dialRaw(t, addr)
	c.expect("EHLO client.test", 250)
	c.expect("MAIL FROM:<a@customer.test>", 250)
	for range 10 {
		c.expect("RCPT TO:<billing@example.com>", 550)
	}
	if msg := c.expect("RCPT TO:<support@example.com>", 421); !strings.Contains(msg, "too many commands") {
		t.Errorf("reply %q", msg)
	}
}

// Shutdown drains: the message being delivered finishes and gets its 250,
// every other session's next command gets 421, new connections get no
// greeting, and Run returns only then.
func TestShutdownDrainsSessions(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	rec := &recorder{fn: func(ctx context.Context, n int, env delivery.Envelope, _ []byte) error {
		if env.MailFrom == "up@customer.test" {
			return nil // the upload: commits at once
		}
		entered <- struct{}{}
		<-release
		return nil
	}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := New(Config{Addresses: []string{testAddr}, ShutdownTimeout: time.Minute}, rec, testLogger(t))
	ctx, stop := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- s.Run(ctx, l) }()
	addr := l.Addr().String()

	idle := dialRaw(t, addr) // waiting for its next command
	idle.expect("EHLO idle.test", 250)
	mid := dialRaw(t, addr) // in a transaction, before DATA
	mid.expect("EHLO mid.test", 250)
	mid.expect("MAIL FROM:<b@customer.test>", 250)

	busy := dialRaw(t, addr)
	busy.expect("EHLO busy.test", 250)
	busy.expect("MAIL FROM:<a@customer.test>", 250)
	busy.expect("RCPT TO:<support@example.com>", 250)
	reply := make(chan int, 1)
	go func() {
		code, _, _ := func() (int, string, error) {
			busy.text.PrintfLine("DATA")
			if code, msg, err := busy.text.ReadResponse(354); err != nil {
				return code, msg, err
			}
			w := busy.text.DotWriter()
			w.Write(message("in flight"))
			w.Close()
			return busy.text.ReadResponse(0)
		}()
		reply <- code
	}()
	<-entered // mid-DATA: the deliverer has the message

	// Another session is uploading its message: DATA accepted, half the
	// body sent. It is in DATA once the server says so.
	up := dialRaw(t, addr)
	up.expect("EHLO up.test", 250)
	up.expect("MAIL FROM:<up@customer.test>", 250)
	up.expect("RCPT TO:<support@example.com>", 250)
	up.expect("DATA", 354)
	body := message("uploading")
	half := len(body) / 2
	if _, err := up.conn.Write(body[:half]); err != nil {
		t.Fatal(err)
	}
	waitInData(t, s, 2)

	stop() // what SIGTERM does to serve
	// Sessions waiting for a command are answered 421 at once; that they
	// are is the sign the drain began.
	if code, msg := idle.read(); code != 421 {
		t.Errorf("idle session: %d %s, want 421", code, msg)
	}
	if code, msg := mid.cmd("RCPT TO:<support@example.com>"); code != 421 {
		t.Errorf("command during shutdown: %d %s, want 421", code, msg)
	}
	select {
	case err := <-ran:
		t.Fatalf("Run returned %v while a delivery was in flight", err)
	default:
	}
	// New connections are not greeted while draining.
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.SetDeadline(time.Now().Add(2 * time.Second))
		buf := make([]byte, 64)
		n, _ := c.Read(buf)
		c.Close()
		if strings.HasPrefix(string(buf[:n]), "220") {
			t.Error("new connection greeted during shutdown")
		}
	}

	// The upload finishes and commits.
	if _, err := up.conn.Write(append(body[half:], []byte("\r\n.\r\n")...)); err != nil {
		t.Fatal(err)
	}
	if code, msg := up.read(); code != 250 {
		t.Errorf("upload in progress at shutdown: %d %s, want 250", code, msg)
	}
	close(release)
	if code := <-reply; code != 250 {
		t.Errorf("in-flight message got %d, want 250", code)
	}
	if code, msg := busy.cmd("MAIL FROM:<a@customer.test>"); code != 421 {
		t.Errorf("command after the drained DATA: %d %s, want 421", code, msg)
	}
	if err := <-ran; err != nil {
		t.Errorf("Run: %v", err)
	}
	if n := len(rec.delivered()); n != 2 {
		t.Errorf("delivered %d, want 2", n)
	}
}

// waitInData waits until n sessions are receiving or delivering a message.
func waitInData(t *testing.T, s *Server, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		s.mu.Lock()
		k := 0
		for sess := range s.sessions {
			if sess.inData {
				k++
			}
		}
		s.mu.Unlock()
		if k >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions in DATA, want %d", k, n)
		}
	}
}

func TestShutdownDeadlineCancelsDelivery(t *testing.T) {
	cancelled := make(chan struct{})
	entered := make(chan struct{}, 1)
	rec := &recorder{fn: func(ctx context.Context, _ int, _ delivery.Envelope, _ []byte) error {
		entered <- struct{}{}
		<-ctx.Done()
		close(cancelled)
		return ctx.Err()
	}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// The session logs its failed delivery after the test has its answer:
	// not to t's output, which would outlive the test.
	s := New(Config{Addresses: []string{testAddr}}, rec, slog.New(slog.DiscardHandler))
	go s.Serve(l)
	addr := l.Addr().String()
	c := dialRaw(t, addr)
	c.expect("EHLO busy.test", 250)
	c.expect("MAIL FROM:<a@customer.test>", 250)
	c.expect("RCPT TO:<support@example.com>", 250)
	c.expect("DATA", 354)
	w := c.text.DotWriter()
	w.Write(message("stuck"))
	w.Close() // no reply will come: the server gives up
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := s.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown = %v, want deadline exceeded", err)
	}
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("delivery context not cancelled after Shutdown gave up")
	}
}

func TestHangupCancelsDelivery(t *testing.T) {
	entered := make(chan struct{}, 1)
	cancelled := make(chan error, 1)
	rec := &recorder{fn: func(ctx context.Context, _ int, _ delivery.Envelope, _ []byte) error {
		entered <- struct{}{}
		select {
		case <-ctx.Done():
			cancelled <- ctx.Err()
		case <-time.After(10 * time.Second):
			cancelled <- nil
		}
		return ctx.Err()
	}}
	_, addr := startServer(t, Config{}, rec)
	c := dialRaw(t, addr)
	c.expect("EHLO client.test", 250)
	c.expect("MAIL FROM:<a@customer.test>", 250)
	c.expect("RCPT TO:<support@example.com>", 250)
	c.expect("DATA", 354)
	w := c.text.DotWriter()
	w.Write(message("hangup"))
	w.Close()
	<-entered
	c.conn.Close()
	if err := <-cancelled; !errors.Is(err, context.Canceled) {
		t.Fatalf("deliver ctx err = %v, want canceled after the client hung up", err)
	}
}
