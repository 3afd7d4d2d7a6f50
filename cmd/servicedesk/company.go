package main

import (
	"context"
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

type companyJSON struct {
	ID              int64    `json:"id"`
	Name            string   `json:"name"`
	Domains         []string `json:"domains"`
	AcceptAnyDomain bool     `json:"accept_any_domain"`
	ShareTickets    bool     `json:"share_tickets"`
	AllowedIPs      []string `json:"allowed_ips"`
	BrandPrimary    string   `json:"brand_primary"`
	ConsentRequired bool     `json:"consent_required"`
	TimeZone        string   `json:"time_zone"`
	CreatedAt       string   `json:"created_at"`
}

func companyView(c *store.Company) companyJSON {
	return companyJSON{ID: c.ID, Name: c.Name, Domains: nonNil(c.Domains), AcceptAnyDomain: c.AcceptAnyDomain, ShareTickets: c.ShareTickets,
		AllowedIPs: nonNil(c.AllowedIPs), BrandPrimary: c.BrandPrimary,
		ConsentRequired: c.ConsentRequired, TimeZone: c.TimeZone, CreatedAt: c.CreatedAt.Format(timeFormat)}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

var companyHeader = []string{"ID", "NAME", "DOMAINS", "ANY_DOMAIN", "ALLOWED_IPS", "BRAND"}

func companyRow(c companyJSON) []string {
	return []string{strconv.FormatInt(c.ID, 10), c.Name, strings.Join(c.Domains, ","),
		strconv.FormatBool(c.AcceptAnyDomain), strings.Join(c.AllowedIPs, ","), c.BrandPrimary}
}

// printCompany prints one company: an object with -o json, else a
// one-row table.
func printCompany(d *deps, c *store.Company) error {
	return printOne(d, companyView(c), func(w io.Writer, v companyJSON) {
		_ = writeTable(w, companyHeader, [][]string{companyRow(v)})
	})
}

func (a *app) companyCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "company", Short: "Manage companies (tenants)"}
	cmd.AddCommand(a.companyRetentionCommand(), a.companyAddCommand(), a.companyListCommand(), a.companyShowCommand(),
		a.companyUpdateCommand(), a.companyRemoveCommand(), a.companyInviteCommand())
	return cmd
}

func (a *app) companyAddCommand() *cobra.Command {
	var in ticketing.CompanyInput
	var isolated bool
	add := &cobra.Command{
		Use: "add", Short: "Add a company", Args: cobra.NoArgs,
		Example: `  servicedesk company add --name "Acme Ltda" --domain acme.com.br --brand-primary '#0b5cad'
  servicedesk company add --name "Acme Ltda" --domain acme.com.br --share-tickets
  servicedesk company add --name "Particulares" --accept-any-domain`,
		PreRun: func(cmd *cobra.Command, _ []string) {
			if cmd.Flags().Changed("isolated") && !cmd.Flags().Changed("share-tickets") {
				in.ShareTickets = !isolated
			}
		},
		RunE: a.action(func(ctx context.Context, d *deps) error { return companyAdd(ctx, d, in) }),
	}
	companyFlags(add, &in, &isolated)
	_ = add.MarkFlagRequired("name")
	return add
}

func companyAdd(ctx context.Context, d *deps, in ticketing.CompanyInput) error {
	c, err := d.svc.CreateCompany(ctx, d.actor, in)
	if err != nil {
		return err
	}
	return printCompany(d, c)
}

func (a *app) companyListCommand() *cobra.Command {
	return &cobra.Command{
		Use: "list", Short: "List companies", Args: cobra.NoArgs,
		RunE: a.action(companyList),
	}
}

func companyList(ctx context.Context, d *deps) error {
	cs, err := d.st.R().Companies(ctx)
	if err != nil {
		return err
	}
	views := make([]companyJSON, 0, len(cs))
	for _, c := range cs {
		views = append(views, companyView(c))
	}
	return printMany(d, views, companyHeader, companyRow)
}

type companyRefOpts struct{ ref string }

func (a *app) companyShowCommand() *cobra.Command {
	var o companyRefOpts
	return &cobra.Command{
		Use: "show ID|NAME", Short: "Show one company", Args: cobra.ExactArgs(1),
		PreRun: func(_ *cobra.Command, args []string) { o.ref = args[0] },
		RunE:   a.action(func(ctx context.Context, d *deps) error { return companyShow(ctx, d, o) }),
	}
}

func companyShow(ctx context.Context, d *deps, o companyRefOpts) error {
	c, err := companyByRef(ctx, d, o.ref)
	if err != nil {
		return err
	}
	return printCompany(d, c)
}

// companyByRef finds a company by id or name, saying which one is unknown.
func companyByRef(ctx context.Context, d *deps, ref string) (*store.Company, error) {
	c, err := d.st.R().CompanyByRef(ctx, ref)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errors.New("unknown company " + strconv.Quote(ref))
	}
	return c, err
}

