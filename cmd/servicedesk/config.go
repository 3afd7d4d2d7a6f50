package main

import (
	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"
)

func (a *app) configCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Inspect the configuration"}
	cmd.AddCommand(&cobra.Command{
		Use:   "show",
		Short: "Print the effective configuration, secrets redacted",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.config()
			if err != nil {
				return err
			}
			red := cfg.Redacted()
			if a.jsonOut() {
				return a.printJSON(red)
			}
			enc := yaml.NewEncoder(a.stdout)
			enc.SetIndent(2)
			defer enc.Close()
			return enc.Encode(red)
		},
	})
	return cmd
}
