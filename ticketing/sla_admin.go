package ticketing

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing/calendar"
)

// SLA plans, calendars and holidays: admins only, every change audited.

// SLAPlanInput is a plan to create, or the new values of one. References
// (company, contract, category, calendar, queue) are ids or names; empty
// means none (a global plan, no scope, calendar minutes, no queue).
type SLAPlanInput struct {
	Name              string
	Company           string
	Contract          string
	Category          string // "Parent" or "Parent/Child"
	Priority          string // empty: any
	FirstResponse     time.Duration
	Resolution        time.Duration
	Calendar          string
	Active            bool
	WarnPercent       int
	NotifySupervisors bool
	BreachQueue       string
}

func (in *SLAPlanInput) fill(ctx context.Context, q *store.Q, p *store.SLAPlan) error {
	p.Name = strings.Join(strings.Fields(in.Name), " ")
	if p.Name == "" {
		return invalidf("SLA plan name is empty")
	}
	if in.Priority != "" && !ValidPriority(in.Priority) {
		return invalidf("unknown priority %q (want low, normal, high or urgent)", in.Priority)
	}
	p.Priority = in.Priority
	if in.FirstResponse < 0 || in.Resolution < 0 {
		return invalidf("SLA targets must not be negative")
	}
	if in.FirstResponse == 0 && in.Resolution == 0 {
		return invalidf("an SLA plan needs a first-response or a resolution target")
	}
	if in.FirstResponse > 0 && in.Resolution > 0 && in.FirstResponse > in.Resolution {
		return invalidf("the first-response target (%s) is longer than the resolution target (%s)", in.FirstResponse, in.Resolution)
	}
	p.FirstResponseMinutes, p.ResolutionMinutes = int(in.FirstResponse/time.Minute), int(in.Resolution/time.Minute)
	if in.WarnPercent == 0 {
		in.WarnPercent = 80
	}
	if in.WarnPercent < 1 || in.WarnPercent > 99 {
		return invalidf("the warning share must be 1 to 99 %%, not %d", in.WarnPercent)
	}
	p.WarnPercent = in.WarnPercent
	p.Active, p.BreachNotifySupervisors = in.Active, in.NotifySupervisors
	p.CompanyID, p.ContractID, p.CategoryID, p.CalendarID, p.BreachQueueID = nil, nil, nil, nil, nil
	if in.Company != "" {
		c, err := q.CompanyByRef(ctx, in.Company)
		if err != nil {
			return err
		}
		p.CompanyID = &c.ID
	}
	if in.Contract != "" {
		if p.CompanyID == nil {
			return invalidf("a plan scoped to a contract needs its company (--company)")
		}
		c, err := q.ContractByRef(ctx, *p.CompanyID, in.Contract)
		if err != nil {
			return err
		}
		p.ContractID = &c.ID
	}
	if in.Category != "" {
		cat, sub, err := resolveCategory(ctx, q, in.Category)
		if err != nil {
			return err
		}
		if sub != nil {
			cat = sub
		}
		p.CategoryID = cat
	}
	if in.Calendar != "" {
		c, err := q.SLACalendarByRef(ctx, in.Calendar)
		if err != nil {
			return err
		}
		p.CalendarID = &c.ID
	}
	if in.BreachQueue != "" {
		qu, err := q.QueueByRef(ctx, in.BreachQueue)
		if err != nil {
			return err
		}
		p.BreachQueueID = &qu.ID
	}
	return nil
}

// PlanInput returns the input form of p, for updates.
func PlanInput(ctx context.Context, q *store.Q, p *store.SLAPlan) (SLAPlanInput, error) {
	in := SLAPlanInput{Name: p.Name, Priority: p.Priority, FirstResponse: time.Duration(p.FirstResponseMinutes) * time.Minute,
		Resolution: time.Duration(p.ResolutionMinutes) * time.Minute, Active: p.Active, WarnPercent: p.WarnPercent,
		NotifySupervisors: p.BreachNotifySupervisors}
	ref := func(id *int64) string {
		if id == nil {
			return ""
		}
		return itoa(*id)
	}
	in.Company, in.Contract, in.Calendar, in.BreachQueue = ref(p.CompanyID), ref(p.ContractID), ref(p.CalendarID), ref(p.BreachQueueID)
	if p.CategoryID != nil {
		in.Category = itoa(*p.CategoryID)
	}
	return in, nil
}

