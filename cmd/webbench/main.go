// Command webbench is a load generator for the portal. It starts the
// portal in-process on a real SQLite file or PostgreSQL schema (or aims at
// a running one with -url), signs -sessions users' browsers in through the
// real /login form, and then measures a signed-in page:
//
//   - open loop: -rate requests per second for -duration, spread over the
//     sessions, each request timed from when it was due (so a slow server
//     cannot hide its queue: no coordinated omission);
//   - closed loop: every session requests the page again as soon as the
//     last answer arrived, for -closed, giving the maximum pages/s.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/jcservicedesk/servicedesk/configs"
	"github.com/jcservicedesk/servicedesk/mailbox/compose"
	"github.com/jcservicedesk/servicedesk/mailbox/outbound"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
	"github.com/jcservicedesk/servicedesk/web"
)

const usage = `webbench: load-test a signed-in page of the servicedesk portal.

Usage:
  go run ./cmd/webbench [-db sqlite|postgres] [-sessions 50] [-rate 50] [-duration 20s] [-closed 10s] [-path /dashboard] [-json]
  go run ./cmd/webbench -url http://localhost:4480 -email USER -password PW [...]

Without -url it starts the portal in this process on a fresh database: a
SQLite file in a temp folder, or with -db postgres a schema of its own in
-pg (default $SERVICEDESK_TEST_POSTGRES_URL), dropped at the end. It
creates one confirmed user and signs -sessions browsers in through the
/login form (each with its own cookies and keep-alive connection).

Then an open loop of -rate requests/s for -duration, round-robin over the
sessions, each timed from when it was due; then a closed loop for -closed
in which every session asks again as soon as it has its answer. Reports
p50/p90/p99/max latency of both and the closed loop's pages/s. A request
counts as failed unless it answers 200 (a redirect to /login fails).
Exits 1 when any request failed.

Flags:
`

type options struct {
	url, email, password, path string
	db, pg                     string
	sessions, rate             int
	duration, closed           time.Duration
	json                       bool
}

func main() {
	var o options
	fs := flag.NewFlagSet("webbench", flag.ContinueOnError)
	fs.StringVar(&o.url, "url", "", "a running portal (default: start one in this process)")
	fs.StringVar(&o.email, "email", "", "with -url: the user to sign in as")
	fs.StringVar(&o.password, "password", "", "with -url: that user's password")
	fs.StringVar(&o.db, "db", "sqlite", "in-process database: sqlite or postgres")
	fs.StringVar(&o.pg, "pg", os.Getenv("SERVICEDESK_TEST_POSTGRES_URL"), "PostgreSQL URL for -db postgres")
	fs.StringVar(&o.path, "path", "/dashboard", "the signed-in page to request")
	fs.IntVar(&o.sessions, "sessions", 50, "signed-in sessions (clients)")
	fs.IntVar(&o.rate, "rate", 50, "open loop: requests per second")
	fs.DurationVar(&o.duration, "duration", 20*time.Second, "open loop: how long")
	fs.DurationVar(&o.closed, "closed", 10*time.Second, "closed loop: how long (0: skip)")
	fs.BoolVar(&o.json, "json", false, "print the result as JSON")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		os.Exit(2)
	}
	if fs.NArg() > 0 || o.sessions <= 0 || o.rate <= 0 || o.duration <= 0 || (o.db != "sqlite" && o.db != "postgres") ||
		(o.url != "" && (o.email == "" || o.password == "")) {
		fs.Usage()
		os.Exit(2)
	}
	res, err := run(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "webbench: "+err.Error())
		os.Exit(1)
	}
	if o.json {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(res)
	} else {
		fmt.Println(res.summary())
	}
	if res.Open.Failed > 0 || res.Closed.Failed > 0 {
		os.Exit(1)
	}
}

