package ticketing

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/jcservicedesk/servicedesk/store"
)

// Queue lists one page of the staff queue (see store.QueueFilter) and the
// cursor of the next page. Only staff have the queue; requesters list
// their tickets with List.
func (s *Service) Queue(ctx context.Context, actor *store.User, f store.QueueFilter) ([]*store.Ticket, *store.QueueCursor, error) {
	if actor == nil || !actor.IsStaff() || actor.Disabled {
		return nil, nil, notAllowedf("only staff have the ticket queue")
	}
	ts, next, err := s.st.R().QueueTickets(ctx, actor.Scope(), f)
	if errors.Is(err, store.ErrBadQueue) {
		return nil, nil, invalidf("%s", strings.TrimPrefix(err.Error(), store.ErrBadQueue.Error()+": "))
	}
	return ts, next, mapStoreErr(err)
}

const maxViewName, maxViewQuery = 80, 2000

// SaveView stores a queue filter (the queue page's query string) by name:
// the actor's own, or shared with all staff (supervisors and admins).
func (s *Service) SaveView(ctx context.Context, actor *store.User, name, query string, shared bool) (*store.SavedView, error) {
	if actor == nil || !actor.IsStaff() || actor.Disabled {
		return nil, notAllowedf("only staff have saved views")
	}
	if shared && !canShare(actor) {
		return nil, notAllowedf("only supervisors and admins share views")
	}
	name = strings.Join(strings.Fields(name), " ")
	if name == "" || utf8.RuneCountInString(name) > maxViewName || len(query) > maxViewQuery {
		return nil, invalidf("a saved view needs a name of at most %d characters", maxViewName)
	}
	v := &store.SavedView{Name: name, Query: query}
	if !shared {
		id := actor.ID
		v.OwnerID = &id
	}
	err := s.TxWith(ctx, func(tx *Tx) error {
		if err := tx.q.CreateSavedView(ctx, v); err != nil {
			return err
		}
		return tx.q.Audit(ctx, actor, 0, "saved_view", v.ID, "create", nil, v)
	})
	return v, err
}

// SavedViews lists the views actor may use: their own and the shared ones.
func (s *Service) SavedViews(ctx context.Context, actor *store.User) ([]*store.SavedView, error) {
	if actor == nil || !actor.IsStaff() || actor.Disabled {
		return nil, notAllowedf("only staff have saved views")
	}
	vs, err := s.st.R().SavedViewsFor(ctx, actor.ID)
	return vs, mapStoreErr(err)
}

// DeleteView removes one's own view, or a shared one (supervisors and
// admins). Another's personal view does not exist for actor.
func (s *Service) DeleteView(ctx context.Context, actor *store.User, id int64) error {
	if actor == nil || !actor.IsStaff() || actor.Disabled {
		return notAllowedf("only staff have saved views")
	}
	return s.TxWith(ctx, func(tx *Tx) error {
		v, err := tx.q.SavedViewByID(ctx, id)
		if err != nil {
			return err
		}
		switch {
		case v.OwnerID != nil && *v.OwnerID != actor.ID:
			return notFoundf("saved view %d", id)
		case v.OwnerID == nil && !canShare(actor):
			return notAllowedf("only supervisors and admins remove shared views")
		}
		if err := tx.q.DeleteSavedView(ctx, id); err != nil {
			return err
		}
		return tx.q.Audit(ctx, actor, 0, "saved_view", v.ID, "delete", v, nil)
	})
}

// BulkInput is one change applied to several tickets; zero fields are
// left alone.
type BulkInput struct {
	Assignee *store.User
	Status   string // a status that needs nothing more (not resolved or closed, which need a solution or evaluation)
	Priority string
}

// maxBulk bounds one bulk change (a page of the queue).
const maxBulk = 200

