package web

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Presence: who is viewing or replying on a ticket, and who is typing in
// its chat. It is short-lived state kept in memory by each process; a
// heartbeat received here is applied at once and published on the
// database's presence bus (NOTIFY sd_presence on PostgreSQL), where the
// other processes apply it too and tell their own streams. Nothing is
// written to the event log.

// presenceTTL is how long an entry lives without a heartbeat (live.js
// beats every 20 s).
const presenceTTL = 30 * time.Second

// Presence states a page reports.
const (
	stateViewing  = "viewing"
	stateReplying = "replying"
)

// presenceBus carries presence between processes (the store).
type presenceBus interface {
	PublishPresence(ctx context.Context, payload string) error
	WatchPresence(ctx context.Context, onError func(error), deliver func(payload string)) error
}

// broadcaster sends an ephemeral event to the local streams of a topic
// (the sse hub).
type broadcaster interface {
	Broadcast(topic, event string, data any)
}

// presenceMsg is one message on the bus.
type presenceMsg struct {
	Origin string `json:"o"`             // the process that received it first
	Kind   string `json:"k"`             // beat, leave or typing
	Ticket int64  `json:"t"`             // the ticket's id
	User   int64  `json:"u"`             // who
	Name   string `json:"n,omitempty"`   // their name as shown
	Tab    string `json:"tab,omitempty"` // which of their tabs
	State  string `json:"s,omitempty"`   // viewing or replying (beat)
}

// Kinds of presenceMsg.
const (
	presenceBeat   = "beat"
	presenceLeave  = "leave"
	presenceTyping = "typing"
)

// presenceUser is one person on a ticket, as pages receive it.
type presenceUser struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	State string `json:"state"`
}

// livePresence is the data of a presence event (the wire of issue 11).
type livePresence struct {
	Topic    string `json:"topic"`
	Presence struct {
		Users []presenceUser `json:"users"`
	} `json:"presence"`
}

// liveTyping is the data of a typing event.
type liveTyping struct {
	Topic  string `json:"topic"`
	Typing struct {
		User string `json:"user"`
		ID   int64  `json:"id"`
	} `json:"typing"`
}

type presenceKey struct {
	user int64
	tab  string
}

type presenceEntry struct {
	name, state string
	until       time.Time
}

// ticketPresence is who is on one ticket, with the timer that removes
// the next entry to expire.
type ticketPresence struct {
	entries map[presenceKey]presenceEntry
	timer   *time.Timer
}

// presence is the process's presence table.
type presence struct {
	origin string
	bus    presenceBus
	hub    broadcaster
	now    func() time.Time
	log    *slog.Logger
	ttl    time.Duration

	mu      sync.Mutex
	tickets map[int64]*ticketPresence
	closed  bool
}

func newPresence(bus presenceBus, hub broadcaster, now func() time.Time, log *slog.Logger) *presence {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (Go 1.24+)
	return &presence{origin: hex.EncodeToString(b[:]), bus: bus, hub: hub, now: now, log: log, ttl: presenceTTL,
		tickets: map[int64]*ticketPresence{}}
}

// run applies the other processes' messages until ctx ends, listening
// again after an error.
func (p *presence) run(ctx context.Context) {
	onErr := func(err error) { p.log.Warn("presence: bus", "err", err) }
	for ctx.Err() == nil {
		if err := p.bus.WatchPresence(ctx, onErr, p.receive); err != nil {
			onErr(err)
			t := time.NewTimer(time.Second)
			select {
			case <-ctx.Done():
			case <-t.C:
			}
			t.Stop()
		}
	}
}

// close stops the expiry timers; later messages are ignored.
func (p *presence) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for id, tp := range p.tickets {
		tp.timer.Stop()
		delete(p.tickets, id)
	}
}

// local applies a message of this process's own page and publishes it.
func (p *presence) local(ctx context.Context, m presenceMsg) {
	m.Origin = p.origin
	p.apply(m)
	b, err := json.Marshal(m)
	if err == nil {
		err = p.bus.PublishPresence(ctx, string(b))
	}
	if err != nil {
		p.log.Warn("presence: publish", "ticket", m.Ticket, "err", err)
	}
}

