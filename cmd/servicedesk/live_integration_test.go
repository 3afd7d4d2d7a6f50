package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

const livePassword = "correct horse battery staple 42"

// liveSetup adds a company, a requester and a technician with a password
// through the CLI, and returns a session of the technician (made with
// ticketing against the same database: the portal's login form is tested
// elsewhere).
func liveSetup(t *testing.T, c *cli) *ticketing.SessionInfo {
	t.Helper()
	c.ok(nil, "company", "add", "--name", "Acme", "--domain", "acme.example")
	c.ok(nil, "user", "add", "--email", "maria@acme.example", "--name", "Maria", "--company", "Acme")
	c.ok(nil, "user", "add", "--email", "tech@helpdesk.example", "--name", "Téo", "--role", "tech")
	if r := c.run(livePassword+"\n", "user", "set-password", "--email", "tech@helpdesk.example"); r.code != 0 {
		t.Fatalf("set-password: %d %s", r.code, r.stderr)
	}
	st := openStoreOf(t, c)
	si, err := ticketing.NewService(st).Login(context.Background(), "tech@helpdesk.example", livePassword, false, ticketing.Client{})
	if err != nil || si.Stage != store.StageFull {
		t.Fatalf("login: %v %+v", err, si)
	}
	return si
}

// liveStream is an SSE client of /notify/stream on base.
type liveStream struct {
	frames chan liveFrame
}

type liveFrame struct {
	id   int64
	name string
	data map[string]any
	raw  string
}

func openLiveStream(t *testing.T, base string, si *ticketing.SessionInfo, topics string) *liveStream {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/notify/stream?topics="+url.QueryEscape(topics), nil)
	req.AddCookie(&http.Cookie{Name: "sd_session", Value: si.Token})
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 {
		t.Fatalf("stream: %d", res.StatusCode)
	}
	ls := &liveStream{frames: make(chan liveFrame, 100)}
	done := make(chan struct{})
	t.Cleanup(func() { res.Body.Close(); <-done })
	ready := make(chan struct{})
	go func() {
		defer close(done)
		defer close(ls.frames)
		sc := bufio.NewScanner(res.Body)
		var f liveFrame
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "retry: "):
				close(ready) // the stream is registered with the hub
			case line == "" && f.name != "":
				_ = json.Unmarshal([]byte(f.raw), &f.data)
				ls.frames <- f
				f = liveFrame{}
			case strings.HasPrefix(line, "id: "):
				f.id, _ = strconv.ParseInt(line[4:], 10, 64)
			case strings.HasPrefix(line, "event: "):
				f.name = line[7:]
			case strings.HasPrefix(line, "data: "):
				f.raw += line[6:]
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("the stream did not start")
	}
	return ls
}

// await returns the first frame match accepts, within d.
func (ls *liveStream) await(t *testing.T, d time.Duration, match func(liveFrame) bool) liveFrame {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case f, ok := <-ls.frames:
			if !ok {
				t.Fatal("stream ended")
			}
			if f.name == "resync" {
				t.Fatalf("resync: %s", f.raw)
			}
			if match(f) {
				return f
			}
		case <-timeout:
			t.Fatalf("no matching event within %v", d)
		}
	}
}

func createdTicket(number int64) func(liveFrame) bool {
	return func(f liveFrame) bool {
		tk, _ := f.data["ticket"].(map[string]any)
		return f.name == "ticket" && f.data["kind"] == "created" && tk["number"] == float64(number)
	}
}

func cliTicket(t *testing.T, c *cli, subject string) ticketOut {
	t.Helper()
	var tk ticketOut
	c.ok(&tk, "ticket", "create", "--requester", "maria@acme.example", "--subject", subject, "--body", "corpo")
	return tk
}

// TestLiveCLITicketReachesStream: a ticket created with the CLI while
// serve runs reaches a stream of serve (SQLite: the poll; PostgreSQL:
// NOTIFY).
func TestLiveCLITicketReachesStream(t *testing.T) {
	eachDriver(t, func(t *testing.T, c *cli) {
		si := liveSetup(t, c)
		_, base, _ := startServe(t, c)
		ls := openLiveStream(t, base, si, "queue")
		start := time.Now()
		tk := cliTicket(t, c, "Criado pela linha de comando")
		ls.await(t, 10*time.Second, createdTicket(tk.Number))
		t.Logf("%s: CLI commit to receipt ≤ %v (includes the CLI's start-up)", c.dbName(), time.Since(start))
	})
}

func (c *cli) dbName() string {
	if len(c.db) > 0 {
		return "postgres"
	}
	return "sqlite"
}

