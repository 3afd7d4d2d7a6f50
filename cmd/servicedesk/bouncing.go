package main

import (
	"context"
	"io"

	"github.com/spf13/cobra"
)

// bouncingCommand manages the suppression list: addresses a delivery
// report proved dead, which get no mail until cleared (or until they write
// to us again).
func (a *app) bouncingCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "bouncing", Short: "Addresses we no longer mail because our mail to them bounced"}
	cmd.AddCommand(a.bouncingListCommand(), a.bouncingClearCommand())
	return cmd
}

func (a *app) bouncingListCommand() *cobra.Command {
	return &cobra.Command{
		Use: "list", Short: "List addresses marked as bouncing", Args: cobra.NoArgs,
		RunE: a.action(bouncingList),
	}
}

func bouncingList(ctx context.Context, d *deps) error {
	as, err := d.st.R().BouncingAddresses(ctx)
	if err != nil {
		return err
	}
	return printMany(d, as, []string{"ADDRESS"}, func(e string) []string { return []string{e} })
}

type bouncingClearOpts struct {
	destructive
	address string
}

func (a *app) bouncingClearCommand() *cobra.Command {
	var o bouncingClearOpts
	cmd := &cobra.Command{
		Use: "clear ADDRESS", Short: "Mail an address again", Args: cobra.ExactArgs(1),
		PreRun: func(_ *cobra.Command, args []string) { o.address = args[0] },
		RunE:   a.action(func(ctx context.Context, d *deps) error { return bouncingClear(ctx, d, o) }),
	}
	o.destructive.flags(cmd)
	return cmd
}

func bouncingClear(ctx context.Context, d *deps, o bouncingClearOpts) error {
	if err := o.confirm(d, "Mail "+o.address+" again"); err != nil {
		return err
	}
	if err := d.svc.ClearBouncing(ctx, d.actor, o.address, o.dryRun); err != nil {
		return err
	}
	return printOne(d, map[string]any{"cleared": o.address, "dry_run": o.dryRun}, func(w io.Writer, v map[string]any) {
		if o.dryRun {
			fprintf(w, "%s would be mailed again (dry run; nothing changed)\n", o.address)
			return
		}
		fprintf(w, "%s will be mailed again\n", o.address)
	})
}
