package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// Ticket statuses. The rules for moving between them live in ticketing.
const (
	StatusNew      = "new"
	StatusOpen     = "open"
	StatusPending  = "pending"
	StatusResolved = "resolved"
	StatusClosed   = "closed"
	StatusReopened = "reopened"
)

// Ticket priorities.
const (
	PriorityLow    = "low"
	PriorityNormal = "normal"
	PriorityHigh   = "high"
	PriorityUrgent = "urgent"
)

// Ticket sources.
const (
	SourceWeb   = "web"
	SourceEmail = "email"
	SourceCLI   = "cli"
	// SourceChat is a comment written on the portal's chat page (comments
	// only: a ticket the chat opens is a web ticket).
	SourceChat = "chat"
)

// Ticket is a request and its lifecycle.
type Ticket struct {
	bun.BaseModel `bun:"table:tickets,alias:t"`

	ID               int64      `bun:"id,pk,autoincrement" json:"id"`
	Number           int64      `bun:"number,notnull" json:"number"`
	CompanyID        int64      `bun:"company_id,notnull" json:"company_id"`
	RequesterID      int64      `bun:"requester_id,notnull" json:"requester_id"`
	AssigneeID       *int64     `bun:"assignee_id" json:"assignee_id"`
	QueueID          *int64     `bun:"queue_id" json:"queue_id"`
	CategoryID       *int64     `bun:"category_id" json:"category_id"`
	SubcategoryID    *int64     `bun:"subcategory_id" json:"subcategory_id"`
	AssetID          *int64     `bun:"asset_id" json:"asset_id"`
	ContractID       *int64     `bun:"contract_id" json:"contract_id"`
	SLAPlanID        *int64     `bun:"sla_plan_id" json:"sla_plan_id"`
	LinkedTicketID   *int64     `bun:"linked_ticket_id" json:"linked_ticket_id"`
	Priority         string     `bun:"priority,notnull" json:"priority"`
	Status           string     `bun:"status,notnull" json:"status"`
	Subject          string     `bun:"subject,notnull" json:"subject"`
	Description      string     `bun:"description,notnull" json:"description"`
	DescriptionHTML  string     `bun:"description_html,notnull" json:"-"`
	Source           string     `bun:"source,notnull" json:"source"`
	MessageID        string     `bun:"message_id,notnull" json:"-"`
	CreatedAt        time.Time  `bun:"created_at,notnull" json:"created_at"`
	UpdatedAt        time.Time  `bun:"updated_at,notnull" json:"updated_at"`
	FirstResponseAt  *time.Time `bun:"first_response_at" json:"first_response_at"`
	ResolvedAt       *time.Time `bun:"resolved_at" json:"resolved_at"`
	ClosedAt         *time.Time `bun:"closed_at" json:"closed_at"`
	FirstResponseDue *time.Time `bun:"first_response_due" json:"first_response_due"`
	ResolutionDue    *time.Time `bun:"resolution_due" json:"resolution_due"`
	SLABreachedAt    *time.Time `bun:"sla_breached_at" json:"sla_breached_at"`
	// TechEvaluation, CloseReason and Classification are the close
	// evaluation: internal, never shown or mailed to the requester.
	TechEvaluation string     `bun:"tech_evaluation,notnull" json:"tech_evaluation"`
	CloseReason    string     `bun:"close_reason,notnull" json:"close_reason"`
	Classification string     `bun:"classification,notnull" json:"classification"`
	Solution       string     `bun:"solution,notnull" json:"solution"`
	Rating         *int       `bun:"rating" json:"rating"`
	RatingComment  string     `bun:"rating_comment,notnull" json:"rating_comment"`
	RatedAt        *time.Time `bun:"rated_at" json:"rated_at"`
	ReopenCount    int        `bun:"reopen_count,notnull" json:"reopen_count"`
	// RetainedAt: when retention removed the ticket's personal data.
	RetainedAt *time.Time `bun:"retained_at" json:"retained_at,omitempty"`
	SLAState

	Company   *Company  `bun:"rel:belongs-to,join:company_id=id" json:"-"`
	Requester *User     `bun:"rel:belongs-to,join:requester_id=id" json:"-"`
	Assignee  *User     `bun:"rel:belongs-to,join:assignee_id=id" json:"-"`
	Category  *Category `bun:"rel:belongs-to,join:category_id=id" json:"-"`

	saved *Ticket // the columns as read or last written (ticket_changes.go)
}

// Open reports whether the ticket still needs work.
func (t *Ticket) Open() bool {
	return t.Status != StatusResolved && t.Status != StatusClosed
}

// AssignedTo reports whether u is the assignee.
func (t *Ticket) AssignedTo(u *User) bool {
	return u != nil && t.AssigneeID != nil && *t.AssigneeID == u.ID
}

