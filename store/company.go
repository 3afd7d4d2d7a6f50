package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// Company is a customer organisation: its users, mail domains and brand.
type Company struct {
	bun.BaseModel `bun:"table:companies,alias:c"`

	ID              int64  `bun:"id,pk,autoincrement" json:"id"`
	Name            string `bun:"name,notnull" json:"name"`
	NameKey         string `bun:"name_key,notnull" json:"-"` // NameKey(Name): unique, case-insensitive
	AcceptAnyDomain bool   `bun:"accept_any_domain,notnull" json:"accept_any_domain"`
	// ShareTickets: its clients see their colleagues' tickets too, not
	// only the ones they opened or were brought into. It replaced the
	// isolated column (still there, no longer read): sharing = not isolated.
	ShareTickets bool `bun:"share_tickets,notnull" json:"share_tickets"`
	// Active: an inactive company opens no new tickets in the portal or
	// the CLI. New rows are active (the default applies to a false on
	// insert; updates write what is set).
	Active            bool   `bun:"active,notnull,default:true" json:"active"`
	AllowedIPsJSON    string `bun:"allowed_ips,notnull" json:"-"`
	BrandPrimary      string `bun:"brand_primary,notnull" json:"brand_primary"`
	BrandPrimaryDark  string `bun:"brand_primary_dark,notnull" json:"brand_primary_dark"`
	BrandPrimaryLight string `bun:"brand_primary_light,notnull" json:"brand_primary_light"`
	Logo              []byte `bun:"logo" json:"-"`
	LogoType          string `bun:"logo_type,notnull" json:"logo_type,omitempty"`
	Language          string `bun:"language,notnull" json:"language"`
	// ConsentRequired: registering needs acceptance of the privacy policy.
	ConsentRequired bool `bun:"consent_required,notnull" json:"consent_required"`
	// TimeZone is the company's IANA zone ("" = the configured one).
	TimeZone  string    `bun:"time_zone,notnull" json:"time_zone"`
	CreatedAt time.Time `bun:"created_at,notnull" json:"created_at"`
	UpdatedAt time.Time `bun:"updated_at,notnull" json:"updated_at"`

	Domains    []string `bun:"-" json:"domains"`
	AllowedIPs []string `bun:"-" json:"allowed_ips"`
}

type companyDomain struct {
	bun.BaseModel `bun:"table:company_domains"`
	Domain        string `bun:"domain,pk"`
	CompanyID     int64  `bun:"company_id,notnull"`
}

// NameKey folds a name for case-insensitive uniqueness and lookup. It is
// done here, not with SQL lower(), which SQLite applies to ASCII only.
func NameKey(name string) string { return strings.ToLower(strings.Join(strings.Fields(name), " ")) }

func (c *Company) encode() error {
	c.NameKey = NameKey(c.Name)
	ips := c.AllowedIPs
	if ips == nil {
		ips = []string{}
	}
	b, err := json.Marshal(ips)
	if err != nil {
		return err
	}
	c.AllowedIPsJSON = string(b)
	return nil
}

// decode fills the fields kept as JSON. A corrupt allow-list is an
// error: read as empty, it would mean "no restriction".
func (c *Company) decode() error {
	if c.Domains == nil {
		c.Domains = []string{}
	}
	c.AllowedIPs = []string{}
	if err := json.Unmarshal([]byte(c.AllowedIPsJSON), &c.AllowedIPs); err != nil {
		c.AllowedIPs = nil
		return fmt.Errorf("store: company %d: unreadable allowed_ips %q: %w", c.ID, c.AllowedIPsJSON, err)
	}
	return nil
}

// CreateCompany inserts c with its domains. A name or domain already in use
// is ErrConflict.
func (q *Q) CreateCompany(ctx context.Context, c *Company) error {
	c.CreatedAt, c.UpdatedAt = now(), now()
	if err := c.encode(); err != nil {
		return fmt.Errorf("store: company: %w", err)
	}
	if _, err := q.db.NewInsert().Model(c).Returning("id").Exec(ctx); err != nil {
		return conflict(err, "company "+c.Name)
	}
	return q.setDomains(ctx, c)
}

// UpdateCompany saves every field of c and replaces its domains.
func (q *Q) UpdateCompany(ctx context.Context, c *Company) error {
	c.UpdatedAt = now()
	if err := c.encode(); err != nil {
		return fmt.Errorf("store: company: %w", err)
	}
	res, err := q.db.NewUpdate().Model(c).WherePK().Exec(ctx)
	if err != nil {
		return conflict(err, "company "+c.Name)
	}
	if n, err := rowsAffected(res); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("%w: company %d", ErrNotFound, c.ID)
	}
	return q.setDomains(ctx, c)
}

