package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"
)

// SLAState is the SLA clock of a ticket (embedded in Ticket). The rules
// that move it live in ticketing.
type SLAState struct {
	// Paused while the ticket waits on the requester (reason "pending")
	// or an agent paused it ("agent"); the business time paused so far
	// moves the due times.
	SLAPausedAt      *time.Time `bun:"sla_paused_at" json:"sla_paused_at"`
	SLAPauseReason   string     `bun:"sla_pause_reason,notnull" json:"sla_pause_reason,omitempty"`
	SLAPausedSeconds int64      `bun:"sla_paused_seconds,notnull" json:"sla_paused_seconds"`
	// When the warning (a share of each target) falls due, and when the
	// warning and the breach of each target were recorded.
	FirstResponseWarnAt     *time.Time `bun:"first_response_warn_at" json:"first_response_warn_at"`
	ResolutionWarnAt        *time.Time `bun:"resolution_warn_at" json:"resolution_warn_at"`
	FirstResponseWarnedAt   *time.Time `bun:"first_response_warned_at" json:"first_response_warned_at"`
	ResolutionWarnedAt      *time.Time `bun:"resolution_warned_at" json:"resolution_warned_at"`
	FirstResponseBreachedAt *time.Time `bun:"first_response_breached_at" json:"first_response_breached_at"`
	ResolutionBreachedAt    *time.Time `bun:"resolution_breached_at" json:"resolution_breached_at"`
}

// SLACalendar is a business calendar: weekly hours (Week: JSON of
// weekday number → ["09:00-18:00", …]) in its own time zone, with the
// national holidays and its own.
type SLACalendar struct {
	bun.BaseModel `bun:"table:sla_calendars,alias:sc"`

	ID             int64     `bun:"id,pk,autoincrement" json:"id"`
	Name           string    `bun:"name,notnull" json:"name"`
	NameKey        string    `bun:"name_key,notnull" json:"-"`
	TimeZone       string    `bun:"time_zone,notnull" json:"time_zone"`
	Week           string    `bun:"week,notnull" json:"-"`
	BrazilNational bool      `bun:"brazil_national,notnull" json:"brazil_national"`
	CreatedAt      time.Time `bun:"created_at,notnull" json:"created_at"`
	UpdatedAt      time.Time `bun:"updated_at,notnull" json:"updated_at"`

	Holidays []*SLAHoliday `bun:"rel:has-many,join:id=calendar_id" json:"-"`
}

// SLAHoliday is a day off of one calendar (Day is YYYY-MM-DD; a yearly
// one repeats on its month and day).
type SLAHoliday struct {
	bun.BaseModel `bun:"table:sla_holidays,alias:sh"`

	ID         int64     `bun:"id,pk,autoincrement" json:"id"`
	CalendarID int64     `bun:"calendar_id,notnull" json:"calendar_id"`
	Day        string    `bun:"day,notnull" json:"day"`
	Name       string    `bun:"name,notnull" json:"name"`
	Yearly     bool      `bun:"yearly,notnull" json:"yearly"`
	CreatedAt  time.Time `bun:"created_at,notnull" json:"created_at"`
}

// SLAPlan is a pair of targets (first response, resolution) for the
// tickets of a company (or of every company when CompanyID is nil),
// optionally scoped to a contract, a category and a priority.
type SLAPlan struct {
	bun.BaseModel `bun:"table:sla_plans,alias:sp"`

	ID                      int64      `bun:"id,pk,autoincrement" json:"id"`
	Name                    string     `bun:"name,notnull" json:"name"`
	NameKey                 string     `bun:"name_key,notnull" json:"-"`
	CompanyID               *int64     `bun:"company_id" json:"company_id"`
	ContractID              *int64     `bun:"contract_id" json:"contract_id"`
	CategoryID              *int64     `bun:"category_id" json:"category_id"`
	Priority                string     `bun:"priority,notnull" json:"priority"`
	FirstResponseMinutes    int        `bun:"first_response_minutes,notnull" json:"first_response_minutes"`
	ResolutionMinutes       int        `bun:"resolution_minutes,notnull" json:"resolution_minutes"`
	CalendarID              *int64     `bun:"calendar_id" json:"calendar_id"`
	Active                  bool       `bun:"active,notnull" json:"active"`
	WarnPercent             int        `bun:"warn_percent,notnull" json:"warn_percent"`
	BreachNotifySupervisors bool       `bun:"breach_notify_supervisors,notnull" json:"breach_notify_supervisors"`
	BreachQueueID           *int64     `bun:"breach_queue_id" json:"breach_queue_id"`
	CreatedAt               time.Time  `bun:"created_at,notnull" json:"created_at"`
	UpdatedAt               *time.Time `bun:"updated_at" json:"updated_at"`
}

