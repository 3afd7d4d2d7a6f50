package main

import (
	"context"
	"io"
	"strconv"

	"github.com/spf13/cobra"
)

type companyRetentionJSON struct {
	Company       string `json:"company"`
	RetentionDays *int   `json:"retention_days"` // null: the configured default
	DefaultDays   int    `json:"default_days"`
}

// companyRetentionCommand shows or sets how long a company's closed
// tickets keep their personal data.
func (a *app) companyRetentionCommand() *cobra.Command {
	var ref, value string
	return &cobra.Command{
		Use:   "retention ID|NAME [DAYS|default]",
		Short: "Show or set how many days a company's closed tickets keep their personal data (0 keeps forever)",
		Example: `  servicedesk company retention "Acme Ltda" 180
  servicedesk company retention "Acme Ltda" default`,
		Args: cobra.RangeArgs(1, 2),
		PreRunE: func(_ *cobra.Command, args []string) error {
			ref = args[0]
			if len(args) == 2 {
				value = args[1]
				if value != "default" {
					if n, err := strconv.Atoi(value); err != nil || n < 0 {
						return usagef("invalid retention %q (want a number of days, 0 for forever, or default)", value)
					}
				}
			}
			return nil
		},
		RunE: a.action(func(ctx context.Context, d *deps) error {
			c, err := companyByRef(ctx, d, ref)
			if err != nil {
				return err
			}
			if value != "" {
				var days *int
				if value != "default" {
					n, _ := strconv.Atoi(value)
					days = &n
				}
				if err := d.svc.SetCompanyRetention(ctx, d.actor, c.ID, days); err != nil {
					return err
				}
			}
			days, err := d.svc.CompanyRetention(ctx, c.ID)
			if err != nil {
				return err
			}
			v := companyRetentionJSON{Company: c.Name, RetentionDays: days, DefaultDays: d.cfg.Retention.ClosedTicketDays}
			return printOne(d, v, func(w io.Writer, v companyRetentionJSON) {
				switch {
				case v.RetentionDays == nil:
					fprintf(w, "%s: the default, %d days\n", v.Company, v.DefaultDays)
				case *v.RetentionDays == 0:
					fprintf(w, "%s: closed tickets are kept forever\n", v.Company)
				default:
					fprintf(w, "%s: %d days\n", v.Company, *v.RetentionDays)
				}
			})
		}),
	}
}
