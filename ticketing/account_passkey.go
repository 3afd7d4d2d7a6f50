package ticketing

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
)

// Passkeys: the WebAuthn ceremony lives in web (go-webauthn); here the
// credentials are bytes, and the rules (whose they are, what a passkey
// sign-in starts) are the same as for any other sign-in.

// PasskeyCred is a stored WebAuthn credential; Data is the JSON of the
// library's webauthn.Credential.
type PasskeyCred struct {
	ID           int64
	CredentialID []byte
	Data         []byte
	Name         string
	CreatedAt    time.Time
	LastUsedAt   time.Time
}

func passkeyCreds(ps []*store.Passkey) []PasskeyCred {
	out := make([]PasskeyCred, len(ps))
	for i, p := range ps {
		out[i] = PasskeyCred{ID: p.ID, CredentialID: p.CredentialID, Data: p.Data, Name: p.Name, CreatedAt: p.CreatedAt}
		if p.LastUsedAt != nil {
			out[i].LastUsedAt = *p.LastUsedAt
		}
	}
	return out
}

// PasskeyUser returns the WebAuthn user handle of a user (made on first
// use: 32 random bytes, never the id or address) and their credentials.
func (s *Service) PasskeyUser(ctx context.Context, userID int64) ([]byte, []PasskeyCred, error) {
	var handle []byte
	var creds []PasskeyCred
	err := s.TxWith(ctx, func(tx *Tx) error {
		u, err := tx.q.User(ctx, store.AllCompanies(), userID)
		if err != nil {
			return err
		}
		if len(u.WebAuthnHandle) == 0 {
			u.WebAuthnHandle = make([]byte, 32)
			_, _ = rand.Read(u.WebAuthnHandle)
			if err := tx.q.UpdateUser(ctx, u); err != nil {
				return err
			}
		}
		handle = u.WebAuthnHandle
		ps, err := tx.q.Passkeys(ctx, u.ID)
		creds = passkeyCreds(ps)
		return err
	})
	return handle, creds, err
}

// PasskeyUserByHandle finds the user of a WebAuthn user handle (a
// passwordless sign-in) with their credentials.
func (s *Service) PasskeyUserByHandle(ctx context.Context, handle []byte) (*store.User, []PasskeyCred, error) {
	r := s.st.R()
	if len(handle) == 0 {
		return nil, nil, notFoundf("passkey user")
	}
	u, err := r.UserByWebAuthnHandle(ctx, handle)
	if err != nil {
		return nil, nil, mapStoreErr(err)
	}
	ps, err := r.Passkeys(ctx, u.ID)
	if err != nil {
		return nil, nil, err
	}
	return u, passkeyCreds(ps), nil
}

// AddPasskey stores a credential the web registered for the actor, in
// their session sessionID (its public id), which must have proved who
// they are within RecentAuthWindow (ErrReauth otherwise): a passkey is a
// way in that outlives a stolen session.
func (s *Service) AddPasskey(ctx context.Context, actor *store.User, sessionID, name string, credentialID, data []byte) error {
	name = truncate(strings.Join(strings.Fields(name), " "), 100)
	if len(credentialID) == 0 || len(credentialID) > 1023 || len(data) == 0 || len(data) > 64<<10 {
		return invalidf("invalid passkey")
	}
	if name == "" {
		name = "passkey"
	}
	return s.TxWith(ctx, func(tx *Tx) error {
		u, err := tx.ownAccount(ctx, actor)
		if err != nil {
			return err
		}
		if err := tx.recentSession(ctx, u, sessionID); err != nil {
			return err
		}
		p := &store.Passkey{UserID: u.ID, CredentialID: credentialID, Data: data, Name: name, CreatedAt: s.clock()}
		if err := tx.q.CreatePasskey(ctx, p); err != nil {
			return err
		}
		return auditAccount(ctx, tx.q, nil, u, "passkey_add", map[string]any{"passkey_id": p.ID, "name": name})
	})
}

// RemovePasskey deletes one of the actor's passkeys.
func (s *Service) RemovePasskey(ctx context.Context, actor *store.User, id int64) error {
	return s.TxWith(ctx, func(tx *Tx) error {
		u, err := tx.ownAccount(ctx, actor)
		if err != nil {
			return err
		}
		if err := tx.q.DeletePasskey(ctx, u.ID, id); err != nil {
			return err
		}
		return auditAccount(ctx, tx.q, nil, u, "passkey_remove", map[string]any{"passkey_id": id})
	})
}

// PasskeyLogin completes a WebAuthn assertion the web verified: data is
// the credential as updated (its sign count). With pendingToken "" it is
// a passwordless sign-in; else it is the second factor of that pending
// session, which must belong to the same user.
func (s *Service) PasskeyLogin(ctx context.Context, credentialID, data []byte, pendingToken string, remember bool, c Client) (*SessionInfo, error) {
	var info *SessionInfo
	var refused error
	err := s.TxWith(ctx, func(tx *Tx) error {
		q := tx.q
		p, err := q.PasskeyByCredentialID(ctx, credentialID)
		if errors.Is(err, store.ErrNotFound) {
			refused = ErrBadLogin
			return nil
		} else if err != nil {
			return err
		}
		u, err := q.User(ctx, store.AllCompanies(), p.UserID)
		if err != nil {
			return err
		}
		if u.Disabled || u.ConfirmedAt == nil || (u.LockedUntil != nil && s.clock().Before(*u.LockedUntil)) {
			refused = ErrBadLogin
			return nil
		}
		if len(data) > 0 {
			if err := q.UpdatePasskeyUse(ctx, p.ID, data, s.clock()); err != nil {
				return err
			}
		}
		if pendingToken == "" {
			company, err := companyOf(ctx, q, u)
			if err != nil {
				return err
			}
			if !IPAllowed(company, c.IP) {
				refused = ErrIPNotAllowed
				return auditAccount(ctx, q, nil, u, "login_failed", clientDetails(c, map[string]any{"reason": "address not allowed", "method": MethodPasskey}))
			}
			// A passkey is two factors in one (the device and its
			// unlock), so it starts a full session.
			info, err = tx.fullSession(ctx, u, company, remember, c, MethodPasskey)
			return err
		}
		se, pu, err := tx.pendingSession(ctx, pendingToken)
		if err != nil {
			return err
		}
		if pu.ID != u.ID {
			refused = ErrBadCode
			return nil
		}
		info, refused, err = tx.completeSecondFactor(ctx, se, u, c, MethodPasskey)
		return err
	})
	if err != nil {
		return nil, err
	}
	if refused != nil {
		return nil, refused
	}
	return info, nil
}
