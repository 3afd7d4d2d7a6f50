// Package sse is the hub behind the live pages: one reader of the event
// log per process fans each new event out to the Server-Sent Events
// streams subscribed to its topics, and each stream asks its Reader, at
// delivery, whether (and what) its user may receive.
package sse

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Errors Serve returns before the stream starts (the caller answers them)
// or when the hub ends it.
var (
	ErrUserLimit = errors.New("sse: too many streams for this user")
	ErrLimit     = errors.New("sse: too many streams")
	ErrSlow      = errors.New("sse: stream dropped: the client reads too slowly")
	ErrClosed    = errors.New("sse: hub closed")
)

// Event is one event as the hub fans it out.
type Event struct {
	ID     int64    // the log's id; 0 for an ephemeral event (presence, typing)
	Name   string   // the SSE event name
	Topics []string // the topics it belongs to
	// Data is what an ephemeral event sends as is; a log event's data
	// comes from the Reader.
	Data []byte
	// Row is the log entry the Reader decides on.
	Row any
}

// Source is the event log.
type Source interface {
	// After returns up to limit events with an id above after, oldest first.
	After(ctx context.Context, after int64, limit int) ([]Event, error)
	// Bounds returns the oldest and newest id in the log (0, 0: empty).
	Bounds(ctx context.Context) (first, last int64, err error)
}

// Reader is the user at the other end of one stream.
type Reader interface {
	// User identifies the reader for the per-user cap.
	User() int64
	// Frame returns the data of e for this reader as they are now, or nil
	// when they may not receive it. An error ends the stream (the client
	// resumes from the last id it got).
	Frame(ctx context.Context, e Event) ([]byte, error)
	// Alive re-checks the session; false ends the stream.
	Alive(ctx context.Context) bool
}

// Options tunes a Hub; zero values take the defaults.
type Options struct {
	Source       Source
	Log          *slog.Logger
	Heartbeat    time.Duration // ": ping" comments; default 20 s
	SessionCheck time.Duration // how often Reader.Alive is asked; default 60 s
	WriteTimeout time.Duration // one write to a client; default 5 s (a client that long behind is dropped)
	Buffer       int           // events queued per stream before it is dropped; default 64
	MaxPerUser   int           // streams per user; default 16
	MaxStreams   int           // streams per process; default 20,000
	Batch        int           // events read from the log at once; default 256
	Retry        time.Duration // the reconnect delay suggested to browsers; default 3 s
	// Workers write to detached streams (HTTP/1.1: the connection is
	// taken over from net/http once the stream is set up, so an idle
	// stream holds no goroutine and no net/http buffers); default 32.
	Workers int
	// Attached keeps every stream on its handler's goroutine (no
	// take-over), as HTTP/2 and test recorders get anyway.
	Attached bool
}

// Hub fans the log out to this process's streams.
type Hub struct {
	o     Options
	log   *slog.Logger
	wake  chan struct{}
	ready chan struct{}
	done  chan struct{}
	close sync.Once

	mu      sync.Mutex
	last    int64 // newest id fanned out
	topics  map[string]map[*stream]struct{}
	perUser map[int64]int
	n       int

	ctx      context.Context      // Run's, for detached streams' readers
	detached map[*stream]struct{} // streams the workers serve
	runq     chan *stream         // detached streams with something to do, each at most once
}

type stream struct {
	user    int64
	topics  []string
	ch      chan *Event // pointers: a queue slot is a word, the event is shared
	queued  int64       // newest log id queued (an event on two of its topics is queued once)
	dropped chan struct{}

	// Detached streams (detached.go): the worker that holds sched owns
	// out, rd's calls and the times.
	rd        Reader
	out       *writer
	sched     atomic.Bool // queued on runq or being run
	tick      atomic.Bool // the sweep asks for a heartbeat or session check
	gone      atomic.Bool
	lastPing  time.Time
	lastCheck time.Time
}

// NewHub returns a hub; Run starts its reader.
func NewHub(o Options) *Hub {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.Heartbeat, 20*time.Second)
	def(&o.SessionCheck, time.Minute)
	def(&o.WriteTimeout, 5*time.Second)
	def(&o.Retry, 3*time.Second)
	defInt := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defInt(&o.Buffer, 64)
	defInt(&o.MaxPerUser, 16)
	defInt(&o.MaxStreams, 20000)
	defInt(&o.Batch, 256)
	defInt(&o.Workers, 32)
	h := &Hub{o: o, log: o.Log, wake: make(chan struct{}, 1), ready: make(chan struct{}), done: make(chan struct{}),
		topics: map[string]map[*stream]struct{}{}, perUser: map[int64]int{},
		detached: map[*stream]struct{}{}, runq: make(chan *stream, o.MaxStreams)}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	return h
}

