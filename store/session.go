package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Session stages.
const (
	StageFull = "full" // signed in
	StageMFA  = "mfa"  // password right, second factor pending
)

// Session is a signed-in browser. The cookie holds a random token; the
// row is keyed by its SHA-256 (ID), so a copy of the database signs no
// one in. PublicID names the session in lists and forms.
type Session struct {
	bun.BaseModel `bun:"table:sessions,alias:se"`

	ID         string     `bun:"id,pk"`
	PublicID   string     `bun:"public_id,notnull"`
	UserID     int64      `bun:"user_id,notnull"`
	CSRF       string     `bun:"csrf_token,notnull"`
	IP         string     `bun:"ip,notnull"`
	UserAgent  string     `bun:"user_agent,notnull"`
	Stage      string     `bun:"stage,notnull"`
	Methods    string     `bun:"methods,notnull"` // comma-separated, for StageMFA
	Attempts   int        `bun:"attempts,notnull"`
	Remember   bool       `bun:"remember,notnull"`
	CreatedAt  time.Time  `bun:"created_at,notnull"`
	LastUsedAt *time.Time `bun:"last_used_at"`
	ExpiresAt  time.Time  `bun:"expires_at,notnull"`
	// AuthAt is when the person last proved who they are in this session
	// (sign-in, second factor, password again); nil: long ago.
	AuthAt *time.Time `bun:"auth_at"`
}

// CreateSession inserts s.
func (q *Q) CreateSession(ctx context.Context, s *Session) error {
	if _, err := q.db.NewInsert().Model(s).Exec(ctx); err != nil {
		return conflict(err, "session")
	}
	return nil
}

// SessionByID finds a session by the hash of its token.
func (q *Q) SessionByID(ctx context.Context, id string) (*Session, error) {
	s := new(Session)
	if err := q.db.NewSelect().Model(s).Where("se.id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "session")
	}
	return s, nil
}

// SessionByPublicID finds a session by its public id.
func (q *Q) SessionByPublicID(ctx context.Context, publicID string) (*Session, error) {
	s := new(Session)
	if err := q.db.NewSelect().Model(s).Where("se.public_id = ?", publicID).Scan(ctx); err != nil {
		return nil, notFound(err, "session "+publicID)
	}
	return s, nil
}

// SessionsOfUser lists a user's sessions that have not expired at now,
// most recently used first.
func (q *Q) SessionsOfUser(ctx context.Context, userID int64, now time.Time) ([]*Session, error) {
	var ss []*Session
	err := q.db.NewSelect().Model(&ss).Where("se.user_id = ? AND se.expires_at > ?", userID, now.UTC()).
		OrderExpr("COALESCE(se.last_used_at, se.created_at) DESC, se.public_id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: sessions of user %d: %w", userID, err)
	}
	return ss, nil
}

// TouchSession records a use of the session from ip and user agent.
func (q *Q) TouchSession(ctx context.Context, id string, at time.Time, ip, userAgent string) error {
	_, err := q.db.NewUpdate().Model((*Session)(nil)).Set("last_used_at = ?", at.UTC()).Set("ip = ?", ip).
		Set("user_agent = ?", userAgent).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: touch session: %w", err)
	}
	return nil
}

// CountSessionAttempt adds one to the second-factor attempts of a session
// and returns the new count.
func (q *Q) CountSessionAttempt(ctx context.Context, id string) (int, error) {
	if _, err := q.db.NewUpdate().Model((*Session)(nil)).Set("attempts = attempts + 1").Where("id = ?", id).Exec(ctx); err != nil {
		return 0, fmt.Errorf("store: session attempt: %w", err)
	}
	var n int
	if err := q.db.NewSelect().Model((*Session)(nil)).Column("attempts").Where("id = ?", id).Scan(ctx, &n); err != nil {
		return 0, notFound(err, "session")
	}
	return n, nil
}

// DeleteSession removes one session; it reports whether there was one.
func (q *Q) DeleteSession(ctx context.Context, id string) (bool, error) {
	res, err := q.db.NewDelete().Model((*Session)(nil)).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("store: delete session: %w", err)
	}
	n, err := rowsAffected(res)
	return n > 0, err
}

// DeleteSessionsOfUser ends every session of a user but keep (a token
// hash; "" keeps none) and returns how many ended.
func (q *Q) DeleteSessionsOfUser(ctx context.Context, userID int64, keep string) (int, error) {
	res, err := q.db.NewDelete().Model((*Session)(nil)).Where("user_id = ? AND id <> ?", userID, keep).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: delete sessions of user %d: %w", userID, err)
	}
	n, err := rowsAffected(res)
	return int(n), err
}

// DeleteExpiredSessions removes the sessions of a user that expired
// before now (sign-in tidies up after the same person).
func (q *Q) DeleteExpiredSessions(ctx context.Context, userID int64, now time.Time) error {
	_, err := q.db.NewDelete().Model((*Session)(nil)).Where("user_id = ? AND expires_at <= ?", userID, now.UTC()).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: delete expired sessions: %w", err)
	}
	return nil
}

// UsedToken is a single-use token already spent, kept until it expires.
type UsedToken struct {
	bun.BaseModel `bun:"table:used_tokens"`

	TokenHash string    `bun:"token_hash,pk"`
	Purpose   string    `bun:"purpose,notnull"`
	UsedAt    time.Time `bun:"used_at,notnull"`
	ExpiresAt time.Time `bun:"expires_at,notnull"`
}

// UseToken records a token as spent; a token spent before is ErrConflict.
// Rows of tokens expired before now go at the same time.
func (q *Q) UseToken(ctx context.Context, t *UsedToken, now time.Time) error {
	if _, err := q.db.NewDelete().Model((*UsedToken)(nil)).Where("expires_at < ?", now.UTC()).Exec(ctx); err != nil {
		return fmt.Errorf("store: expire used tokens: %w", err)
	}
	var n int
	if q.pg {
		// A conflicting insert would abort the PostgreSQL transaction.
		res, err := q.db.NewInsert().Model(t).On("CONFLICT DO NOTHING").Exec(ctx)
		if err != nil {
			return fmt.Errorf("store: use token: %w", err)
		}
		m, err := rowsAffected(res)
		if err != nil {
			return err
		}
		n = int(m)
	} else {
		res, err := q.db.NewInsert().Model(t).Ignore().Exec(ctx)
		if err != nil {
			return fmt.Errorf("store: use token: %w", err)
		}
		m, err := rowsAffected(res)
		if err != nil {
			return err
		}
		n = int(m)
	}
	if n == 0 {
		return fmt.Errorf("%w: token already used", ErrConflict)
	}
	return nil
}

// LockSession holds the row of a session until the transaction ends (the
// second-factor attempts of a pending sign-in); ErrNotFound when it is
// gone. SQLite's write transactions are already serial.
func (q *Q) LockSession(ctx context.Context, id string) error {
	if !q.pg {
		return nil
	}
	var got string
	if err := q.db.NewSelect().Model((*Session)(nil)).Column("se.id").Where("se.id = ?", id).For("UPDATE").Scan(ctx, &got); err != nil {
		return notFound(err, "session")
	}
	return nil
}

// SetSessionAuthAt records that the person behind session id (the token
// hash) proved who they are at at.
func (q *Q) SetSessionAuthAt(ctx context.Context, id string, at *time.Time) error {
	if _, err := q.db.NewUpdate().Model((*Session)(nil)).Set("auth_at = ?", at).Where("id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("store: session auth time: %w", err)
	}
	return nil
}