// SLA event kinds: each is recorded once per ticket and due time.
const (
	SLAFirstResponseWarning = "first_response_warning"
	SLAFirstResponseBreach  = "first_response_breach"
	SLAResolutionWarning    = "resolution_warning"
	SLAResolutionBreach     = "resolution_breach"
)

// SLAEvent records that a ticket reached a warning or a breach.
type SLAEvent struct {
	bun.BaseModel `bun:"table:sla_events,alias:se"`

	ID         int64     `bun:"id,pk,autoincrement" json:"id"`
	TicketID   int64     `bun:"ticket_id,notnull" json:"ticket_id"`
	Kind       string    `bun:"kind,notnull" json:"kind"`
	DueAt      time.Time `bun:"due_at,notnull" json:"due_at"`
	RecordedAt time.Time `bun:"recorded_at,notnull" json:"recorded_at"`
}

// CreateSLACalendar inserts c.
func (q *Q) CreateSLACalendar(ctx context.Context, c *SLACalendar) error {
	c.NameKey = NameKey(c.Name)
	c.CreatedAt = now()
	c.UpdatedAt = c.CreatedAt
	if _, err := q.db.NewInsert().Model(c).Exec(ctx); err != nil {
		return conflict(err, "calendar "+strconv.Quote(c.Name))
	}
	return nil
}

// UpdateSLACalendar saves c.
func (q *Q) UpdateSLACalendar(ctx context.Context, c *SLACalendar) error {
	c.NameKey = NameKey(c.Name)
	c.UpdatedAt = now()
	if _, err := q.db.NewUpdate().Model(c).ExcludeColumn("id", "created_at").WherePK().Exec(ctx); err != nil {
		return conflict(err, "calendar "+strconv.Quote(c.Name))
	}
	return nil
}

// SLACalendars lists every calendar with its holidays, by name.
func (q *Q) SLACalendars(ctx context.Context) ([]*SLACalendar, error) {
	var cs []*SLACalendar
	err := q.db.NewSelect().Model(&cs).Relation("Holidays", orderHolidays).OrderExpr("sc.name_key").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: calendars: %w", err)
	}
	return cs, nil
}

func orderHolidays(s *bun.SelectQuery) *bun.SelectQuery { return s.OrderExpr("sh.day") }

// SLACalendar returns calendar id with its holidays.
func (q *Q) SLACalendar(ctx context.Context, id int64) (*SLACalendar, error) {
	c := new(SLACalendar)
	if err := q.db.NewSelect().Model(c).Relation("Holidays", orderHolidays).Where("sc.id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "calendar "+strconv.FormatInt(id, 10))
	}
	return c, nil
}

// SLACalendarByRef finds a calendar by id or name.
func (q *Q) SLACalendarByRef(ctx context.Context, ref string) (*SLACalendar, error) {
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		return q.SLACalendar(ctx, id)
	}
	c := new(SLACalendar)
	if err := q.db.NewSelect().Model(c).Relation("Holidays", orderHolidays).Where("sc.name_key = ?", NameKey(ref)).Scan(ctx); err != nil {
		return nil, notFound(err, "calendar "+strconv.Quote(ref))
	}
	return c, nil
}

// AddSLAHoliday inserts h.
func (q *Q) AddSLAHoliday(ctx context.Context, h *SLAHoliday) error {
	h.CreatedAt = now()
	if _, err := q.db.NewInsert().Model(h).Exec(ctx); err != nil {
		return conflict(err, "holiday "+h.Day)
	}
	return nil
}

// RemoveSLAHoliday deletes the holiday of calendarID on day.
func (q *Q) RemoveSLAHoliday(ctx context.Context, calendarID int64, day string) error {
	res, err := q.db.NewDelete().Model((*SLAHoliday)(nil)).Where("calendar_id = ? AND day = ?", calendarID, day).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: remove holiday %s: %w", day, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: holiday %s", ErrNotFound, day)
	}
	return nil
}

// CreateSLAPlan inserts p.
func (q *Q) CreateSLAPlan(ctx context.Context, p *SLAPlan) error {
	p.NameKey = NameKey(p.Name)
	p.CreatedAt = now()
	if _, err := q.db.NewInsert().Model(p).Exec(ctx); err != nil {
		return conflict(err, "SLA plan "+strconv.Quote(p.Name))
	}
	return nil
}

// UpdateSLAPlan saves p.
func (q *Q) UpdateSLAPlan(ctx context.Context, p *SLAPlan) error {
	p.NameKey = NameKey(p.Name)
	t := now()
	p.UpdatedAt = &t
	if _, err := q.db.NewUpdate().Model(p).ExcludeColumn("id", "created_at").WherePK().Exec(ctx); err != nil {
		return conflict(err, "SLA plan "+strconv.Quote(p.Name))
	}
	return nil
}

