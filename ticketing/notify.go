package ticketing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jcservicedesk/servicedesk/store"
)

// Notice kinds: what a recipient is told. They name the mail templates.
const (
	NoticeAck              = "created"    // acknowledgement to the requester of a new ticket
	NoticeNewTicket        = "new_ticket" // to staff / notify_to
	NoticeCommented        = "commented"  // a public comment
	NoticeInternal         = "internal_note"
	NoticeStatusChanged    = "status_changed"
	NoticeAssigned         = "assigned"
	NoticeResolved         = "resolved"
	NoticeClosed           = "closed" // with the rating link for the requester
	NoticeReopened         = "reopened"
	NoticeParticipantAdded = "participant_added"
	NoticeSLAWarning       = "sla_warning" // to the assignee: a target is near
	NoticeSLABreach        = "sla_breach"  // to the assignee and supervisors: a target passed
)

// NoticeKinds lists every kind of notice a user can turn off or on.
var NoticeKinds = []string{NoticeAck, NoticeNewTicket, NoticeCommented, NoticeInternal, NoticeStatusChanged,
	NoticeAssigned, NoticeResolved, NoticeClosed, NoticeReopened, NoticeParticipantAdded, NoticeSLAWarning, NoticeSLABreach}

// SetNoticePrefs turns kinds of notice on or off for u.
func SetNoticePrefs(u *store.User, on, off []string) error {
	prefs := map[string]bool{}
	if u.NotifyPrefs != "" {
		_ = json.Unmarshal([]byte(u.NotifyPrefs), &prefs)
	}
	for _, set := range []struct {
		kinds []string
		val   bool
	}{{on, true}, {off, false}} {
		for _, k := range set.kinds {
			if !slices.Contains(NoticeKinds, k) {
				return invalidf("unknown notice kind %q (want one of %s)", k, strings.Join(NoticeKinds, ", "))
			}
			if set.val {
				delete(prefs, k) // on is the default
			} else {
				prefs[k] = false
			}
		}
	}
	b, err := json.Marshal(prefs)
	if err != nil {
		return err
	}
	u.NotifyPrefs = string(b)
	return nil
}

// Notice is one person to tell about an event.
type Notice struct {
	Kind    string
	User    *store.User // nil for a bare address (notify_to)
	Address string
	Rating  bool // include the rating link (the requester of a closed ticket)
	// RatingToken is the token of that link (/tickets/rate/<token>).
	RatingToken string
}

// NotifyConfig is what the rules need of the configuration.
type NotifyConfig struct {
	NotifyTo []string // addresses told about every new ticket
}

