package sender

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// received is one transaction the test server accepted.
type received struct {
	From string
	To   []string
	Data []byte
	User string // authenticated user, "" without AUTH
	Helo string
}

// failure makes the test server answer code at stage for the next n
// transactions.
type failure struct {
	stage string // "mail", "rcpt" or "data"
	code  int
	n     int
}

type serverOpts struct {
	tls       string   // "", "starttls" or "implicit"
	authMechs []string // offered mechanisms; AUTH is then required
	delay     time.Duration
	idle      time.Duration // server drops clients idle this long (default 10s)
}

// testServer is a real go-smtp server whose backend records what it got and
// can be told to refuse.
type testServer struct {
	t    *testing.T
	host string
	port int
	cert *x509.Certificate

	mu       sync.Mutex
	got      []received
	byMsgID  map[string]int
	fail     failure
	refuse   map[string]int // recipient -> code
	sessions int
}

func newTestServer(t testing.TB, o serverOpts) *testServer {
	t.Helper()
	ts := &testServer{host: "127.0.0.1", byMsgID: map[string]int{}, refuse: map[string]int{}}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		ts.mu.Lock()
		ts.sessions++
		ts.mu.Unlock()
		return &testSession{ts: ts, opts: o, helo: c.Hostname()}, nil
	}))
	srv.Domain = "relay.test"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout = 10 * time.Second
	if o.idle > 0 {
		srv.ReadTimeout = o.idle
	}
	srv.WriteTimeout = 10 * time.Second
	srv.MaxRecipients = 100
	srv.ErrorLog = log.New(io.Discard, "", 0)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if o.tls != "" {
		cert, tc := selfSigned(t)
		ts.cert = cert
		srv.TLSConfig = tc
		if o.tls == "implicit" {
			l = tls.NewListener(l, tc)
		}
	}
	ts.port = l.Addr().(*net.TCPAddr).Port
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return ts
}

// clientTLS trusts the server's self-signed certificate.
func (ts *testServer) clientTLS() *tls.Config {
	if ts.cert == nil {
		return nil
	}
	pool := x509.NewCertPool()
	pool.AddCert(ts.cert)
	return &tls.Config{RootCAs: pool}
}

func (ts *testServer) failNext(stage string, code, n int) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.fail = failure{stage: stage, code: code, n: n}
}

func (ts *testServer) refuseRcpt(rcpt string, code int) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.refuse[rcpt] = code
}

func (ts *testServer) received() []received {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]received(nil), ts.got...)
}

func (ts *testServer) count(msgID string) int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.byMsgID[msgID]
}

// injected answers code if a failure is planned for stage.
func (ts *testServer) injected(stage string) error {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.fail.n <= 0 || ts.fail.stage != stage {
		return nil
	}
	ts.fail.n--
	return reply(ts.fail.code)
}

func reply(code int) error {
	text := map[int]string{
		451: "Requested action aborted: try again later",
		550: "Mailbox unavailable: no such user here",
		554: "Transaction failed: message looks like spam",
	}[code]
	return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{code / 100, 0, 0}, Message: text}
}

type testSession struct {
	ts   *testServer
	opts serverOpts
	helo string
	user string
	from string
	to   []string
}

func (s *testSession) AuthMechanisms() []string { return s.opts.authMechs }

