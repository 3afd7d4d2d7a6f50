package ticketing

import (
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
)

// Registration, confirmation, password reset and sign-in links. Whether
// an address has an account is never told to the asker: the answer is the
// same, and the owner of the address gets a mail instead.

// RegisterInput is a self-registration from the portal.
type RegisterInput struct {
	Email, Name, Password, Language string
	Invite                          string // the token of /register?invite=
	ConsentRevisionID               *int64 // the privacy policy revision the person accepted
}

// registrationCompany is the company an address (or an invitation)
// registers with; the invitation comes back when one was used.
func (tx *Tx) registrationCompany(ctx context.Context, email, invite string) (*store.Company, *store.Invite, error) {
	q := tx.q
	if invite != "" {
		data, err := tx.s.OpenState(purposeInvite, invite)
		if err != nil || len(data) != 8 {
			return nil, nil, ErrBadToken
		}
		inv, err := q.Invite(ctx, int64(binary.BigEndian.Uint64(data)))
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil, ErrBadToken
		} else if err != nil {
			return nil, nil, err
		}
		if inv.UsedAt != nil || !tx.s.clock().Before(inv.ExpiresAt) {
			return nil, nil, ErrBadToken
		}
		if inv.Email != "" && email != "" && store.NormalizeEmail(email) != inv.Email {
			return nil, nil, invalidf("this invitation is for another address")
		}
		c, err := q.Company(ctx, inv.CompanyID)
		return c, inv, err
	}
	addr, err := NormalizeAddress(email)
	if err != nil {
		return nil, nil, err
	}
	domain := addr[strings.LastIndex(addr, "@")+1:]
	c, err := q.CompanyByDomain(ctx, domain)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, invalidf("no company registers addresses of %s; ask for an invitation", domain)
	} else if err != nil {
		return nil, nil, err
	}
	if c.AcceptAnyDomain {
		// Its domain is shared by strangers (a webmail): invitation only.
		return nil, nil, invalidf("this company registers people by invitation only")
	}
	return c, nil, nil
}

// RegistrationNeeds says, for the registration form, which company an
// address or invitation registers with and the privacy policy to accept
// (nil when the company does not ask for consent).
func (s *Service) RegistrationNeeds(ctx context.Context, email, invite string) (*store.Company, *store.LGPDRevision, error) {
	var c *store.Company
	var rev *store.LGPDRevision
	err := s.st.InTx(ctx, func(q *store.Q) error {
		tx := &Tx{s: s, q: q, emit: func(Event) {}}
		var err error
		if c, _, err = tx.registrationCompany(ctx, email, invite); err != nil {
			return err
		}
		if c.ConsentRequired {
			rev, err = currentRevision(ctx, q, c.ID)
		}
		return err
	})
	if err != nil {
		return nil, nil, mapStoreErr(err)
	}
	return c, rev, nil
}

// Register creates an unconfirmed client account and mails the
// confirmation link (24 h, single use). An address that already has an
// account gets the same nil answer, and its owner a notice.
func (s *Service) Register(ctx context.Context, in RegisterInput, c Client) error {
	email, err := NormalizeAddress(in.Email)
	if err != nil {
		return err
	}
	name := strings.Join(strings.Fields(in.Name), " ")
	if name == "" {
		return invalidf("name is empty")
	}
	if in.Language != "" && in.Language != "pt-BR" && in.Language != "en" {
		return invalidf("unknown language %q (want pt-BR or en)", in.Language)
	}
	if err := CheckNewPassword(in.Password); err != nil {
		return err
	}
	// Hashed before knowing whether the address exists: the time must
	// not tell.
	hash, err := s.hashPassword(ctx, in.Password)
	if err != nil {
		return err
	}
	return s.TxWith(ctx, func(tx *Tx) error {
		q := tx.q
		company, inv, err := tx.registrationCompany(ctx, email, in.Invite)
		if err != nil {
			return err
		}
		if company.ConsentRequired && in.ConsentRevisionID == nil {
			return invalidf("accept the privacy policy to register")
		}
		if old, err := q.UserByEmail(ctx, store.AllCompanies(), email); err == nil {
			if old.Disabled {
				return nil
			}
			if ok, err := tx.mailAllowed(ctx, old, AccountRegisterExists); err != nil || !ok {
				return err
			}
			return tx.mailAccount(ctx, &AccountMail{Kind: AccountRegisterExists, User: old, Client: c, Lang: old.Language})
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		now := s.clock()
		cid := company.ID
		u := &store.User{Email: email, Name: name, Role: store.RoleClient, CompanyID: &cid, PasswordHash: hash,
			Language: in.Language, PasswordChangedAt: &now}
		if err := q.CreateUser(ctx, u); err != nil {
			return err
		}
		details := clientDetails(c, map[string]any{"company_id": company.ID})
		if inv != nil {
			if ok, err := q.UseInvite(ctx, inv.ID, u.ID, now); err != nil {
				return err
			} else if !ok {
				return ErrBadToken
			}
			details["invite_id"] = inv.ID
		}
		if err := auditAccount(ctx, q, nil, u, "register", details); err != nil {
			return err
		}
		if in.ConsentRevisionID != nil {
			ip := ""
			if c.IP.IsValid() {
				ip = c.IP.String()
			}
			if _, err := tx.accept(ctx, u, *in.ConsentRevisionID, ip, store.ChannelWeb); err != nil {
				return err
			}
		}
		if _, err := tx.mailAllowed(ctx, u, AccountConfirm); err != nil {
			return err
		}
		return tx.mailAccount(ctx, &AccountMail{Kind: AccountConfirm, User: u, Company: company,
			Token: s.accountToken(purposeConfirm, u, confirmTTL), Expires: now.Add(confirmTTL), Lang: u.Language})
	})
}

// Confirm confirms an address by the mailed link.
func (s *Service) Confirm(ctx context.Context, token string) (*store.User, error) {
	var u *store.User
	err := s.TxWith(ctx, func(tx *Tx) error {
		var err error
		if u, err = tx.openAccountToken(ctx, purposeConfirm, token); err != nil {
			return err
		}
		if u.ConfirmedAt != nil {
			return nil
		}
		now := s.clock()
		u.ConfirmedAt = &now
		if err := tx.q.UpdateUser(ctx, u); err != nil {
			return err
		}
		return auditAccount(ctx, tx.q, nil, u, "confirm", nil)
	})
	return u, err
}

// userForMail finds the active user of an address for a mailed link; nil
// when there is none (the caller answers the same either way).
func (tx *Tx) userForMail(ctx context.Context, email string) (*store.User, error) {
	u, err := tx.q.UserByEmail(ctx, store.AllCompanies(), email)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, nil
	}
	return u, nil
}

