// Command webload is a load test of the portal: it serves the portal in
// process, over loopback, on a database seeded by cmd/seedload, and loads
// pages as staff with net/http clients.
//
//	go run ./cmd/seedload --database sqlite:////tmp/load.db --tickets 100000 --comments 1000000 --rounds 0
//	go run ./cmd/webload --database sqlite:////tmp/load.db -users 50 -duration 30s -runs 3
//
// (sqlite:/// is followed by a relative path, sqlite://// by an absolute
// one.) Open loop: -users virtual users, each loading one page a second
// (the pages of -pages in turn, each user starting at a different one),
// for -duration; the latency figures are p50/p90/p99/max per page and
// over all. Closed loop: then -closed workers load pages back to back for
// -closed-duration: the maximum pages per second. Both loops run -runs
// times; the summary is the median over the runs of each run's p50, p99
// and max per page, and of the pages/s. RSS is the process's (server and
// clients together; the clients' share is small), peak and at the end.
// The machine's load average is printed with every run.
//
// {ticket} in a page is the newest ticket, given -ticket-comments
// comments first (a ticket page with a long conversation). Pages that
// answer other than 200 are counted and reported, not fatal: the list can
// name pages still being built.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jcservicedesk/servicedesk/configs"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/seedload"
	"github.com/jcservicedesk/servicedesk/ticketing"
	"github.com/jcservicedesk/servicedesk/web"
)

// defaultPages: the four pages (the queue, a filtered queue, a
// search, a ticket with a long conversation) and the staff dashboard.
const defaultPages = "/tickets/,/tickets/?tab=unassigned&status=open&sort=updated,/search?q=impressora,/tickets/{ticket},/dashboard"

type options struct {
	dbURL          string
	pages          []string
	users          int
	duration       time.Duration
	closed         int
	closedDuration time.Duration
	comments       int
	cpuProfile     string
	runs           int
}

