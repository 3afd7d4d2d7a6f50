package main

import (
	"context"
	"io"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

func (a *app) assetCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "asset", Short: "Assets of companies: the equipment and software tickets can be about"}
	var in ticketing.AssetInput
	add := &cobra.Command{
		Use: "add", Short: "Add an asset to a company", Args: cobra.NoArgs,
		Example: `  servicedesk asset add --company "Acme Ltda" --name "Notebook da recepção" --tag NB-0042 --kind notebook --serial 5CG1234`,
		RunE: a.action(func(ctx context.Context, d *deps) error {
			as, err := d.svc.CreateAsset(ctx, d.actor, in)
			if err != nil {
				return err
			}
			return printOne(d, as, func(w io.Writer, as *store.Asset) { fprintf(w, "asset %d %q added\n", as.ID, as.Name) })
		}),
	}
	f := add.Flags()
	f.StringVar(&in.Company, "company", "", "company name or id")
	f.StringVar(&in.Name, "name", "", "asset name")
	f.StringVar(&in.Tag, "tag", "", "inventory tag, unique within the company")
	f.StringVar(&in.Kind, "kind", "", "kind: notebook, printer, licence…")
	f.StringVar(&in.Serial, "serial", "", "serial number")
	f.StringVar(&in.Notes, "notes", "", "notes")
	_ = add.MarkFlagRequired("company")
	_ = add.MarkFlagRequired("name")
	var company string
	list := &cobra.Command{
		Use: "list", Short: "List assets (as the actor may see them: a client only their company's)", Args: cobra.NoArgs,
		Example: `  servicedesk asset list --company "Acme Ltda" -o json`,
		RunE: a.action(func(ctx context.Context, d *deps) error {
			var cid int64
			if company != "" {
				id, err := a.companyID(ctx, company)
				if err != nil {
					return err
				}
				cid = *id
			}
			as, err := d.svc.Assets(ctx, d.actor, cid)
			if err != nil {
				return err
			}
			return printMany(d, as, []string{"ID", "COMPANY_ID", "NAME", "TAG", "KIND", "SERIAL"}, func(as *store.Asset) []string {
				return []string{strconv.FormatInt(as.ID, 10), strconv.FormatInt(as.CompanyID, 10), as.Name, as.Tag, as.Kind, as.Serial}
			})
		}),
	}
	list.Flags().StringVar(&company, "company", "", "only this company's")
	cmd.AddCommand(add, list)
	return cmd
}
