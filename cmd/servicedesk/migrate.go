package main

import (
	"github.com/spf13/cobra"
)

func (a *app) migrateCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply pending database migrations (serve does this at start too)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			// openStore migrates and seeds.
			_, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			return a.printMigrations(cmd)
		},
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "status",
		Short: "List migrations and whether each is applied",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := a.openRaw(cmd.Context()); err != nil {
				return err
			}
			return a.printMigrations(cmd)
		},
	})
	return cmd
}

func (a *app) printMigrations(cmd *cobra.Command) error {
	st, err := a.st.MigrationStatus(cmd.Context())
	if err != nil {
		return err
	}
	if a.jsonOut() {
		return a.printJSON(st)
	}
	rows := make([][]string, 0, len(st))
	for _, m := range st {
		state := "pending"
		if m.Applied {
			state = "applied"
		}
		rows = append(rows, []string{m.Name, state})
	}
	return a.printTable([]string{"MIGRATION", "STATE"}, rows)
}