// result is what one run measured.
type result struct {
	Target   string  `json:"target"`
	DB       string  `json:"db,omitempty"`
	Path     string  `json:"path"`
	Sessions int     `json:"sessions"`
	CPUs     int     `json:"cpus"`
	LoginS   float64 `json:"login_s"` // signing all sessions in
	Open     phase   `json:"open_loop"`
	Closed   phase   `json:"closed_loop"`
}

// phase is one load phase's figures; latencies in milliseconds.
type phase struct {
	Requests  int     `json:"requests"`
	Failed    int     `json:"failed"`
	ElapsedS  float64 `json:"elapsed_s"`
	PerS      float64 `json:"per_s"`
	P50       float64 `json:"p50_ms"`
	P90       float64 `json:"p90_ms"`
	P99       float64 `json:"p99_ms"`
	Max       float64 `json:"max_ms"`
	FirstFail string  `json:"first_failure,omitempty"`
}

func (r *result) summary() string {
	s := fmt.Sprintf("webbench: %s%s on %s, %d sessions signed in in %.1fs, %d CPUs.\n", r.Target, dbNote(r.DB), r.Path, r.Sessions, r.LoginS, r.CPUs)
	s += fmt.Sprintf("open loop:   %d requests in %.1fs (%.1f/s), failed %d; p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n",
		r.Open.Requests, r.Open.ElapsedS, r.Open.PerS, r.Open.Failed, r.Open.P50, r.Open.P90, r.Open.P99, r.Open.Max)
	if r.Closed.Requests > 0 {
		s += fmt.Sprintf("closed loop: %d requests in %.1fs: %.0f pages/s, failed %d; p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n",
			r.Closed.Requests, r.Closed.ElapsedS, r.Closed.PerS, r.Closed.Failed, r.Closed.P50, r.Closed.P90, r.Closed.P99, r.Closed.Max)
	}
	for _, p := range []phase{r.Open, r.Closed} {
		if p.FirstFail != "" {
			s += "first failure: " + p.FirstFail + "\n"
		}
	}
	return strings.TrimRight(s, "\n")
}

func dbNote(db string) string {
	if db == "" {
		return ""
	}
	return " (in-process, " + db + ")"
}

func run(o options) (*result, error) {
	ctx := context.Background()
	res := &result{Target: o.url, Path: o.path, Sessions: o.sessions, CPUs: runtime.NumCPU()}
	if o.url == "" {
		p, err := startPortal(ctx, o)
		if err != nil {
			return nil, err
		}
		defer p.close()
		o.url, o.email, o.password = p.base, p.email, benchPassword
		res.Target, res.DB = p.base, o.db
	}
	base := strings.TrimSuffix(o.url, "/")
	t0 := time.Now()
	clients := make([]*http.Client, o.sessions)
	for i := range clients {
		c, err := signIn(ctx, base, o.email, o.password)
		if err != nil {
			return nil, fmt.Errorf("sign in session %d: %w", i+1, err)
		}
		clients[i] = c
	}
	res.LoginS = time.Since(t0).Seconds()
	// One warm-up request per session: connections open, caches filled.
	for _, c := range clients {
		if err := get(ctx, c, base+o.path); err != nil {
			return nil, fmt.Errorf("warm-up: %w", err)
		}
	}
	res.Open = openLoop(ctx, clients, base+o.path, o.rate, o.duration)
	if o.closed > 0 {
		res.Closed = closedLoop(ctx, clients, base+o.path, o.closed)
	}
	return res, nil
}

// openLoop sends rate requests per second for d, request i to client
// i%len(clients), each timed from its due time.
func openLoop(ctx context.Context, clients []*http.Client, u string, rate int, d time.Duration) phase {
	n := int(d.Seconds() * float64(rate))
	interval := time.Second / time.Duration(rate)
	type job struct{ due time.Time }
	queues := make([]chan job, len(clients))
	var rec recorder
	var wg sync.WaitGroup
	for i, c := range clients {
		queues[i] = make(chan job, n/len(clients)+1)
		wg.Go(func() {
			for j := range queues[i] {
				err := get(ctx, c, u)
				rec.add(time.Since(j.due), err)
			}
		})
	}
	start := time.Now()
	for i := range n {
		due := start.Add(time.Duration(i) * interval)
		time.Sleep(time.Until(due)) // the schedule itself, not a wait for a result
		queues[i%len(clients)] <- job{due}
	}
	for _, q := range queues {
		close(q)
	}
	wg.Wait()
	return rec.phase(time.Since(start))
}