type companyUpdateOpts struct {
	ref      string
	in       ticketing.CompanyInput
	isolated bool // the old --isolated: --share-tickets=false
	changed  func(flag string) bool
}

func (a *app) companyUpdateCommand() *cobra.Command {
	var o companyUpdateOpts
	update := &cobra.Command{
		Use: "update ID|NAME", Short: "Change a company (only the flags given)", Args: cobra.ExactArgs(1),
		PreRun: func(cmd *cobra.Command, args []string) {
			o.ref, o.changed = args[0], cmd.Flags().Changed
		},
		RunE: a.action(func(ctx context.Context, d *deps) error { return companyUpdate(ctx, d, o) }),
	}
	companyFlags(update, &o.in, &o.isolated)
	return update
}

func companyUpdate(ctx context.Context, d *deps, o companyUpdateOpts) error {
	c, err := d.svc.UpdateCompany(ctx, d.actor, o.ref, func(in *ticketing.CompanyInput) {
		if o.changed("name") {
			in.Name = o.in.Name
		}
		if o.changed("domain") {
			in.Domains = o.in.Domains
		}
		if o.changed("accept-any-domain") {
			in.AcceptAnyDomain = o.in.AcceptAnyDomain
		}
		if o.changed("share-tickets") {
			in.ShareTickets = o.in.ShareTickets
		} else if o.changed("isolated") {
			in.ShareTickets = !o.isolated
		}
		if o.changed("allowed-ip") {
			in.AllowedIPs = o.in.AllowedIPs
		}
		if o.changed("brand-primary") {
			in.BrandPrimary = o.in.BrandPrimary
		}
		if o.changed("consent-required") {
			in.ConsentRequired = o.in.ConsentRequired
		}
		if o.changed("time-zone") {
			in.TimeZone = o.in.TimeZone
		}
	})
	if err != nil {
		return err
	}
	return printCompany(d, c)
}

type companyRemoveOpts struct {
	ref string
	destructive
}

func (a *app) companyRemoveCommand() *cobra.Command {
	var o companyRemoveOpts
	remove := &cobra.Command{
		Use: "remove ID|NAME", Short: "Remove a company without users or tickets", Args: cobra.ExactArgs(1),
		PreRun: func(_ *cobra.Command, args []string) { o.ref = args[0] },
		RunE:   a.action(func(ctx context.Context, d *deps) error { return companyRemove(ctx, d, o) }),
	}
	o.destructive.flags(remove)
	return remove
}

// dryRunJSON is what --dry-run prints: the object the command would change.
type dryRunJSON[T any] struct {
	DryRun bool   `json:"dry_run"`
	Action string `json:"action"`
	Target T      `json:"target"`
}

func companyRemove(ctx context.Context, d *deps, o companyRemoveOpts) error {
	if o.dryRun {
		c, err := companyByRef(ctx, d, o.ref)
		if err != nil {
			return err
		}
		return printOne(d, dryRunJSON[companyJSON]{DryRun: true, Action: "remove", Target: companyView(c)},
			func(w io.Writer, v dryRunJSON[companyJSON]) {
				fprintf(w, "would remove company %d %q (dry run: nothing changed)\n", v.Target.ID, v.Target.Name)
			})
	}
	if err := o.confirm(d, "Remove company "+strconv.Quote(o.ref)); err != nil {
		return err
	}
	c, err := d.svc.RemoveCompany(ctx, d.actor, o.ref)
	if err != nil {
		return err
	}
	return printCompany(d, c)
}

func companyFlags(cmd *cobra.Command, in *ticketing.CompanyInput, isolated *bool) {
	f := cmd.Flags()
	f.StringVar(&in.Name, "name", "", "company name")
	f.StringArrayVar(&in.Domains, "domain", nil, "mail domain of the company (repeatable; replaces the list on update)")
	f.BoolVar(&in.AcceptAnyDomain, "accept-any-domain", false, "accept requesters from any domain for this company")
	f.BoolVar(&in.ShareTickets, "share-tickets", false, "its clients see their colleagues' tickets, not only their own (new companies: off)")
	f.BoolVar(isolated, "isolated", false, "the same as --share-tickets=false")
	_ = f.MarkHidden("isolated") // the old name, kept for scripts
	f.StringArrayVar(&in.AllowedIPs, "allowed-ip", nil, "IP or CIDR allowed to reach the portal (repeatable)")
	f.StringVar(&in.BrandPrimary, "brand-primary", "", "brand color, #rrggbb")
	f.BoolVar(&in.ConsentRequired, "consent-required", false, "registering needs acceptance of the privacy policy")
	f.StringVar(&in.TimeZone, "time-zone", "", "IANA time zone of the company, e.g. America/Sao_Paulo (empty: the configured one)")
}
