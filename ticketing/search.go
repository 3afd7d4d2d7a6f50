package ticketing

import (
	"context"
	"errors"
	"strings"

	"github.com/jcservicedesk/servicedesk/store"
)

// Search finds the tickets actor may see whose text matches q (the
// syntax of store.ParseSearch: words, "phrases", -word, OR, the last word
// as a prefix), best first. f narrows as in List (statuses, company,
// assignee, requester; Limit, Offset); its Search and After do not apply.
//
// The policy decides what the store may look at: the companies of the
// actor's scope; for a client whose colleagues' tickets it may not view,
// only the tickets it opened or takes part in; internal notes and their
// attachments only for whoever may view internal content. A ticket is
// never found by a word the actor could not read on it.
func (s *Service) Search(ctx context.Context, actor *store.User, q string, f store.TicketFilter) ([]*store.SearchHit, error) {
	if actor == nil || actor.Disabled {
		return nil, notAllowedf("disabled users cannot search tickets")
	}
	if strings.TrimSpace(q) == "" {
		return nil, invalidf("the search is empty")
	}
	if f.Search != "" || f.After != nil {
		return nil, invalidf("a search is ordered by relevance: Search and After do not apply")
	}
	sf := store.SearchFilter{TicketFilter: f, Text: q,
		// Whether internal notes may be read depends on the role alone:
		// the policy grants it to staff on every ticket and to clients
		// on none.
		WithInternal: Allowed(actor.Role, actor.Disabled, ActViewInternal, Relation{})}
	if !actor.IsStaff() {
		company, err := s.sharesWithColleagues(ctx, actor)
		if err != nil {
			return nil, err
		}
		if !company {
			sf.InvolvingUserID = actor.ID
		}
	}
	hits, err := s.st.R().SearchTickets(ctx, actor.Scope(), sf)
	if errors.Is(err, store.ErrBadSearch) {
		return nil, invalidf("%s", strings.TrimPrefix(err.Error(), store.ErrBadSearch.Error()+": "))
	}
	if err != nil {
		return nil, mapStoreErr(err)
	}
	if !actor.IsStaff() {
		for _, h := range hits {
			redactInternal(h.Ticket)
		}
	}
	return hits, nil
}

// sharesWithColleagues asks the policy whether client actor may view
// every ticket of its company, as a colleague who is neither requester
// nor participant: the relation of the actor to a ticket of its company
// opened by someone else.
func (s *Service) sharesWithColleagues(ctx context.Context, actor *store.User) (bool, error) {
	if actor.CompanyID == nil {
		return false, nil
	}
	c, err := s.st.R().Company(ctx, *actor.CompanyID)
	if err != nil {
		return false, mapStoreErr(err)
	}
	colleagues := &store.Ticket{CompanyID: c.ID, Company: c}
	return Allowed(actor.Role, actor.Disabled, ActView, RelationOf(actor, colleagues, false)), nil
}