// Wake tells the reader the log may hold new events (a NOTIFY, a poll
// tick, a local commit). It never blocks.
func (h *Hub) Wake() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// Last is the newest id fanned out: a page rendered now shows everything
// up to it, and its stream resumes after it.
func (h *Hub) Last() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.last
}

// Streams counts the open streams.
func (h *Hub) Streams() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n
}

// Run reads the log from its newest id on and fans each new event out
// until ctx ends or Close. A failed read is retried from the same id, so
// nothing is skipped.
func (h *Hub) Run(ctx context.Context) error {
	backoff := 100 * time.Millisecond
	for {
		_, last, err := h.o.Source.Bounds(ctx)
		if err == nil {
			h.mu.Lock()
			h.last = last
			h.mu.Unlock()
			break
		}
		h.log.Warn("sse: read the event log", "err", err)
		if !h.pause(ctx, &backoff) {
			return nil
		}
	}
	h.mu.Lock()
	h.ctx = ctx
	h.mu.Unlock()
	stopWorkers := h.startWorkers()
	defer stopWorkers()
	// A hub whose reader stopped serves nobody: streams being set up now
	// end instead of detaching to workers that are gone.
	defer h.Close()
	close(h.ready)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-h.done:
			return nil
		case <-h.wake:
		}
		if err := h.drain(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			h.log.Warn("sse: read the event log", "err", err)
			if !h.pause(ctx, &backoff) {
				return nil
			}
			h.Wake()
			continue
		}
		backoff = 100 * time.Millisecond
	}
}

func (h *Hub) pause(ctx context.Context, backoff *time.Duration) bool {
	t := time.NewTimer(*backoff)
	defer t.Stop()
	*backoff = min(*backoff*2, 5*time.Second)
	select {
	case <-ctx.Done():
		return false
	case <-h.done:
		return false
	case <-t.C:
		return true
	}
}

func (h *Hub) drain(ctx context.Context) error {
	for {
		h.mu.Lock()
		after := h.last
		h.mu.Unlock()
		es, err := h.o.Source.After(ctx, after, h.o.Batch)
		if err != nil {
			return err
		}
		for i := range es {
			h.fanout(&es[i])
		}
		if len(es) < h.o.Batch {
			return nil
		}
	}
}

// fanout queues e on every stream of its topics; a stream whose buffer is
// full is dropped rather than allowed to hold the others up.
func (h *Hub) fanout(e *Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if e.ID <= h.last {
		return
	}
	h.last = e.ID
	for _, topic := range e.Topics {
		for s := range h.topics[topic] {
			if s.queued >= e.ID {
				continue
			}
			s.queued = e.ID
			h.send(s, e)
		}
	}
}

// send queues e on s; h.mu is held.
func (h *Hub) send(s *stream, e *Event) {
	select {
	case s.ch <- e:
	default:
		h.removeLocked(s)
		close(s.dropped)
	}
	if s.out != nil && s.out.conn != nil {
		h.schedule(s)
	}
}

// Broadcast sends an ephemeral event (presence, typing) to this process's
// streams of topic. It has no id and is not kept.
func (h *Hub) Broadcast(topic, event string, data any) {
	b, err := marshal(data)
	if err != nil {
		h.log.Warn("sse: broadcast", "topic", topic, "event", event, "err", err)
		return
	}
	e := &Event{Name: event, Topics: []string{topic}, Data: b}
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.topics[topic] {
		h.send(s, e)
	}
}

// Close ends every stream and the reader (at shutdown). Serve refuses new
// streams afterwards.
func (h *Hub) Close() { h.close.Do(func() { close(h.done) }) }

func (h *Hub) add(user int64, topics []string) (*stream, int64, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	select {
	case <-h.done:
		return nil, 0, ErrClosed
	default:
	}
	if h.n >= h.o.MaxStreams {
		return nil, 0, ErrLimit
	}
	if h.perUser[user] >= h.o.MaxPerUser {
		return nil, 0, ErrUserLimit
	}
	s := &stream{user: user, topics: topics, ch: make(chan *Event, h.o.Buffer), dropped: make(chan struct{}), queued: h.last}
	for _, t := range topics {
		m := h.topics[t]
		if m == nil {
			m = map[*stream]struct{}{}
			h.topics[t] = m
		}
		m[s] = struct{}{}
	}
	h.perUser[user]++
	h.n++
	return s, h.last, nil
}

func (h *Hub) remove(s *stream) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.removeLocked(s)
}