// receive applies a message from the bus (skipping this process's own).
func (p *presence) receive(payload string) {
	var m presenceMsg
	if err := json.Unmarshal([]byte(payload), &m); err != nil {
		p.log.Warn("presence: bad message on the bus", "err", err)
		return
	}
	if m.Origin == p.origin || m.Ticket <= 0 || m.User <= 0 {
		return
	}
	p.apply(m)
}

// apply changes the table and tells the local streams when what they
// show changed.
func (p *presence) apply(m presenceMsg) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	if m.Kind == presenceTyping {
		var d liveTyping
		d.Topic = "chat:" + strconv.FormatInt(m.Ticket, 10)
		d.Typing.User, d.Typing.ID = m.Name, m.User
		p.hub.Broadcast(d.Topic, "typing", d)
		return
	}
	tp := p.tickets[m.Ticket]
	if tp == nil {
		if m.Kind != presenceBeat {
			return
		}
		tp = &ticketPresence{entries: map[presenceKey]presenceEntry{}}
		id := m.Ticket
		tp.timer = time.AfterFunc(time.Hour, func() { p.expire(id) })
		p.tickets[m.Ticket] = tp
	}
	before := tp.users()
	k := presenceKey{m.User, m.Tab}
	switch m.Kind {
	case presenceBeat:
		tp.entries[k] = presenceEntry{name: m.Name, state: m.State, until: p.now().Add(p.ttl)}
	case presenceLeave:
		delete(tp.entries, k)
	}
	p.settle(m.Ticket, tp, before)
}

// expire is a ticket's timer: it drops the entries whose time is up.
func (p *presence) expire(ticket int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	tp := p.tickets[ticket]
	if p.closed || tp == nil {
		return
	}
	p.settle(ticket, tp, tp.users())
}

// settle drops expired entries, broadcasts when the list differs from
// before and sets the timer for the next expiry. p.mu is held.
func (p *presence) settle(ticket int64, tp *ticketPresence, before []presenceUser) {
	now := p.now()
	next := time.Time{}
	for k, e := range tp.entries {
		if !e.until.After(now) {
			delete(tp.entries, k)
			continue
		}
		if next.IsZero() || e.until.Before(next) {
			next = e.until
		}
	}
	after := tp.users()
	if !slices.Equal(before, after) {
		var d livePresence
		d.Presence.Users = after
		for _, topic := range []string{"ticket:", "chat:"} {
			d.Topic = topic + strconv.FormatInt(ticket, 10)
			p.hub.Broadcast(d.Topic, "presence", d)
		}
	}
	if len(tp.entries) == 0 {
		tp.timer.Stop()
		delete(p.tickets, ticket)
		return
	}
	tp.timer.Reset(next.Sub(now))
}

// users lists the ticket's people once each, replying before viewing,
// then by name.
func (tp *ticketPresence) users() []presenceUser {
	by := map[int64]presenceUser{}
	for k, e := range tp.entries {
		if u, ok := by[k.user]; ok && (u.State == stateReplying || e.state != stateReplying) {
			continue // one tab replying is enough
		}
		by[k.user] = presenceUser{ID: k.user, Name: e.name, State: e.state}
	}
	out := make([]presenceUser, 0, len(by))
	for _, u := range by {
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b presenceUser) int {
		if a.State != b.State {
			return cmp.Compare(a.State, b.State) // replying before viewing
		}
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// current is who is on ticket now.
func (p *presence) current(ticket int64) []presenceUser {
	p.mu.Lock()
	defer p.mu.Unlock()
	tp := p.tickets[ticket]
	if tp == nil {
		return []presenceUser{}
	}
	now := p.now()
	var live ticketPresence
	live.entries = map[presenceKey]presenceEntry{}
	for k, e := range tp.entries {
		if e.until.After(now) {
			live.entries[k] = e
		}
	}
	return live.users()
}

// RunPresence applies the presence messages of the other processes on
// the database (PostgreSQL's sd_presence channel) until ctx ends, then
// stops the expiry timers. On SQLite, with one process, it only waits.
func (s *Server) RunPresence(ctx context.Context) error {
	s.presence.run(ctx)
	s.presence.close()
	return nil
}
