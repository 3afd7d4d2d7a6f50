package ticketing

import (
	"context"
	"fmt"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
)

// RecentAuthWindow is how long after proving who they are (signing in,
// a second factor, the current password again) a person may make the
// changes that could hand their account to someone else, such as adding
// a passkey. A stolen session cookie alone is not enough for those.
const RecentAuthWindow = 5 * time.Minute

// ErrReauth: the change needs the person to confirm who they are again
// (ConfirmIdentity). It is an ErrNotAllowed.
var ErrReauth = fmt.Errorf("%w: confirm your identity again", ErrNotAllowed)

// recentSession loads actor's session sessionID (its public id) and
// refuses with ErrReauth unless its identity proof is recent.
func (tx *Tx) recentSession(ctx context.Context, actor *store.User, sessionID string) error {
	if actor == nil || actor.ID == 0 || sessionID == "" {
		return ErrReauth
	}
	se, err := tx.q.SessionByPublicID(ctx, sessionID)
	if err != nil || se.UserID != actor.ID || se.Stage != store.StageFull {
		return ErrReauth
	}
	if se.AuthAt == nil || tx.s.clock().Sub(*se.AuthAt) > RecentAuthWindow {
		return ErrReauth
	}
	return nil
}

// RequireRecentAuth says whether actor's session sessionID proved who
// they are recently enough (nil) or needs ConfirmIdentity (ErrReauth).
func (s *Service) RequireRecentAuth(ctx context.Context, actor *store.User, sessionID string) error {
	return s.TxWith(ctx, func(tx *Tx) error { return tx.recentSession(ctx, actor, sessionID) })
}

// ConfirmIdentity checks secret, the current password (or, for an account
// without one, a code of the authenticator app), and records on session
// sessionID that its person proved who they are now. A wrong password
// counts as a failed sign-in. An account with neither signs in again.
func (s *Service) ConfirmIdentity(ctx context.Context, actor *store.User, sessionID, secret string) error {
	if actor == nil || actor.ID == 0 {
		return notAllowedf("sign in first")
	}
	u, err := s.st.R().User(ctx, store.AllCompanies(), actor.ID)
	if err != nil {
		return mapStoreErr(err)
	}
	switch {
	case u.PasswordHash != "":
		if err := s.reauthenticate(ctx, actor, secret); err != nil {
			return err
		}
	case u.TOTPEnabled:
	default:
		return notAllowedf("%s has no password or authenticator app; sign in again to confirm", u.Email)
	}
	return s.TxWith(ctx, func(tx *Tx) error {
		if u.PasswordHash == "" {
			ok, err := tx.checkTOTP(ctx, u, secret)
			if err != nil {
				return err
			}
			if !ok {
				return ErrBadCode
			}
		}
		se, err := tx.q.SessionByPublicID(ctx, sessionID)
		if err != nil || se.UserID != u.ID || se.Stage != store.StageFull {
			return ErrReauth
		}
		now := tx.s.clock()
		if err := tx.q.SetSessionAuthAt(ctx, se.ID, &now); err != nil {
			return err
		}
		return auditAccount(ctx, tx.q, nil, u, "reauthenticate", nil)
	})
}
