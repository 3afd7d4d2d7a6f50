package ticketing

import (
	"context"

	"github.com/jcservicedesk/servicedesk/store"
)

// ClearBouncing lifts the bounce suppression of addr, so it is mailed
// again (with dry: only checks that it is marked). Admins only; audited.
func (s *Service) ClearBouncing(ctx context.Context, actor *store.User, addr string, dry bool) error {
	if err := requireMailAdmin(actor, "clear a bounce suppression"); err != nil {
		return err
	}
	addr, err := NormalizeAddress(addr)
	if err != nil {
		return err
	}
	return s.txMaybeDry(ctx, dry, func(tx *Tx) error {
		cleared, err := tx.q.ClearBouncing(ctx, addr)
		if err != nil {
			return err
		}
		if !cleared {
			return notFoundf("%s is not marked as bouncing", addr)
		}
		return tx.q.Audit(ctx, actor, 0, "mail_address", 0, "clear_bouncing", nil, map[string]string{"email": addr})
	})
}
