package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// Roles, from least to most powerful.
const (
	RoleClient     = "client"
	RoleTech       = "tech"
	RoleSupervisor = "supervisor"
	RoleAdmin      = "admin"
)

// ValidRole reports whether r is one of the four roles.
func ValidRole(r string) bool {
	switch r {
	case RoleClient, RoleTech, RoleSupervisor, RoleAdmin:
		return true
	}
	return false
}

// User is a requester or a member of staff.
type User struct {
	bun.BaseModel `bun:"table:users,alias:u"`

	ID             int64      `bun:"id,pk,autoincrement" json:"id"`
	Email          string     `bun:"email,notnull" json:"email"`
	Name           string     `bun:"name,notnull" json:"name"`
	Role           string     `bun:"role,notnull" json:"role"`
	CompanyID      *int64     `bun:"company_id" json:"company_id"`
	PasswordHash   string     `bun:"password_hash,notnull" json:"-"`
	ConfirmedAt    *time.Time `bun:"confirmed_at" json:"confirmed_at"`
	TOTPEnabled    bool       `bun:"totp_enabled,notnull" json:"totp_enabled"`
	TOTPSecret     string     `bun:"totp_secret,notnull" json:"-"`
	FailedLogins   int        `bun:"failed_logins,notnull" json:"failed_logins"`
	LockedUntil    *time.Time `bun:"locked_until" json:"locked_until"`
	LGPDConsentAt  *time.Time `bun:"lgpd_consent_at" json:"lgpd_consent_at"`
	LGPDRevisionID *int64     `bun:"lgpd_revision_id" json:"lgpd_revision_id"`
	Disabled       bool       `bun:"disabled,notnull" json:"disabled"`
	Language       string     `bun:"language,notnull" json:"language"`
	NotifyPrefs    string     `bun:"notify_prefs,notnull" json:"-"`
	LastLoginAt    *time.Time `bun:"last_login_at" json:"last_login_at"`
	// TimeZone is the IANA zone the user reads times in ("" = the company's).
	TimeZone   string `bun:"time_zone,notnull" json:"time_zone"`
	Require2FA bool   `bun:"require_2fa,notnull" json:"require_2fa"`
	// EmailOTP: a code by e-mail is the user's second factor.
	EmailOTP     bool  `bun:"email_otp,notnull" json:"email_otp"`
	TOTPLastStep int64 `bun:"totp_last_step,notnull" json:"-"`
	// AvatarType is the avatar's content type, "" when none (the image
	// itself is in user_avatars).
	AvatarType        string     `bun:"avatar_type,notnull" json:"avatar_type,omitempty"`
	WebAuthnHandle    []byte     `bun:"webauthn_handle" json:"-"`
	PasswordChangedAt *time.Time `bun:"password_changed_at" json:"password_changed_at"`
	// MustChangePassword: the password signed in but is weaker than the
	// policy for new ones.
	MustChangePassword bool      `bun:"must_change_password,notnull" json:"must_change_password"`
	CreatedAt          time.Time `bun:"created_at,notnull" json:"created_at"`
	UpdatedAt          time.Time `bun:"updated_at,notnull" json:"updated_at"`

	Company *Company `bun:"rel:belongs-to,join:company_id=id" json:"-"`
}

// IsStaff reports whether u works tickets (tech, supervisor or admin).
func (u *User) IsStaff() bool { return u != nil && u.Role != RoleClient }

// Scope is the set of companies u may see.
func (u *User) Scope() Scope {
	if u.IsStaff() {
		return AllCompanies()
	}
	if u.CompanyID == nil {
		return Scope{} // a client without a company sees nothing
	}
	return CompanyScope(*u.CompanyID)
}

// CompanyIDValue is the user's company id, 0 when none.
func (u *User) CompanyIDValue() int64 {
	if u == nil || u.CompanyID == nil {
		return 0
	}
	return *u.CompanyID
}

