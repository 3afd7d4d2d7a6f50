package main

import (
	"context"
	"io"
	"strconv"
	"strings"

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
	cmd.AddCommand(add, list, a.assetUpdateCommand(), a.assetDeleteCommand())
	return cmd
}

// assetID is the ID argument of asset update and delete.
func assetID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, usagef("invalid asset id %q (want the number asset list shows)", s)
	}
	return id, nil
}

func (a *app) assetUpdateCommand() *cobra.Command {
	var (
		id      int64
		in      ticketing.AssetUpdate
		vals    ticketing.AssetInput
		changed func(string) bool
	)
	update := &cobra.Command{
		Use: "update ID", Short: "Change an asset (only the flags given)", Args: cobra.ExactArgs(1),
		Example: `  servicedesk asset update 12 --name "Notebook do financeiro" --tag NB-0043`,
		PreRunE: func(cmd *cobra.Command, args []string) error {
			var err error
			id, err = assetID(args[0])
			changed = cmd.Flags().Changed
			return err
		},
		RunE: a.action(func(ctx context.Context, d *deps) error {
			for _, f := range []struct {
				flag string
				dst  **string
				val  *string
			}{{"name", &in.Name, &vals.Name}, {"tag", &in.Tag, &vals.Tag}, {"kind", &in.Kind, &vals.Kind},
				{"serial", &in.Serial, &vals.Serial}, {"notes", &in.Notes, &vals.Notes}} {
				if changed(f.flag) {
					*f.dst = f.val
				}
			}
			if in.Name == nil && in.Tag == nil && in.Kind == nil && in.Serial == nil && in.Notes == nil {
				return usagef("nothing to change: give --name, --tag, --kind, --serial or --notes")
			}
			in.Company = vals.Company
			as, err := d.svc.UpdateAsset(ctx, d.actor, id, in)
			if err != nil {
				return err
			}
			return printOne(d, as, func(w io.Writer, as *store.Asset) { fprintf(w, "asset %d %q updated\n", as.ID, as.Name) })
		}),
	}
	f := update.Flags()
	f.StringVar(&vals.Company, "company", "", "refuse unless the asset is of this company (name or id); an asset never moves")
	f.StringVar(&vals.Name, "name", "", "asset name")
	f.StringVar(&vals.Tag, "tag", "", "inventory tag, unique within the company (\"\" clears it)")
	f.StringVar(&vals.Kind, "kind", "", "kind: notebook, printer, licence…")
	f.StringVar(&vals.Serial, "serial", "", "serial number")
	f.StringVar(&vals.Notes, "notes", "", "notes")
	return update
}

func (a *app) assetDeleteCommand() *cobra.Command {
	var (
		id      int64
		company string
		o       destructive
	)
	del := &cobra.Command{
		Use: "delete ID", Short: "Delete an asset; tickets about it are left without one (audited)", Args: cobra.ExactArgs(1),
		Example: `  servicedesk asset delete 12 --dry-run
  servicedesk asset delete 12 --company "Acme Ltda" --yes`,
		PreRunE: func(_ *cobra.Command, args []string) error {
			var err error
			id, err = assetID(args[0])
			return err
		},
		RunE: a.action(func(ctx context.Context, d *deps) error {
			if err := o.confirm(d, "Delete asset "+strconv.FormatInt(id, 10)); err != nil {
				return err
			}
			res, err := d.svc.DeleteAsset(ctx, d.actor, id, company, o.dryRun)
			if err != nil {
				return err
			}
			if o.dryRun {
				return printOne(d, dryRunJSON[*ticketing.AssetDeletion]{DryRun: true, Action: "delete", Target: res},
					func(w io.Writer, v dryRunJSON[*ticketing.AssetDeletion]) {
						fprintf(w, "would delete asset %d %q and detach %d ticket(s) %s (dry run: nothing changed)\n",
							res.Asset.ID, res.Asset.Name, len(res.Detached), detachedList(res.Detached))
					})
			}
			return printOne(d, res, func(w io.Writer, res *ticketing.AssetDeletion) {
				fprintf(w, "asset %d %q deleted; %d ticket(s) detached %s\n", res.Asset.ID, res.Asset.Name, len(res.Detached), detachedList(res.Detached))
			})
		}),
	}
	del.Flags().StringVar(&company, "company", "", "refuse unless the asset is of this company (name or id)")
	o.flags(del)
	return del
}

// detachedList is "(#1001, #1002)", or "" for none.
func detachedList(ns []int64) string {
	if len(ns) == 0 {
		return ""
	}
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = "#" + strconv.FormatInt(n, 10)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}