// NextTicketNumber reserves the next human ticket number (#1001, #1002…).
// Call it inside the transaction that inserts the ticket.
func (q *Q) NextTicketNumber(ctx context.Context) (int64, error) {
	// PostgreSQL: a sequence. SQLite serialises writers, so MAX+1 inside
	// the write transaction is race-free.
	var n []int64
	if err := q.hotScan(ctx, &n, hotNextNumber); err != nil {
		return 0, fmt.Errorf("store: next ticket number: %w", err)
	}
	if len(n) != 1 {
		return 0, fmt.Errorf("store: next ticket number: %d rows", len(n))
	}
	return n[0], nil
}

// CreateTicket inserts t. Number must be set (NextTicketNumber).
func (q *Q) CreateTicket(ctx context.Context, t *Ticket) error {
	if t.CreatedAt.IsZero() {
		t.CreatedAt = now()
	}
	t.UpdatedAt = t.CreatedAt
	if err := q.hotInsert(ctx, t, &t.ID); err != nil {
		return conflict(err, "ticket #"+strconv.FormatInt(t.Number, 10))
	}
	q.searchNew()
	q.wrote(t)
	return nil
}

// UpdateTicket saves every column of t and bumps updated_at. A ticket
// this transaction already wrote keeps the updated_at it wrote then: the
// bump would only move it by the length of the transaction, and on
// PostgreSQL an updated_at change is a new entry in each of the table's
// twenty-odd indexes (a ticket opened by mail and noted on in the same
// transaction paid for them twice). Then nothing changed, nothing is
// written.
func (q *Q) UpdateTicket(ctx context.Context, t *Ticket) error {
	cols, all := q.changedTicketColumns(t)
	again := !all && q.wroteBefore(t)
	if again && len(cols) == 0 {
		return nil
	}
	upd := q.db.NewUpdate().Model(t).WherePK()
	switch {
	case all:
		t.UpdatedAt = now()
		upd = upd.ExcludeColumn("id", "number", "created_at")
	case again:
		upd = upd.Column(cols...)
	default:
		t.UpdatedAt = now()
		upd = upd.Column(append(cols, "updated_at")...)
	}
	res, err := upd.Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: update ticket #%d: %w", t.Number, err)
	}
	if n, err := rowsAffected(res); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("%w: ticket #%d", ErrNotFound, t.Number)
	}
	q.wrote(t)
	return nil
}

func (q *Q) ticketSelect(sc Scope, model any) (*bun.SelectQuery, error) {
	sel := q.db.NewSelect().Model(model).
		Relation("Company", func(s *bun.SelectQuery) *bun.SelectQuery { return s.Column("id", "name", "share_tickets") }).
		Relation("Requester", func(s *bun.SelectQuery) *bun.SelectQuery {
			return s.Column("id", "email", "name", "role", "company_id")
		}).
		Relation("Assignee", func(s *bun.SelectQuery) *bun.SelectQuery { return s.Column("id", "email", "name", "role") }).
		Relation("Category", func(s *bun.SelectQuery) *bun.SelectQuery { return s.Column("id", "name", "parent_id") })
	return sc.where(sel, "t.company_id")
}

// TicketByNumber loads a ticket by its human number within scope. With
// forUpdate on PostgreSQL the row is locked until the transaction ends.
func (q *Q) TicketByNumber(ctx context.Context, sc Scope, number int64, forUpdate bool) (*Ticket, error) {
	t := new(Ticket)
	sel, err := q.ticketSelect(sc, t)
	if err != nil {
		return nil, err
	}
	sel = sel.Where("t.number = ?", number)
	if forUpdate && q.pg {
		sel = sel.For("UPDATE OF t")
	}
	if err := sel.Scan(ctx); err != nil {
		return nil, notFound(err, "ticket #"+strconv.FormatInt(number, 10))
	}
	return t, nil
}

// Ticket loads a ticket by id within scope.
func (q *Q) Ticket(ctx context.Context, sc Scope, id int64, forUpdate bool) (*Ticket, error) {
	t := new(Ticket)
	sel, err := q.ticketSelect(sc, t)
	if err != nil {
		return nil, err
	}
	sel = sel.Where("t.id = ?", id)
	if forUpdate && q.pg {
		sel = sel.For("UPDATE OF t")
	}
	if err := sel.Scan(ctx); err != nil {
		return nil, notFound(err, "ticket id "+strconv.FormatInt(id, 10))
	}
	return t, nil
}

// MaxTicketLimit is the most tickets one Tickets call returns; callers
// page past it with After (or Offset).
const MaxTicketLimit = 1000

// TicketCursor is the position of a ticket in the "most recently updated
// first" order: its (updated_at, id), unique because id is.
type TicketCursor struct {
	UpdatedAt time.Time
	ID        int64
}

