package main

import (
	"context"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/jcservicedesk/servicedesk/store"
)

func (a *app) auditCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "The audit log: who changed what, through which channel"}
	cmd.AddCommand(a.auditListCommand())
	return cmd
}

type auditListOpts struct {
	paging
	entity, actor string
	since         time.Time
}

func (a *app) auditListCommand() *cobra.Command {
	var o auditListOpts
	var since string
	cmd := &cobra.Command{
		Use: "list", Short: "List audit rows, newest first", Args: cobra.NoArgs,
		Example: "  servicedesk audit list --entity ticket --since 24h -o json\n" +
			"  servicedesk audit list --actor admin@example.com --since 2026-12-01",
		PreRunE: func(*cobra.Command, []string) error {
			if since == "" {
				return nil
			}
			t, err := parseSince(since, time.Now())
			o.since = t
			return err
		},
		RunE: a.checked(&o.paging, func(ctx context.Context, d *deps) error { return auditList(ctx, d, o) }),
	}
	cmd.Flags().StringVar(&o.entity, "entity", "", "only rows about this kind of entity (ticket, user, company, email_template, …)")
	cmd.Flags().StringVar(&o.actor, "actor", "", "only rows by this actor's address (system: automatic changes)")
	cmd.Flags().StringVar(&since, "since", "", "only rows since a duration ago (24h) or a date (2026-12-01, RFC 3339)")
	o.flags(cmd, 50)
	return cmd
}

// parseSince reads a duration back from now, or a date or time.
func parseSince(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usagef("--since %q: want a duration (24h) or a date (2026-12-01)", s)
}

func auditList(ctx context.Context, d *deps, o auditListOpts) error {
	f := store.AuditFilter{Entity: o.entity, Actor: o.actor, Since: o.since}
	f.Limit, f.Offset = o.page()
	rows, err := d.svc.AuditLog(ctx, d.actor, f)
	if err != nil {
		return err
	}
	return printMany(d, rows, []string{"ID", "WHEN", "ACTOR", "VIA", "ENTITY", "ACTION"}, func(e *store.AuditEntry) []string {
		via := e.Via
		if e.ViaDetail != "" {
			via += " (" + e.ViaDetail + ")"
		}
		return []string{strconv.FormatInt(e.ID, 10), e.CreatedAt.Format(timeFormat), e.ActorEmail, via,
			e.Entity + " " + strconv.FormatInt(e.EntityID, 10), e.Action}
	})
}
