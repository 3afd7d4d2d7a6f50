package ticketing

import (
	"context"
	"fmt"
	"net"
	"net/mail"
	"regexp"
	"strings"
	"time"

	"github.com/alexedwards/argon2id"

	"github.com/jcservicedesk/servicedesk/store"
)

// The directory: companies, users and categories. Only admins change it
// (the CLI acts as the seeded admin); every change is audited.

func requireAdmin(actor *store.User) error {
	return requireMailAdmin(actor, "change companies, users and categories")
}

// CompanyInput is a company to create or the new values of one.
type CompanyInput struct {
	Name            string
	Domains         []string
	AcceptAnyDomain bool
	ShareTickets    bool // clients see their colleagues' tickets too (new companies: no)
	// Inactive switches the company off: it opens no new tickets in the
	// portal or the CLI (new companies are active).
	Inactive        bool
	AllowedIPs      []string
	BrandPrimary    string
	ConsentRequired bool   // registering needs acceptance of the privacy policy
	TimeZone        string // IANA zone, "" = the configured one
}

var hexColor = regexp.MustCompile(`^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)
var domainRE = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$|^localhost$`)

func (in *CompanyInput) validate() error {
	in.Name = strings.Join(strings.Fields(in.Name), " ")
	if in.Name == "" {
		return invalidf("company name is empty")
	}
	for i, d := range in.Domains {
		d = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(d, "@")))
		if !domainRE.MatchString(d) {
			return invalidf("invalid domain %q", in.Domains[i])
		}
		in.Domains[i] = d
	}
	for _, ip := range in.AllowedIPs {
		if net.ParseIP(ip) == nil {
			if _, _, err := net.ParseCIDR(ip); err != nil {
				return invalidf("invalid allowed IP or CIDR %q", ip)
			}
		}
	}
	if in.BrandPrimary != "" && !hexColor.MatchString(in.BrandPrimary) {
		return invalidf("invalid brand color %q (want #rrggbb)", in.BrandPrimary)
	}
	return ValidTimeZone(in.TimeZone)
}

// CreateCompany adds a company.
func (s *Service) CreateCompany(ctx context.Context, actor *store.User, in CompanyInput) (*store.Company, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	c := &store.Company{Name: in.Name, Domains: in.Domains, AcceptAnyDomain: in.AcceptAnyDomain, ShareTickets: in.ShareTickets,
		AllowedIPs: in.AllowedIPs, BrandPrimary: in.BrandPrimary, ConsentRequired: in.ConsentRequired, TimeZone: in.TimeZone,
		Active: true} // a company starts active; --active=false on update switches it off
	err := s.TxWith(ctx, func(tx *Tx) error {
		q := tx.q
		if err := q.CreateCompany(ctx, c); err != nil {
			return err
		}
		return q.Audit(ctx, actor, c.ID, "company", c.ID, "create", nil, c)
	})
	return c, err
}

// UpdateCompany applies fn to company ref (id or name) and saves it.
func (s *Service) UpdateCompany(ctx context.Context, actor *store.User, ref string, fn func(in *CompanyInput)) (*store.Company, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	var c *store.Company
	err := s.TxWith(ctx, func(tx *Tx) error {
		q := tx.q
		var err error
		if c, err = q.CompanyByRef(ctx, ref); err != nil {
			return err
		}
		before := *c
		in := CompanyInput{Name: c.Name, Domains: append([]string(nil), c.Domains...), AcceptAnyDomain: c.AcceptAnyDomain, ShareTickets: c.ShareTickets,
			AllowedIPs: append([]string(nil), c.AllowedIPs...), BrandPrimary: c.BrandPrimary,
			ConsentRequired: c.ConsentRequired, TimeZone: c.TimeZone, Inactive: !c.Active}
		fn(&in)
		if err := in.validate(); err != nil {
			return err
		}
		c.Name, c.Domains, c.AcceptAnyDomain, c.AllowedIPs, c.BrandPrimary = in.Name, in.Domains, in.AcceptAnyDomain, in.AllowedIPs, in.BrandPrimary
		c.ShareTickets, c.ConsentRequired, c.TimeZone = in.ShareTickets, in.ConsentRequired, in.TimeZone
		c.Active = !in.Inactive
		if err := q.UpdateCompany(ctx, c); err != nil {
			return err
		}
		return q.Audit(ctx, actor, c.ID, "company", c.ID, "update", before, c)
	})
	return c, err
}