// DeleteSLAPlan removes plan id; tickets keep their due times.
func (q *Q) DeleteSLAPlan(ctx context.Context, id int64) error {
	if _, err := q.db.NewUpdate().Model((*Ticket)(nil)).Set("sla_plan_id = NULL").Where("sla_plan_id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("store: delete SLA plan: %w", err)
	}
	if _, err := q.db.NewUpdate().Table("contracts").Set("sla_plan_id = NULL").Where("sla_plan_id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("store: delete SLA plan: %w", err)
	}
	res, err := q.db.NewDelete().Model((*SLAPlan)(nil)).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: delete SLA plan: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: SLA plan %d", ErrNotFound, id)
	}
	return nil
}

// SLAPlans lists every plan, by id.
func (q *Q) SLAPlans(ctx context.Context) ([]*SLAPlan, error) {
	var ps []*SLAPlan
	if err := q.db.NewSelect().Model(&ps).OrderExpr("sp.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: SLA plans: %w", err)
	}
	return ps, nil
}

// SLAPlan returns plan id.
func (q *Q) SLAPlan(ctx context.Context, id int64) (*SLAPlan, error) {
	p := new(SLAPlan)
	if err := q.db.NewSelect().Model(p).Where("sp.id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "SLA plan "+strconv.FormatInt(id, 10))
	}
	return p, nil
}

// SLAPlanByRef finds a plan by id or name.
func (q *Q) SLAPlanByRef(ctx context.Context, ref string) (*SLAPlan, error) {
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		return q.SLAPlan(ctx, id)
	}
	p := new(SLAPlan)
	if err := q.db.NewSelect().Model(p).Where("sp.name_key = ?", NameKey(ref)).Scan(ctx); err != nil {
		return nil, notFound(err, "SLA plan "+strconv.Quote(ref))
	}
	return p, nil
}

// ActiveSLAPlansFor lists the active plans that may apply to a ticket of
// companyID: the company's own and the global ones, by id.
func (q *Q) ActiveSLAPlansFor(ctx context.Context, companyID int64) ([]*SLAPlan, error) {
	ps := []*SLAPlan{}
	if err := q.hotScan(ctx, &ps, hotSLAPlans, companyID); err != nil {
		return nil, fmt.Errorf("store: SLA plans of company %d: %w", companyID, err)
	}
	return ps, nil
}

