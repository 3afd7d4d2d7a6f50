// Command sseload is a load test of the live stream: it opens N SSE
// streams (GET /notify/stream) on loopback, commits comments on one
// ticket and measures the delay from each commit to its receipt on every
// stream (p50, p99, max), and the server's memory per open stream.
//
//	go run ./cmd/sseload -n 10000 -events 20                                   # SQLite in a temp folder
//	go run ./cmd/sseload -n 10000 --database 'postgres://…/db?search_path=load' # PostgreSQL (LISTEN/NOTIFY)
//
// The server runs in a child process (this command with -serve), so its
// memory is measured alone: Go heap and stacks (after a GC) and RSS,
// before and after the streams open. The comments are committed by this
// process, as the CLI or another serve would; a commit's time is taken
// when it returns. Both processes raise their file-descriptor limit.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jcservicedesk/servicedesk/configs"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/seedload"
	"github.com/jcservicedesk/servicedesk/ticketing"
	"github.com/jcservicedesk/servicedesk/web"
	"github.com/jcservicedesk/servicedesk/web/sse"
)

const (
	loadEmail    = "sseload@helpdesk.example"
	loadPassword = "sseload password 1"
)

type options struct {
	dbURL    string
	n        int
	events   int
	interval time.Duration
	serve    bool
	dialers  int
	// heapProfile: where to save the server's heap profile once the
	// streams are open.
	heapProfile string
}

func main() {
	var o options
	flag.StringVar(&o.dbURL, "database", "", "database URL (default: a SQLite file in a temp folder)")
	flag.IntVar(&o.n, "n", 1000, "SSE streams to open")
	flag.IntVar(&o.events, "events", 20, "comments to commit once the streams are open")
	flag.DurationVar(&o.interval, "interval", 500*time.Millisecond, "time between commits")
	flag.IntVar(&o.dialers, "dialers", 64, "streams opened at once")
	flag.StringVar(&o.heapProfile, "heapprofile", "", "save the server's heap profile here once the streams are open")
	flag.BoolVar(&o.serve, "serve", false, "internal: run the server side (the child process)")
	flag.Parse()
	raiseNoFile()
	var err error
	if o.serve {
		err = serve(o)
	} else {
		err = run(o)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sseload:", err)
		os.Exit(1)
	}
}

