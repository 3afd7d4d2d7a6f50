// Package ticketing is the domain: the ticket lifecycle, who may do what,
// audit, and the events other parts react to. It knows nothing of HTTP or
// mail formats; the portal, the mail intake and the CLI all call it.
package ticketing

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jcservicedesk/servicedesk/store"
)

// Service runs ticket changes: each one checks the policy, writes the
// change and its audit row (and whatever the TxHooks add) in one
// transaction, then tells the listeners.
type Service struct {
	st        *store.Store
	now       func() time.Time
	hooks     []TxHook
	listeners []Listener
	loc       *time.Location // the default time zone (SLA without a calendar)
	ratingTTL time.Duration  // how long rating links work (WithRatingTTL)

	checkTemplate TemplateCheck

	acct     *accounts // sign-in and sessions (WithAccounts)
	acctOnce sync.Once
}

// Option configures a Service.
type Option func(*Service)

// WithClock replaces time.Now (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithTxHook adds a hook run inside every change's transaction.
func WithTxHook(h TxHook) Option { return func(s *Service) { s.hooks = append(s.hooks, h) } }

// WithListener adds a listener told after every committed change.
func WithListener(l Listener) Option {
	return func(s *Service) { s.listeners = append(s.listeners, l) }
}

// NewService returns a Service over st.
func NewService(st *store.Store, opts ...Option) *Service {
	s := &Service{st: st, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Store returns the underlying store (read side for pages and lists).
func (s *Service) Store() *store.Store { return s.st }

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// TxWith runs fn in one transaction: its ticket changes, their audit
// rows and whatever the TxHooks write commit together; then the listeners
// are told.
func (s *Service) TxWith(ctx context.Context, fn func(tx *Tx) error) error {
	var events []Event
	err := s.st.InTx(ctx, func(q *store.Q) error {
		var err error
		events, err = s.Within(ctx, q, fn)
		return err
	})
	if err != nil {
		return mapStoreErr(err)
	}
	s.Publish(events)
	return nil
}

// Tx is a transaction in which several ticket changes run together.
type Tx struct {
	s    *Service
	q    *store.Q
	emit func(Event)
	// mailed: this transaction queued mail (MailOut's EnqueueMail); the
	// events it emits point at it (Event.MayHaveQueuedMail).
	mailed *bool
}

func mapStoreErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound) && !errors.Is(err, ErrNotFound):
		return &domainError{kind: ErrNotFound, err: err, prefix: store.ErrNotFound.Error() + ": "}
	case errors.Is(err, store.ErrConflict) && !errors.Is(err, ErrConflict):
		return &domainError{kind: ErrConflict, err: err, prefix: store.ErrConflict.Error() + ": "}
	}
	return err
}

// domainError presents a store error as a domain one ("not found: ticket
// #12") while keeping both in the chain, so callers can test for either.
type domainError struct {
	kind, err error
	prefix    string
}

func (e *domainError) Error() string {
	return e.kind.Error() + ": " + strings.TrimPrefix(e.err.Error(), e.prefix)
}

func (e *domainError) Unwrap() []error { return []error{e.kind, e.err} }

// CreateInput is a new ticket.
type CreateInput struct {
	Requester     *store.User
	CompanyID     int64 // default: the requester's company
	Subject       string
	Body          string
	BodyHTML      string
	CategoryID    *int64
	SubcategoryID *int64
	Priority      string // default normal
	Source        string // web, email or cli
	MessageID     string
	LinkedTicket  *int64
	Contract      string      // id or name of a contract of the ticket's company (SLA scope)
	Automated     bool        // from automated mail: tell nobody
	Files         []FileInput // attachments of the opening message (portal, CLI)
	Queue         string      // id or name of a queue; "" for none
	Asset         string      // id, tag or name of an asset of the ticket's company; "" for none
	// RelatedTo links the new ticket to another as related (a reply by
	// mail from someone not on that ticket's thread).
	RelatedTo *int64
}

const maxSubject = 250

// Create opens a ticket. Staff may open one for any requester; a client
// only for themselves.
func (s *Service) Create(ctx context.Context, actor *store.User, in CreateInput) (*store.Ticket, error) {
	var t *store.Ticket
	err := s.TxWith(ctx, func(tx *Tx) error {
		var err error
		t, err = tx.Create(ctx, actor, in)
		return err
	})
	return t, err
}