// TestLiveTwoProcesses: two serve processes on one PostgreSQL; a comment
// made through A's portal reaches an SSE client of B.
func TestLiveTwoProcesses(t *testing.T) {
	c := newCLI(t, "postgres")
	si := liveSetup(t, c)
	tk := cliTicket(t, c, "Dois processos")
	_, baseA, _ := startServe(t, c)
	_, baseB, _ := startServe(t, c)
	st := openStoreOf(t, c)
	row, err := st.R().TicketByNumber(context.Background(), store.AllCompanies(), tk.Number, false)
	if err != nil {
		t.Fatal(err)
	}
	ls := openLiveStream(t, baseB, si, ticketing.TicketTopic(row.ID))
	form := url.Values{"body": {"Resposta pelo processo A"}, "csrf_token": {si.CSRF}}
	req, _ := http.NewRequest("POST", baseA+"/tickets/"+strconv.FormatInt(tk.Number, 10)+"/comments", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: "sd_session", Value: si.Token})
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	start := time.Now()
	res, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("comment through A: %d", res.StatusCode)
	}
	committed := time.Since(start)
	f := ls.await(t, 5*time.Second, func(f liveFrame) bool { return f.name == "comment" })
	if cm, _ := f.data["comment"].(map[string]any); cm["text"] != "Resposta pelo processo A" || f.id == 0 {
		t.Fatalf("B got %s", f.raw)
	}
	// The figure the issue asks for (within one second) is logged, not
	// asserted: timings on this shared machine are noise.
	t.Logf("comment through A to B's stream: %v (the POST took %v)", time.Since(start), committed)
}

// pgCluster is a throwaway PostgreSQL of the test's own (initdb and
// pg_ctl refuse root: they run as postgres).
type pgCluster struct {
	t          *testing.T
	bin, dir   string
	port       string
	logf       string
	stopped    bool
	runAsOwner func(name string, args ...string) *exec.Cmd
}

func newPGCluster(t *testing.T) *pgCluster {
	t.Helper()
	if os.Geteuid() != 0 {
		storetest.SkipOrFail(t, "the PostgreSQL restart test runs a cluster as the postgres user: it needs root")
	}
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		storetest.SkipOrFail(t, "no initdb under /usr/lib/postgresql/*/bin")
	}
	if _, err := exec.LookPath("runuser"); err != nil {
		storetest.SkipOrFail(t, "no runuser")
	}
	dir, err := os.MkdirTemp("", "sd-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	p := &pgCluster{t: t, bin: filepath.Dir(bins[len(bins)-1]), dir: filepath.Join(dir, "data"), port: freePort(t), logf: filepath.Join(dir, "pg.log")}
	p.runAsOwner = func(name string, args ...string) *exec.Cmd {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", filepath.Join(p.bin, name)}, args...)...)
	}
	if out, err := exec.Command("chown", "postgres", dir).CombinedOutput(); err != nil {
		t.Fatalf("chown: %v %s", err, out)
	}
	if out, err := p.runAsOwner("initdb", "-D", p.dir, "-A", "trust", "-U", "postgres").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	p.start()
	t.Cleanup(func() {
		if !p.stopped {
			_ = p.runAsOwner("pg_ctl", "-D", p.dir, "-m", "immediate", "stop").Run()
		}
	})
	return p
}

func (p *pgCluster) start() {
	p.t.Helper()
	opts := fmt.Sprintf("-p %s -k /tmp -c listen_addresses=127.0.0.1", p.port)
	if out, err := p.runAsOwner("pg_ctl", "-D", p.dir, "-l", p.logf, "-o", opts, "-w", "start").CombinedOutput(); err != nil {
		log, _ := os.ReadFile(p.logf)
		p.t.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	p.stopped = false
}

func (p *pgCluster) stop() {
	p.t.Helper()
	if out, err := p.runAsOwner("pg_ctl", "-D", p.dir, "-m", "fast", "-w", "stop").CombinedOutput(); err != nil {
		p.t.Fatalf("pg_ctl stop: %v\n%s", err, out)
	}
	p.stopped = true
}

func (p *pgCluster) url() string {
	return "postgres://postgres@127.0.0.1:" + p.port + "/postgres?sslmode=disable"
}

// TestLivePostgresRestart: PostgreSQL restarts under a running serve; an
// event committed right after (before the listener is back) still
// reaches the stream, and nothing asks for a resync.
func TestLivePostgresRestart(t *testing.T) {
	pg := newPGCluster(t)
	c := &cli{t: t, dir: t.TempDir(), env: []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()},
		db: []string{"--database", pg.url()}}
	if r := c.run("", "migrate"); r.code != 0 {
		t.Fatalf("migrate: %s", r.stderr)
	}
	si := liveSetup(t, c)
	_, base, _ := startServe(t, c)
	ls := openLiveStream(t, base, si, "queue")
	before := cliTicket(t, c, "Antes do reinício")
	ls.await(t, 10*time.Second, createdTicket(before.Number))

	pg.stop()
	pg.start()
	// Commit as soon as the database takes it: the listener is likely
	// still reconnecting and hears no NOTIFY for it.
	var after ticketOut
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := c.run("", "ticket", "create", "--requester", "maria@acme.example", "--subject", "Depois do reinício", "-o", "json")
		if r.code == 0 {
			if err := json.Unmarshal([]byte(r.stdout), &after); err != nil {
				t.Fatal(err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ticket create after the restart: %s", r.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	ls.await(t, 30*time.Second, createdTicket(after.Number))
	more := cliTicket(t, c, "Com o listener de volta")
	ls.await(t, 30*time.Second, createdTicket(more.Number))
}
