package ticketing

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
)

// SessionInfo is a session as the web and the profile see it. Token is
// only set when the session was just created.
type SessionInfo struct {
	ID                 string // public id, for lists and "end this session" forms; not the cookie
	Token              string // the cookie value; only on creation or rotation
	User               *store.User
	Company            *store.Company // nil for staff without a company
	Stage              string         // store.StageFull or store.StageMFA
	Methods            []string       // for StageMFA: of "totp", "email", "passkey", "recovery"
	CSRF               string         // the session's CSRF secret
	IP, UserAgent      string
	Remember           bool
	CreatedAt          time.Time
	LastUsedAt         time.Time
	ExpiresAt          time.Time
	AuthAt             *time.Time // when the person last proved who they are here; nil: long ago
	MustChangePassword bool       // the password is weaker than the policy: ask to change it
	// CodeSent: a sign-in code was mailed when this pending session began
	// (e-mail is its only method), so the page need not ask for one.
	CodeSent bool
}

// Second-factor methods.
const (
	MethodTOTP     = "totp"
	MethodEmail    = "email"
	MethodPasskey  = "passkey"
	MethodRecovery = "recovery"
)

func sessionInfo(se *store.Session, u *store.User, c *store.Company, token string) *SessionInfo {
	last := se.CreatedAt
	if se.LastUsedAt != nil {
		last = *se.LastUsedAt
	}
	return &SessionInfo{ID: se.PublicID, Token: token, User: u, Company: c, Stage: se.Stage,
		Methods: splitMethods(se.Methods), CSRF: se.CSRF, IP: se.IP, UserAgent: se.UserAgent,
		Remember: se.Remember, CreatedAt: se.CreatedAt, LastUsedAt: last, ExpiresAt: se.ExpiresAt,
		AuthAt: se.AuthAt, MustChangePassword: u.MustChangePassword}
}

// IPAllowed reports whether ip may use the accounts of company c: an
// empty list allows any address; rules are exact addresses or CIDR
// prefixes (host bits ignored); invalid rules are skipped; an unknown
// client address is refused when there is a list.
func IPAllowed(c *store.Company, ip netip.Addr) bool {
	if c == nil || len(c.AllowedIPs) == 0 {
		return true
	}
	if !ip.IsValid() {
		return false
	}
	ip = ip.Unmap().WithZone("")
	for _, rule := range c.AllowedIPs {
		rule = strings.TrimSpace(rule)
		if strings.Contains(rule, "/") {
			p, err := netip.ParsePrefix(rule)
			if err != nil {
				continue
			}
			if p.Addr().Is4In6() {
				p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
			}
			if p.Masked().Contains(ip) {
				return true
			}
			continue
		}
		if a, err := netip.ParseAddr(rule); err == nil && a.Unmap().WithZone("") == ip {
			return true
		}
	}
	return false
}

