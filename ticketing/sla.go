package ticketing

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing/calendar"
)

// SLA: which plan applies to a ticket, its due times on the plan's
// business calendar, and the pause that stops its clock.

// Pause reasons.
const (
	PauseWaiting = "pending" // the ticket waits on the requester
	PauseAgent   = "agent"   // a technician paused it
)

// PauseDone: resolved or closed; the clock restarts when it is reopened.
const PauseDone = "resolved"

// ChoosePlan picks the plan for t among plans, with the old app's scoring
// that its admins know: a plan of another company is out; a plan scoped
// to a contract, category or priority that t does not match is out;
// otherwise a matching contract scores 4, category 2, priority 1; the
// highest score wins and ties go to the lowest id. A plan on a parent
// category applies to its subcategories (the old app's B15). Inactive
// plans never apply. It returns nil when no plan applies.
func ChoosePlan(plans []*store.SLAPlan, t *store.Ticket) *store.SLAPlan {
	var best *store.SLAPlan
	bestScore := -1
	for _, p := range plans {
		if !p.Active || (p.CompanyID != nil && *p.CompanyID != t.CompanyID) {
			continue
		}
		score := 0
		if p.ContractID != nil {
			if t.ContractID == nil || *t.ContractID != *p.ContractID {
				continue
			}
			score += 4
		}
		if p.CategoryID != nil {
			if !sameID(t.CategoryID, *p.CategoryID) && !sameID(t.SubcategoryID, *p.CategoryID) {
				continue
			}
			score += 2
		}
		if p.Priority != "" {
			if p.Priority != t.Priority {
				continue
			}
			score++
		}
		if score > bestScore || (score == bestScore && p.ID < best.ID) {
			best, bestScore = p, score
		}
	}
	return best
}

func sameID(p *int64, id int64) bool { return p != nil && *p == id }

// CalendarWeek is the stored form of a calendar's week: weekday (0 is
// Sunday) to spans such as "09:00-18:00".
type CalendarWeek map[time.Weekday][]string

// ParseWeek reads a stored week.
func ParseWeek(s string) (CalendarWeek, error) {
	raw := map[string][]string{}
	if s != "" {
		if err := json.Unmarshal([]byte(s), &raw); err != nil {
			return nil, fmt.Errorf("calendar week: %w", err)
		}
	}
	w := CalendarWeek{}
	for k, v := range raw {
		d, err := strconv.Atoi(k)
		if err != nil || d < 0 || d > 6 {
			return nil, fmt.Errorf("calendar week: invalid weekday %q", k)
		}
		w[time.Weekday(d)] = v
	}
	return w, nil
}

// String is the stored form.
func (w CalendarWeek) String() string {
	raw := map[string][]string{}
	for d, v := range w {
		if len(v) > 0 {
			raw[strconv.Itoa(int(d))] = v
		}
	}
	b, _ := json.Marshal(raw)
	return string(b)
}

// BuildCalendar turns a stored calendar into business-time arithmetic.
func BuildCalendar(c *store.SLACalendar) (*calendar.Calendar, error) {
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		return nil, invalidf("calendar %s: unknown time zone %q", c.Name, c.TimeZone)
	}
	w, err := ParseWeek(c.Week)
	if err != nil {
		return nil, invalidf("calendar %s: %v", c.Name, err)
	}
	o := calendar.Options{Location: loc, BrazilNational: c.BrazilNational}
	for d, spans := range w {
		for _, s := range spans {
			sp, err := calendar.ParseSpan(s)
			if err != nil {
				return nil, invalidf("calendar %s: %v", c.Name, err)
			}
			o.Week[d] = append(o.Week[d], sp)
		}
	}
	for _, h := range c.Holidays {
		d, err := calendar.ParseDate(h.Day)
		if err != nil {
			return nil, invalidf("calendar %s: %v", c.Name, err)
		}
		o.Holidays = append(o.Holidays, calendar.Holiday{Date: d, Name: h.Name, Yearly: h.Yearly})
	}
	cal, err := calendar.New(o)
	if err != nil {
		return nil, invalidf("calendar %s: %v", c.Name, err)
	}
	return cal, nil
}

// planCalendar is the calendar of plan p: its own, else around the clock
// in the service's time zone (calendar minutes, as the old app counted).
func (tx *Tx) planCalendar(ctx context.Context, p *store.SLAPlan) (*calendar.Calendar, error) {
	if p.CalendarID == nil {
		return calendar.Always(tx.s.location()), nil
	}
	c, err := tx.q.SLACalendar(ctx, *p.CalendarID)
	if err != nil {
		return nil, err
	}
	return BuildCalendar(c)
}

// applySLA chooses t's plan and computes its due times. Every way a
// ticket is opened or re-scoped (priority, category, contract) calls it,
// so mail, portal and CLI tickets all get an SLA.
func (tx *Tx) applySLA(ctx context.Context, t *store.Ticket) error {
	plans, err := tx.q.ActiveSLAPlansFor(ctx, t.CompanyID)
	if err != nil {
		return err
	}
	p := ChoosePlan(plans, t)
	if p == nil {
		t.SLAPlanID = nil
		t.FirstResponseDue, t.ResolutionDue, t.FirstResponseWarnAt, t.ResolutionWarnAt = nil, nil, nil, nil
		return nil
	}
	id := p.ID
	t.SLAPlanID = &id
	cal, err := tx.planCalendar(ctx, p)
	if err != nil {
		return err
	}
	return computeDue(t, p, cal, tx.s.clock())
}