// RemoveCompany deletes a company that has no users or tickets left.
func (s *Service) RemoveCompany(ctx context.Context, actor *store.User, ref string) (*store.Company, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	var c *store.Company
	err := s.TxWith(ctx, func(tx *Tx) error {
		q := tx.q
		var err error
		if c, err = q.CompanyByRef(ctx, ref); err != nil {
			return err
		}
		users, err := q.Users(ctx, store.AllCompanies(), store.UserFilter{CompanyID: c.ID, Limit: 1})
		if err != nil {
			return err
		}
		if len(users) > 0 {
			return invalidf("company %q still has users; move or remove them first", c.Name)
		}
		if err := q.DeleteCompany(ctx, c.ID); err != nil {
			return invalidf("company %q still has tickets", c.Name)
		}
		return q.Audit(ctx, actor, 0, "company", c.ID, "remove", c, nil)
	})
	return c, err
}

// UserInput is a user to create.
type UserInput struct {
	Email       string
	Name        string
	Role        string
	CompanyID   *int64
	Password    string // optional; hashed with argon2id
	Unconfirmed bool
	Language    string
	// Contact: a person from outside every customer who answered a
	// ticket's mail thread: a client with no company (address and name
	// only), who sees no ticket but the ones they were brought into.
	Contact bool
}

// NormalizeAddress checks an email address and returns it lower-cased.
// A local part with a dot at either end or two in a row (RFC 5322's
// obs-local-part) is accepted: Japanese carriers hand such addresses out
// (taro.@docomo.ne.jp) and real MTAs deliver to them.
func NormalizeAddress(s string) (string, error) {
	s = strings.TrimSpace(s)
	a, err := mail.ParseAddress(s)
	if err != nil {
		a, err = looseDots(s)
	}
	if err != nil || a.Address != s || !strings.Contains(a.Address, "@") {
		return "", invalidf("invalid email address %q", s)
	}
	local, domain, _ := strings.Cut(a.Address, "@")
	if local == "" || domain == "" || strings.ContainsAny(s, " <>") {
		return "", invalidf("invalid email address %q", s)
	}
	return store.NormalizeEmail(a.Address), nil
}

