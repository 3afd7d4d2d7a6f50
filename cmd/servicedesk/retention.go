package main

import (
	"context"
	"io"

	"github.com/spf13/cobra"

	"github.com/jcservicedesk/servicedesk/configs"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// retentionCommand groups the retention job.
func (a *app) retentionCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "retention", Short: "Remove personal data of old closed tickets and old log rows (cron or serve)"}
	cmd.AddCommand(a.retentionRunCommand())
	return cmd
}

type retentionRunOpts struct {
	destructive
	batch int
}

func (a *app) retentionRunCommand() *cobra.Command {
	var o retentionRunOpts
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Apply the retention periods now (idempotent and resumable; one run at a time)",
		Long: "For each company, closed tickets closed longer ago than its period (retention.closed_ticket_days unless " +
			"the company sets its own; 0 keeps forever) lose the requester, their text, mail addresses, raw mails and " +
			"attachments; statistics stay. Then audit rows, quarantined mail, sent outbox mail and notifications " +
			"(notifications.keep_read_days, notifications.keep_unread_days) older than their periods are deleted. Works in batches, each committed on its own: a run that is killed leaves the rest to the next. " +
			"Quiet on success unless --dry-run or -o json.",
		Example: `  servicedesk retention run --dry-run
  30 3 * * *  servicedesk --config /etc/servicedesk/servicedesk.yaml retention run`,
		Args: cobra.NoArgs,
		PreRunE: func(*cobra.Command, []string) error {
			if o.batch < 1 || o.batch > 10_000 {
				return usagef("--batch must be between 1 and 10000, not %d", o.batch)
			}
			return nil
		},
		RunE: a.action(func(ctx context.Context, d *deps) error { return retentionRun(ctx, d, o) }),
	}
	o.destructive.flags(cmd)
	cmd.Flags().IntVar(&o.batch, "batch", 1000, "tickets per transaction")
	return cmd
}

// retentionOptions is the configured retention, for the CLI and serve.
func retentionOptions(cfg *configs.Config) ticketing.RetentionOptions {
	r := cfg.Retention
	return ticketing.RetentionOptions{
		Policy: ticketing.RetentionPolicy{ClosedTicketDays: r.ClosedTicketDays, AuditDays: r.AuditDays,
			QuarantineDays: r.QuarantineDays, OutboxDays: r.OutboxDays,
			NotificationReadDays: cfg.Notifications.KeepReadDays, NotificationUnreadDays: cfg.Notifications.KeepUnreadDays},
		LeaseTTL: r.LeaseTTL,
	}
}

func retentionRun(ctx context.Context, d *deps, o retentionRunOpts) error {
	if err := o.confirm(d, "Remove the personal data of old closed tickets and delete old audit, quarantine, outbox and notification rows"); err != nil {
		return err
	}
	opts := retentionOptions(d.cfg)
	opts.DryRun, opts.BatchSize = o.dryRun, o.batch
	if !o.dryRun {
		// Progress for -v (and for a test that stops a run halfway).
		opts.AfterBatch = func(company int64, c store.RetentionCounts) {
			d.log.Info("retention batch committed", "company", company, "tickets", c.Tickets, "comments", c.Comments)
		}
	}
	rep, err := d.svc.RunRetention(ctx, d.actor, opts)
	if err != nil {
		return err
	}
	if !d.json && !o.dryRun && !d.verbose {
		return nil
	}
	return printOne(d, rep, func(w io.Writer, r *ticketing.RetentionReport) {
		verb := "retained"
		if r.DryRun {
			verb = "would retain (dry run: nothing changed)"
		}
		fprintf(w, "%s %d tickets, %d comments, %d attachments, %d mails; deleted %d audit rows, %d quarantined, %d sent outbox mails, %d read and %d unread notifications\n",
			verb, r.Total.Tickets, r.Total.Comments, r.Total.Attachments, r.Total.Mails, r.Audit, r.Quarantine, r.OutboxSent,
			r.NotificationsRead, r.NotificationsUnread)
		for _, c := range r.Companies {
			fprintf(w, "  %s (%d days, closed before %s): %d tickets\n", c.Name, c.Days, c.Cutoff.Format(timeFormat), c.Tickets)
		}
	})
}
