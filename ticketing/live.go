package ticketing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
)

// Live event names (the SSE "event:" field).
const (
	LiveTicket       = "ticket"
	LiveComment      = "comment"
	LiveNotification = "notification"
)

// Live topics: a page subscribes to some, the hub matches them.
const (
	TopicQueue = "queue" // every ticket's changes (the queue and the requester's list)
	topicUser  = "user:"
)

// TicketTopic is the topic of one ticket's page, TicketChatTopic of its chat.
func TicketTopic(id int64) string     { return "ticket:" + strconv.FormatInt(id, 10) }
func TicketChatTopic(id int64) string { return "chat:" + strconv.FormatInt(id, 10) }

// UserTopic is the topic of one user's notifications.
func UserTopic(id int64) string { return topicUser + strconv.FormatInt(id, 10) }

// LiveTopics are the topics a log entry belongs to.
func LiveTopics(e *store.Event) []string {
	if e.UserID != nil {
		return []string{UserTopic(*e.UserID)}
	}
	if e.TicketID != nil {
		return []string{TicketTopic(*e.TicketID), TicketChatTopic(*e.TicketID), TopicQueue}
	}
	return nil
}

// LivePayload is the JSON a live event carries (the wire of the live
// pages). It holds only what every allowed reader may see: never the
// close evaluation, and an internal comment's row is marked internal, so
// only staff receive it.
type LivePayload struct {
	ID           int64            `json:"id,omitempty"`
	Event        string           `json:"event,omitempty"` // in the poll's answer only
	Kind         string           `json:"kind"`
	Topic        string           `json:"topic"`
	At           time.Time        `json:"at"`
	Ticket       *LiveTicketInfo  `json:"ticket,omitempty"`
	Comment      *LiveCommentInfo `json:"comment,omitempty"`
	Notification *LiveNoticeInfo  `json:"notification,omitempty"`
	Presence     json.RawMessage  `json:"presence,omitempty"`
	Typing       json.RawMessage  `json:"typing,omitempty"`
}

// LiveTicketInfo is the part of a ticket a live event shows.
type LiveTicketInfo struct {
	ID       int64  `json:"id"`
	Number   int64  `json:"number"`
	Subject  string `json:"subject"`
	Status   string `json:"status"`
	Priority string `json:"priority,omitempty"`
	Assignee string `json:"assignee,omitempty"`
}

// LiveCommentInfo is a new comment, as plain text.
type LiveCommentInfo struct {
	ID          int64            `json:"id"`
	Author      string           `json:"author"`
	Internal    bool             `json:"internal"`
	Source      string           `json:"source"`
	Text        string           `json:"text"`
	Attachments []LiveAttachment `json:"attachments,omitempty"`
}

// LiveAttachment names a file of a comment.
type LiveAttachment struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// LiveNoticeInfo is a notification; Text and Unread are filled in at
// delivery (the reader's language, the count now).
type LiveNoticeInfo struct {
	ID     int64  `json:"id"`
	Kind   string `json:"kind"`
	Text   string `json:"text,omitempty"`
	Link   string `json:"link"`
	Unread *int   `json:"unread,omitempty"`
}

// TicketLink is the portal path of a ticket.
func TicketLink(number int64) string { return "/tickets/" + strconv.FormatInt(number, 10) }

// recordLive writes events to the event log, and the notification
// centre's rows with their events, inside the change's transaction. The
// rows come first, the log after them all: on PostgreSQL the log's
// append takes a lock every writer shares until commit (store.AppendEvents),
// and a notification's foreign keys wait for its user's and ticket's
// rows. Taken in the other order, a writer holding the log would wait for
// a user's row (a sign-in holds it) while the holder of that row might
// wait for the log: PostgreSQL aborts one of them (40P01). After the
// log's lock nothing is written but the log.
func (tx *Tx) recordLive(ctx context.Context, events []Event) error {
	var log []*store.Event
	for _, ev := range events {
		es, err := tx.liveEntries(ctx, ev)
		if err != nil {
			return err
		}
		log = append(log, es...)
	}
	return tx.q.AppendEvents(ctx, log)
}

