package sse

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// memLog is an event log in memory: the hub's Source.
type memLog struct {
	mu     sync.Mutex
	events []Event
	first  int64 // ids below it were pruned
}

func (l *memLog) add(topic, data string) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	id := int64(len(l.events) + 1)
	l.events = append(l.events, Event{ID: id, Name: "ticket", Topics: []string{topic}, Data: []byte(data)})
	return id
}

func (l *memLog) prune(below int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.first = below
}

func (l *memLog) After(_ context.Context, after int64, limit int) ([]Event, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Event
	for _, e := range l.events {
		if e.ID > after && e.ID >= l.first && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}

func (l *memLog) Bounds(context.Context) (int64, int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.events) == 0 {
		return 0, 0, nil
	}
	return max(l.first, 1), int64(len(l.events)), nil
}

// reader lets everything through except data containing "secret"; alive
// until ended.
type reader struct {
	user  int64
	ended chan struct{}
	block chan struct{} // set: Frame waits for it (a client that reads slowly)
}

func (r *reader) User() int64 { return r.user }
func (r *reader) Frame(ctx context.Context, e Event) ([]byte, error) {
	if r.block != nil {
		select {
		case <-r.block:
		case <-ctx.Done():
		}
	}
	if strings.Contains(string(e.Data), "secret") {
		return nil, nil
	}
	return e.Data, nil
}
func (r *reader) Alive(context.Context) bool {
	select {
	case <-r.ended:
		return false
	default:
		return true
	}
}

type fixture struct {
	t   *testing.T
	log *memLog
	hub *Hub
	srv *httptest.Server
	rds map[int64]*reader
	mu  sync.Mutex
}

func newFixture(t *testing.T, o Options) *fixture {
	f := &fixture{t: t, log: &memLog{}, rds: map[int64]*reader{}}
	o.Source = f.log
	o.Attached = strings.HasPrefix(t.Name(), "TestAttached/")
	f.hub = NewHub(o)
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { defer close(ran); _ = f.hub.Run(ctx) }()
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, _ := strconv.ParseInt(r.URL.Query().Get("user"), 10, 64)
		last, _ := strconv.ParseInt(r.Header.Get("Last-Event-ID"), 10, 64)
		err := f.hub.Serve(w, r, f.reader(user), strings.Split(r.URL.Query().Get("topics"), ","), last)
		switch {
		case errors.Is(err, ErrUserLimit):
			http.Error(w, "too many", http.StatusTooManyRequests)
		case errors.Is(err, ErrLimit), errors.Is(err, ErrClosed):
			http.Error(w, "busy", http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(func() {
		f.hub.Close()
		f.srv.Close()
		cancel()
		<-ran
	})
	return f
}

func (f *fixture) reader(user int64) *reader {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rds[user] == nil {
		f.rds[user] = &reader{user: user, ended: make(chan struct{})}
	}
	return f.rds[user]
}

// client is one open stream.
type client struct {
	res    *http.Response
	frames chan frame
	done   chan struct{}
}

type frame struct {
	id         int64
	name, data string
	comment    string
}

func (f *fixture) open(user int64, topics string, last int64) *client {
	f.t.Helper()
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s/?user=%d&topics=%s", f.srv.URL, user, topics), nil)
	if last > 0 {
		req.Header.Set("Last-Event-ID", strconv.FormatInt(last, 10))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	c := &client{res: res, frames: make(chan frame, 1000), done: make(chan struct{})}
	f.t.Cleanup(func() { res.Body.Close(); <-c.done })
	if res.StatusCode != 200 {
		close(c.done)
		return c
	}
	go func() {
		defer close(c.done)
		defer close(c.frames)
		sc := bufio.NewScanner(res.Body)
		var fr frame
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if fr != (frame{}) {
					c.frames <- fr
				}
				fr = frame{}
			case strings.HasPrefix(line, ":"):
				c.frames <- frame{comment: line}
			case strings.HasPrefix(line, "id: "):
				fr.id, _ = strconv.ParseInt(line[4:], 10, 64)
			case strings.HasPrefix(line, "event: "):
				fr.name = line[7:]
			case strings.HasPrefix(line, "data: "):
				fr.data += line[6:]
			}
		}
	}()
	return c
}

// next returns the next event (heartbeats and retry lines skipped).
func (c *client) next(t *testing.T) frame {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case fr, ok := <-c.frames:
			if !ok {
				t.Fatal("stream ended")
			}
			if fr.comment != "" || fr.name == "" {
				continue
			}
			return fr
		case <-timeout:
			t.Fatal("no event within 5 s")
		}
	}
}