// Cursor is t's position, for TicketFilter.After.
func (t *Ticket) Cursor() TicketCursor { return TicketCursor{UpdatedAt: t.UpdatedAt, ID: t.ID} }

// TicketFilter narrows Tickets. Zero values do not filter.
type TicketFilter struct {
	Statuses    []string
	CompanyID   int64
	AssigneeID  int64
	Unassigned  bool
	RequesterID int64
	// InvolvingUserID limits to tickets where this user is the requester
	// or a participant.
	InvolvingUserID int64
	Search          string
	// Limit is 1..MaxTicketLimit; 0 means 50.
	Limit int
	// After lists the tickets that come after this one (keyset paging:
	// pass the last ticket's Cursor to get the next page). Unlike Offset,
	// its cost does not grow with the page number, and a ticket updated
	// between two pages (it moves to the front) shifts no other ticket
	// into a page already read or past the next one.
	After *TicketCursor
	// Offset skips this many tickets first (after After, when both are set).
	Offset int
}

// Tickets lists tickets within scope, most recently updated first (ties
// by id, newest first).
//
// The related rows (company, requester, assignee, category) are loaded
// by id in one query per table rather than joined: on PostgreSQL,
// planning the five-table join cost more than running it (about 1 ms
// against 0.3 ms for a page of 50, where the ticket query alone plans in
// 0.1 ms).
func (q *Q) Tickets(ctx context.Context, sc Scope, f TicketFilter) ([]*Ticket, error) {
	var ts []*Ticket
	sel, err := q.ticketsQuery(sc, f, &ts)
	if err != nil {
		return nil, err
	}
	if err := sel.Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: tickets: %w", err)
	}
	if err := q.loadTicketRelations(ctx, ts); err != nil {
		return nil, err
	}
	return ts, nil
}

// loadTicketRelations fills what ticketSelect's relations would have.
func (q *Q) loadTicketRelations(ctx context.Context, ts []*Ticket) error {
	if len(ts) == 0 {
		return nil
	}
	companyIDs, userIDs, categoryIDs := map[int64]bool{}, map[int64]bool{}, map[int64]bool{}
	for _, t := range ts {
		companyIDs[t.CompanyID] = true
		userIDs[t.RequesterID] = true
		if t.AssigneeID != nil {
			userIDs[*t.AssigneeID] = true
		}
		if t.CategoryID != nil {
			categoryIDs[*t.CategoryID] = true
		}
	}
	var cs []*Company
	if err := q.db.NewSelect().Model(&cs).Column("id", "name", "share_tickets").Where("id IN (?)", bun.In(keys(companyIDs))).Scan(ctx); err != nil {
		return fmt.Errorf("store: tickets' companies: %w", err)
	}
	var us []*User
	if err := q.db.NewSelect().Model(&us).Column("id", "email", "name", "role", "company_id").Where("id IN (?)", bun.In(keys(userIDs))).Scan(ctx); err != nil {
		return fmt.Errorf("store: tickets' users: %w", err)
	}
	var cats []*Category
	if len(categoryIDs) > 0 {
		if err := q.db.NewSelect().Model(&cats).Column("id", "name", "parent_id").Where("id IN (?)", bun.In(keys(categoryIDs))).Scan(ctx); err != nil {
			return fmt.Errorf("store: tickets' categories: %w", err)
		}
	}
	companies, users, categories := byID(cs, func(c *Company) int64 { return c.ID }),
		byID(us, func(u *User) int64 { return u.ID }), byID(cats, func(c *Category) int64 { return c.ID })
	// Each ticket gets its own copies, as a join would give.
	for _, t := range ts {
		t.Company = clone(companies[t.CompanyID])
		t.Requester = clone(users[t.RequesterID])
		if t.AssigneeID != nil {
			if a := clone(users[*t.AssigneeID]); a != nil {
				a.CompanyID = nil // the join reads id, email, name and role only
				t.Assignee = a
			}
		}
		if t.CategoryID != nil {
			t.Category = clone(categories[*t.CategoryID])
		}
	}
	return nil
}