// liveEntries are ev's log entries, in order: the ticket's, then one per
// notified user (whose notification-centre row it writes).
func (tx *Tx) liveEntries(ctx context.Context, ev Event) ([]*store.Event, error) {
	if ev.Ticket == nil || ev.Kind == EventAccount {
		return nil, nil
	}
	t := ev.Ticket
	at := tx.s.clock()
	p := LivePayload{Kind: string(ev.Kind), Topic: TicketTopic(t.ID), At: at, Ticket: liveTicket(t, ev)}
	name := LiveTicket
	internal := ev.Kind == EventSLAWarning || ev.Kind == EventSLABreach // the requester is not told we are late
	if ev.Comment != nil && ev.Kind == EventCommented {
		name = LiveComment
		internal = ev.Comment.Internal
		c, err := tx.liveComment(ctx, ev)
		if err != nil {
			return nil, err
		}
		p.Comment = c
	}
	e, err := liveEntry(name, string(ev.Kind), t, nil, internal, p)
	if err != nil {
		return nil, err
	}
	notices, err := tx.notify(ctx, ev, p, internal)
	if err != nil {
		return nil, err
	}
	return append([]*store.Event{e}, notices...), nil
}

// liveEntry is a log entry about ticket t (for user alone when set).
func liveEntry(name, kind string, t *store.Ticket, user *int64, internal bool, p LivePayload) (*store.Event, error) {
	data, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("ticketing: live event: %w", err)
	}
	tid, cid := t.ID, t.CompanyID
	return &store.Event{Name: name, Kind: kind, TicketID: &tid, CompanyID: &cid, UserID: user,
		Internal: internal, Data: string(data), CreatedAt: p.At}, nil
}

func liveTicket(t *store.Ticket, ev Event) *LiveTicketInfo {
	lt := &LiveTicketInfo{ID: t.ID, Number: t.Number, Subject: t.Subject, Status: t.Status, Priority: t.Priority}
	switch {
	case ev.Assignee != nil:
		lt.Assignee = displayName(ev.Assignee)
	case t.Assignee != nil && t.AssigneeID != nil && t.Assignee.ID == *t.AssigneeID:
		lt.Assignee = displayName(t.Assignee)
	}
	return lt
}

func displayName(u *store.User) string {
	if u == nil {
		return ""
	}
	if u.Name != "" {
		return u.Name
	}
	return u.Email
}

func (tx *Tx) liveComment(ctx context.Context, ev Event) (*LiveCommentInfo, error) {
	c := ev.Comment
	author := ev.Actor
	if c.Author != nil {
		author = c.Author
	}
	lc := &LiveCommentInfo{ID: c.ID, Author: displayName(author), Internal: c.Internal, Source: c.Source, Text: c.BodyText}
	files, err := tx.q.Attachments(ctx, ev.Ticket.ID, c.Internal)
	if err != nil {
		return nil, err
	}
	for _, a := range files {
		if a.CommentID != nil && *a.CommentID == c.ID && !a.Inline {
			lc.Attachments = append(lc.Attachments, LiveAttachment{ID: a.ID, Name: a.Filename})
		}
	}
	return lc, nil
}

// LiveGrantTTL is how long a stream trusts a decision about one ticket
// before asking the policy again (a removed participant, a company that
// stops sharing: they see no more after at most this long).
const LiveGrantTTL = 10 * time.Second

// LiveReader decides, at delivery, which log entries one user may
// receive, by the policy for the user as they are now. Decisions are
// cached per ticket for a short while; a LiveReader belongs to one
// stream.
type LiveReader struct {
	s   *Service
	ttl time.Duration

	mu    sync.Mutex
	user  *store.User
	cache map[int64]liveGrant
}

