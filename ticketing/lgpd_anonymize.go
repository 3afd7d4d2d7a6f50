package ticketing

import (
	"context"
	"fmt"
	"strings"

	"github.com/jcservicedesk/servicedesk/store"
)

// ErasedPlaceholder replaces what an erased person wrote.
const ErasedPlaceholder = "[removido a pedido do titular]"

// AnonymizeResult says what an erasure changed (or, dry, would change).
type AnonymizeResult struct {
	UserID int64 `json:"user_id"`
	DryRun bool  `json:"dry_run"`
	store.EraseCounts
}

// AnonymizedEmail is the placeholder address of an erased person: unique,
// and in the reserved .invalid domain so nothing is ever mailed to it.
func AnonymizedEmail(id int64) string { return fmt.Sprintf("anon-%d@invalid", id) }

// Anonymize erases a person (LGPD art. 18, VI) in one transaction: their
// name, address and profile, what they wrote, their raw mails, files,
// outbox copies, sessions, and their traces in audit rows and in others'
// messages; statistics stay. The audit row it writes holds counts only.
// Admins only; not oneself, and never the last admin. dryRun counts what
// would change and rolls everything back.
func (s *Service) Anonymize(ctx context.Context, actor *store.User, userID int64, dryRun bool) (*AnonymizeResult, error) {
	if err := requireLGPDAdmin(actor); err != nil {
		return nil, err
	}
	if actor.ID == userID {
		return nil, notAllowedf("an admin cannot erase themselves; ask another admin")
	}
	res := &AnonymizeResult{UserID: userID, DryRun: dryRun}
	err := s.txMaybeDry(ctx, dryRun, func(tx *Tx) error {
		q := tx.q
		u, err := q.User(ctx, store.AllCompanies(), userID)
		if err != nil {
			return err
		}
		if u.Email == AnonymizedEmail(u.ID) {
			return invalidf("user %d is already anonymized", u.ID)
		}
		if u.Role == store.RoleAdmin && !u.Disabled {
			n, err := q.CountOtherAdmins(ctx, u.ID)
			if err != nil {
				return err
			}
			if n == 0 {
				return notAllowedf("%s is the only admin; make another admin first", u.Email)
			}
		}
		counts, err := q.ErasePerson(ctx, store.EraseTarget{UserID: u.ID, AnonEmail: AnonymizedEmail(u.ID),
			AnonName: fmt.Sprintf("Titular anonimizado #%d", u.ID), Placeholder: ErasedPlaceholder})
		if err != nil {
			return err
		}
		res.EraseCounts = counts
		// Counts only: the record of an erasure must not undo it.
		return q.Audit(ctx, actor, u.CompanyIDValue(), "user", u.ID, "anonymize", nil, counts)
	})
	if err != nil {
		return nil, err
	}
	if dryRun {
		return res, nil
	}
	// The rows are rewritten; now make the files forget the old bytes.
	if err := s.st.Compact(ctx); err != nil {
		return res, fmt.Errorf("anonymized, but compacting the database failed: %w", err)
	}
	return res, nil
}

// UserIDByEmail resolves an address for commands that name a person.
func (s *Service) UserIDByEmail(ctx context.Context, email string) (int64, error) {
	u, err := s.st.R().UserByEmail(ctx, store.AllCompanies(), strings.TrimSpace(email))
	if err != nil {
		return 0, mapStoreErr(err)
	}
	return u.ID, nil
}