// ResendConfirmation mails a new confirmation link to an unconfirmed
// account. Always nil for any address (no enumeration).
func (s *Service) ResendConfirmation(ctx context.Context, email string) error {
	return s.TxWith(ctx, func(tx *Tx) error {
		u, err := tx.userForMail(ctx, email)
		if err != nil || u == nil || u.ConfirmedAt != nil {
			return err
		}
		if ok, err := tx.mailAllowed(ctx, u, AccountConfirm); err != nil || !ok {
			return err
		}
		return tx.mailAccount(ctx, &AccountMail{Kind: AccountConfirm, User: u,
			Token: s.accountToken(purposeConfirm, u, confirmTTL), Expires: s.clock().Add(confirmTTL), Lang: u.Language})
	})
}

// Forgot mails a password reset link (2 h, single use, void after any
// password change). Always nil for any address.
func (s *Service) Forgot(ctx context.Context, email string, c Client) error {
	return s.TxWith(ctx, func(tx *Tx) error {
		u, err := tx.userForMail(ctx, email)
		if err != nil || u == nil {
			return err
		}
		if ok, err := tx.mailAllowed(ctx, u, AccountReset); err != nil || !ok {
			return err
		}
		return tx.mailAccount(ctx, &AccountMail{Kind: AccountReset, User: u, Client: c,
			Token: s.accountToken(purposeReset, u, resetTTL), Expires: s.clock().Add(resetTTL), Lang: u.Language})
	})
}

// ResetPassword sets a new password by a reset link. It also confirms the
// address (the link proves it), lifts a lockout, ends every session and
// removes the passkeys.
func (s *Service) ResetPassword(ctx context.Context, token, password string, c Client) error {
	if _, _, err := s.openState(purposeReset, token); err != nil {
		return err
	}
	if err := CheckNewPassword(password); err != nil {
		return err
	}
	hash, err := s.hashPassword(ctx, password)
	if err != nil {
		return err
	}
	return s.TxWith(ctx, func(tx *Tx) error {
		u, err := tx.openAccountToken(ctx, purposeReset, token)
		if err != nil {
			return err
		}
		n, err := tx.setPassword(ctx, u, hash, "")
		if err != nil {
			return err
		}
		// Whoever had the account before the reset may have added a
		// passkey: it goes with the sessions, and the person adds theirs
		// again (the reset page says so).
		pk, err := tx.q.DeletePasskeysOfUser(ctx, u.ID)
		if err != nil {
			return err
		}
		return auditAccount(ctx, tx.q, nil, u, "password_reset", clientDetails(c, map[string]any{"sessions_ended": n, "passkeys_removed": pk}))
	})
}

// setPassword stores a new hash, voids the reset links, lifts a lockout
// and ends every session but keep (a token hash).
func (tx *Tx) setPassword(ctx context.Context, u *store.User, hash, keep string) (int, error) {
	now := tx.s.clock()
	u.PasswordHash, u.PasswordChangedAt = hash, &now
	u.FailedLogins, u.LockedUntil, u.MustChangePassword = 0, nil, false
	if u.ConfirmedAt == nil {
		u.ConfirmedAt = &now
	}
	if err := tx.q.UpdateUser(ctx, u); err != nil {
		return 0, err
	}
	return tx.q.DeleteSessionsOfUser(ctx, u.ID, keep)
}