func (q *Q) setDomains(ctx context.Context, c *Company) error {
	if _, err := q.db.NewDelete().Model((*companyDomain)(nil)).Where("company_id = ?", c.ID).Exec(ctx); err != nil {
		return fmt.Errorf("store: company domains: %w", err)
	}
	seen := map[string]bool{}
	var rows []companyDomain
	for _, d := range c.Domains {
		d = strings.ToLower(strings.TrimSpace(d))
		if d == "" || seen[d] {
			continue
		}
		seen[d] = true
		rows = append(rows, companyDomain{Domain: d, CompanyID: c.ID})
	}
	if len(rows) == 0 {
		c.Domains = []string{}
		return nil
	}
	if _, err := q.db.NewInsert().Model(&rows).Exec(ctx); err != nil {
		return conflict(err, "a domain of company "+c.Name+" belongs to another company")
	}
	c.Domains = c.Domains[:0]
	for _, r := range rows {
		c.Domains = append(c.Domains, r.Domain)
	}
	return nil
}

// DeleteCompany removes a company. It fails while users or tickets refer to it.
func (q *Q) DeleteCompany(ctx context.Context, id int64) error {
	res, err := q.db.NewDelete().Model((*Company)(nil)).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: delete company %d (it still has users or tickets): %w", id, err)
	}
	if n, err := rowsAffected(res); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("%w: company %d", ErrNotFound, id)
	}
	return nil
}

// Company returns one company by id.
func (q *Q) Company(ctx context.Context, id int64) (*Company, error) {
	var cs []*Company
	if err := q.hotScan(ctx, &cs, hotCompanyByID, id); err != nil {
		return nil, fmt.Errorf("store: company %d: %w", id, err)
	}
	if len(cs) == 0 {
		return nil, fmt.Errorf("%w: company %d", ErrNotFound, id)
	}
	return cs[0], q.loadDomains(ctx, cs[0])
}

// CompanyByName finds a company by name, case-insensitively.
func (q *Q) CompanyByName(ctx context.Context, name string) (*Company, error) {
	c := new(Company)
	if err := q.db.NewSelect().Model(c).Where("name_key = ?", NameKey(name)).Scan(ctx); err != nil {
		return nil, notFound(err, "company "+strconv.Quote(name))
	}
	return c, q.loadDomains(ctx, c)
}

// CompanyByRef finds a company by id (all digits) or name.
func (q *Q) CompanyByRef(ctx context.Context, ref string) (*Company, error) {
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		c, err := q.Company(ctx, id)
		if !errors.Is(err, ErrNotFound) {
			return c, err
		}
		// No such id: a company may be named with digits.
	}
	return q.CompanyByName(ctx, ref)
}

// CompanyByDomain finds the company that owns a mail domain.
func (q *Q) CompanyByDomain(ctx context.Context, domain string) (*Company, error) {
	var d companyDomain
	err := q.db.NewSelect().Model(&d).Where("domain = ?", strings.ToLower(domain)).Scan(ctx)
	if err != nil {
		return nil, notFound(err, "company for domain "+domain)
	}
	return q.Company(ctx, d.CompanyID)
}

// Companies lists every company by name.
func (q *Q) Companies(ctx context.Context) ([]*Company, error) {
	var cs []*Company
	if err := q.db.NewSelect().Model(&cs).Order("name_key").Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: companies: %w", err)
	}
	var ds []companyDomain
	if err := q.db.NewSelect().Model(&ds).Order("domain").Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: company domains: %w", err)
	}
	byID := map[int64]*Company{}
	for _, c := range cs {
		c.Domains = []string{}
		byID[c.ID] = c
	}
	for _, d := range ds {
		if c := byID[d.CompanyID]; c != nil {
			c.Domains = append(c.Domains, d.Domain)
		}
	}
	for _, c := range cs {
		if err := c.decode(); err != nil {
			return nil, err
		}
	}
	return cs, nil
}

func (q *Q) loadDomains(ctx context.Context, c *Company) error {
	var ds []companyDomain
	if err := q.hotScan(ctx, &ds, hotCompanyDomains, c.ID); err != nil {
		return fmt.Errorf("store: company domains: %w", err)
	}
	c.Domains = []string{}
	for _, d := range ds {
		c.Domains = append(c.Domains, d.Domain)
	}
	return c.decode()
}
