package main

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// bouncingCommand manages the suppression list: addresses a delivery
// report proved dead, which get no mail until cleared (or until they write
// to us again).
func (a *app) bouncingCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "bouncing", Short: "Addresses we no longer mail because our mail to them bounced"}
	list := &cobra.Command{
		Use: "list", Short: "List addresses marked as bouncing", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			as, err := st.R().BouncingAddresses(cmd.Context())
			if err != nil {
				return err
			}
			return printList(a, as, []string{"ADDRESS"}, func(e string) []string { return []string{e} })
		},
	}
	clear := &cobra.Command{
		Use: "clear ADDRESS", Short: "Mail an address again", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			addr, err := ticketing.NormalizeAddress(args[0])
			if err != nil {
				return err
			}
			st, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			var cleared bool
			err = st.InTx(cmd.Context(), func(q *store.Q) error {
				if cleared, err = q.ClearBouncing(cmd.Context(), addr); err != nil || !cleared {
					return err
				}
				return q.Audit(cmd.Context(), nil, 0, "mail_address", 0, "clear_bouncing", nil, map[string]string{"email": addr})
			})
			if err != nil {
				return err
			}
			if !cleared {
				return errors.New(addr + " is not marked as bouncing")
			}
			if a.jsonOut() {
				return a.printJSON(map[string]string{"cleared": addr})
			}
			fprintf(a.stdout, "%s will be mailed again\n", addr)
			return nil
		},
	}
	cmd.AddCommand(list, clear)
	return cmd
}