// Create opens a ticket inside tx.
func (tx *Tx) Create(ctx context.Context, actor *store.User, in CreateInput) (*store.Ticket, error) {
	q := tx.q
	if actor == nil || actor.Disabled {
		return nil, notAllowedf("disabled users cannot open tickets")
	}
	if in.Requester == nil {
		return nil, invalidf("a ticket needs a requester")
	}
	if !actor.IsStaff() && actor.ID != in.Requester.ID {
		return nil, notAllowedf("%s may only open tickets for themselves", actor.Email)
	}
	subject := cleanSubject(in.Subject)
	if subject == "" {
		return nil, invalidf("subject is empty")
	}
	prio := in.Priority
	if prio == "" {
		prio = store.PriorityNormal
	}
	if !ValidPriority(prio) {
		return nil, invalidf("unknown priority %q (want low, normal, high or urgent)", prio)
	}
	source := in.Source
	if source == "" {
		source = store.SourceWeb
	}
	companyID := in.CompanyID
	if companyID == 0 {
		companyID = in.Requester.CompanyIDValue()
	}
	if companyID == 0 {
		return nil, invalidf("requester %s belongs to no company; give the ticket a company", in.Requester.Email)
	}
	if !actor.IsStaff() && companyID != actor.CompanyIDValue() {
		return nil, notAllowedf("%s may not open tickets for another company", actor.Email)
	}
	if source != store.SourceEmail { // mail keeps arriving; the portal and the CLI stop
		if err := tx.companyActive(ctx, companyID); err != nil {
			return nil, err
		}
	}
	if in.SubcategoryID != nil && in.CategoryID == nil {
		sub, err := q.Category(ctx, *in.SubcategoryID)
		if err != nil {
			return nil, err
		}
		in.CategoryID = sub.ParentID
	}
	n, err := q.NextTicketNumber(ctx)
	if err != nil {
		return nil, err
	}
	t := &store.Ticket{
		Number: n, CompanyID: companyID, RequesterID: in.Requester.ID,
		CategoryID: in.CategoryID, SubcategoryID: in.SubcategoryID,
		Priority: prio, Status: store.StatusNew, Subject: subject, Description: in.Body, DescriptionHTML: in.BodyHTML,
		Source: source, MessageID: in.MessageID, LinkedTicketID: in.LinkedTicket,
		CreatedAt: tx.s.clock(),
	}
	if in.Contract != "" {
		c, err := q.ContractByRef(ctx, companyID, in.Contract)
		if err != nil {
			return nil, invalidf("unknown contract %q of the ticket's company", in.Contract)
		}
		t.ContractID = &c.ID
	}
	if in.Queue != "" {
		qu, err := q.QueueByRef(ctx, in.Queue)
		if err != nil {
			return nil, invalidf("unknown queue %q", in.Queue)
		}
		t.QueueID = &qu.ID
	}
	if in.Asset != "" {
		if t.AssetID, err = tx.assetOf(ctx, companyID, in.Asset); err != nil {
			return nil, err
		}
	}
	if err := tx.applySLA(ctx, t); err != nil {
		return nil, err
	}
	if err := q.CreateTicket(ctx, t); err != nil {
		return nil, err
	}
	t.Requester = in.Requester
	if in.LinkedTicket != nil { // a follow-up of a closed ticket (mail, reopen rule)
		if err := q.AddTicketLink(ctx, &store.TicketLink{TicketID: t.ID, OtherID: *in.LinkedTicket,
			Kind: store.LinkFollowUp, CreatedAt: t.CreatedAt}); err != nil {
			return nil, err
		}
	}
	if in.RelatedTo != nil && *in.RelatedTo != t.ID {
		if err := q.AddTicketLink(ctx, &store.TicketLink{TicketID: t.ID, OtherID: *in.RelatedTo,
			Kind: store.LinkRelated, CreatedAt: t.CreatedAt}); err != nil {
			return nil, err
		}
		// The answered ticket's history says where the reply went.
		rt, err := q.Ticket(ctx, store.AllCompanies(), *in.RelatedTo, false)
		if err != nil {
			return nil, mapStoreErr(err)
		}
		if err := q.Audit(ctx, actor, rt.CompanyID, "ticket", rt.ID, "link", nil,
			map[string]any{"other": t.Number, "kind": store.LinkRelated, "why": "reply by mail from someone not on the thread"}); err != nil {
			return nil, err
		}
	}
	if err := q.Audit(ctx, actor, companyID, "ticket", t.ID, "create", nil, auditTicket(t)); err != nil {
		return nil, err
	}
	if err := tx.addFiles(ctx, actor, t, nil, in.Files); err != nil {
		return nil, err
	}
	tx.emit(Event{Kind: EventCreated, Ticket: t, Actor: actor, ToStatus: t.Status, Automated: in.Automated})
	return t, nil
}