// NormalizeEmail is how addresses are stored and compared.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// CreateUser inserts u; an email already used (in any case) is ErrConflict.
func (q *Q) CreateUser(ctx context.Context, u *User) error {
	u.Email = NormalizeEmail(u.Email)
	u.CreatedAt, u.UpdatedAt = now(), now()
	if u.NotifyPrefs == "" {
		u.NotifyPrefs = "{}"
	}
	if _, err := q.db.NewInsert().Model(u).Returning("id").Exec(ctx); err != nil {
		return conflict(err, "user "+u.Email)
	}
	return nil
}

// UpdateUser saves every field of u.
func (q *Q) UpdateUser(ctx context.Context, u *User) error {
	u.Email = NormalizeEmail(u.Email)
	u.UpdatedAt = now()
	res, err := q.db.NewUpdate().Model(u).ExcludeColumn("created_at").WherePK().Exec(ctx)
	if err != nil {
		return conflict(err, "user "+u.Email)
	}
	if n, err := rowsAffected(res); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("%w: user %d", ErrNotFound, u.ID)
	}
	return nil
}

// User returns a user by id within scope.
func (q *Q) User(ctx context.Context, sc Scope, id int64) (*User, error) {
	if sc.All() {
		return q.hotUser(ctx, hotUserByID, "user "+strconv.FormatInt(id, 10), id)
	}
	u := new(User)
	sel, err := sc.where(q.db.NewSelect().Model(u).Where("u.id = ?", id), "u.company_id")
	if err != nil {
		return nil, err
	}
	if err := sel.Scan(ctx); err != nil {
		return nil, notFound(err, "user "+strconv.FormatInt(id, 10))
	}
	return u, nil
}

// hotUser is the one user a hot statement finds.
func (q *Q) hotUser(ctx context.Context, name, what string, arg any) (*User, error) {
	var us []*User
	if err := q.hotScan(ctx, &us, name, arg); err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	if len(us) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, what)
	}
	return us[0], nil
}

// UserByEmail finds a user by address, case-insensitively, within scope.
func (q *Q) UserByEmail(ctx context.Context, sc Scope, email string) (*User, error) {
	if sc.All() {
		return q.hotUser(ctx, hotUserByEmail, "user "+email, NormalizeEmail(email))
	}
	u := new(User)
	sel, err := sc.where(q.db.NewSelect().Model(u).Where("u.email = ?", NormalizeEmail(email)), "u.company_id")
	if err != nil {
		return nil, err
	}
	if err := sel.Scan(ctx); err != nil {
		return nil, notFound(err, "user "+email)
	}
	return u, nil
}

// UserFilter narrows Users.
type UserFilter struct {
	CompanyID int64
	Role      string
	Limit     int
}

// Users lists users within scope, by email.
func (q *Q) Users(ctx context.Context, sc Scope, f UserFilter) ([]*User, error) {
	var us []*User
	sel, err := sc.where(q.db.NewSelect().Model(&us), "u.company_id")
	if err != nil {
		return nil, err
	}
	if f.CompanyID > 0 {
		sel = sel.Where("u.company_id = ?", f.CompanyID)
	}
	if f.Role != "" {
		sel = sel.Where("u.role = ?", f.Role)
	}
	if f.Limit > 0 {
		sel = sel.Limit(int64(f.Limit))
	}
	if err := sel.Order("u.email").Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: users: %w", err)
	}
	return us, nil
}

// CountUsers counts every user (used to decide first-start seeding).
func (q *Q) CountUsers(ctx context.Context) (int64, error) {
	n, err := q.db.NewSelect().Model((*User)(nil)).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: count users: %w", err)
	}
	return n, nil
}

// FirstActiveAdmin is the active admin with the lowest id: whom the CLI
// acts as when no --as is given.
func (q *Q) FirstActiveAdmin(ctx context.Context) (*User, error) {
	u := new(User)
	err := q.db.NewSelect().Model(u).Where("u.role = ? AND u.disabled = ?", RoleAdmin, false).Order("u.id").Limit(1).Scan(ctx)
	if err != nil {
		return nil, notFound(err, "active admin")
	}
	return u, nil
}
