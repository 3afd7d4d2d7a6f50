package main

import (
	"context"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/jcservicedesk/servicedesk/store"
)

type categoryJSON struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	ParentID *int64 `json:"parent_id"`
	Path     string `json:"path"`
}

func (a *app) categoryCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "category", Short: "Manage ticket categories and subcategories"}
	var name, parent string
	add := &cobra.Command{
		Use: "add", Short: "Add a category (--parent for a subcategory)", Args: cobra.NoArgs,
		RunE: a.adminRun(func(cmd *cobra.Command, ctx context.Context, admin *store.User, args []string) error {
			c, err := a.svc.CreateCategory(ctx, admin, name, parent)
			if err != nil {
				return err
			}
			return a.printCategories(cmd, true, c)
		}),
	}
	add.Flags().StringVar(&name, "name", "", "category name")
	add.Flags().StringVar(&parent, "parent", "", "parent category name or id")
	_ = add.MarkFlagRequired("name")
	list := &cobra.Command{
		Use: "list", Short: "List categories", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			cs, err := st.R().Categories(cmd.Context())
			if err != nil {
				return err
			}
			return a.printCategories(cmd, false, cs...)
		},
	}
	cmd.AddCommand(add, list)
	return cmd
}

func (a *app) printCategories(cmd *cobra.Command, one bool, cs ...*store.Category) error {
	all, err := a.st.R().Categories(cmd.Context())
	if err != nil {
		return err
	}
	names := map[int64]string{}
	for _, c := range all {
		names[c.ID] = c.Name
	}
	views := make([]categoryJSON, 0, len(cs))
	for _, c := range cs {
		v := categoryJSON{ID: c.ID, Name: c.Name, ParentID: c.ParentID, Path: c.Name}
		if c.ParentID != nil {
			v.Path = names[*c.ParentID] + "/" + c.Name
		}
		views = append(views, v)
	}
	if a.jsonOut() {
		if one {
			return a.printJSON(views[0])
		}
		return a.printJSON(views)
	}
	rows := make([][]string, 0, len(views))
	for _, v := range views {
		rows = append(rows, []string{strconv.FormatInt(v.ID, 10), v.Path})
	}
	return a.printTable([]string{"ID", "CATEGORY"}, rows)
}
