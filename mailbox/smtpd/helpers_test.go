package smtpd

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"log/slog"
	"math/big"
	"net"
	"net/textproto"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jcservicedesk/servicedesk/mailbox/delivery"
)

const testAddr = "support@example.com"

// recorder is a Deliverer that keeps what it was given. fn, when set,
// decides the answer for each call (n counts calls from 1).
type recorder struct {
	mu   sync.Mutex
	got  []delivered
	n    int
	fn   func(ctx context.Context, n int, env delivery.Envelope, raw []byte) error
	seen chan struct{} // optional: signalled on each call
}

type delivered struct {
	env delivery.Envelope
	raw []byte
}

func (r *recorder) Deliver(ctx context.Context, env delivery.Envelope, raw []byte) (delivery.Outcome, error) {
	r.mu.Lock()
	r.n++
	n := r.n
	r.mu.Unlock()
	if r.seen != nil {
		r.seen <- struct{}{}
	}
	if r.fn != nil {
		if err := r.fn(ctx, n, env, raw); err != nil {
			return delivery.Outcome{}, err
		}
	}
	r.mu.Lock()
	r.got = append(r.got, delivered{env, append([]byte(nil), raw...)})
	r.mu.Unlock()
	return delivery.Outcome{Action: "ticket", TicketNum: int64(n)}, nil
}

func (r *recorder) delivered() []delivered {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivered(nil), r.got...)
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// startServer serves on a loopback port and shuts down at test end.
func startServer(t testing.TB, cfg Config, d delivery.Deliverer) (*Server, string) {
	t.Helper()
	if cfg.Addresses == nil {
		cfg.Addresses = []string{testAddr, "Sales@Example.com"}
	}
	if cfg.Hostname == "" {
		cfg.Hostname = "mx.test"
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := New(cfg, d, testLogger(t))
	done := make(chan error, 1)
	go func() { done <- s.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		if err := <-done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	return s, l.Addr().String()
}

// rawClient speaks SMTP line by line so tests can see every reply code.
type rawClient struct {
	t    testing.TB
	conn net.Conn
	text *textproto.Conn
}

func dialRaw(t testing.TB, addr string) *rawClient {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	rc := &rawClient{t: t, conn: c, text: textproto.NewConn(c)}
	t.Cleanup(func() { c.Close() })
	if code, msg := rc.read(); code != 220 {
		t.Fatalf("greeting: %d %s", code, msg)
	}
	return rc
}

func (c *rawClient) read() (int, string) {
	c.t.Helper()
	code, msg, err := c.text.ReadResponse(0)
	if err != nil && code == 0 {
		c.t.Fatalf("read reply: %v", err)
	}
	return code, msg
}

// cmd sends one command and returns the reply.
func (c *rawClient) cmd(line string) (int, string) {
	c.t.Helper()
	if err := c.text.PrintfLine("%s", line); err != nil {
		c.t.Fatalf("send %q: %v", line, err)
	}
	return c.read()
}

// expect sends a command and fails unless the reply has the given code.
func (c *rawClient) expect(line string, want int) string {
	c.t.Helper()
	code, msg := c.cmd(line)
	if code != want {
		c.t.Fatalf("%s: got %d %s, want %d", line, code, msg, want)
	}
	return msg
}

// data sends DATA, the dot-stuffed body, and returns the final reply.
func (c *rawClient) data(body []byte) (int, string) {
	c.t.Helper()
	c.expect("DATA", 354)
	w := c.text.DotWriter()
	if _, err := w.Write(body); err != nil {
		c.t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		c.t.Fatal(err)
	}
	return c.read()
}

// selfSigned returns a server certificate for localhost/127.0.0.1 and a
// pool that trusts it.
func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "localhost"},
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// requireProgram skips (or, under SERVICEDESK_TEST_STRICT=1, fails) when an
// external program is missing.
func requireProgram(t testing.TB, path string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("SERVICEDESK_TEST_STRICT") == "1" {
			t.Fatalf("%s not installed (SERVICEDESK_TEST_STRICT=1)", path)
		}
		t.Skipf("%s not installed", path)
	}
}

// message builds a small CRLF message.
func message(subject string, body ...string) []byte {
	var b strings.Builder
	b.WriteString("From: Alice <alice@customer.test>\r\n")
	b.WriteString("To: support@example.com\r\n")
	b.WriteString("Subject: " + subject + "\r\n")
	b.WriteString("Message-ID: <" + strings.ReplaceAll(subject, " ", "-") + "@customer.test>\r\n")
	b.WriteString("\r\n")
	for _, l := range body {
		b.WriteString(l + "\r\n")
	}
	return []byte(b.String())
}
