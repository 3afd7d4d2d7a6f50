package ticketing

import (
	"context"

	"github.com/jcservicedesk/servicedesk/store"
)

// QuarantinedPage lists held messages, newest first: what the CLI's
// "mail quarantine list" shows, for the admin pages. Admins only.
func (s *Service) QuarantinedPage(ctx context.Context, actor *store.User, limit, offset int) ([]*store.Quarantined, error) {
	if err := requireMailAdmin(actor, "read quarantined mail"); err != nil {
		return nil, err
	}
	if limit <= 0 || offset < 0 {
		return nil, invalidf("page limit %d and offset %d", limit, offset)
	}
	ms, err := s.st.R().QuarantinePage(ctx, limit, offset)
	return ms, mapStoreErr(err)
}

// QuarantinedMessage is one held message with its raw bytes. Admins
// only: the raw mail is whatever a stranger sent.
func (s *Service) QuarantinedMessage(ctx context.Context, actor *store.User, id int64) (*store.Quarantined, []byte, error) {
	if err := requireMailAdmin(actor, "read quarantined mail"); err != nil {
		return nil, nil, err
	}
	m, raw, err := s.st.R().QuarantineGet(ctx, id)
	if err != nil {
		return nil, nil, mapStoreErr(err)
	}
	return m, raw, nil
}
