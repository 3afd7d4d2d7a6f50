package main

import (
	"context"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

func (a *app) queueCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "queue", Short: "Queues: teams or inboxes tickets are routed to (an SLA breach may move a ticket to one)"}
	var name, desc string
	add := &cobra.Command{
		Use: "add", Short: "Add a queue", Args: cobra.NoArgs,
		RunE: a.action(func(ctx context.Context, d *deps) error {
			qu, err := d.svc.CreateQueue(ctx, d.actor, name, desc)
			if err != nil {
				return err
			}
			return printOne(d, qu, func(w io.Writer, qu *store.Queue) { fprintf(w, "queue %d %q added\n", qu.ID, qu.Name) })
		}),
	}
	add.Flags().StringVar(&name, "name", "", "queue name")
	add.Flags().StringVar(&desc, "description", "", "what the queue is for")
	_ = add.MarkFlagRequired("name")
	list := &cobra.Command{
		Use: "list", Short: "List queues", Args: cobra.NoArgs,
		RunE: a.action(func(ctx context.Context, d *deps) error {
			qs, err := d.st.R().Queues(ctx)
			if err != nil {
				return err
			}
			return printMany(d, qs, []string{"ID", "NAME", "DESCRIPTION"}, func(qu *store.Queue) []string {
				return []string{strconv.FormatInt(qu.ID, 10), qu.Name, qu.Description}
			})
		}),
	}
	cmd.AddCommand(add, list)
	return cmd
}

func (a *app) contractCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "contract", Short: "Contracts of companies (SLA plans may be scoped to one)"}
	var in ticketing.ContractInput
	var starts, ends string
	add := &cobra.Command{
		Use: "add", Short: "Add a contract to a company", Args: cobra.NoArgs,
		Example: `  servicedesk contract add --company "Acme Ltda" --name Ouro --starts 2026-01-01 --hours 40`,
		PreRunE: func(*cobra.Command, []string) error {
			for _, f := range []struct {
				flag, val string
				dst       **time.Time
			}{{"--starts", starts, &in.StartsOn}, {"--ends", ends, &in.EndsOn}} {
				if f.val == "" {
					continue
				}
				t, err := time.Parse("2006-01-02", f.val)
				if err != nil {
					return usagef("invalid %s %q (want YYYY-MM-DD)", f.flag, f.val)
				}
				*f.dst = &t
			}
			return nil
		},
		RunE: a.action(func(ctx context.Context, d *deps) error {
			c, err := d.svc.CreateContract(ctx, d.actor, in)
			if err != nil {
				return err
			}
			return printOne(d, c, func(w io.Writer, c *store.Contract) { fprintf(w, "contract %d %q added\n", c.ID, c.Name) })
		}),
	}
	f := add.Flags()
	f.StringVar(&in.Company, "company", "", "company name or id")
	f.StringVar(&in.Name, "name", "", "contract name")
	f.StringVar(&starts, "starts", "", "first day, YYYY-MM-DD")
	f.StringVar(&ends, "ends", "", "last day, YYYY-MM-DD")
	f.IntVar(&in.HoursIncluded, "hours", 0, "hours of service included")
	f.StringVar(&in.Notes, "notes", "", "notes")
	_ = add.MarkFlagRequired("company")
	_ = add.MarkFlagRequired("name")
	var company string
	list := &cobra.Command{
		Use: "list", Short: "List contracts", Args: cobra.NoArgs,
		RunE: a.action(func(ctx context.Context, d *deps) error {
			var cid int64
			if company != "" {
				id, err := a.companyID(ctx, company)
				if err != nil {
					return err
				}
				cid = *id
			}
			cs, err := d.st.R().Contracts(ctx, cid)
			if err != nil {
				return err
			}
			return printMany(d, cs, []string{"ID", "COMPANY_ID", "NAME", "HOURS"}, func(c *store.Contract) []string {
				return []string{strconv.FormatInt(c.ID, 10), strconv.FormatInt(c.CompanyID, 10), c.Name, strconv.Itoa(c.HoursIncluded)}
			})
		}),
	}
	list.Flags().StringVar(&company, "company", "", "only this company's")
	cmd.AddCommand(add, list)
	return cmd
}