func keys(m map[int64]bool) []int64 {
	out := make([]int64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func byID[T any](xs []*T, id func(*T) int64) map[int64]*T {
	m := make(map[int64]*T, len(xs))
	for _, x := range xs {
		m[id(x)] = x
	}
	return m
}

func clone[T any](x *T) *T {
	if x == nil {
		return nil
	}
	c := *x
	return &c
}

func (q *Q) ticketsQuery(sc Scope, f TicketFilter, model any) (*bun.SelectQuery, error) {
	limit := f.Limit
	if limit == 0 {
		limit = 50
	}
	if limit < 0 || limit > MaxTicketLimit {
		return nil, fmt.Errorf("store: tickets: limit %d is not between 1 and %d", f.Limit, MaxTicketLimit)
	}
	if f.Offset < 0 {
		return nil, fmt.Errorf("store: tickets: negative offset %d", f.Offset)
	}
	sel, err := sc.where(q.db.NewSelect().Model(model), "t.company_id")
	if err != nil {
		return nil, err
	}
	if len(f.Statuses) == 1 {
		sel = sel.Where("t.status = ?", f.Statuses[0])
	} else if len(f.Statuses) > 1 {
		sel = sel.Where("t.status IN (?)", bun.In(f.Statuses))
	}
	if f.CompanyID > 0 {
		sel = sel.Where("t.company_id = ?", f.CompanyID)
	}
	if f.AssigneeID > 0 {
		sel = sel.Where("t.assignee_id = ?", f.AssigneeID)
	}
	if f.Unassigned {
		sel = sel.Where("t.assignee_id IS NULL")
	}
	if f.RequesterID > 0 {
		sel = sel.Where("t.requester_id = ?", f.RequesterID)
	}
	if f.InvolvingUserID > 0 {
		sel = sel.Where("(t.requester_id = ? OR EXISTS (SELECT 1 FROM ticket_participants tp WHERE tp.ticket_id = t.id AND tp.user_id = ?))",
			f.InvolvingUserID, f.InvolvingUserID)
	}
	if s := strings.TrimSpace(f.Search); s != "" {
		like := "%" + strings.ToLower(s) + "%"
		sel = sel.Where("lower(t.subject) LIKE ?", like)
	}
	if f.After != nil {
		// A row-value comparison: both databases turn it into a range on
		// the (…, updated_at DESC, id DESC) indexes.
		sel = sel.Where("(t.updated_at, t.id) < (?, ?)", f.After.UpdatedAt.UTC(), f.After.ID)
	}
	sel = sel.OrderExpr("t.updated_at DESC, t.id DESC").Limit(int64(limit))
	if f.Offset > 0 {
		sel = sel.Offset(int64(f.Offset))
	}
	return sel, nil
}

// Participant links a user to a ticket they follow.
type Participant struct {
	bun.BaseModel `bun:"table:ticket_participants,alias:tp"`
	TicketID      int64 `bun:"ticket_id,pk"`
	UserID        int64 `bun:"user_id,pk"`
	// Via is how they came in: "" (staff, a colleague) or ParticipantCc.
	Via     string    `bun:"via,notnull"`
	AddedAt time.Time `bun:"added_at,notnull"`
	User    *User     `bun:"rel:belongs-to,join:user_id=id"`
}

// AddParticipant adds u to the ticket; adding twice is not an error.
func (q *Q) AddParticipant(ctx context.Context, ticketID, userID int64) (added bool, err error) {
	p := &Participant{TicketID: ticketID, UserID: userID, AddedAt: now()}
	res, err := q.db.NewInsert().Model(p).On("CONFLICT (ticket_id, user_id) DO NOTHING").Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("store: add participant: %w", err)
	}
	n, err := rowsAffected(res)
	if err != nil {
		return false, err
	}
	return n > 0, nil
}

// RemoveParticipant removes u from the ticket.
func (q *Q) RemoveParticipant(ctx context.Context, ticketID, userID int64) (bool, error) {
	res, err := q.db.NewDelete().Model((*Participant)(nil)).Where("ticket_id = ? AND user_id = ?", ticketID, userID).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("store: remove participant: %w", err)
	}
	n, err := rowsAffected(res)
	if err != nil {
		return false, err
	}
	return n > 0, nil
}

// Participants lists the users following a ticket.
func (q *Q) Participants(ctx context.Context, ticketID int64) ([]*User, error) {
	us := []*User{}
	if err := q.hotScan(ctx, &us, hotParticipants, ticketID); err != nil {
		return nil, fmt.Errorf("store: participants: %w", err)
	}
	return us, nil
}

// IsParticipant reports whether the user follows the ticket.
func (q *Q) IsParticipant(ctx context.Context, ticketID, userID int64) (bool, error) {
	ok, err := q.db.NewSelect().Model((*Participant)(nil)).Where("ticket_id = ? AND user_id = ?", ticketID, userID).Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("store: participant: %w", err)
	}
	return ok, nil
}

// BulkInsertTickets inserts many tickets at once (imports, benchmarks).
func (q *Q) BulkInsertTickets(ctx context.Context, ts []Ticket) error {
	if len(ts) == 0 {
		return nil
	}
	if _, err := q.db.NewInsert().Model(&ts).Exec(ctx); err != nil {
		return fmt.Errorf("store: bulk insert tickets: %w", err)
	}
	q.searchNew()
	if q.pg {
		if _, err := q.db.NewRaw("SELECT setval('ticket_number_seq', GREATEST((SELECT MAX(number) FROM tickets), 1000))").Exec(ctx); err != nil {
			return fmt.Errorf("store: ticket number sequence: %w", err)
		}
	}
	return nil
}
