package ticketing

import (
	"context"

	"github.com/jcservicedesk/servicedesk/store"
)

// Attachment returns attachment id of ticket number with its bytes, if
// actor may see it: the ticket must be visible to them, and an internal
// note's attachment only to those who may see internal notes. Anything
// else is ErrNotFound, so a client cannot probe for ids.
func (s *Service) Attachment(ctx context.Context, actor *store.User, number, id int64) (*store.Attachment, []byte, error) {
	if actor == nil {
		return nil, nil, notAllowedf("no actor")
	}
	q := s.st.R()
	t, err := ticketInReach(ctx, q, actor, number, false)
	if err != nil {
		return nil, nil, err
	}
	participant, err := participationOf(ctx, q, actor, t)
	if err != nil {
		return nil, nil, err
	}
	if err := can(actor, t, participant, ActView); err != nil {
		return nil, nil, err
	}
	internal := can(actor, t, participant, ActViewInternal) == nil
	a, data, err := q.Attachment(ctx, scopeOf(actor, t), id, internal)
	if err != nil {
		return nil, nil, mapStoreErr(err)
	}
	if a.TicketID != t.ID {
		return nil, nil, notFoundf("attachment %d on ticket #%d", id, number)
	}
	return a, data, nil
}