// CreateSLAPlan adds a plan. It applies to tickets opened or re-scoped
// from now on; existing tickets keep their due times.
func (s *Service) CreateSLAPlan(ctx context.Context, actor *store.User, in SLAPlanInput) (*store.SLAPlan, error) {
	if err := requireMailAdmin(actor, "manage SLA plans and calendars"); err != nil {
		return nil, err
	}
	p := &store.SLAPlan{}
	err := s.TxWith(ctx, func(tx *Tx) error {
		if err := in.fill(ctx, tx.q, p); err != nil {
			return err
		}
		if err := tx.q.CreateSLAPlan(ctx, p); err != nil {
			return err
		}
		return tx.q.Audit(ctx, actor, idValue(p.CompanyID), "sla_plan", p.ID, "create", nil, p)
	})
	return p, err
}

// UpdateSLAPlan applies fn to plan ref and saves it.
func (s *Service) UpdateSLAPlan(ctx context.Context, actor *store.User, ref string, fn func(in *SLAPlanInput)) (*store.SLAPlan, error) {
	if err := requireMailAdmin(actor, "manage SLA plans and calendars"); err != nil {
		return nil, err
	}
	var p *store.SLAPlan
	err := s.TxWith(ctx, func(tx *Tx) error {
		var err error
		if p, err = tx.q.SLAPlanByRef(ctx, ref); err != nil {
			return err
		}
		before := *p
		in, err := PlanInput(ctx, tx.q, p)
		if err != nil {
			return err
		}
		fn(&in)
		if err := in.fill(ctx, tx.q, p); err != nil {
			return err
		}
		if err := tx.q.UpdateSLAPlan(ctx, p); err != nil {
			return err
		}
		return tx.q.Audit(ctx, actor, idValue(p.CompanyID), "sla_plan", p.ID, "update", before, p)
	})
	return p, err
}

// RemoveSLAPlan deletes plan ref; its tickets keep their due times.
func (s *Service) RemoveSLAPlan(ctx context.Context, actor *store.User, ref string, dryRun bool) (*store.SLAPlan, error) {
	if err := requireMailAdmin(actor, "manage SLA plans and calendars"); err != nil {
		return nil, err
	}
	var p *store.SLAPlan
	err := s.TxWith(ctx, func(tx *Tx) error {
		var err error
		if p, err = tx.q.SLAPlanByRef(ctx, ref); err != nil || dryRun {
			return err
		}
		open, err := tx.q.OpenTicketsOfPlan(ctx, p.ID)
		if err != nil {
			return err
		}
		if err := tx.q.DeleteSLAPlan(ctx, p.ID); err != nil {
			return err
		}
		// Its open tickets get the plan that fits them now, or none: a
		// ticket never keeps due times of a plan that is gone.
		for _, id := range open {
			t, err := tx.TicketByID(ctx, id)
			if err != nil {
				return err
			}
			if err := tx.applySLA(ctx, t); err != nil {
				return err
			}
			if err := tx.q.UpdateTicketPlan(ctx, t); err != nil {
				return err
			}
		}
		return tx.q.Audit(ctx, actor, idValue(p.CompanyID), "sla_plan", p.ID, "remove", p, map[string]any{"open_tickets": len(open)})
	})
	return p, err
}

// CalendarInput is a calendar to create or the new values of one.
type CalendarInput struct {
	Name           string
	TimeZone       string
	Week           CalendarWeek
	BrazilNational bool
}

func (in *CalendarInput) fill(c *store.SLACalendar) error {
	c.Name = strings.Join(strings.Fields(in.Name), " ")
	if c.Name == "" {
		return invalidf("calendar name is empty")
	}
	if in.TimeZone == "" {
		in.TimeZone = "America/Sao_Paulo"
	}
	c.TimeZone, c.Week, c.BrazilNational = in.TimeZone, in.Week.String(), in.BrazilNational
	// Built once to refuse what would not compute.
	_, err := BuildCalendar(c)
	if errors.Is(err, calendar.ErrNeverOpen) {
		return invalidf("calendar %s has no business hours", c.Name)
	}
	return err
}