type liveGrant struct {
	view, internal bool
	until          time.Time
}

// LiveReader returns the reader for u's stream; ttl is the cache's
// lifetime (0: LiveGrantTTL, negative: ask every time).
func (s *Service) LiveReader(u *store.User, ttl time.Duration) *LiveReader {
	if ttl == 0 {
		ttl = LiveGrantTTL
	}
	return &LiveReader{s: s, user: u, ttl: ttl, cache: map[int64]liveGrant{}}
}

// User is the reader.
func (r *LiveReader) User() *store.User {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.user
}

// SetUser replaces the reader by a fresh load of them (after a session
// re-check) and forgets every cached decision.
func (r *LiveReader) SetUser(u *store.User) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.user = u
	clear(r.cache)
}

// Subscribe checks that the reader may follow topic: the queue is for
// staff, a ticket or its chat for those who may view it, and "user" is
// their own notifications. It returns the topic as the hub knows it.
func (r *LiveReader) Subscribe(ctx context.Context, topic string) (string, error) {
	u := r.User()
	switch {
	case topic == "user":
		return UserTopic(u.ID), nil
	case topic == TopicQueue:
		if !u.IsStaff() {
			return "", notAllowedf("%s may not follow the queue", u.Email)
		}
		return topic, nil
	}
	kind, idText, ok := strings.Cut(topic, ":")
	id, err := strconv.ParseInt(idText, 10, 64)
	if !ok || err != nil || id <= 0 || (kind != "ticket" && kind != "chat") {
		return "", invalidf("unknown topic %q", topic)
	}
	g, err := r.grant(ctx, id)
	if err != nil {
		return "", err
	}
	if !g.view {
		return "", notAllowedf("%s may not follow ticket id %d", u.Email, id)
	}
	return topic, nil
}

// Allowed reports whether the reader may receive e now.
func (r *LiveReader) Allowed(ctx context.Context, e *store.Event) (bool, error) {
	u := r.User()
	if u == nil || u.Disabled {
		return false, nil
	}
	if e.UserID != nil && *e.UserID != u.ID {
		return false, nil
	}
	if e.TicketID == nil {
		return e.UserID != nil, nil
	}
	g, err := r.grant(ctx, *e.TicketID)
	if err != nil {
		return false, err
	}
	return g.view && (!e.Internal || g.internal), nil
}

func (r *LiveReader) grant(ctx context.Context, ticketID int64) (liveGrant, error) {
	u := r.User()
	// Staff whose role sees every ticket and its notes, whatever their
	// relation to it, need no lookup (the policy table says so).
	if u.IsStaff() && Allowed(u.Role, u.Disabled, ActView, Relation{}) && Allowed(u.Role, u.Disabled, ActViewInternal, Relation{}) {
		return liveGrant{view: true, internal: true}, nil
	}
	now := time.Now()
	r.mu.Lock()
	g, ok := r.cache[ticketID]
	r.mu.Unlock()
	if ok && now.Before(g.until) {
		return g, nil
	}
	q := r.s.st.R()
	// Any company's ticket: the policy decides (a client Cc'd from
	// another company follows its public conversation).
	t, err := q.Ticket(ctx, store.AllCompanies(), ticketID, false)
	if errors.Is(err, store.ErrNotFound) {
		g = liveGrant{}
	} else if err != nil {
		return liveGrant{}, err
	} else {
		p, err := participationOf(ctx, q, u, t)
		if err != nil {
			return liveGrant{}, err
		}
		g = liveGrant{view: can(u, t, p, ActView) == nil, internal: can(u, t, p, ActViewInternal) == nil}
	}
	if r.ttl > 0 {
		g.until = now.Add(r.ttl)
		r.mu.Lock()
		r.cache[ticketID] = g
		r.mu.Unlock()
	}
	return g, nil
}