func (s *testSession) Auth(mech string) (sasl.Server, error) {
	check := func(user, pass string) error {
		if user != "agent" || pass != "s3cret" {
			return smtp.ErrAuthFailed
		}
		s.user = user
		return nil
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(_, user, pass string) error { return check(user, pass) }), nil
	case sasl.Login:
		return &loginServer{check: check}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (s *testSession) Mail(from string, _ *smtp.MailOptions) error {
	if len(s.opts.authMechs) > 0 && s.user == "" {
		return smtp.ErrAuthRequired
	}
	if err := s.ts.injected("mail"); err != nil {
		return err
	}
	s.from = from
	return nil
}

func (s *testSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.ts.mu.Lock()
	code := s.ts.refuse[to]
	s.ts.mu.Unlock()
	if code != 0 {
		return reply(code)
	}
	if err := s.ts.injected("rcpt"); err != nil {
		return err
	}
	s.to = append(s.to, to)
	return nil
}

func (s *testSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if s.opts.delay > 0 {
		time.Sleep(s.opts.delay)
	}
	if err := s.ts.injected("data"); err != nil {
		return err
	}
	s.ts.mu.Lock()
	defer s.ts.mu.Unlock()
	s.ts.got = append(s.ts.got, received{From: s.from, To: s.to, Data: data, User: s.user, Helo: s.helo})
	s.ts.byMsgID[messageID(data)]++
	return nil
}

func (s *testSession) Reset()        { s.from, s.to = "", nil }
func (s *testSession) Logout() error { return nil }

// messageID finds the Message-ID header value, enough for test mail.
func messageID(data []byte) string {
	const h = "\nMessage-ID: "
	i := bytes.Index(data, []byte(h))
	if i < 0 {
		return ""
	}
	rest := data[i+len(h):]
	if j := bytes.IndexByte(rest, '\n'); j >= 0 {
		rest = rest[:j]
	}
	return string(bytes.TrimRight(rest, "\r"))
}

// loginServer is the server side of AUTH LOGIN, which go-sasl lacks.
type loginServer struct {
	check func(user, pass string) error
	step  int
	user  string
}

func (l *loginServer) Next(resp []byte) ([]byte, bool, error) {
	l.step++
	switch l.step {
	case 1:
		if resp != nil {
			l.user = string(resp)
			l.step++
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 2:
		l.user = string(resp)
		return []byte("Password:"), false, nil
	case 3:
		return nil, true, l.check(l.user, string(resp))
	}
	return nil, false, errors.New("unexpected LOGIN step")
}

// selfSigned makes a certificate for 127.0.0.1.
func selfSigned(t testing.TB) (*x509.Certificate, *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "relay.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

// testMessage is a small CRLF mail with a unique Message-ID.
func testMessage(id int64, to ...string) Message {
	if len(to) == 0 {
		to = []string{"alice@customer.test"}
	}
	mid := fmt.Sprintf("<%d.test@servicedesk.test>", id)
	raw := "From: Service Desk <support@servicedesk.test>\r\n" +
		"To: " + to[0] + "\r\n" +
		"Subject: [#" + strconv.FormatInt(id, 10) + "] printer on fire\r\n" +
		"Message-ID: " + mid + "\r\n" +
		"\r\n" +
		"We are on it.\r\n.leading dot must survive\r\n"
	return Message{ID: id, MessageID: mid, From: "support@servicedesk.test", To: to, Raw: []byte(raw), CreatedAt: time.Now()}
}

// row is a message in memQueue.
type row struct {
	m          Message
	state      string // "queued", "sent", "failed"
	due        time.Time
	leaseUntil time.Time
	reason     string
	retries    []time.Duration // next - now at each Retry
}

// memQueue is an in-memory outbox that honours leases like the SQL one.
type memQueue struct {
	mu   sync.Mutex
	rows []*row
	byID map[int64]*row
	// sentHook runs at each Sent; a non-nil error is returned (database down).
	sentHook func(id int64) error
	claims   int
	sent     int
}

func newMemQueue(msgs ...Message) *memQueue {
	q := &memQueue{byID: map[int64]*row{}}
	for _, m := range msgs {
		q.add(m)
	}
	return q
}

func (q *memQueue) add(m Message) {
	q.mu.Lock()
	defer q.mu.Unlock()
	r := &row{m: m, state: "queued"}
	q.rows = append(q.rows, r)
	q.byID[m.ID] = r
}

func (q *memQueue) Claim(ctx context.Context, n int, lease time.Duration) ([]Message, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.claims++
	now := time.Now()
	var out []Message
	for _, r := range q.rows {
		if len(out) == n {
			break
		}
		if r.state != "queued" || r.due.After(now) || r.leaseUntil.After(now) {
			continue
		}
		r.m.Attempts++
		r.leaseUntil = now.Add(lease)
		m := r.m
		m.To = append([]string(nil), m.To...)
		out = append(out, m)
	}
	return out, nil
}

func (q *memQueue) Sent(_ context.Context, id int64) error {
	q.mu.Lock()
	hook := q.sentHook
	q.mu.Unlock()
	if hook != nil {
		if err := hook(id); err != nil {
			return err
		}
	}
	return q.set(id, "sent", time.Time{}, "")
}

func (q *memQueue) Retry(_ context.Context, id int64, next time.Time, reason string) error {
	q.mu.Lock()
	if r := q.byID[id]; r != nil {
		r.retries = append(r.retries, time.Until(next))
	}
	q.mu.Unlock()
	return q.set(id, "queued", next, reason)
}

func (q *memQueue) Failed(_ context.Context, id int64, reason string) error {
	return q.set(id, "failed", time.Time{}, reason)
}

func (q *memQueue) set(id int64, state string, due time.Time, reason string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	r := q.byID[id]
	if r == nil {
		return fmt.Errorf("memqueue: no message %d", id)
	}
	if state == "sent" && r.state != "sent" {
		q.sent++
	}
	r.state, r.due, r.reason, r.leaseUntil = state, due, reason, time.Time{}
	return nil
}

func (q *memQueue) row(id int64) row {
	q.mu.Lock()
	defer q.mu.Unlock()
	r := *q.byID[id]
	r.retries = append([]time.Duration(nil), r.retries...)
	return r
}

func (q *memQueue) countState(state string) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := 0
	for _, r := range q.rows {
		if r.state == state {
			n++
		}
	}
	return n
}

// partialQueue also records partial deliveries.
type partialQueue struct {
	*memQueue
}

func (p partialQueue) SentPartial(ctx context.Context, id int64, reason string) error {
	return p.set(id, "sent", time.Time{}, reason)
}

// waitFor polls cond until it holds or the timeout ends.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// runSender runs s until the test ends and returns a stop func that waits.
func runSender(t testing.TB, s *Sender) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(20 * time.Second):
				t.Errorf("Run did not return after cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}