func (h *Hub) removeLocked(s *stream) {
	m := h.topics[s.topics[0]]
	if _, ok := m[s]; !ok {
		return // already dropped
	}
	for _, t := range s.topics {
		delete(h.topics[t], s)
		if len(h.topics[t]) == 0 {
			delete(h.topics, t)
		}
	}
	if h.perUser[s.user]--; h.perUser[s.user] <= 0 {
		delete(h.perUser, s.user)
	}
	h.n--
}

// Serve runs one stream on w until the client leaves, the session ends,
// the stream falls behind or the hub closes. topics must have been
// checked by the caller (at least one); lastID > 0 resumes after that
// id (the Last-Event-ID), or sends "resync" when the log no longer holds
// what followed it. Errors before the first byte (ErrUserLimit, ErrLimit,
// ErrClosed) leave w untouched.
func (h *Hub) Serve(w http.ResponseWriter, r *http.Request, rd Reader, topics []string, lastID int64) error {
	ctx := r.Context()
	if len(topics) == 0 {
		return errors.New("sse: a stream needs a topic")
	}
	select {
	case <-h.ready:
	case <-h.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	s, start, err := h.add(rd.User(), topics)
	if err != nil {
		return err
	}
	defer func() {
		if s.out == nil || s.out.conn == nil {
			h.remove(s) // a detached stream is removed when it ends
		}
	}()
	out := &writer{w: w, rc: http.NewResponseController(w), timeout: h.o.WriteTimeout, floor: lastID}
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-cache")
	hd.Set("X-Accel-Buffering", "no")
	hd.Del("Content-Length")
	w.WriteHeader(http.StatusOK)
	out.comment("retry: " + strconv.FormatInt(h.o.Retry.Milliseconds(), 10))
	if lastID > 0 {
		if err := h.backlog(ctx, out, rd, lastID, start); err != nil {
			return err
		}
	}
	if err := out.flush(); err != nil {
		return err
	}
	if !h.o.Attached && r.ProtoMajor == 1 && r.ProtoMinor == 1 {
		if h.detach(s, out, rd) {
			return nil
		}
	}
	tick := time.NewTicker(h.o.Heartbeat)
	defer tick.Stop()
	checked := time.Now()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-h.done:
			return nil
		case <-s.dropped:
			return ErrSlow
		case <-tick.C:
			if time.Since(checked) >= h.o.SessionCheck {
				if !rd.Alive(ctx) {
					return nil
				}
				checked = time.Now()
			}
			out.comment(": ping")
		case e := <-s.ch:
			if err := h.deliver(ctx, out, rd, *e); err != nil {
				return err
			}
			// Whatever else is queued goes in the same flush.
			for more := true; more; {
				select {
				case e := <-s.ch:
					if err := h.deliver(ctx, out, rd, *e); err != nil {
						return err
					}
				default:
					more = false
				}
			}
		}
		if err := out.flush(); err != nil {
			return err
		}
	}
}

// backlog sends the log's events after lastID up to start (from start on
// they arrive through the stream's queue).
func (h *Hub) backlog(ctx context.Context, out *writer, rd Reader, lastID, start int64) error {
	first, last, err := h.o.Source.Bounds(ctx)
	if err != nil {
		return err
	}
	// An id above the log's newest is from another database; one below
	// its oldest (less the one before it) was pruned meanwhile. An id this
	// hub has not fanned out yet but the log holds is fine: the queue
	// brings it, and the floor skips it.
	if lastID > last || first == 0 || lastID < first-1 {
		out.event(0, "resync", []byte(`{"resync":true}`))
		return nil
	}
	for after := lastID; after < start; {
		es, err := h.o.Source.After(ctx, after, h.o.Batch)
		if err != nil {
			return err
		}
		if len(es) == 0 {
			return nil
		}
		for _, e := range es {
			if e.ID > start {
				return nil
			}
			if err := h.deliver(ctx, out, rd, e); err != nil {
				return err
			}
			after = e.ID
		}
		if err := out.flush(); err != nil {
			return err
		}
	}
	return nil
}

func (h *Hub) deliver(ctx context.Context, out *writer, rd Reader, e Event) error {
	if e.ID == 0 {
		out.event(0, e.Name, e.Data)
		return nil
	}
	if e.ID <= out.floor {
		return nil // sent already (the backlog and the queue overlap)
	}
	out.floor = e.ID
	data, err := rd.Frame(ctx, e)
	if err != nil {
		return fmt.Errorf("sse: event %d: %w", e.ID, err)
	}
	if data != nil {
		out.event(e.ID, e.Name, data)
	}
	return nil
}