// ended waits for the server to end the stream.
func (c *client) ended(t *testing.T) {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-c.frames:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatal("stream still open after 5 s")
		}
	}
}

func (f *fixture) publish(topic, data string) int64 {
	id := f.log.add(topic, data)
	f.hub.Wake()
	return id
}

// waitStreams waits until n streams are registered (the positive signal
// that a stream is subscribed before events are published).
func (f *fixture) waitStreams(n int) {
	f.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for f.hub.Streams() != n {
		if time.Now().After(deadline) {
			f.t.Fatalf("%d streams, want %d", f.hub.Streams(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestFanOut(t *testing.T) {
	f := newFixture(t, Options{})
	a := f.open(1, "ticket:1", 0)
	b := f.open(2, "ticket:1,queue", 0)
	c := f.open(3, "ticket:2", 0)
	f.waitStreams(3)
	if h := a.res.Header; h.Get("Content-Type") != "text/event-stream" || h.Get("Cache-Control") != "no-cache" || h.Get("X-Accel-Buffering") != "no" {
		t.Fatalf("headers %v", h)
	}
	id := f.publish("ticket:1", `{"n":1}`)
	f.publish("ticket:1", `{"secret":true}`) // the reader refuses it
	id3 := f.publish("ticket:2", `{"n":3}`)
	for _, cl := range []*client{a, b} {
		if fr := cl.next(t); fr.id != id || fr.data != `{"n":1}` || fr.name != "ticket" {
			t.Fatalf("got %+v", fr)
		}
	}
	if fr := c.next(t); fr.id != id3 {
		t.Fatalf("ticket:2 got %+v", fr)
	}
	// An event on two of a stream's topics arrives once.
	e := Event{ID: 4, Name: "ticket", Topics: []string{"ticket:1", "queue"}, Data: []byte(`{"n":4}`)}
	f.log.mu.Lock()
	f.log.events = append(f.log.events, e)
	f.log.mu.Unlock()
	f.hub.Wake()
	f.publish("queue", `{"n":5}`)
	if fr := b.next(t); fr.id != 4 {
		t.Fatalf("got %+v", fr)
	}
	if fr := b.next(t); fr.id != 5 {
		t.Fatalf("want 5 after 4 (once), got %+v", fr)
	}
	if fr := a.next(t); fr.id != 4 {
		t.Fatalf("a got %+v", fr)
	}
}

func TestBroadcast(t *testing.T) {
	f := newFixture(t, Options{})
	a := f.open(1, "ticket:1", 0)
	f.waitStreams(1)
	f.hub.Broadcast("ticket:1", "presence", map[string]any{"users": []string{"Ana"}})
	if fr := a.next(t); fr.id != 0 || fr.name != "presence" || fr.data != `{"users":["Ana"]}` {
		t.Fatalf("got %+v", fr)
	}
}

func TestResume(t *testing.T) {
	f := newFixture(t, Options{Batch: 2}) // several pages of backlog
	var ids []int64
	for i := range 5 {
		ids = append(ids, f.publish("ticket:1", fmt.Sprintf(`{"n":%d}`, i)))
	}
	// The hub has read them all before the client comes back.
	for f.hub.Last() != ids[4] {
		time.Sleep(time.Millisecond)
	}
	c := f.open(1, "ticket:1", ids[1])
	f.waitStreams(1)
	live := f.publish("ticket:1", `{"n":"live"}`)
	for _, want := range append(ids[2:], live) {
		if fr := c.next(t); fr.id != want {
			t.Fatalf("got %+v, want id %d", fr, want)
		}
	}
}

func TestResyncOnExpiredGap(t *testing.T) {
	f := newFixture(t, Options{})
	for range 5 {
		f.publish("ticket:1", `{}`)
	}
	for f.hub.Last() != 5 {
		time.Sleep(time.Millisecond)
	}
	f.log.prune(4) // 1..3 are gone: a client at 2 missed 3
	c := f.open(1, "ticket:1", 2)
	if fr := c.next(t); fr.name != "resync" {
		t.Fatalf("got %+v", fr)
	}
	ok := f.open(2, "ticket:1", 3) // 4 is the next, and it is there
	if fr := ok.next(t); fr.id != 4 {
		t.Fatalf("got %+v", fr)
	}
}

func TestSlowClientDropped(t *testing.T) {
	f := newFixture(t, Options{Buffer: 4})
	f.rds[1] = &reader{user: 1, ended: make(chan struct{}), block: make(chan struct{})}
	slow := f.open(1, "ticket:1", 0)
	fast := f.open(2, "ticket:1", 0)
	f.waitStreams(2)
	// The slow stream is stuck on the first event; its queue holds four
	// more; the sixth drops it. The fast one gets every event meanwhile.
	for i := range 8 {
		id := f.publish("ticket:1", fmt.Sprintf(`{"n":%d}`, i))
		if fr := fast.next(t); fr.id != id {
			t.Fatalf("fast got %+v, want %d", fr, id)
		}
	}
	// Out of the hub at once; its handler ends once its write returns.
	f.waitStreams(1)
	close(f.rds[1].block)
	slow.ended(t)
}

func TestCaps(t *testing.T) {
	f := newFixture(t, Options{MaxPerUser: 2, MaxStreams: 3})
	f.open(1, "user:1", 0)
	f.open(1, "user:1", 0)
	f.waitStreams(2)
	if c := f.open(1, "user:1", 0); c.res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("third stream of a user: %d", c.res.StatusCode)
	}
	f.open(2, "user:2", 0)
	f.waitStreams(3)
	if c := f.open(3, "user:3", 0); c.res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("a stream past the process cap: %d", c.res.StatusCode)
	}
}

func TestHeartbeatAndSessionEnd(t *testing.T) {
	f := newFixture(t, Options{Heartbeat: 20 * time.Millisecond, SessionCheck: time.Nanosecond})
	c := f.open(1, "user:1", 0)
	f.waitStreams(1)
	timeout := time.After(5 * time.Second)
	for got := false; !got; {
		select {
		case fr := <-c.frames:
			got = fr.comment == ": ping"
		case <-timeout:
			t.Fatal("no heartbeat")
		}
	}
	close(f.reader(1).ended) // the session ends
	c.ended(t)
	f.waitStreams(0)
}

func TestCloseEndsStreams(t *testing.T) {
	f := newFixture(t, Options{})
	a := f.open(1, "user:1", 0)
	b := f.open(2, "ticket:9", 0)
	f.waitStreams(2)
	f.hub.Close()
	a.ended(t)
	b.ended(t)
	if c := f.open(3, "user:3", 0); c.res.StatusCode == 200 {
		t.Fatal("a stream opened after Close")
	}
}

func TestWriterSplitsLines(t *testing.T) {
	w := &writer{}
	w.event(7, "comment", []byte("a\nb"))
	if got := string(w.buf); got != "id: 7\nevent: comment\ndata: a\ndata: b\n\n" {
		t.Fatalf("%q", got)
	}
}

// TestAttached runs the stream tests with every stream kept on its
// handler's goroutine (HTTP/2, or a writer that cannot be taken over).
func TestAttached(t *testing.T) {
	for name, fn := range map[string]func(*testing.T){
		"FanOut": TestFanOut, "Broadcast": TestBroadcast, "Resume": TestResume, "Resync": TestResyncOnExpiredGap,
		"SlowClient": TestSlowClientDropped, "Caps": TestCaps, "Heartbeat": TestHeartbeatAndSessionEnd, "Close": TestCloseEndsStreams,
	} {
		t.Run(name, fn)
	}
}