// Login checks a password and starts a session: StageFull, or StageMFA
// when the user has or must have a second factor. Five wrong passwords
// lock the account for 15 minutes, and while locked even the right one is
// refused. ErrUnconfirmed and ErrIPNotAllowed come only after a right
// password; everything else wrong is ErrBadLogin.
func (s *Service) Login(ctx context.Context, email, password string, remember bool, c Client) (*SessionInfo, error) {
	u, err := s.st.R().UserByEmail(ctx, store.AllCompanies(), email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	hash := ""
	if u != nil {
		hash = u.PasswordHash
	}
	ok, err := s.checkPassword(ctx, password, hash)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return nil, ErrBadLogin
	}
	var info *SessionInfo
	var refused error
	err = s.TxWith(ctx, func(tx *Tx) error {
		q := tx.q
		now := s.clock()
		if err := q.LockUser(ctx, u.ID); err != nil { // concurrent guesses all count
			return err
		}
		u, err := q.User(ctx, store.AllCompanies(), u.ID) // as it is now, not as it was read
		if err != nil {
			return err
		}
		fail := func(reason string) error {
			refused = ErrBadLogin
			return auditAccount(ctx, q, nil, u, "login_failed", clientDetails(c, map[string]any{"reason": reason}))
		}
		switch {
		case u.Disabled:
			return fail("disabled")
		case u.PasswordHash == "":
			return fail("no password")
		case u.LockedUntil != nil && now.Before(*u.LockedUntil):
			return fail("locked")
		case !ok:
			u.FailedLogins++
			if u.FailedLogins >= maxFailedLogins {
				until := now.Add(lockoutDuration)
				u.FailedLogins, u.LockedUntil = 0, &until
				if err := q.UpdateUser(ctx, u); err != nil {
					return err
				}
				refused = ErrBadLogin
				return auditAccount(ctx, q, nil, u, "lockout", clientDetails(c, map[string]any{"until": until}))
			}
			if err := q.UpdateUser(ctx, u); err != nil {
				return err
			}
			return fail("wrong password")
		}
		// The failures are forgiven once the sign-in is complete
		// (fullSession): wrong second-factor codes still add to them.
		u.LockedUntil = nil
		if u.ConfirmedAt == nil {
			u.FailedLogins = 0
			refused = ErrUnconfirmed
			if err := q.UpdateUser(ctx, u); err != nil {
				return err
			}
			return auditAccount(ctx, q, nil, u, "login_failed", clientDetails(c, map[string]any{"reason": "unconfirmed"}))
		}
		if CheckNewPassword(password) != nil {
			u.MustChangePassword = true
		}
		if err := q.UpdateUser(ctx, u); err != nil {
			return err
		}
		info, refused, err = tx.signIn(ctx, u, remember, c, "password")
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

// signIn starts the session of a user whose first factor is right: a
// pending one when a second factor is due, else a full one. It returns
// ErrIPNotAllowed (as refused, with the audit row committed) when the
// company's allow-list does not have the client.
func (tx *Tx) signIn(ctx context.Context, u *store.User, remember bool, c Client, method string) (*SessionInfo, error, error) {
	q := tx.q
	company, err := companyOf(ctx, q, u)
	if err != nil {
		return nil, nil, err
	}
	if !IPAllowed(company, c.IP) {
		return nil, ErrIPNotAllowed, auditAccount(ctx, q, nil, u, "login_failed",
			clientDetails(c, map[string]any{"reason": "address not allowed", "method": method}))
	}
	methods, err := tx.mfaMethods(ctx, u)
	if err != nil {
		return nil, nil, err
	}
	if len(methods) > 0 {
		info, err := tx.newSession(ctx, u, company, store.StageMFA, methods, remember, c)
		if err != nil {
			return nil, nil, err
		}
		if slices.Equal(methods, []string{MethodEmail}) {
			if info.CodeSent, err = tx.sendLoginCode(ctx, u, info.Token); err != nil {
				return nil, nil, err
			}
		}
		return info, nil, auditAccount(ctx, q, nil, u, "login_password",
			clientDetails(c, map[string]any{"method": method, "pending": methods}))
	}
	info, err := tx.fullSession(ctx, u, company, remember, c, method)
	return info, nil, err
}

// fullSession starts a signed-in session, notes the login and tells the
// user about a device not seen before.
func (tx *Tx) fullSession(ctx context.Context, u *store.User, company *store.Company, remember bool, c Client, method string) (*SessionInfo, error) {
	q := tx.q
	now := tx.s.clock()
	info, err := tx.newSession(ctx, u, company, store.StageFull, nil, remember, c)
	if err != nil {
		return nil, err
	}
	u.LastLoginAt = &now
	u.FailedLogins, u.LockedUntil = 0, nil
	if err := q.UpdateUser(ctx, u); err != nil {
		return nil, err
	}
	if err := auditAccount(ctx, q, nil, u, "login", clientDetails(c, map[string]any{"method": method, "remember": remember})); err != nil {
		return nil, err
	}
	if c.IP.IsValid() || c.UserAgent != "" {
		fp := sha256.Sum256([]byte(c.UserAgent + "\x00" + c.IP.String()))
		isNew, hadAny, err := q.SeeDevice(ctx, u.ID, hex.EncodeToString(fp[:]), now)
		if err != nil {
			return nil, err
		}
		if isNew && hadAny {
			if err := tx.mailAccount(ctx, &AccountMail{Kind: AccountNewDevice, User: u, Company: company, Client: c, Lang: u.Language}); err != nil {
				return nil, err
			}
		}
	}
	return info, nil
}

// newSession inserts a session with a new random token.
func (tx *Tx) newSession(ctx context.Context, u *store.User, company *store.Company, stage string, methods []string, remember bool, c Client) (*SessionInfo, error) {
	now := tx.s.clock()
	cfg := tx.s.accounts().cfg
	life := cfg.SessionLifetime
	switch {
	case stage == store.StageMFA:
		life = pendingSessionTTL
	case remember:
		life = cfg.RememberLifetime
	}
	if err := tx.q.DeleteExpiredSessions(ctx, u.ID, now); err != nil {
		return nil, err
	}
	token := randomToken(32)
	ip := ""
	if c.IP.IsValid() {
		ip = c.IP.String()
	}
	se := &store.Session{ID: tokenHash(token), PublicID: randomToken(12), UserID: u.ID, CSRF: randomToken(32),
		IP: ip, UserAgent: truncate(c.UserAgent, 400), Stage: stage, Methods: strings.Join(methods, ","),
		Remember: remember, CreatedAt: now, LastUsedAt: &now, ExpiresAt: now.Add(life)}
	if stage == store.StageFull { // a full session starts right after a credential was checked
		se.AuthAt = &now
	}
	if err := tx.q.CreateSession(ctx, se); err != nil {
		return nil, err
	}
	return sessionInfo(se, u, company, token), nil
}

func companyOf(ctx context.Context, q *store.Q, u *store.User) (*store.Company, error) {
	if u.CompanyID == nil {
		return nil, nil
	}
	return q.Company(ctx, *u.CompanyID)
}

// needs2FA: by the user's flag, their role, or a factor they set up.
func (s *Service) needs2FA(u *store.User) bool {
	return u.Require2FA || slices.Contains(s.accounts().cfg.Require2FARoles, u.Role)
}

// mfaMethods are the second factors a sign-in of u must pass, none when
// u has none and needs none. A user who must but set up nothing gets
// the code by e-mail.
func (tx *Tx) mfaMethods(ctx context.Context, u *store.User) ([]string, error) {
	required := tx.s.needs2FA(u)
	if !required && !u.TOTPEnabled && !u.EmailOTP {
		return nil, nil
	}
	passkeys, err := tx.q.CountPasskeys(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	var ms []string
	if u.TOTPEnabled {
		ms = append(ms, MethodTOTP)
	}
	if passkeys > 0 {
		ms = append(ms, MethodPasskey)
	}
	if u.EmailOTP || len(ms) == 0 {
		ms = append(ms, MethodEmail)
	}
	if u.TOTPEnabled {
		left, err := tx.q.RecoveryCodesLeft(ctx, u.ID)
		if err != nil {
			return nil, err
		}
		if left > 0 {
			ms = append(ms, MethodRecovery)
		}
	}
	return ms, nil
}

// Session finds the session of a cookie token: ErrNotFound when there is
// none, it expired, sat idle too long or its user is disabled;
// ErrIPNotAllowed when the company's allow-list does not have the client
// (checked on every request, not only at sign-in).
func (s *Service) Session(ctx context.Context, token string, c Client) (*SessionInfo, error) {
	if token == "" || len(token) > 200 {
		return nil, notFoundf("session")
	}
	r := s.st.R()
	id := tokenHash(token)
	se, err := r.SessionByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFoundf("session")
	} else if err != nil {
		return nil, err
	}
	now := s.clock()
	if s.sessionOver(se, now) {
		_ = s.TxWith(ctx, func(tx *Tx) error { _, err := tx.q.DeleteSession(ctx, id); return err })
		return nil, notFoundf("session")
	}
	u, err := r.User(ctx, store.AllCompanies(), se.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFoundf("session")
	} else if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, notFoundf("session")
	}
	company, err := companyOf(ctx, r, u)
	if err != nil {
		return nil, mapStoreErr(err)
	}
	if !IPAllowed(company, c.IP) {
		return nil, ErrIPNotAllowed
	}
	if se.LastUsedAt == nil || now.Sub(*se.LastUsedAt) >= touchEvery {
		ip := se.IP
		if c.IP.IsValid() {
			ip = c.IP.String()
		}
		ua := se.UserAgent
		if c.UserAgent != "" {
			ua = truncate(c.UserAgent, 400)
		}
		if err := s.TxWith(ctx, func(tx *Tx) error { return tx.q.TouchSession(ctx, id, now, ip, ua) }); err != nil {
			return nil, err
		}
		se.LastUsedAt, se.IP, se.UserAgent = &now, ip, ua
	}
	return sessionInfo(se, u, company, ""), nil
}

// sessionOver: expired, or (not remembered) unused longer than the idle
// timeout.
func (s *Service) sessionOver(se *store.Session, now time.Time) bool {
	if !now.Before(se.ExpiresAt) {
		return true
	}
	idle := s.accounts().cfg.IdleTimeout
	if se.Remember || idle < 0 || se.Stage != store.StageFull {
		return false
	}
	last := se.CreatedAt
	if se.LastUsedAt != nil {
		last = *se.LastUsedAt
	}
	return now.Sub(last) > idle
}

// Logout ends the session of a cookie token; an unknown one is no error.
func (s *Service) Logout(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	id := tokenHash(token)
	return s.TxWith(ctx, func(tx *Tx) error {
		se, err := tx.q.SessionByID(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		if _, err := tx.q.DeleteSession(ctx, id); err != nil {
			return err
		}
		u, err := tx.q.User(ctx, store.AllCompanies(), se.UserID)
		if err != nil {
			return err
		}
		return auditAccount(ctx, tx.q, nil, u, "logout", map[string]any{"session": se.PublicID})
	})
}

// RotateSession replaces the session of token with a new one (new id, new
// token, same user and expiry rules): after a change of privilege, such
// as setting up a second factor.
func (s *Service) RotateSession(ctx context.Context, token string, c Client) (*SessionInfo, error) {
	cur, err := s.Session(ctx, token, c)
	if err != nil {
		return nil, err
	}
	var info *SessionInfo
	err = s.TxWith(ctx, func(tx *Tx) error {
		if _, err := tx.q.DeleteSession(ctx, tokenHash(token)); err != nil {
			return err
		}
		if info, err = tx.newSession(ctx, cur.User, cur.Company, cur.Stage, cur.Methods, cur.Remember, c); err != nil {
			return err
		}
		// A new token is no new proof of identity: the time carries over.
		info.AuthAt = cur.AuthAt
		return tx.q.SetSessionAuthAt(ctx, tokenHash(info.Token), cur.AuthAt)
	})
	return info, err
}

// pendingSession loads the pending ("mfa") session of token.
func (tx *Tx) pendingSession(ctx context.Context, token string) (*store.Session, *store.User, error) {
	if token == "" {
		return nil, nil, ErrBadToken
	}
	// Held until the end: codes sent at once are counted one after the
	// other, not each against the same count.
	if err := tx.q.LockSession(ctx, tokenHash(token)); errors.Is(err, store.ErrNotFound) {
		return nil, nil, ErrBadToken
	} else if err != nil {
		return nil, nil, err
	}
	se, err := tx.q.SessionByID(ctx, tokenHash(token))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, ErrBadToken
	} else if err != nil {
		return nil, nil, err
	}
	if se.Stage != store.StageMFA || !tx.s.clock().Before(se.ExpiresAt) {
		return nil, nil, ErrBadToken
	}
	u, err := tx.q.User(ctx, store.AllCompanies(), se.UserID)
	if err != nil {
		return nil, nil, err
	}
	if u.Disabled {
		return nil, nil, ErrBadToken
	}
	return se, u, nil
}

// SendLoginCode mails a new 6-digit code for a pending session (and voids
// the previous one). ErrRateLimited: one a minute, five an hour.
func (s *Service) SendLoginCode(ctx context.Context, token string) error {
	var limited bool
	err := s.TxWith(ctx, func(tx *Tx) error {
		se, u, err := tx.pendingSession(ctx, token)
		if err != nil {
			return err
		}
		if !slices.Contains(splitMethods(se.Methods), MethodEmail) {
			return invalidf("this sign-in does not take a code by e-mail")
		}
		sent, err := tx.sendLoginCode(ctx, u, token)
		limited = !sent
		return err
	})
	if err != nil {
		return err
	}
	if limited {
		return fmt.Errorf("%w: wait a minute before asking for another code", ErrRateLimited)
	}
	return nil
}

// sendLoginCode queues a code for the pending session of token; false
// when the rate limit holds it back.
func (tx *Tx) sendLoginCode(ctx context.Context, u *store.User, token string) (bool, error) {
	if ok, err := tx.mailAllowed(ctx, u, AccountLoginCode); err != nil || !ok {
		return false, err
	}
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return false, fmt.Errorf("login code: %w", err)
	}
	code := fmt.Sprintf("%06d", n.Int64())
	now := tx.s.clock()
	sid := tokenHash(token)
	c := &store.OTPCode{UserID: u.ID, SessionID: sid, CodeHash: tx.s.codeHash("otp", sid, code),
		CreatedAt: now, ExpiresAt: now.Add(otpTTL)}
	if err := tx.q.CreateOTPCode(ctx, c); err != nil {
		return false, err
	}
	return true, tx.mailAccount(ctx, &AccountMail{Kind: AccountLoginCode, User: u, Code: code, Expires: c.ExpiresAt, Lang: u.Language})
}

// codeHash is how codes are stored: an HMAC, so a copy of the database
// does not give a million-guess table.
func (s *Service) codeHash(kind, scope, code string) string {
	return hex.EncodeToString(hmacSum(s.accounts().key, []byte(kind), []byte(scope), []byte(code)))
}

// VerifySecondFactor completes a pending sign-in with a TOTP code, the
// mailed code or a recovery code. Five wrong codes end the pending
// session (ErrRateLimited). On success a new full session replaces the
// pending one.
func (s *Service) VerifySecondFactor(ctx context.Context, token, method, code string, c Client) (*SessionInfo, error) {
	var info *SessionInfo
	var refused error
	err := s.TxWith(ctx, func(tx *Tx) error {
		q := tx.q
		se, u, err := tx.pendingSession(ctx, token)
		if err != nil {
			return err
		}
		if !slices.Contains(splitMethods(se.Methods), method) || method == MethodPasskey {
			return invalidf("method %q is not offered for this sign-in", method)
		}
		if se.Attempts >= maxCodeAttempts || (u.LockedUntil != nil && s.clock().Before(*u.LockedUntil)) {
			refused = ErrRateLimited
			_, err := q.DeleteSession(ctx, se.ID)
			return err
		}
		ok, err := tx.checkCode(ctx, u, se, method, code)
		if err != nil {
			return err
		}
		if !ok {
			n, err := q.CountSessionAttempt(ctx, se.ID)
			if err != nil {
				return err
			}
			refused = ErrBadCode
			// A wrong code counts toward the account's lockout like a
			// wrong password: a new sign-in brings no new guesses.
			if err := q.LockUser(ctx, u.ID); err != nil {
				return err
			}
			if u, err = q.User(ctx, store.AllCompanies(), u.ID); err != nil {
				return err
			}
			u.FailedLogins++
			locked := u.FailedLogins >= maxFailedLogins
			if locked {
				until := s.clock().Add(lockoutDuration)
				u.FailedLogins, u.LockedUntil = 0, &until
			}
			if err := q.UpdateUser(ctx, u); err != nil {
				return err
			}
			if n >= maxCodeAttempts || locked {
				refused = ErrRateLimited
				if _, err := q.DeleteSession(ctx, se.ID); err != nil {
					return err
				}
			}
			if err := auditAccount(ctx, q, nil, u, "login_failed", clientDetails(c, map[string]any{"reason": "wrong code", "method": method})); err != nil {
				return err
			}
			if locked {
				return auditAccount(ctx, q, nil, u, "lockout", clientDetails(c, map[string]any{"until": u.LockedUntil}))
			}
			return nil
		}
		info, refused, err = tx.completeSecondFactor(ctx, se, u, c, method)
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

// completeSecondFactor swaps a pending session for a full one, checking
// the allow-list again (the client may have moved since the password).
func (tx *Tx) completeSecondFactor(ctx context.Context, se *store.Session, u *store.User, c Client, method string) (*SessionInfo, error, error) {
	company, err := companyOf(ctx, tx.q, u)
	if err != nil {
		return nil, nil, err
	}
	if !IPAllowed(company, c.IP) {
		return nil, ErrIPNotAllowed, auditAccount(ctx, tx.q, nil, u, "login_failed",
			clientDetails(c, map[string]any{"reason": "address not allowed", "method": method}))
	}
	if _, err := tx.q.DeleteSession(ctx, se.ID); err != nil {
		return nil, nil, err
	}
	info, err := tx.fullSession(ctx, u, company, se.Remember, c, method)
	return info, nil, err
}

// checkCode checks one second-factor code of a pending session.
func (tx *Tx) checkCode(ctx context.Context, u *store.User, se *store.Session, method, code string) (bool, error) {
	now := tx.s.clock()
	code = strings.Join(strings.Fields(code), "")
	switch method {
	case MethodTOTP:
		return tx.checkTOTP(ctx, u, code)
	case MethodEmail:
		c, err := tx.q.LatestOTPCode(ctx, se.ID, now)
		if errors.Is(err, store.ErrNotFound) {
			return false, nil
		} else if err != nil {
			return false, err
		}
		c.Attempts++
		ok := c.Attempts <= maxCodeAttempts && hmacEqualHex(c.CodeHash, tx.s.codeHash("otp", se.ID, code))
		if ok {
			c.ConsumedAt = &now
		}
		return ok, tx.q.UpdateOTPCode(ctx, c)
	case MethodRecovery:
		return tx.q.UseRecoveryCode(ctx, u.ID, tx.s.codeHash("recovery", fmt.Sprint(u.ID), normalizeRecovery(code)), now)
	}
	return false, invalidf("unknown second factor %q", method)
}

// Sessions lists the signed-in sessions of the user with this address:
// one's own, or anyone's for an admin.
func (s *Service) Sessions(ctx context.Context, actor *store.User, email string) ([]*SessionInfo, error) {
	r := s.st.R()
	u, err := r.UserByEmail(ctx, store.AllCompanies(), email)
	if err != nil {
		return nil, mapStoreErr(err)
	}
	if err := requireSelfOrAdmin(actor, u); err != nil {
		return nil, err
	}
	company, err := companyOf(ctx, r, u)
	if err != nil {
		return nil, mapStoreErr(err)
	}
	ss, err := r.SessionsOfUser(ctx, u.ID, s.clock())
	if err != nil {
		return nil, err
	}
	out := make([]*SessionInfo, 0, len(ss))
	now := s.clock()
	for _, se := range ss {
		if se.Stage == store.StageFull && !s.sessionOver(se, now) {
			out = append(out, sessionInfo(se, u, company, ""))
		}
	}
	return out, nil
}

// EndSession ends one session by its public id: one's own, or anyone's
// for an admin. An id the actor may not end is ErrNotFound.
func (s *Service) EndSession(ctx context.Context, actor *store.User, id string) error {
	return s.TxWith(ctx, func(tx *Tx) error {
		se, err := tx.q.SessionByPublicID(ctx, id)
		if err != nil {
			return err
		}
		u, err := tx.q.User(ctx, store.AllCompanies(), se.UserID)
		if err != nil {
			return err
		}
		if requireSelfOrAdmin(actor, u) != nil {
			return notFoundf("session %s", id)
		}
		if _, err := tx.q.DeleteSession(ctx, se.ID); err != nil {
			return err
		}
		return auditAccount(ctx, tx.q, actor, u, "session_end", map[string]any{"session": se.PublicID, "ip": se.IP})
	})
}

// LogoutAll ends every session of the user with this address and says
// how many there were.
func (s *Service) LogoutAll(ctx context.Context, actor *store.User, email string) (int, error) {
	var n int
	err := s.TxWith(ctx, func(tx *Tx) error {
		u, err := tx.q.UserByEmail(ctx, store.AllCompanies(), email)
		if err != nil {
			return err
		}
		if err := requireSelfOrAdmin(actor, u); err != nil {
			return err
		}
		if n, err = tx.q.DeleteSessionsOfUser(ctx, u.ID, ""); err != nil {
			return err
		}
		return auditAccount(ctx, tx.q, actor, u, "session_end", map[string]any{"all": true, "count": n})
	})
	return n, err
}

// Unlock lifts a lockout (admins).
func (s *Service) Unlock(ctx context.Context, actor *store.User, email string) error {
	if err := requireAdmin(actor); err != nil {
		return err
	}
	return s.TxWith(ctx, func(tx *Tx) error {
		u, err := tx.q.UserByEmail(ctx, store.AllCompanies(), email)
		if err != nil {
			return err
		}
		before := map[string]any{"failed_logins": u.FailedLogins, "locked_until": u.LockedUntil}
		u.FailedLogins, u.LockedUntil = 0, nil
		if err := tx.q.UpdateUser(ctx, u); err != nil {
			return err
		}
		return tx.q.Audit(ctx, actor, u.CompanyIDValue(), "user", u.ID, "unlock", before, map[string]any{"failed_logins": 0})
	})
}