// looseDots parses s when only the dots of its local part keep net/mail
// from reading it: the local part without its stray dots must be a valid
// dot-atom, and the domain is checked as usual.
func looseDots(s string) (*mail.Address, error) {
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return nil, fmt.Errorf("no @ in %q", s)
	}
	local := s[:at]
	var words []string
	for w := range strings.SplitSeq(local, ".") {
		if w != "" {
			words = append(words, w)
		}
	}
	if len(words) == 0 || strings.ContainsAny(local, `"\`) {
		return nil, fmt.Errorf("local part %q is not an atom", local)
	}
	strict := strings.Join(words, ".") + s[at:]
	if p, err := mail.ParseAddress(strict); err != nil || p.Address != strict {
		return nil, fmt.Errorf("%q is not an address with stray dots", s)
	}
	return &mail.Address{Address: s}, nil
}

// CreateUser adds a user. Clients must belong to a company.
func (s *Service) CreateUser(ctx context.Context, actor *store.User, in UserInput) (*store.User, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	var u *store.User
	err := s.TxWith(ctx, func(tx *Tx) error {
		q := tx.q
		var err error
		u, err = CreateUserTx(ctx, q, actor, in, s.clock)
		return err
	})
	return u, err
}

// CreateUserTx adds a user inside an existing transaction without a policy
// check: the caller decided (first-start seeding, mail from a company's
// domain).
func CreateUserTx(ctx context.Context, q *store.Q, actor *store.User, in UserInput, clock func() time.Time) (*store.User, error) {
	email, err := NormalizeAddress(in.Email)
	if err != nil {
		return nil, err
	}
	role := in.Role
	if role == "" {
		role = store.RoleClient
	}
	if !store.ValidRole(role) {
		return nil, invalidf("unknown role %q (want client, tech, supervisor or admin)", role)
	}
	if role == store.RoleClient && in.CompanyID == nil && !in.Contact {
		return nil, invalidf("a client must belong to a company (--company)")
	}
	u := &store.User{Email: email, Name: strings.TrimSpace(in.Name), Role: role, CompanyID: in.CompanyID, Language: in.Language}
	if in.Password != "" {
		if u.PasswordHash, err = HashPassword(in.Password); err != nil {
			return nil, err
		}
	}
	if !in.Unconfirmed {
		now := clock().UTC()
		u.ConfirmedAt = &now
	}
	if err := q.CreateUser(ctx, u); err != nil {
		return nil, mapStoreErr(err)
	}
	if err := q.Audit(ctx, actor, u.CompanyIDValue(), "user", u.ID, "create", nil, u); err != nil {
		return nil, err
	}
	return u, nil
}

// UpdateUser applies fn to the user with this email and saves it.
func (s *Service) UpdateUser(ctx context.Context, actor *store.User, email string, fn func(u *store.User) error) (*store.User, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	var u *store.User
	err := s.TxWith(ctx, func(tx *Tx) error {
		q := tx.q
		var err error
		if u, err = q.UserByEmail(ctx, store.AllCompanies(), email); err != nil {
			return err
		}
		before := *u
		if err := fn(u); err != nil {
			return err
		}
		if !store.ValidRole(u.Role) {
			return invalidf("unknown role %q (want client, tech, supervisor or admin)", u.Role)
		}
		if u.Role == store.RoleClient && u.CompanyID == nil {
			return invalidf("a client must belong to a company (--company)")
		}
		if before.Role == store.RoleAdmin && (u.Role != store.RoleAdmin || u.Disabled) {
			admins, err := q.Users(ctx, store.AllCompanies(), store.UserFilter{Role: store.RoleAdmin})
			if err != nil {
				return err
			}
			active := 0
			for _, a := range admins {
				if !a.Disabled {
					active++
				}
			}
			if active <= 1 {
				return invalidf("%s is the last active admin", u.Email)
			}
		}
		if err := q.UpdateUser(ctx, u); err != nil {
			return err
		}
		return q.Audit(ctx, actor, u.CompanyIDValue(), "user", u.ID, "update", before, u)
	})
	return u, err
}

// SetPassword replaces a user's password (admins): the policy for new
// passwords applies, a lockout lifts, and the user's sessions and reset
// links end.
func (s *Service) SetPassword(ctx context.Context, actor *store.User, email, password string) error {
	if err := requireAdmin(actor); err != nil {
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
		u, err := tx.q.UserByEmail(ctx, store.AllCompanies(), email)
		if err != nil {
			return err
		}
		n, err := tx.setPassword(ctx, u, hash, "")
		if err != nil {
			return err
		}
		return auditAccount(ctx, tx.q, actor, u, "password_change", map[string]any{"by_admin": true, "sessions_ended": n})
	})
}

// HashPassword hashes with argon2id (RFC 9106 recommended parameters).
func HashPassword(pw string) (string, error) {
	h, err := argon2id.CreateHash(pw, &argon2id.Params{Memory: 64 * 1024, Iterations: 1, Parallelism: 2, SaltLength: 16, KeyLength: 32})
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return h, nil
}

// CheckPassword reports whether pw matches hash.
func CheckPassword(pw, hash string) bool {
	if hash == "" {
		return false
	}
	ok, err := argon2id.ComparePasswordAndHash(pw, hash)
	return err == nil && ok
}

// CreateCategory adds a category, or a subcategory under parent.
func (s *Service) CreateCategory(ctx context.Context, actor *store.User, name, parentRef string) (*store.Category, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	name = strings.Join(strings.Fields(name), " ")
	if name == "" {
		return nil, invalidf("category name is empty")
	}
	if strings.Contains(name, "/") {
		return nil, invalidf("category name may not contain /")
	}
	c := &store.Category{Name: name}
	err := s.TxWith(ctx, func(tx *Tx) error {
		q := tx.q
		if parentRef != "" {
			p, err := q.CategoryByRef(ctx, parentRef)
			if err != nil {
				return err
			}
			if p.ParentID != nil {
				return invalidf("%q is a subcategory; subcategories cannot have children", p.Name)
			}
			c.ParentID = &p.ID
		}
		if err := q.CreateCategory(ctx, c); err != nil {
			return err
		}
		return q.Audit(ctx, actor, 0, "category", c.ID, "create", nil, c)
	})
	return c, err
}