// raiseNoFile lifts the soft open-files limit to the hard one: every
// stream is a socket on each side.
func raiseNoFile() {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err == nil && l.Cur < l.Max {
		l.Cur = l.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

func openStore(ctx context.Context, url string) (*store.Store, error) {
	target, err := configs.ParseDatabaseURL(url)
	if err != nil {
		return nil, err
	}
	return store.Open(ctx, store.Options{Driver: target.Driver, DSN: target.DSN})
}

func services(ctx context.Context, st *store.Store) (*ticketing.Service, error) {
	key, err := ticketing.NewService(st).SecretKey(ctx, "")
	if err != nil {
		return nil, err
	}
	return ticketing.NewService(st, ticketing.WithAccounts(ticketing.AccountConfig{Secret: key, SessionLifetime: 2 * time.Hour,
		RememberLifetime: 2 * time.Hour, IdleTimeout: 2 * time.Hour, HashConcurrency: 2})), nil
}

// memory is the server's, after a GC.
type memory struct {
	Heap, Stack, RSS uint64
	Goroutines       int
	Streams          int
}

// serve is the child: the portal on loopback, its address on stdout, and
// GET /debug/mem with its memory.
func serve(o options) error {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	st, err := openStore(ctx, o.dbURL)
	if err != nil {
		return err
	}
	defer st.Close()
	svc, err := services(ctx, st)
	if err != nil {
		return err
	}
	cfg := configs.Defaults()
	portal, err := web.New(web.Deps{Cfg: cfg, Svc: svc, Live: web.LiveOptions{
		// One load user holds every stream; the process cap stays above n.
		Hub: sse.Options{MaxPerUser: o.n, MaxStreams: o.n + 100},
	}})
	if err != nil {
		return err
	}
	go func() { _ = portal.RunLive(ctx) }()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/mem", func(w http.ResponseWriter, r *http.Request) {
		runtime.GC()
		debug.FreeOSMemory()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		_ = json.NewEncoder(w).Encode(memory{Heap: ms.HeapInuse, Stack: ms.StackInuse, RSS: rss(),
			Goroutines: runtime.NumGoroutine(), Streams: portal.Hub().Streams()})
	})
	mux.HandleFunc("GET /debug/heap", func(w http.ResponseWriter, r *http.Request) {
		runtime.GC()
		_ = pprof.Lookup("heap").WriteTo(w, 0)
	})
	mux.Handle("/", portal.Handler())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	srv.RegisterOnShutdown(portal.CloseStreams)
	fmt.Println("ADDR", ln.Addr().String())
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); stop(); _ = srv.Close() }() // the parent's end is ours
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func rss() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseUint(f[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

func run(o options) error {
	ctx := context.Background()
	if o.dbURL == "" {
		dir, err := os.MkdirTemp("", "sseload")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		o.dbURL = "sqlite:///" + filepath.Join(dir, "load.db")
	}
	st, err := openStore(ctx, o.dbURL)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		return err
	}
	svc, err := services(ctx, st)
	if err != nil {
		return err
	}
	hash, err := ticketing.HashPassword(loadPassword)
	if err != nil {
		return err
	}
	user, err := seedload.LoadUser(ctx, st, loadEmail, hash)
	if err != nil {
		return err
	}
	ticket, err := loadTicket(ctx, svc, user)
	if err != nil {
		return err
	}
	si, err := svc.Login(ctx, user.Email, loadPassword, false, ticketing.Client{})
	if err != nil {
		return fmt.Errorf("sign in: %w", err)
	}

	self, err := os.Executable()
	if err != nil {
		return err
	}
	child := exec.Command(self, "-serve", "-database", o.dbURL, "-n", strconv.Itoa(o.n))
	child.Stderr = os.Stderr
	stdin, _ := child.StdinPipe()
	stdout, _ := child.StdoutPipe()
	if err := child.Start(); err != nil {
		return err
	}
	defer func() { stdin.Close(); _ = child.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "ADDR ") {
		return fmt.Errorf("server did not start: %q %v", line, err)
	}
	addr := strings.TrimSpace(strings.TrimPrefix(line, "ADDR "))
	before, err := mem(addr)
	if err != nil {
		return err
	}

	topic := ticketing.TicketTopic(ticket.ID)
	req := "GET /notify/stream?topics=" + topic + " HTTP/1.1\r\nHost: " + addr + "\r\nCookie: sd_session=" + si.Token +
		"\r\nAccept: text/event-stream\r\n\r\n"
	streams := make([]*stream, o.n)
	openStart := time.Now()
	var wg sync.WaitGroup
	sem := make(chan struct{}, o.dialers)
	var openErr error
	var mu sync.Mutex
	for i := range streams {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			s, err := openStream(addr, req)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if openErr == nil {
					openErr = err
				}
				return
			}
			streams[i] = s
		}()
	}
	wg.Wait()
	if openErr != nil {
		return fmt.Errorf("open streams: %w", openErr)
	}
	opened := time.Since(openStart)
	after, err := mem(addr)
	if err != nil {
		return err
	}
	if o.heapProfile != "" {
		if err := saveHeap(addr, o.heapProfile); err != nil {
			return err
		}
	}

	for _, s := range streams {
		go s.read(o.events)
	}
	commits := make([]time.Time, o.events)
	for i := range o.events {
		if _, err := svc.Comment(ctx, user, ticket.Number, ticketing.CommentInput{Body: fmt.Sprintf("load-%d", i)}); err != nil {
			return err
		}
		commits[i] = time.Now()
		time.Sleep(o.interval)
	}
	deadline := time.After(30 * time.Second)
	var lat []time.Duration
	missing := 0
	for _, s := range streams {
		select {
		case <-s.done:
		case <-deadline:
		}
		s.mu.Lock()
		for i, at := range s.got {
			if at.IsZero() {
				missing++
				continue
			}
			lat = append(lat, at.Sub(commits[i]))
		}
		s.mu.Unlock()
	}
	for _, s := range streams {
		s.conn.Close()
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(float64(len(lat))*p))]
	}
	load, _ := os.ReadFile("/proc/loadavg")
	n := uint64(o.n)
	fmt.Printf("database        %s\n", st.Driver())
	fmt.Printf("streams         %d (opened in %v)\n", o.n, opened.Round(time.Millisecond))
	fmt.Printf("events          %d, every %v: %d receipts, %d missing\n", o.events, o.interval, len(lat), missing)
	fmt.Printf("commit→receipt  p50 %v  p99 %v  max %v\n", pct(0.50).Round(time.Millisecond), pct(0.99).Round(time.Millisecond),
		pct(1).Round(time.Millisecond))
	fmt.Printf("server memory   heap+stacks %d B/stream (heap %d, stacks %d), RSS %d B/stream (%d goroutines for %d streams)\n",
		(after.Heap+after.Stack-before.Heap-before.Stack)/n, (after.Heap-before.Heap)/n, (after.Stack-before.Stack)/n,
		(after.RSS-before.RSS)/n, after.Goroutines, after.Streams)
	fmt.Printf("load average    %s", load)
	if missing > 0 {
		return fmt.Errorf("%d receipts missing", missing)
	}
	return nil
}