// CreateCalendar adds a business calendar.
func (s *Service) CreateCalendar(ctx context.Context, actor *store.User, in CalendarInput) (*store.SLACalendar, error) {
	if err := requireMailAdmin(actor, "manage SLA plans and calendars"); err != nil {
		return nil, err
	}
	c := &store.SLACalendar{}
	if err := in.fill(c); err != nil {
		return nil, err
	}
	err := s.TxWith(ctx, func(tx *Tx) error {
		if err := tx.q.CreateSLACalendar(ctx, c); err != nil {
			return err
		}
		return tx.q.Audit(ctx, actor, 0, "sla_calendar", c.ID, "create", nil, c)
	})
	return c, err
}

// UpdateCalendar applies fn to calendar ref and saves it.
func (s *Service) UpdateCalendar(ctx context.Context, actor *store.User, ref string, fn func(in *CalendarInput)) (*store.SLACalendar, error) {
	if err := requireMailAdmin(actor, "manage SLA plans and calendars"); err != nil {
		return nil, err
	}
	var c *store.SLACalendar
	err := s.TxWith(ctx, func(tx *Tx) error {
		var err error
		if c, err = tx.q.SLACalendarByRef(ctx, ref); err != nil {
			return err
		}
		before := *c
		w, err := ParseWeek(c.Week)
		if err != nil {
			return err
		}
		in := CalendarInput{Name: c.Name, TimeZone: c.TimeZone, Week: w, BrazilNational: c.BrazilNational}
		fn(&in)
		if err := in.fill(c); err != nil {
			return err
		}
		if err := tx.q.UpdateSLACalendar(ctx, c); err != nil {
			return err
		}
		return tx.q.Audit(ctx, actor, 0, "sla_calendar", c.ID, "update", before, c)
	})
	return c, err
}

// AddHoliday adds a day off to calendar ref.
func (s *Service) AddHoliday(ctx context.Context, actor *store.User, ref string, day, name string, yearly bool) (*store.SLAHoliday, error) {
	if err := requireMailAdmin(actor, "manage SLA plans and calendars"); err != nil {
		return nil, err
	}
	d, err := calendar.ParseDate(day)
	if err != nil {
		return nil, invalidf("%v", err)
	}
	h := &store.SLAHoliday{Day: d.String(), Name: strings.TrimSpace(name), Yearly: yearly}
	err = s.TxWith(ctx, func(tx *Tx) error {
		c, err := tx.q.SLACalendarByRef(ctx, ref)
		if err != nil {
			return err
		}
		h.CalendarID = c.ID
		if err := tx.q.AddSLAHoliday(ctx, h); err != nil {
			return err
		}
		return tx.q.Audit(ctx, actor, 0, "sla_calendar", c.ID, "add_holiday", nil, h)
	})
	return h, err
}

// RemoveHoliday removes the day off on day from calendar ref.
func (s *Service) RemoveHoliday(ctx context.Context, actor *store.User, ref, day string, dryRun bool) error {
	if err := requireMailAdmin(actor, "manage SLA plans and calendars"); err != nil {
		return err
	}
	d, err := calendar.ParseDate(day)
	if err != nil {
		return invalidf("%v", err)
	}
	return s.TxWith(ctx, func(tx *Tx) error {
		c, err := tx.q.SLACalendarByRef(ctx, ref)
		if err != nil {
			return err
		}
		found := false
		for _, h := range c.Holidays {
			found = found || h.Day == d.String()
		}
		if !found {
			return notFoundf("calendar %s has no holiday on %s", c.Name, d)
		}
		if dryRun {
			return nil
		}
		if err := tx.q.RemoveSLAHoliday(ctx, c.ID, d.String()); err != nil {
			return err
		}
		return tx.q.Audit(ctx, actor, 0, "sla_calendar", c.ID, "remove_holiday", map[string]string{"day": d.String()}, nil)
	})
}

func idValue(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