// ValidPriority reports whether p is a known priority.
func ValidPriority(p string) bool {
	switch p {
	case store.PriorityLow, store.PriorityNormal, store.PriorityHigh, store.PriorityUrgent:
		return true
	}
	return false
}

func cleanSubject(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > maxSubject {
		r := []rune(s)
		s = string(r[:maxSubject])
	}
	return s
}

// auditTicket is the part of a ticket the audit log keeps.
func auditTicket(t *store.Ticket) map[string]any {
	return map[string]any{
		"number": t.Number, "status": t.Status, "priority": t.Priority,
		"subject": t.Subject, "assignee_id": t.AssigneeID, "company_id": t.CompanyID,
		"queue_id": t.QueueID, "asset_id": t.AssetID,
	}
}

// Within runs ticket changes inside a transaction the caller already holds
// (the mail intake commits many messages together). The caller must call
// Publish with the returned events once that transaction has committed.
func (s *Service) Within(ctx context.Context, q *store.Q, fn func(tx *Tx) error) ([]Event, error) {
	var events []Event
	var hookErr error
	tx := &Tx{s: s, q: q, mailed: new(bool)}
	tx.emit = func(ev Event) {
		ev.mailed = tx.mailed
		events = append(events, ev)
		for _, h := range s.hooks {
			if hookErr == nil {
				hookErr = h(ctx, tx, ev)
			}
		}
	}
	if err := fn(tx); err != nil {
		return nil, mapStoreErr(err)
	}
	if hookErr != nil {
		return nil, hookErr
	}
	// The event log last (ticketing/live.go): on PostgreSQL its append
	// takes the log's lock, held until commit, after every row lock and
	// every write that could wait for one (the lock order: ticket rows,
	// then the rows they reference, then the log). A caller of Within
	// writes nothing after it that can wait for another transaction (the
	// mail intake records its mail row's outcome inside fn, before it).
	if err := tx.recordLive(ctx, events); err != nil {
		return nil, mapStoreErr(err)
	}
	return events, nil
}

// Publish tells the listeners about committed events.
func (s *Service) Publish(events []Event) {
	for _, ev := range events {
		for _, l := range s.listeners {
			l(ev)
		}
	}
}

// SystemActor acts for the helpdesk itself (recording bounces, automatic
// changes). It has an admin's rights and no user row.
func SystemActor() *store.User {
	return &store.User{Email: "system", Name: "JC Service Desk", Role: store.RoleAdmin}
}

// Clock is the service's notion of now.
func (s *Service) Clock() time.Time { return s.clock() }

// Can reports whether actor may do act to t (inside tx).
func (tx *Tx) Can(ctx context.Context, actor *store.User, t *store.Ticket, act Action) error {
	return tx.check(ctx, actor, t, act)
}

// TicketByID loads a ticket for update in tx, regardless of company (the
// caller checks the policy with Can).
func (tx *Tx) TicketByID(ctx context.Context, id int64) (*store.Ticket, error) {
	t, err := tx.q.Ticket(ctx, store.AllCompanies(), id, true)
	return t, mapStoreErr(err)
}

// TicketByNumber loads a ticket for update in tx, regardless of company.
func (tx *Tx) TicketByNumber(ctx context.Context, number int64) (*store.Ticket, error) {
	t, err := tx.q.TicketByNumber(ctx, store.AllCompanies(), number, true)
	return t, mapStoreErr(err)
}