func main() {
	var o options
	var pages string
	fs := flag.NewFlagSet("webload", flag.ContinueOnError)
	fs.StringVar(&o.dbURL, "database", os.Getenv("SERVICEDESK_DATABASE_URL"), "database URL (sqlite:///path or postgres://…), seeded by cmd/seedload")
	fs.StringVar(&pages, "pages", defaultPages, "comma-separated paths to load; {ticket} is the newest ticket's number")
	fs.IntVar(&o.users, "users", 50, "open loop: virtual users, each loading a page a second")
	fs.DurationVar(&o.duration, "duration", 30*time.Second, "open loop: how long")
	fs.IntVar(&o.closed, "closed", 4, "closed loop: workers loading pages back to back (0: skip)")
	fs.DurationVar(&o.closedDuration, "closed-duration", 10*time.Second, "closed loop: how long")
	fs.IntVar(&o.comments, "ticket-comments", 50, "comments the {ticket} page shows (added when it has fewer)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run (server and clients) to this file")
	fs.IntVar(&o.runs, "runs", 3, "runs of the open and closed loops; the summary is the median of each figure over them")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	for _, p := range strings.Split(pages, ",") {
		if p = strings.TrimSpace(p); p != "" {
			o.pages = append(o.pages, p)
		}
	}
	if o.dbURL == "" || len(o.pages) == 0 || o.users <= 0 || o.duration <= 0 || o.closed < 0 || o.comments < 0 || o.runs <= 0 || fs.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "webload: give --database, at least one page, -users > 0, -duration > 0 and -runs > 0")
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "webload:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	ctx := context.Background()
	target, err := configs.ParseDatabaseURL(o.dbURL)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, store.Options{Driver: target.Driver, DSN: target.DSN})
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		return err
	}
	cfg := configs.Defaults()
	boot := ticketing.NewService(st)
	key, err := boot.SecretKey(ctx, "")
	if err != nil {
		return err
	}
	svc := ticketing.NewService(st, ticketing.WithLocation(cfg.Location()),
		ticketing.WithAccounts(ticketing.AccountConfig{Secret: key, SessionLifetime: time.Hour, RememberLifetime: time.Hour,
			IdleTimeout: time.Hour, HashConcurrency: 4}))
	portal, err := web.New(web.Deps{Cfg: cfg, Svc: svc})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: portal.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()

	ticket, err := seedload.TicketWithComments(ctx, st, o.comments)
	if err != nil {
		return err
	}
	for i, p := range o.pages {
		o.pages[i] = strings.ReplaceAll(p, "{ticket}", strconv.FormatInt(ticket, 10))
	}
	const password = "webload password 1"
	hash, err := ticketing.HashPassword(password)
	if err != nil {
		return err
	}
	user, err := seedload.LoadUser(ctx, st, "webload@helpdesk.example", hash)
	if err != nil {
		return err
	}
	tr := &http.Transport{MaxIdleConnsPerHost: o.users + o.closed, MaxIdleConns: o.users + o.closed}
	defer tr.CloseIdleConnections()
	// One session for all clients: signing in is an argon2id hash (64 MB
	// for a moment), the server's cost that is not under test here.
	si, err := svc.Login(ctx, user.Email, password, false, ticketing.Client{})
	if err != nil {
		return fmt.Errorf("sign in: %w", err)
	}
	debug.FreeOSMemory()
	clients := make([]*client, max(o.users, o.closed))
	for i := range clients {
		clients[i] = &client{base: base, cookie: "sd_session=" + si.Token, http: &http.Client{Transport: tr,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	}
	// Warm up: every page once (templates, caches, database pages).
	for _, p := range o.pages {
		clients[0].load(p)
	}
	var rssPeak atomic.Int64
	stopRSS, rssDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(rssDone)
		for {
			rssPeak.Store(max(rssPeak.Load(), rss()))
			select {
			case <-stopRSS:
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()

	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	fmt.Printf("webload: %s (%s), %d users × 1 page/s for %s, %d closed-loop workers for %s, %d runs, pages: %s\n",
		st.Driver(), strings.SplitN(o.dbURL, "?", 2)[0], o.users, o.duration, o.closed, o.closedDuration, o.runs,
		strings.Join(o.pages, " "))
	var runs []runResult
	for i := 1; i <= o.runs; i++ {
		fmt.Printf("run %d: load average %s\n", i, loadAvg())
		r := runResult{open: openLoop(clients[:o.users], o.pages, o.duration)}
		r.open.print(fmt.Sprintf("run %d open loop", i))
		if o.closed > 0 {
			r.closed = closedLoop(clients[:o.closed], o.pages, o.closedDuration)
			r.closed.print(fmt.Sprintf("run %d closed loop", i))
			r.pagesPerSec = float64(r.closed.n()) / o.closedDuration.Seconds()
			fmt.Printf("run %d closed loop: %d workers, %.1f pages/s\n", i, o.closed, r.pagesPerSec)
		}
		r.rssPeak = max(rssPeak.Load(), rss())
		fmt.Printf("run %d: rss peak so far %d MB, load average %s\n", i, r.rssPeak>>20, loadAvg())
		runs = append(runs, r)
	}
	close(stopRSS)
	<-rssDone
	summary(runs, o.pages)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("rss: peak %d MB, now %d MB (server and clients in one process); heap in use %d MB\n",
		max(rssPeak.Load(), rss())>>20, rss()>>20, ms.HeapInuse>>20)
	return nil
}

// runResult is one run's figures.
type runResult struct {
	open, closed *stats
	pagesPerSec  float64
	rssPeak      int64
}

// summary prints, for each page and over all pages, the median over the
// runs of each run's p50, p99 and max (open loop), and the median
// closed-loop pages/s.
func summary(runs []runResult, pages []string) {
	median := func(xs []time.Duration) time.Duration {
		slices.Sort(xs)
		return xs[len(xs)/2].Round(10 * time.Microsecond)
	}
	line := func(name string, get func(*stats) []time.Duration) {
		var p50, p99, worst []time.Duration
		for _, r := range runs {
			ds := get(r.open)
			if len(ds) == 0 {
				return
			}
			p50, p99, worst = append(p50, quantile(ds, .50)), append(p99, quantile(ds, .99)), append(worst, quantile(ds, 1))
		}
		fmt.Printf("median of %d: %-50s p50 %s, p99 %s, max %s\n", len(runs), name, median(p50), median(p99), median(worst))
	}
	for _, p := range pages {
		line(p, func(s *stats) []time.Duration { return s.by[p] })
	}
	line("all pages", func(s *stats) []time.Duration {
		var all []time.Duration
		for _, ds := range s.by {
			all = append(all, ds...)
		}
		return all
	})
	if runs[0].closed != nil {
		pps := make([]float64, len(runs))
		for i, r := range runs {
			pps[i] = r.pagesPerSec
		}
		slices.Sort(pps)
		fmt.Printf("median of %d: closed loop %.1f pages/s\n", len(runs), pps[len(pps)/2])
	}
}

// quantile is the f-quantile of ds (1: the maximum).
func quantile(ds []time.Duration, f float64) time.Duration {
	ds = slices.Clone(ds)
	slices.Sort(ds)
	return ds[min(len(ds)-1, int(f*float64(len(ds))))]
}

// loadAvg is the machine's load (/proc/loadavg: 1, 5 and 15 minutes),
// printed with every figure: the machine is shared.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

type client struct {
	base, cookie string
	http         *http.Client
}

// load fetches a page to the end and says how long it took.
func (c *client) load(path string) (time.Duration, int, error) {
	req, err := http.NewRequest("GET", c.base+path, nil)
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Cookie", c.cookie)
	t0 := time.Now()
	res, err := c.http.Do(req)
	if err != nil {
		return 0, 0, err
	}
	_, err = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return time.Since(t0), res.StatusCode, err
}

// stats collects latencies by page.
type stats struct {
	mu     sync.Mutex
	pages  []string
	by     map[string][]time.Duration
	status map[string]map[int]int
	errs   int
}

func newStats(pages []string) *stats {
	return &stats{pages: pages, by: map[string][]time.Duration{}, status: map[string]map[int]int{}}
}

func (s *stats) add(page string, d time.Duration, code int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.errs++
		return
	}
	s.by[page] = append(s.by[page], d)
	if s.status[page] == nil {
		s.status[page] = map[int]int{}
	}
	s.status[page][code]++
}

func (s *stats) n() int {
	n := 0
	for _, ds := range s.by {
		n += len(ds)
	}
	return n
}

func pct(ds []time.Duration) string {
	if len(ds) == 0 {
		return "no loads"
	}
	p := func(f float64) time.Duration { return quantile(ds, f).Round(10 * time.Microsecond) }
	return fmt.Sprintf("n %d, p50 %s, p90 %s, p99 %s, max %s", len(ds), p(.50), p(.90), p(.99), p(1))
}

func (s *stats) print(what string) {
	var all []time.Duration
	for _, p := range s.pages {
		ds := s.by[p]
		all = append(all, ds...)
		var codes []string
		for c, n := range s.status[p] {
			codes = append(codes, fmt.Sprintf("%d×%d", n, c))
		}
		slices.Sort(codes)
		fmt.Printf("%s: %-50s %s [%s]\n", what, p, pct(ds), strings.Join(codes, " "))
	}
	fmt.Printf("%s: %-50s %s, errors %d\n", what, "all pages", pct(all), s.errs)
}

// openLoop: each user loads a page a second, on its own schedule (the
// users' starts spread over the first second), for d.
func openLoop(cs []*client, pages []string, d time.Duration) *stats {
	s := newStats(pages)
	var wg sync.WaitGroup
	end := time.Now().Add(d)
	for i, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			next := time.Now().Add(time.Duration(i) * time.Second / time.Duration(len(cs)))
			for k := i; ; k++ {
				time.Sleep(time.Until(next))
				if time.Now().After(end) {
					return
				}
				p := pages[k%len(pages)]
				dur, code, err := c.load(p)
				s.add(p, dur, code, err)
				next = next.Add(time.Second)
			}
		}()
	}
	wg.Wait()
	return s
}

// closedLoop: each worker loads the pages in turn, back to back, for d.
func closedLoop(cs []*client, pages []string, d time.Duration) *stats {
	s := newStats(pages)
	var wg sync.WaitGroup
	end := time.Now().Add(d)
	for i, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := i; time.Now().Before(end); k++ {
				p := pages[k%len(pages)]
				dur, code, err := c.load(p)
				s.add(p, dur, code, err)
			}
		}()
	}
	wg.Wait()
	return s
}

// rss is the process's resident set size in bytes (Linux), 0 elsewhere.
func rss() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
