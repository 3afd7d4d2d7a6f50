package ticketing

import (
	"context"
	"strings"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
)

// CreateQueue adds a queue (a team or inbox tickets are routed to).
// Admins only; audited.
func (s *Service) CreateQueue(ctx context.Context, actor *store.User, name, description string) (*store.Queue, error) {
	if err := requireMailAdmin(actor, "manage queues and contracts"); err != nil {
		return nil, err
	}
	qu := &store.Queue{Name: strings.Join(strings.Fields(name), " "), Description: strings.TrimSpace(description)}
	if qu.Name == "" {
		return nil, invalidf("queue name is empty")
	}
	err := s.TxWith(ctx, func(tx *Tx) error {
		if err := tx.q.CreateQueue(ctx, qu); err != nil {
			return err
		}
		return tx.q.Audit(ctx, actor, 0, "queue", qu.ID, "create", nil, qu)
	})
	return qu, err
}

// ContractInput is a new contract of a company.
type ContractInput struct {
	Company       string // id or name
	Name          string
	StartsOn      *time.Time
	EndsOn        *time.Time
	HoursIncluded int
	Notes         string
}

// CreateContract adds a contract to a company; SLA plans may be scoped to
// it. Admins only; audited.
func (s *Service) CreateContract(ctx context.Context, actor *store.User, in ContractInput) (*store.Contract, error) {
	if err := requireMailAdmin(actor, "manage queues and contracts"); err != nil {
		return nil, err
	}
	c := &store.Contract{Name: strings.Join(strings.Fields(in.Name), " "), StartsOn: in.StartsOn, EndsOn: in.EndsOn,
		HoursIncluded: in.HoursIncluded, Notes: strings.TrimSpace(in.Notes)}
	if c.Name == "" {
		return nil, invalidf("contract name is empty")
	}
	if in.HoursIncluded < 0 {
		return nil, invalidf("hours included must not be negative")
	}
	if c.StartsOn != nil && c.EndsOn != nil && c.EndsOn.Before(*c.StartsOn) {
		return nil, invalidf("the contract ends before it starts")
	}
	err := s.TxWith(ctx, func(tx *Tx) error {
		co, err := tx.q.CompanyByRef(ctx, in.Company)
		if err != nil {
			return err
		}
		c.CompanyID = co.ID
		if err := tx.q.CreateContract(ctx, c); err != nil {
			return err
		}
		return tx.q.Audit(ctx, actor, co.ID, "contract", c.ID, "create", nil, c)
	})
	return c, err
}
