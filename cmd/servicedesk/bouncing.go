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

type bouncingClearOpts struct{ address string }

func (a *app) bouncingClearCommand() *cobra.Command {
	var o bouncingClearOpts
	return &cobra.Command{
		Use: "clear ADDRESS", Short: "Mail an address again", Args: cobra.ExactArgs(1),
		PreRun: func(_ *cobra.Command, args []string) { o.address = args[0] },
		RunE:   a.action(func(ctx context.Context, d *deps) error { return bouncingClear(ctx, d, o) }),
	}
}

func bouncingClear(ctx context.Context, d *deps, o bouncingClearOpts) error {
	if err := d.svc.ClearBouncing(ctx, d.actor, o.address); err != nil {
		return err
	}
	return printOne(d, map[string]string{"cleared": o.address}, func(w io.Writer, v map[string]string) {
		fprintf(w, "%s will be mailed again\n", v["cleared"])
	})
}