// RecordSLAEvent inserts ev unless the same ticket, kind and due time is
// recorded already; it reports whether this call recorded it.
func (q *Q) RecordSLAEvent(ctx context.Context, ev *SLAEvent) (bool, error) {
	ev.RecordedAt = now()
	res, err := q.db.NewInsert().Model(ev).On("CONFLICT (ticket_id, kind, due_at) DO NOTHING").Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("store: record SLA event: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// SLAEvents lists the SLA events of a ticket, oldest first.
func (q *Q) SLAEvents(ctx context.Context, ticketID int64) ([]*SLAEvent, error) {
	var evs []*SLAEvent
	if err := q.db.NewSelect().Model(&evs).Where("ticket_id = ?", ticketID).OrderExpr("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: SLA events: %w", err)
	}
	return evs, nil
}

// SLACandidates returns up to limit ids of unpaused tickets, above
// afterID, whose first-response or resolution warning time has come and
// whose breach of that target is not recorded yet. Both halves use the
// partial indexes of the SLA migration.
func (q *Q) SLACandidates(ctx context.Context, at time.Time, afterID int64, limit int) ([]int64, error) {
	var ids []int64
	first := q.db.NewSelect().Model((*Ticket)(nil)).Column("id").
		Where("first_response_at IS NULL AND first_response_breached_at IS NULL").
		Where("resolved_at IS NULL AND closed_at IS NULL").
		Where("first_response_warn_at <= ?", at).
		Where("sla_paused_at IS NULL AND id > ?", afterID)
	resolution := q.db.NewSelect().Model((*Ticket)(nil)).Column("id").
		Where("resolved_at IS NULL AND closed_at IS NULL AND resolution_breached_at IS NULL").
		Where("resolution_warn_at <= ?", at).
		Where("sla_paused_at IS NULL AND id > ?", afterID)
	err := q.db.NewSelect().TableExpr("(?) AS c", first.Union(resolution)).
		ColumnExpr("c.id").OrderExpr("c.id").Limit(int64(limit)).Scan(ctx, &ids)
	if err != nil {
		return nil, fmt.Errorf("store: SLA candidates: %w", err)
	}
	return ids, nil
}

// Lease is a named lock row with an expiry: the one-at-a-time guard of
// jobs that cron, serve or an admin may start on several machines at once
// (SQLite has no advisory locks, and a crashed holder's lease lapses).
type Lease struct {
	bun.BaseModel `bun:"table:job_leases"`

	Name       string    `bun:"name,pk" json:"name"`
	Holder     string    `bun:"holder,notnull" json:"holder"`
	ExpiresAt  time.Time `bun:"expires_at,notnull" json:"expires_at"`
	AcquiredAt time.Time `bun:"acquired_at,notnull" json:"acquired_at"`
}

// ErrLeaseHeld says another holder has the lease.
var ErrLeaseHeld = errors.New("store: lease held by another run")

// AcquireLease takes the lease name for holder until now+ttl, when it is
// free or lapsed (or already holder's). It runs in its own transaction.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) error {
	return s.InTx(ctx, func(q *Q) error {
		t := now()
		res, err := q.db.ExecContext(ctx, `INSERT INTO job_leases (name, holder, expires_at, acquired_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at, acquired_at = excluded.acquired_at
			WHERE job_leases.expires_at < ? OR job_leases.holder = ?`, name, holder, t.Add(ttl), t, t, holder)
		if err != nil {
			return fmt.Errorf("store: lease %s: %w", name, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: %s", ErrLeaseHeld, name)
		}
		return nil
	})
}

// RenewLease extends holder's lease; ErrLeaseHeld when it was lost.
func (s *Store) RenewLease(ctx context.Context, name, holder string, ttl time.Duration) error {
	return s.InTx(ctx, func(q *Q) error {
		res, err := q.db.NewUpdate().Model((*Lease)(nil)).Set("expires_at = ?", now().Add(ttl)).
			Where("name = ? AND holder = ?", name, holder).Exec(ctx)
		if err != nil {
			return fmt.Errorf("store: renew lease %s: %w", name, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: %s", ErrLeaseHeld, name)
		}
		return nil
	})
}

// ReleaseLease frees holder's lease.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	return s.InTx(ctx, func(q *Q) error {
		_, err := q.db.NewDelete().Model((*Lease)(nil)).Where("name = ? AND holder = ?", name, holder).Exec(ctx)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: release lease %s: %w", name, err)
		}
		return nil
	})
}

// UpdateTicketSLA saves only the SLA columns of t (and its queue, which a
// breach may move): bookkeeping that must not move the ticket up the
// "recently updated" lists.
func (q *Q) UpdateTicketSLA(ctx context.Context, t *Ticket) error {
	_, err := q.db.NewUpdate().Model(t).
		Column("queue_id", "sla_breached_at", "first_response_warned_at", "resolution_warned_at",
			"first_response_breached_at", "resolution_breached_at").
		WherePK().Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: update SLA of ticket #%d: %w", t.Number, err)
	}
	t.saved = nil // written in part: the next UpdateTicket writes every column
	return nil
}

// TicketsByID loads the tickets with the given ids, without relations
// (the SLA check reads many and changes few).
func (q *Q) TicketsByID(ctx context.Context, ids []int64) ([]*Ticket, error) {
	var ts []*Ticket
	if len(ids) == 0 {
		return nil, nil
	}
	if err := q.db.NewSelect().Model(&ts).Where("t.id IN (?)", bun.In(ids)).OrderExpr("t.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: tickets by id: %w", err)
	}
	return ts, nil
}

// OpenTicketsOfPlan lists the ids of the unresolved, unclosed tickets
// under plan id.
func (q *Q) OpenTicketsOfPlan(ctx context.Context, id int64) ([]int64, error) {
	var ids []int64
	err := q.db.NewSelect().Model((*Ticket)(nil)).Column("id").
		Where("sla_plan_id = ? AND resolved_at IS NULL AND closed_at IS NULL", id).OrderExpr("id").Scan(ctx, &ids)
	if err != nil {
		return nil, fmt.Errorf("store: tickets of SLA plan %d: %w", id, err)
	}
	return ids, nil
}

// UpdateTicketPlan saves t's plan, due and warning times and their flags,
// without moving it up the "recently updated" lists.
func (q *Q) UpdateTicketPlan(ctx context.Context, t *Ticket) error {
	_, err := q.db.NewUpdate().Model(t).
		Column("sla_plan_id", "first_response_due", "resolution_due", "first_response_warn_at", "resolution_warn_at",
			"first_response_warned_at", "resolution_warned_at", "first_response_breached_at", "resolution_breached_at").
		WherePK().Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: update SLA plan of ticket #%d: %w", t.Number, err)
	}
	t.saved = nil // written in part: the next UpdateTicket writes every column
	return nil
}
