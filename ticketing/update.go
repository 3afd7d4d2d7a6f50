package ticketing

import (
	"context"

	"github.com/jcservicedesk/servicedesk/store"
)

// UpdateInput changes a ticket's editable fields; nil leaves a field as
// it is.
type UpdateInput struct {
	Priority *string
	Subject  *string
	// Category is a category or "Parent/Subcategory", by name or id; ""
	// clears both.
	Category *string
	// Contract is a contract of the ticket's company, by name or id; ""
	// clears it. It scopes the SLA plan.
	Contract *string
	// Queue is a queue by name or id; "" clears it.
	Queue *string
	// Asset is an asset of the ticket's company, by id, tag or name; ""
	// clears it.
	Asset *string
}

// Update edits a ticket's priority, subject and category: one change,
// checked against the policy (ActEdit) and audited with before and after.
func (s *Service) Update(ctx context.Context, actor *store.User, number int64, in UpdateInput) (*store.Ticket, error) {
	var t *store.Ticket
	err := s.TxWith(ctx, func(tx *Tx) error {
		var err error
		t, err = tx.Update(ctx, actor, number, in)
		return err
	})
	return t, err
}

// Update is Service.Update inside tx (bulk changes run several in one).
func (tx *Tx) Update(ctx context.Context, actor *store.User, number int64, in UpdateInput) (t *store.Ticket, err error) {
	err = func() error {
		t, err = tx.load(ctx, actor, number, ActEdit)
		if err != nil {
			return err
		}
		before := auditEdit(t)
		if in.Priority != nil {
			if !ValidPriority(*in.Priority) {
				return invalidf("unknown priority %q (want low, normal, high or urgent)", *in.Priority)
			}
			t.Priority = *in.Priority
		}
		if in.Subject != nil {
			subject := cleanSubject(*in.Subject)
			if subject == "" {
				return invalidf("subject is empty")
			}
			t.Subject = subject
		}
		if in.Category != nil {
			t.CategoryID, t.SubcategoryID = nil, nil
			if *in.Category != "" {
				if t.CategoryID, t.SubcategoryID, err = resolveCategory(ctx, tx.q, *in.Category); err != nil {
					return err
				}
			}
			t.Category = nil
		}
		if in.Contract != nil {
			t.ContractID = nil
			if *in.Contract != "" {
				c, err := tx.q.ContractByRef(ctx, t.CompanyID, *in.Contract)
				if err != nil {
					return invalidf("unknown contract %q of the ticket's company", *in.Contract)
				}
				t.ContractID = &c.ID
			}
		}
		if in.Queue != nil {
			t.QueueID = nil
			if *in.Queue != "" {
				qu, err := tx.q.QueueByRef(ctx, *in.Queue)
				if err != nil {
					return invalidf("unknown queue %q", *in.Queue)
				}
				t.QueueID = &qu.ID
			}
		}
		if in.Asset != nil {
			t.AssetID = nil
			if *in.Asset != "" {
				if t.AssetID, err = tx.assetOf(ctx, t.CompanyID, *in.Asset); err != nil {
					return err
				}
			}
		}
		after := auditEdit(t)
		if equalEdit(before, after) {
			return invalidf("nothing to change on ticket #%d", t.Number)
		}
		// A new priority or category may bring another SLA plan.
		if err := tx.applySLA(ctx, t); err != nil {
			return err
		}
		if err := tx.q.UpdateTicket(ctx, t); err != nil {
			return err
		}
		return tx.q.Audit(ctx, actor, t.CompanyID, "ticket", t.ID, "update", before, after)
	}()
	return t, err
}

func auditEdit(t *store.Ticket) map[string]any {
	return map[string]any{"priority": t.Priority, "subject": t.Subject, "category_id": idOrNil(t.CategoryID),
		"subcategory_id": idOrNil(t.SubcategoryID), "contract_id": idOrNil(t.ContractID), "queue_id": idOrNil(t.QueueID),
		"asset_id": idOrNil(t.AssetID)}
}

func idOrNil(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

func equalEdit(a, b map[string]any) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