// Bulk applies in to every ticket of numbers in one transaction: each
// through the same change (Assign, SetStatus, Update) with its policy
// check and audit row. One refusal changes nothing.
func (s *Service) Bulk(ctx context.Context, actor *store.User, numbers []int64, in BulkInput) error {
	if actor == nil || !actor.IsStaff() || actor.Disabled {
		return notAllowedf("only staff change tickets in bulk")
	}
	if len(numbers) == 0 || len(numbers) > maxBulk {
		return invalidf("choose between 1 and %d tickets", maxBulk)
	}
	if in.Assignee == nil && in.Status == "" && in.Priority == "" {
		return invalidf("choose what to change")
	}
	return s.TxWith(ctx, func(tx *Tx) error {
		for _, n := range numbers {
			if in.Assignee != nil {
				t, err := tx.find(ctx, actor, n)
				if err != nil {
					return err
				}
				if !t.AssignedTo(in.Assignee) { // already theirs: nothing to do
					if _, err := tx.Assign(ctx, actor, n, in.Assignee); err != nil {
						return err
					}
				}
			}
			if in.Status != "" {
				t, err := tx.load(ctx, actor, n, ActView)
				if err != nil {
					return err
				}
				if t.Status != in.Status {
					if err := tx.SetStatus(ctx, actor, t, in.Status, StatusInput{}); err != nil {
						return err
					}
				}
			}
			if in.Priority != "" {
				t, err := tx.find(ctx, actor, n)
				if err != nil {
					return err
				}
				if t.Priority != in.Priority {
					p := in.Priority
					if _, err := tx.Update(ctx, actor, n, UpdateInput{Priority: &p}); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
}

// Directory is what staff pick from in the queue's filters and the
// ticket's actions: companies, staff, categories and queues.
type Directory struct {
	Companies  []*store.Company
	Staff      []*store.User // active technicians, supervisors and admins
	Categories []*store.Category
	Queues     []*store.Queue
}

// StaffDirectory returns the Directory; only staff read it.
func (s *Service) StaffDirectory(ctx context.Context, actor *store.User) (*Directory, error) {
	if actor == nil || !actor.IsStaff() || actor.Disabled {
		return nil, notAllowedf("only staff read the directory")
	}
	q := s.st.R()
	d := &Directory{}
	var err error
	if d.Companies, err = q.Companies(ctx); err != nil {
		return nil, err
	}
	for _, role := range []string{store.RoleAdmin, store.RoleSupervisor, store.RoleTech} {
		us, err := q.Users(ctx, store.AllCompanies(), store.UserFilter{Role: role, Limit: 500})
		if err != nil {
			return nil, err
		}
		for _, u := range us {
			if !u.Disabled {
				d.Staff = append(d.Staff, u)
			}
		}
	}
	if d.Categories, err = q.Categories(ctx); err != nil {
		return nil, err
	}
	if d.Queues, err = q.Queues(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

// StaffUser loads an active staff member by id (the assignee or
// participant picked in a form); anyone else is ErrInvalid.
func (s *Service) StaffUser(ctx context.Context, actor *store.User, id int64) (*store.User, error) {
	if actor == nil || !actor.IsStaff() || actor.Disabled {
		return nil, notAllowedf("only staff pick staff")
	}
	u, err := s.st.R().User(ctx, store.AllCompanies(), id)
	if err != nil || !u.IsStaff() || u.Disabled {
		return nil, invalidf("user %d is not active staff", id)
	}
	return u, nil
}

// UserByEmailForStaff finds anyone by e-mail, for staff (the queue's
// requester filter); ErrNotFound when there is no such user.
func (s *Service) UserByEmailForStaff(ctx context.Context, actor *store.User, email string) (*store.User, error) {
	if actor == nil || !actor.IsStaff() || actor.Disabled {
		return nil, notAllowedf("only staff look people up")
	}
	u, err := s.st.R().UserByEmail(ctx, store.AllCompanies(), strings.TrimSpace(email))
	return u, mapStoreErr(err)
}