// closedLoop has every client request u again as soon as it has its
// answer, for d.
func closedLoop(ctx context.Context, clients []*http.Client, u string, d time.Duration) phase {
	var rec recorder
	var wg sync.WaitGroup
	start := time.Now()
	end := start.Add(d)
	for _, c := range clients {
		wg.Go(func() {
			for time.Now().Before(end) {
				t := time.Now()
				err := get(ctx, c, u)
				rec.add(time.Since(t), err)
			}
		})
	}
	wg.Wait()
	return rec.phase(time.Since(start))
}

// recorder collects latencies and failures from the workers.
type recorder struct {
	mu        sync.Mutex
	lat       []time.Duration
	failed    int
	firstFail string
}

func (r *recorder) add(d time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lat = append(r.lat, d)
	if err != nil {
		r.failed++
		if r.firstFail == "" {
			r.firstFail = err.Error()
		}
	}
}

func (r *recorder) phase(elapsed time.Duration) phase {
	r.mu.Lock()
	defer r.mu.Unlock()
	slices.Sort(r.lat)
	p := phase{Requests: len(r.lat), Failed: r.failed, ElapsedS: elapsed.Seconds(), FirstFail: r.firstFail}
	if len(r.lat) == 0 {
		return p
	}
	p.PerS = float64(len(r.lat)) / elapsed.Seconds()
	q := func(f float64) float64 {
		i := int(float64(len(r.lat))*f+0.5) - 1
		i = max(0, min(i, len(r.lat)-1))
		return float64(r.lat[i].Microseconds()) / 1000
	}
	p.P50, p.P90, p.P99, p.Max = q(0.50), q(0.90), q(0.99), float64(r.lat[len(r.lat)-1].Microseconds())/1000
	return p
}

