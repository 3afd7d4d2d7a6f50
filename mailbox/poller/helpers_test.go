package poller

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"github.com/jcservicedesk/servicedesk/mailbox/delivery"
)

const (
	testUser = "support"
	testPass = "s3cret"
)

// Capability sets for the in-process server.
var (
	capsFull   = imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIdle: {}, imap.CapUIDPlus: {}, imap.CapMove: {}}
	capsNoMove = imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIdle: {}, imap.CapUIDPlus: {}}
	capsBare   = imap.CapSet{imap.CapIMAP4rev1: {}} // no IDLE, MOVE or UIDPLUS
)

// memIMAP is go-imap's in-memory server on a loopback port.
type memIMAP struct {
	t    testing.TB
	mem  *imapmemserver.Server
	user *imapmemserver.User
	caps imap.CapSet
	addr string

	mu  sync.Mutex
	srv *imapserver.Server
}

func startIMAP(t testing.TB, caps imap.CapSet, folders ...string) *memIMAP {
	t.Helper()
	m := &memIMAP{t: t, mem: imapmemserver.New(), user: imapmemserver.NewUser(testUser, testPass), caps: caps}
	m.mem.AddUser(m.user)
	for _, f := range append([]string{"INBOX"}, folders...) {
		if err := m.user.Create(f, nil); err != nil {
			t.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m.addr = ln.Addr().String()
	m.serve(ln)
	t.Cleanup(m.stop)
	return m
}

func (m *memIMAP) serve(ln net.Listener) {
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return m.mem.NewSession(), nil, nil
		},
		Caps:         m.caps,
		InsecureAuth: true,
		Logger:       discardLogger{},
	})
	m.mu.Lock()
	m.srv = srv
	m.mu.Unlock()
	go srv.Serve(ln)
}

// stop kills the server and every connection, like a crash.
func (m *memIMAP) stop() {
	m.mu.Lock()
	srv := m.srv
	m.srv = nil
	m.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// restart serves the same mailboxes on the same address again.
func (m *memIMAP) restart() {
	m.t.Helper()
	var ln net.Listener
	var err error
	for range 50 {
		if ln, err = net.Listen("tcp", m.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		m.t.Fatal(err)
	}
	m.serve(ln)
}

func (m *memIMAP) mailbox(name string) Mailbox {
	host, port, _ := net.SplitHostPort(m.addr)
	var p int
	fmt.Sscan(port, &p)
	return Mailbox{
		Name: name, Host: host, Port: p, Security: "plain",
		Username: testUser, Password: testPass, Folder: "INBOX", After: "seen",
		PollInterval: 100 * time.Millisecond, Address: "support@example.com",
	}
}

func (m *memIMAP) append(folder string, raw []byte, flags ...imap.Flag) {
	m.t.Helper()
	if _, err := m.user.Append(folder, literal{bytes.NewReader(raw)}, &imap.AppendOptions{Flags: flags}); err != nil {
		m.t.Fatal(err)
	}
}

func (m *memIMAP) status(folder string) *imap.StatusData {
	m.t.Helper()
	st, err := m.user.Status(folder, &imap.StatusOptions{NumMessages: true, NumUnseen: true, UIDValidity: true})
	if err != nil {
		m.t.Fatal(err)
	}
	return st
}

type literal struct{ *bytes.Reader }

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}
func (discardLogger) Println(...any)        {}

// memState is an in-memory State.
type memState struct {
	mu      sync.Mutex
	cursors map[string][2]uint32
	fail    error // when set, every call fails
}

func newMemState() *memState { return &memState{cursors: map[string][2]uint32{}} }

func (s *memState) Cursor(_ context.Context, mb string) (uint32, uint32, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return 0, 0, s.fail
	}
	c := s.cursors[mb]
	return c[0], c[1], nil
}

func (s *memState) SetCursor(_ context.Context, mb string, v, uid uint32) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	if c := s.cursors[mb]; c[0] == v && uid < c[1] {
		return fmt.Errorf("cursor moved back from %d to %d", c[1], uid)
	}
	s.cursors[mb] = [2]uint32{v, uid}
	return nil
}

func (s *memState) get(mb string) (uint32, uint32) {
	v, u, _ := s.Cursor(context.Background(), mb)
	return v, u
}

// recorder is a Deliverer that commits by Message-ID, like the intake's
// dedupe, and counts every call.
type recorder struct {
	mu        sync.Mutex
	calls     map[string]int // Message-ID -> Deliver calls
	committed map[string]int // Message-ID -> times committed (dedupe makes it 1)
	envs      []delivery.Envelope
	fn        func(ctx context.Context, id string, env delivery.Envelope) error
}

func newRecorder() *recorder {
	return &recorder{calls: map[string]int{}, committed: map[string]int{}}
}

var msgIDRe = regexp.MustCompile(`(?mi)^Message-ID:\s*(<[^>]+>)`)

func (r *recorder) Deliver(ctx context.Context, env delivery.Envelope, raw []byte) (delivery.Outcome, error) {
	id := string(msgIDRe.FindSubmatch(raw)[1])
	r.mu.Lock()
	r.calls[id]++
	fn := r.fn
	r.mu.Unlock()
	if fn != nil {
		if err := fn(ctx, id, env); err != nil {
			return delivery.Outcome{}, err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.committed[id] > 0 {
		return delivery.Outcome{Action: "duplicate"}, nil
	}
	r.committed[id]++
	r.envs = append(r.envs, env)
	return delivery.Outcome{Action: "ticket"}, nil
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.committed)
}

func (r *recorder) callsFor(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[id]
}

func (r *recorder) envelopes() []delivery.Envelope {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.envs)
}

func msg(id string, bodyLen int) []byte {
	return []byte("From: Alice <alice@customer.test>\r\n" +
		"To: support@example.com\r\n" +
		"Subject: message " + id + "\r\n" +
		"Message-ID: <" + id + "@customer.test>\r\n" +
		"\r\n" + strings.Repeat("Hello there, the printer is on fire again.\r\n", max(1, bodyLen/44)))
}

func msgID(id string) string { return "<" + id + "@customer.test>" }

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelError}))
}

// newTestPoller builds a poller with short backoffs.
func newTestPoller(t testing.TB, mb Mailbox, d delivery.Deliverer, st State, lk Locker) *Poller {
	p := New(mb, d, st, lk, testLogger(t))
	p.minBackoff = 10 * time.Millisecond
	p.maxBackoff = 100 * time.Millisecond
	return p
}

// countIdle makes p count its entries into IDLE (the server accepted it).
func countIdle(p *Poller) *atomic.Int64 {
	var n atomic.Int64
	p.idleEntered = func() { n.Add(1) }
	return &n
}

// run starts p and returns a function that stops it and waits.
func run(t testing.TB, p interface{ Run(context.Context) error }) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Errorf("Run did not return after cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
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