// Notices decides who is told about ev, in one place:
//   - never the author of the change (the acknowledgement of a new ticket
//     to its requester is an automatic reply, not a notification);
//   - never anyone about changes caused by automated mail;
//   - internal notes only to staff;
//   - never a disabled user, an address known to bounce, or someone who
//     turned that kind of notice off.
func (tx *Tx) Notices(ctx context.Context, ev Event, cfg NotifyConfig) ([]Notice, error) {
	if ev.Automated || ev.Ticket == nil {
		return nil, nil
	}
	switch ev.Kind {
	case EventStatusChanged, EventReopened:
		if ev.Comment != nil {
			// One change, two events: the comment that came with it tells
			// people. Decided before loading anyone, so the second event
			// costs nothing.
			return nil, nil
		}
	}
	q := tx.q
	t := ev.Ticket
	// Load whole users: a ticket's joined users carry only a few columns.
	requester, err := q.User(ctx, store.AllCompanies(), t.RequesterID)
	if err != nil {
		return nil, err
	}
	var assignee *store.User
	if t.AssigneeID != nil {
		if assignee, err = q.User(ctx, store.AllCompanies(), *t.AssigneeID); err != nil {
			return nil, err
		}
	}
	participants, err := q.Participants(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	// Someone of another company who answered the thread stays on it
	// (a Cc participant); looked up only when there is such a follower.
	var cc map[int64]bool
	for _, u := range participants {
		if !u.IsStaff() && u.CompanyIDValue() != t.CompanyID {
			if cc, err = q.CcParticipants(ctx, t.ID); err != nil {
				return nil, err
			}
			break
		}
	}
	var out []Notice
	seen := map[string]bool{}
	add := func(kind string, u *store.User, rating bool) {
		if u == nil || u.Disabled || u.Email == "" || seen[u.Email] {
			return
		}
		if ev.Actor != nil && u.ID == ev.Actor.ID && u.ID != 0 && kind != NoticeAck {
			return
		}
		seen[u.Email] = true
		n := Notice{Kind: kind, User: u, Address: u.Email, Rating: rating}
		if rating {
			n.RatingToken = tx.s.RatingToken(t)
		}
		out = append(out, n)
	}
	followers := func(kind string, staffOnly bool) {
		for _, u := range append([]*store.User{requester}, participants...) {
			if staffOnly && !u.IsStaff() {
				continue
			}
			// A reply whose recipients were picked reaches only those
			// outside staff.
			if r := ev.Recipients; r != nil && !u.IsStaff() && !r.chosen(u.Email) {
				continue
			}
			// A client who moved to another company no longer follows;
			// a Cc participant never was of it.
			if !u.IsStaff() && u.ID != requester.ID && u.CompanyIDValue() != t.CompanyID && !cc[u.ID] {
				continue
			}
			add(kind, u, false)
		}
		add(kind, assignee, false)
	}
	switch ev.Kind {
	case EventCreated:
		add(NoticeAck, requester, false)
		for _, a := range cfg.NotifyTo {
			a = store.NormalizeEmail(a)
			if a != "" && !seen[a] {
				seen[a] = true
				out = append(out, Notice{Kind: NoticeNewTicket, Address: a})
			}
		}
		followers(NoticeNewTicket, true)
	case EventCommented:
		if ev.Comment != nil && ev.Comment.Internal {
			followers(NoticeInternal, true)
		} else {
			followers(NoticeCommented, false)
			if r := ev.Recipients; r != nil {
				for _, a := range r.Cc { // typed for this reply: told this once
					if seen[a] {
						continue
					}
					seen[a] = true
					n := Notice{Kind: NoticeCommented, Address: a}
					// An account's address carries its user: outbound
					// tells staff from outsiders by it (its mail budget).
					u, err := q.UserByEmail(ctx, store.AllCompanies(), a)
					switch {
					case err == nil:
						n.User = u
					case !errors.Is(err, store.ErrNotFound):
						return nil, fmt.Errorf("notices: Cc %s: %w", a, err)
					}
					out = append(out, n)
				}
			}
		}
	case EventAssigned:
		if ev.Assignee != nil {
			u, err := q.User(ctx, store.AllCompanies(), ev.Assignee.ID)
			if err != nil {
				return nil, err
			}
			add(NoticeAssigned, u, false)
		}
	case EventStatusChanged:
		followers(NoticeStatusChanged, false)
	case EventResolved:
		followers(NoticeResolved, false)
	case EventClosed:
		add(NoticeClosed, requester, true)
		followers(NoticeClosed, false)
	case EventReopened:
		followers(NoticeReopened, false)
	case EventSLAWarning, EventSLABreach:
		// Staff only: the requester is not told that we are late.
		kind := NoticeSLAWarning
		if ev.Kind == EventSLABreach {
			kind = NoticeSLABreach
		}
		add(kind, assignee, false)
		if ev.Kind == EventSLABreach || assignee == nil {
			more, err := tx.slaEscalation(ctx, t, ev.Kind == EventSLABreach)
			if err != nil {
				return nil, err
			}
			for _, u := range more {
				add(kind, u, false)
			}
		}
	case EventParticipantAdded:
		if ev.User != nil {
			u, err := q.User(ctx, store.AllCompanies(), ev.User.ID)
			if err != nil {
				return nil, err
			}
			add(NoticeParticipantAdded, u, false)
		}
	}
	// Drop addresses that bounce (one query for all) and notices their
	// owner turned off.
	if len(out) == 0 {
		return nil, nil
	}
	addrs := make([]string, len(out))
	for i, n := range out {
		addrs[i] = n.Address
	}
	bouncing, err := q.BouncingAmong(ctx, addrs)
	if err != nil {
		return nil, err
	}
	kept := out[:0]
	for _, n := range out {
		if bouncing[store.NormalizeEmail(n.Address)] {
			continue
		}
		if n.User != nil && !WantsNotice(n.User, n.Kind) {
			continue
		}
		kept = append(kept, n)
	}
	return kept, nil
}

// WantsNotice reads a user's preference for a kind of notice (on unless
// turned off).
func WantsNotice(u *store.User, kind string) bool {
	if u.NotifyPrefs == "" || u.NotifyPrefs == "{}" {
		return true
	}
	var prefs map[string]bool
	if err := json.Unmarshal([]byte(u.NotifyPrefs), &prefs); err != nil {
		return true
	}
	on, set := prefs[kind]
	return !set || on
}
