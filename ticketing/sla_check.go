package ticketing

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
)

// SLA events: a ticket reached the warning share of a target, or its due
// time.
const (
	EventSLAWarning EventKind = "sla_warning"
	EventSLABreach  EventKind = "sla_breach"
)

// SLAHit is one warning or breach that a check recorded (or, in a dry
// run, would record).
type SLAHit struct {
	Ticket int64     `json:"ticket"`
	Kind   string    `json:"kind"`
	DueAt  time.Time `json:"due_at"`
}

// SLACheckReport says what a check did.
type SLACheckReport struct {
	DryRun   bool     `json:"dry_run"`
	Checked  int      `json:"checked"`
	Warnings int      `json:"warnings"`
	Breaches int      `json:"breaches"`
	Hits     []SLAHit `json:"hits"`
}

// SLACheckOptions tune a check.
type SLACheckOptions struct {
	DryRun    bool
	BatchSize int // tickets per transaction (default 500)
}

// slaLease names the lease that keeps checks one at a time, wherever
// they run (cron on two machines, serve's scheduler, an admin).
const slaLease = "sla_check"

// ErrJobRunning says another run of a job holds its lease.
var ErrJobRunning = errors.New("another run is in progress")

// CheckSLA records every warning and breach that has come due, each once:
// the unique key of sla_events makes a second run (or two at once) record
// nothing twice, and the lease keeps runs one at a time. Warnings tell the
// assignee; breaches tell the assignee and supervisors (and may move the
// ticket to the plan's queue), through the outbox of the same transaction.
func (s *Service) CheckSLA(ctx context.Context, actor *store.User, o SLACheckOptions) (*SLACheckReport, error) {
	if err := requireMailAdmin(actor, "run the SLA check"); err != nil {
		return nil, err
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 500
	}
	rep := &SLACheckReport{DryRun: o.DryRun, Hits: []SLAHit{}}
	holder := leaseHolder()
	const ttl = 5 * time.Minute
	if !o.DryRun {
		if err := s.st.AcquireLease(ctx, slaLease, holder, ttl); err != nil {
			if errors.Is(err, store.ErrLeaseHeld) {
				return nil, fmt.Errorf("sla check: %w", ErrJobRunning)
			}
			return nil, err
		}
		defer func() { _ = s.st.ReleaseLease(context.WithoutCancel(ctx), slaLease, holder) }()
	}
	now := s.clock()
	var after int64
	for {
		ids, err := s.st.R().SLACandidates(ctx, now, after, o.BatchSize)
		if err != nil {
			return nil, err
		}
		if len(ids) == 0 {
			break
		}
		after = ids[len(ids)-1]
		rep.Checked += len(ids)
		// Read the batch unlocked and lock only the tickets with something
		// to record: most candidates were warned already and wait for
		// their due time.
		ts, err := s.st.R().TicketsByID(ctx, ids)
		if err != nil {
			return nil, err
		}
		var due []int64
		for _, t := range ts {
			if hits := slaDue(t, now); len(hits) > 0 {
				if o.DryRun {
					rep.add(hits)
				}
				due = append(due, t.ID)
			}
		}
		if o.DryRun {
			continue
		}
		if err := s.st.RenewLease(ctx, slaLease, holder, ttl); err != nil {
			return nil, fmt.Errorf("sla check: %w", err)
		}
		if len(due) == 0 {
			continue
		}
		err = s.TxWith(ctx, func(tx *Tx) error {
			for _, id := range due {
				t, err := tx.TicketByID(ctx, id)
				if err != nil {
					return err
				}
				hits, err := tx.recordSLA(ctx, actor, t, now)
				if err != nil {
					return err
				}
				rep.add(hits)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return rep, nil
}

func (r *SLACheckReport) add(hits []SLAHit) {
	for _, h := range hits {
		switch h.Kind {
		case store.SLAFirstResponseWarning, store.SLAResolutionWarning:
			r.Warnings++
		default:
			r.Breaches++
		}
		r.Hits = append(r.Hits, h)
	}
}

// slaTarget is one of a ticket's two targets, as pointers into it.
type slaTarget struct {
	due, warn          *time.Time
	warned, breached   **time.Time
	warnKind, breachKd string
	met                bool
}

func slaTargets(t *store.Ticket) [2]slaTarget {
	return [2]slaTarget{
		{t.FirstResponseDue, t.FirstResponseWarnAt, &t.FirstResponseWarnedAt, &t.FirstResponseBreachedAt,
			// A ticket resolved or closed unanswered is done: nothing is due.
			store.SLAFirstResponseWarning, store.SLAFirstResponseBreach, t.FirstResponseAt != nil || t.ResolvedAt != nil || t.ClosedAt != nil},
		{t.ResolutionDue, t.ResolutionWarnAt, &t.ResolutionWarnedAt, &t.ResolutionBreachedAt,
			store.SLAResolutionWarning, store.SLAResolutionBreach, t.ResolvedAt != nil || t.ClosedAt != nil},
	}
}

// slaDue lists what has come due on t at now and is not recorded yet.
func slaDue(t *store.Ticket, now time.Time) []SLAHit {
	if t.SLAPausedAt != nil {
		return nil
	}
	var hits []SLAHit
	for _, g := range slaTargets(t) {
		switch {
		case g.met || g.due == nil:
		case !g.due.After(now) && *g.breached == nil:
			hits = append(hits, SLAHit{Ticket: t.Number, Kind: g.breachKd, DueAt: *g.due})
		case g.warn != nil && !g.warn.After(now) && *g.warned == nil && *g.breached == nil:
			hits = append(hits, SLAHit{Ticket: t.Number, Kind: g.warnKind, DueAt: *g.due})
		}
	}
	return hits
}

// recordSLA records what has come due on t, once each.
func (tx *Tx) recordSLA(ctx context.Context, actor *store.User, t *store.Ticket, now time.Time) ([]SLAHit, error) {
	hits := slaDue(t, now)
	if len(hits) == 0 {
		return nil, nil
	}
	var plan *store.SLAPlan
	if t.SLAPlanID != nil {
		p, err := tx.q.SLAPlan(ctx, *t.SLAPlanID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		plan = p
	}
	var recorded []SLAHit
	for _, g := range slaTargets(t) {
		for _, h := range hits {
			if h.Kind != g.warnKind && h.Kind != g.breachKd {
				continue
			}
			at := now
			breach := h.Kind == g.breachKd
			if breach {
				*g.breached = &at
				if *g.warned == nil {
					*g.warned = &at // a breach found first needs no later warning
				}
				if t.SLABreachedAt == nil {
					t.SLABreachedAt = &at
				}
				if plan != nil && plan.BreachQueueID != nil {
					q := *plan.BreachQueueID
					t.QueueID = &q
				}
			} else {
				*g.warned = &at
			}
			fresh, err := tx.q.RecordSLAEvent(ctx, &store.SLAEvent{TicketID: t.ID, Kind: h.Kind, DueAt: h.DueAt})
			if err != nil {
				return nil, err
			}
			if !fresh {
				continue // recorded by an earlier run: only the flag was missing
			}
			recorded = append(recorded, h)
			if err := tx.q.Audit(ctx, actor, t.CompanyID, "ticket", t.ID, "sla_"+h.Kind, nil,
				map[string]any{"kind": h.Kind, "due_at": h.DueAt}); err != nil {
				return nil, err
			}
			kind := EventSLAWarning
			if breach {
				kind = EventSLABreach
			}
			// The change is the helpdesk's own, whoever ran the check: the
			// admin who did is in the audit row, and is told like anyone.
			tx.emit(Event{Kind: kind, Ticket: t, Actor: SystemActor(), SLAKind: h.Kind})
		}
	}
	if err := tx.q.UpdateTicketSLA(ctx, t); err != nil {
		return nil, err
	}
	return recorded, nil
}

// leaseHolder names this run: host, process and a random part.
func leaseHolder() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// slaEscalation lists who besides the assignee hears of an SLA event on
// t: the supervisors, at a breach when the plan says so, and at a warning
// when nobody is assigned (somebody must take it).
func (tx *Tx) slaEscalation(ctx context.Context, t *store.Ticket, breach bool) ([]*store.User, error) {
	if breach && t.SLAPlanID != nil {
		p, err := tx.q.SLAPlan(ctx, *t.SLAPlanID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if p != nil && !p.BreachNotifySupervisors {
			return nil, nil
		}
	}
	if !breach && t.AssigneeID != nil {
		return nil, nil
	}
	return tx.q.Users(ctx, store.AllCompanies(), store.UserFilter{Role: store.RoleSupervisor})
}