// get fetches u and reads the whole page; anything but 200 fails.
func get(ctx context.Context, c *http.Client, u string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept-Encoding", "gzip") // as a browser asks; the body is read as sent
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s (Location %q)", u, resp.Status, resp.Header.Get("Location"))
	}
	return nil
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// signIn signs one browser in through the login form: a client with its
// own cookie jar and one keep-alive connection, that follows no redirect.
func signIn(ctx context.Context, base, email, password string) (*http.Client, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		Transport:     &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/login", nil)
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	page, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	m := csrfRE.FindSubmatch(page)
	if m == nil {
		return nil, fmt.Errorf("GET /login: %s, no csrf_token in the form", resp.Status)
	}
	form := url.Values{"email": {email}, "password": {password}, "csrf_token": {string(m[1])}}
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, base+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	resp, err = c.Do(req)
	if err != nil {
		return nil, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || strings.Contains(loc, "/login") || strings.Contains(loc, "/otp") {
		return nil, fmt.Errorf("POST /login: %s to %q (wrong password, or the account needs a second factor)", resp.Status, loc)
	}
	return c, nil
}

const benchPassword = "webbench-senha-longa-1"

// portal is the in-process portal under test.
type portal struct {
	base, email string
	srv         *http.Server
	st          *store.Store
	cleanup     []func()
}

func (p *portal) close() {
	p.srv.Close()
	p.st.Close()
	p.runCleanup()
}

// startPortal opens a fresh database, seeds it as `servicedesk serve`
// does, adds the benchmark's user and serves the portal on loopback.
func startPortal(ctx context.Context, o options) (*portal, error) {
	p := &portal{}
	opts := store.Options{Driver: store.SQLite}
	switch o.db {
	case "sqlite":
		dir, err := os.MkdirTemp("", "webbench-")
		if err != nil {
			return nil, err
		}
		p.cleanup = append(p.cleanup, func() { os.RemoveAll(dir) })
		opts.DSN = filepath.Join(dir, "bench.db")
	case "postgres":
		if o.pg == "" {
			return nil, errors.New("-db postgres needs -pg or SERVICEDESK_TEST_POSTGRES_URL")
		}
		schema := fmt.Sprintf("webbench_%d", time.Now().UnixNano())
		opts = store.Options{Driver: store.Postgres, DSN: o.pg, Schema: schema}
		p.cleanup = append(p.cleanup, func() {
			db := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(o.pg)))
			defer db.Close()
			_, _ = db.Exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE")
		})
	}
	st, err := store.Open(ctx, opts)
	if err != nil {
		p.runCleanup()
		return nil, err
	}
	p.st = st
	fail := func(err error) (*portal, error) {
		st.Close()
		p.runCleanup()
		return nil, err
	}
	if _, err := st.Migrate(ctx); err != nil {
		return fail(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	p.base = "http://localhost:" + port

	cfg := configs.Defaults()
	cfg.HTTP.PublicURL = p.base
	cfg.Security.LoginRatePerIP = 1 << 30 // every session signs in from 127.0.0.1
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	boot := ticketing.NewService(st)
	seeded, err := boot.Seed(ctx, ticketing.SeedInput{Company: cfg.Admin.Company, Email: cfg.Admin.Email, Name: cfg.Admin.Name})
	if err != nil {
		return fail(err)
	}
	key, err := boot.SecretKey(ctx, cfg.Security.SecretKey)
	if err != nil {
		return fail(err)
	}
	c, err := compose.New()
	if err != nil {
		return fail(err)
	}
	ob := outbound.New(outbound.Config{
		From: compose.Address{Name: "JC Service Desk", Email: "support@localhost"}, ReplyBase: cfg.Mail.MainAddress(),
		PublicURL: p.base, TagPrefix: cfg.Mail.SubjectTagPrefix, Secret: key, LoopValue: "localhost",
		AckPerHour: cfg.Mail.AckLimitPerHour, Lang: cfg.UI.Language, Zone: cfg.Location(),
	}, c, log)
	sec := cfg.Security
	svc := ticketing.NewService(st, ticketing.WithTxHook(ob.Hook), ticketing.WithListener(ob.Listener),
		ticketing.WithLocation(cfg.Location()),
		ticketing.WithAccounts(ticketing.AccountConfig{Secret: key, SessionLifetime: sec.SessionLifetime,
			RememberLifetime: sec.RememberLifetime, IdleTimeout: sec.IdleTimeout, Require2FARoles: sec.Require2FARoles,
			HashConcurrency: sec.PasswordHashConcurrency}))
	co, err := svc.CreateCompany(ctx, seeded.Admin, ticketing.CompanyInput{Name: "Cliente Bench", Domains: []string{"bench.example"}})
	if err != nil {
		return fail(err)
	}
	p.email = "carga@bench.example"
	u, err := svc.CreateUser(ctx, seeded.Admin, ticketing.UserInput{Email: p.email, Name: "Carga", Role: "client",
		CompanyID: &co.ID, Password: benchPassword})
	if err != nil {
		return fail(err)
	}
	// The privacy policy accepted, or every page leads to /lgpd.
	rev, err := svc.CurrentRevision(ctx, co.ID)
	if err != nil {
		return fail(err)
	}
	if _, err := svc.Accept(ctx, u, rev.ID, "127.0.0.1", store.ChannelCLI); err != nil {
		return fail(err)
	}
	w, err := web.New(web.Deps{Cfg: cfg, Svc: svc, Log: log})
	if err != nil {
		return fail(err)
	}
	p.srv = &http.Server{Handler: w.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go p.srv.Serve(ln)
	return p, nil
}

func (p *portal) runCleanup() {
	for _, f := range slices.Backward(p.cleanup) {
		f()
	}
}