func loadTicket(ctx context.Context, svc *ticketing.Service, user *store.User) (*store.Ticket, error) {
	admin := ticketing.SystemActor()
	c, err := svc.CreateCompany(ctx, admin, ticketing.CompanyInput{Name: fmt.Sprintf("SSE Load %d", time.Now().UnixNano())})
	if err != nil {
		return nil, err
	}
	req, err := svc.CreateUser(ctx, admin, ticketing.UserInput{Email: fmt.Sprintf("req%d@sseload.example", time.Now().UnixNano()),
		Name: "Requester", Role: store.RoleClient, CompanyID: &c.ID})
	if err != nil {
		return nil, err
	}
	return svc.Create(ctx, user, ticketing.CreateInput{Requester: req, Subject: "SSE load", Body: "load", Source: store.SourceCLI})
}

func saveHeap(addr, path string) error {
	res, err := http.Get("http://" + addr + "/debug/heap")
	if err != nil {
		return err
	}
	defer res.Body.Close()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(f, res.Body)
	return err
}

func mem(addr string) (memory, error) {
	var m memory
	res, err := http.Get("http://" + addr + "/debug/mem")
	if err != nil {
		return m, err
	}
	defer res.Body.Close()
	return m, json.NewDecoder(res.Body).Decode(&m)
}

// stream is one SSE client on a raw connection (net/http's client would
// weigh on the machine more than the server under test).
type stream struct {
	conn net.Conn
	rd   *bufio.Reader
	done chan struct{}
	mu   sync.Mutex
	got  []time.Time // by event number: when load-<i> arrived
}

func openStream(addr, req string) (*stream, error) {
	c, err := net.DialTimeout("tcp", addr, 30*time.Second)
	if err != nil {
		return nil, err
	}
	if _, err := io.WriteString(c, req); err != nil {
		c.Close()
		return nil, err
	}
	rd := bufio.NewReaderSize(c, 1024)
	// The status line and headers, then the retry line: registered.
	status, err := rd.ReadString('\n')
	if err != nil || !strings.Contains(status, " 200 ") {
		c.Close()
		return nil, fmt.Errorf("stream: %q %v", status, err)
	}
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			c.Close()
			return nil, err
		}
		if strings.HasPrefix(line, "retry:") {
			break
		}
	}
	return &stream{conn: c, rd: rd, done: make(chan struct{})}, nil
}

// read records when each load-<i> comment arrives, until it has them all.
func (s *stream) read(events int) {
	defer close(s.done)
	s.mu.Lock()
	s.got = make([]time.Time, events)
	s.mu.Unlock()
	seen := 0
	for seen < events {
		line, err := s.rd.ReadSlice('\n')
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return
		}
		at := time.Now()
		i := strings.Index(string(line), `"text":"load-`)
		if !strings.HasPrefix(string(line), "data: ") || i < 0 {
			continue
		}
		rest := string(line[i+len(`"text":"load-`):])
		k, err := strconv.Atoi(rest[:strings.IndexByte(rest, '"')])
		if err != nil || k < 0 || k >= events {
			continue
		}
		s.mu.Lock()
		if s.got[k].IsZero() {
			s.got[k] = at
			seen++
		}
		s.mu.Unlock()
	}
}