// SendSignInLink mails a sign-in link (15 min, single use): how people
// who only ever wrote by mail, and have no password, get in. Always nil
// for any address.
func (s *Service) SendSignInLink(ctx context.Context, email string, c Client) error {
	return s.TxWith(ctx, func(tx *Tx) error {
		u, err := tx.userForMail(ctx, email)
		if err != nil || u == nil {
			return err
		}
		if ok, err := tx.mailAllowed(ctx, u, AccountSignInLink); err != nil || !ok {
			return err
		}
		return tx.mailAccount(ctx, &AccountMail{Kind: AccountSignInLink, User: u, Client: c,
			Token: s.accountToken(purposeSignIn, u, signInLinkTTL), Expires: s.clock().Add(signInLinkTTL), Lang: u.Language})
	})
}

// SignInWithLink signs in by a mailed link. The second factor and the
// allow-list still apply; the link confirms the address.
func (s *Service) SignInWithLink(ctx context.Context, token string, remember bool, c Client) (*SessionInfo, error) {
	var info *SessionInfo
	var refused error
	err := s.TxWith(ctx, func(tx *Tx) error {
		u, err := tx.openAccountToken(ctx, purposeSignIn, token)
		if err != nil {
			return err
		}
		if u.ConfirmedAt == nil {
			now := s.clock()
			u.ConfirmedAt = &now
		}
		u.FailedLogins, u.LockedUntil = 0, nil
		if err := tx.q.UpdateUser(ctx, u); err != nil {
			return err
		}
		info, refused, err = tx.signIn(ctx, u, remember, c, "link")
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

// ChangePassword changes the actor's password after checking the current
// one (accounts without a password set their first one). The current
// session is replaced by a new one, which it returns; the others end.
func (s *Service) ChangePassword(ctx context.Context, actor *store.User, sessionToken, current, next string) (*SessionInfo, error) {
	if err := s.reauthenticate(ctx, actor, current); err != nil {
		return nil, err
	}
	if err := CheckNewPassword(next); err != nil {
		return nil, err
	}
	hash, err := s.hashPassword(ctx, next)
	if err != nil {
		return nil, err
	}
	var info *SessionInfo
	err = s.TxWith(ctx, func(tx *Tx) error {
		u, err := tx.ownAccount(ctx, actor)
		if err != nil {
			return err
		}
		var old *store.Session
		if sessionToken != "" {
			if old, err = tx.q.SessionByID(ctx, tokenHash(sessionToken)); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			if old != nil && old.UserID != u.ID {
				old = nil
			}
		}
		n, err := tx.setPassword(ctx, u, hash, "")
		if err != nil {
			return err
		}
		if old != nil {
			company, err := companyOf(ctx, tx.q, u)
			if err != nil {
				return err
			}
			c := Client{UserAgent: old.UserAgent}
			c.IP = parseIP(old.IP)
			if info, err = tx.newSession(ctx, u, company, store.StageFull, nil, old.Remember, c); err != nil {
				return err
			}
		}
		*actor = *u
		return auditAccount(ctx, tx.q, nil, u, "password_change", map[string]any{"sessions_ended": n})
	})
	return info, err
}

// CreateInvite makes an invitation to register with a company (admins),
// valid for ttl (default 7 days, at most 30), for one address or, with
// email "", for whoever has the link. With an address the invitation is
// mailed too. It returns the token for /register?invite=.
func (s *Service) CreateInvite(ctx context.Context, actor *store.User, companyRef, email string, ttl time.Duration) (string, error) {
	if err := requireAdmin(actor); err != nil {
		return "", err
	}
	if ttl == 0 {
		ttl = defaultInviteTTL
	}
	if ttl < time.Minute || ttl > maxInviteTTL {
		return "", invalidf("an invitation lasts between a minute and 30 days, not %s", ttl)
	}
	if email != "" {
		var err error
		if email, err = NormalizeAddress(email); err != nil {
			return "", err
		}
	}
	var token string
	err := s.TxWith(ctx, func(tx *Tx) error {
		q := tx.q
		c, err := q.CompanyByRef(ctx, companyRef)
		if err != nil {
			return err
		}
		now := s.clock()
		inv := &store.Invite{CompanyID: c.ID, Email: email, CreatedAt: now, ExpiresAt: now.Add(ttl)}
		if actor.ID > 0 {
			id := actor.ID
			inv.CreatedBy = &id
		}
		if err := q.CreateInvite(ctx, inv); err != nil {
			return err
		}
		data := make([]byte, 8)
		binary.BigEndian.PutUint64(data, uint64(inv.ID))
		token = s.SignState(purposeInvite, data, ttl)
		if err := q.Audit(ctx, actor, c.ID, "company", c.ID, "invite", nil,
			map[string]any{"invite_id": inv.ID, "email": email, "expires_at": inv.ExpiresAt}); err != nil {
			return err
		}
		if email == "" {
			return nil
		}
		return tx.mailAccount(ctx, &AccountMail{Kind: AccountInvite, To: email, Company: c, Token: token, Expires: inv.ExpiresAt})
	})
	return token, err
}
