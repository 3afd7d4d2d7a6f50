package main

import (
	"context"
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
	Isolated        bool     `json:"isolated"`
	AllowedIPs      []string `json:"allowed_ips"`
	BrandPrimary    string   `json:"brand_primary"`
	CreatedAt       string   `json:"created_at"`
}

func companyView(c *store.Company) companyJSON {
	return companyJSON{ID: c.ID, Name: c.Name, Domains: nonNil(c.Domains), AcceptAnyDomain: c.AcceptAnyDomain, Isolated: c.Isolated,
		AllowedIPs: nonNil(c.AllowedIPs), BrandPrimary: c.BrandPrimary, CreatedAt: c.CreatedAt.Format(timeFormat)}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (a *app) printCompanies(cs ...*store.Company) error {
	if a.jsonOut() {
		if len(cs) == 1 {
			return a.printJSON(companyView(cs[0]))
		}
		out := make([]companyJSON, 0, len(cs))
		for _, c := range cs {
			out = append(out, companyView(c))
		}
		return a.printJSON(out)
	}
	rows := make([][]string, 0, len(cs))
	for _, c := range cs {
		rows = append(rows, []string{strconv.FormatInt(c.ID, 10), c.Name, strings.Join(c.Domains, ","),
			strconv.FormatBool(c.AcceptAnyDomain), strings.Join(c.AllowedIPs, ","), c.BrandPrimary})
	}
	return a.printTable([]string{"ID", "NAME", "DOMAINS", "ANY_DOMAIN", "ALLOWED_IPS", "BRAND"}, rows)
}

func (a *app) companyCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "company", Short: "Manage companies (tenants)"}
	var in ticketing.CompanyInput
	add := &cobra.Command{
		Use: "add", Short: "Add a company", Args: cobra.NoArgs,
		RunE: a.adminRun(func(cmd *cobra.Command, ctx context.Context, admin *store.User, args []string) error {
			c, err := a.svc.CreateCompany(ctx, admin, in)
			if err != nil {
				return err
			}
			return a.printCompanies(c)
		}),
	}
	companyFlags(add, &in)
	_ = add.MarkFlagRequired("name")

	list := &cobra.Command{
		Use: "list", Short: "List companies", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			cs, err := st.R().Companies(cmd.Context())
			if err != nil {
				return err
			}
			return a.printCompanies(cs...)
		},
	}
	show := &cobra.Command{
		Use: "show ID|NAME", Short: "Show one company", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			c, err := st.R().CompanyByRef(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.printCompanies(c)
		},
	}
	var upd ticketing.CompanyInput
	update := &cobra.Command{
		Use: "update ID|NAME", Short: "Change a company (only the flags given)", Args: cobra.ExactArgs(1),
		RunE: a.adminRun(func(cmd *cobra.Command, ctx context.Context, admin *store.User, args []string) error {
			fl := cmd.Flags()
			c, err := a.svc.UpdateCompany(ctx, admin, args[0], func(in *ticketing.CompanyInput) {
				if fl.Changed("name") {
					in.Name = upd.Name
				}
				if fl.Changed("domain") {
					in.Domains = upd.Domains
				}
				if fl.Changed("accept-any-domain") {
					in.AcceptAnyDomain = upd.AcceptAnyDomain
				}
				if fl.Changed("isolated") {
					in.Isolated = upd.Isolated
				}
				if fl.Changed("allowed-ip") {
					in.AllowedIPs = upd.AllowedIPs
				}
				if fl.Changed("brand-primary") {
					in.BrandPrimary = upd.BrandPrimary
				}
			})
			if err != nil {
				return err
			}
			return a.printCompanies(c)
		}),
	}
	companyFlags(update, &upd)
	remove := &cobra.Command{
		Use: "remove ID|NAME", Short: "Remove a company without users or tickets", Args: cobra.ExactArgs(1),
		RunE: a.adminRun(func(cmd *cobra.Command, ctx context.Context, admin *store.User, args []string) error {
			c, err := a.svc.RemoveCompany(ctx, admin, args[0])
			if err != nil {
				return err
			}
			return a.printCompanies(c)
		}),
	}
	cmd.AddCommand(add, list, show, update, remove)
	return cmd
}

func companyFlags(cmd *cobra.Command, in *ticketing.CompanyInput) {
	f := cmd.Flags()
	f.StringVar(&in.Name, "name", "", "company name")
	f.StringArrayVar(&in.Domains, "domain", nil, "mail domain of the company (repeatable; replaces the list on update)")
	f.BoolVar(&in.AcceptAnyDomain, "accept-any-domain", false, "accept requesters from any domain for this company")
	f.BoolVar(&in.Isolated, "isolated", false, "its clients see only their own tickets (a company of unrelated individuals)")
	f.StringArrayVar(&in.AllowedIPs, "allowed-ip", nil, "IP or CIDR allowed to reach the portal (repeatable)")
	f.StringVar(&in.BrandPrimary, "brand-primary", "", "brand color, #rrggbb")
}