// computeDue sets t's due and warning times under p on cal. The clock
// starts when the ticket was opened and stops while it is paused: the
// business time paused so far is added to each target. A recorded
// warning or breach whose time moves into the future is cleared, so the
// new one is recorded again when it comes.
func computeDue(t *store.Ticket, p *store.SLAPlan, cal *calendar.Calendar, now time.Time) error {
	paused := time.Duration(t.SLAPausedSeconds) * time.Second
	pct := p.WarnPercent
	if pct <= 0 || pct >= 100 {
		pct = 80
	}
	set := func(minutes int, due, warn, warned, breached **time.Time) error {
		if minutes <= 0 {
			*due, *warn = nil, nil
			return nil
		}
		target := time.Duration(minutes) * time.Minute
		d, err := cal.Add(t.CreatedAt, target+paused)
		if err != nil {
			return err
		}
		w, err := cal.Add(t.CreatedAt, target*time.Duration(pct)/100+paused)
		if err != nil {
			return err
		}
		d, w = d.UTC(), w.UTC()
		*due, *warn = &d, &w
		if *warned != nil && w.After(now) {
			*warned = nil
		}
		if *breached != nil && d.After(now) {
			*breached = nil
		}
		return nil
	}
	if err := set(p.FirstResponseMinutes, &t.FirstResponseDue, &t.FirstResponseWarnAt, &t.FirstResponseWarnedAt, &t.FirstResponseBreachedAt); err != nil {
		return err
	}
	return set(p.ResolutionMinutes, &t.ResolutionDue, &t.ResolutionWarnAt, &t.ResolutionWarnedAt, &t.ResolutionBreachedAt)
}

// pauseSLA stops t's clock (no-op when it has no plan or is paused).
func (tx *Tx) pauseSLA(t *store.Ticket, reason string) bool {
	if t.SLAPlanID == nil || t.SLAPausedAt != nil {
		return false
	}
	at := tx.s.clock()
	t.SLAPausedAt, t.SLAPauseReason = &at, reason
	return true
}

// resumeSLA restarts t's clock: the business time it was paused moves the
// due times.
func (tx *Tx) resumeSLA(ctx context.Context, t *store.Ticket) (bool, error) {
	if t.SLAPausedAt == nil {
		return false, nil
	}
	since := *t.SLAPausedAt
	t.SLAPausedAt, t.SLAPauseReason = nil, ""
	if t.SLAPlanID == nil {
		return true, nil
	}
	p, err := tx.q.SLAPlan(ctx, *t.SLAPlanID)
	if err != nil {
		return false, err
	}
	cal, err := tx.planCalendar(ctx, p)
	if err != nil {
		return false, err
	}
	now := tx.s.clock()
	t.SLAPausedSeconds += int64(cal.Between(since, now) / time.Second)
	return true, computeDue(t, p, cal, now)
}

// slaAfterStatus pauses the clock while a ticket waits on its requester
// or is resolved, and restarts it when it stops waiting or is reopened.
// An agent's pause is left alone.
func (tx *Tx) slaAfterStatus(ctx context.Context, t *store.Ticket, from string) error {
	done := func(s string) bool { return s == store.StatusResolved || s == store.StatusClosed }
	switch {
	case t.Status == store.StatusPending && from != store.StatusPending:
		tx.pauseSLA(t, PauseWaiting)
	case from == store.StatusPending && t.Status != store.StatusPending && t.SLAPauseReason == PauseWaiting,
		done(from) && !done(t.Status) && t.SLAPauseReason == PauseDone:
		if _, err := tx.resumeSLA(ctx, t); err != nil {
			return err
		}
	}
	if done(t.Status) {
		tx.pauseSLA(t, PauseDone)
	}
	return nil
}

// PauseSLA stops the SLA clock of ticket number (staff only).
func (s *Service) PauseSLA(ctx context.Context, actor *store.User, number int64) (*store.Ticket, error) {
	return s.slaToggle(ctx, actor, number, true)
}

// ResumeSLA restarts it.
func (s *Service) ResumeSLA(ctx context.Context, actor *store.User, number int64) (*store.Ticket, error) {
	return s.slaToggle(ctx, actor, number, false)
}

func (s *Service) slaToggle(ctx context.Context, actor *store.User, number int64, pause bool) (*store.Ticket, error) {
	var t *store.Ticket
	err := s.TxWith(ctx, func(tx *Tx) error {
		var err error
		if t, err = tx.load(ctx, actor, number, ActView); err != nil {
			return err
		}
		if !actor.IsStaff() {
			return notAllowedf("only staff may pause or resume the SLA of a ticket")
		}
		if t.SLAPlanID == nil {
			return invalidf("ticket #%d has no SLA plan", t.Number)
		}
		action := "sla_pause"
		if pause {
			if !tx.pauseSLA(t, PauseAgent) {
				return invalidf("the SLA of ticket #%d is already paused", t.Number)
			}
		} else {
			action = "sla_resume"
			if ok, err := tx.resumeSLA(ctx, t); err != nil {
				return err
			} else if !ok {
				return invalidf("the SLA of ticket #%d is not paused", t.Number)
			}
		}
		if err := tx.q.UpdateTicket(ctx, t); err != nil {
			return err
		}
		return tx.q.Audit(ctx, actor, t.CompanyID, "ticket", t.ID, action, nil, map[string]any{
			"first_response_due": t.FirstResponseDue, "resolution_due": t.ResolutionDue, "paused_seconds": t.SLAPausedSeconds})
	})
	return t, err
}

// WithLocation sets the default time zone: plans without a calendar count
// around the clock there.
func WithLocation(loc *time.Location) Option { return func(s *Service) { s.loc = loc } }

func (s *Service) location() *time.Location {
	if s.loc == nil {
		return time.UTC
	}
	return s.loc
}
