package main

import (
	"context"
	"io"
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

var categoryHeader = []string{"ID", "CATEGORY"}

func categoryRow(v categoryJSON) []string { return []string{strconv.FormatInt(v.ID, 10), v.Path} }

func (a *app) categoryCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "category", Short: "Manage ticket categories and subcategories"}
	cmd.AddCommand(a.categoryAddCommand(), a.categoryListCommand())
	return cmd
}

type categoryAddOpts struct{ name, parent string }

func (a *app) categoryAddCommand() *cobra.Command {
	var o categoryAddOpts
	add := &cobra.Command{
		Use: "add", Short: "Add a category (--parent for a subcategory)", Args: cobra.NoArgs,
		RunE: a.action(func(ctx context.Context, d *deps) error { return categoryAdd(ctx, d, o) }),
	}
	add.Flags().StringVar(&o.name, "name", "", "category name")
	add.Flags().StringVar(&o.parent, "parent", "", "parent category name or id")
	_ = add.MarkFlagRequired("name")
	return add
}

func categoryAdd(ctx context.Context, d *deps, o categoryAddOpts) error {
	c, err := d.svc.CreateCategory(ctx, d.actor, o.name, o.parent)
	if err != nil {
		return err
	}
	views, err := categoryViews(ctx, d.st, c)
	if err != nil {
		return err
	}
	return printOne(d, views[0], func(w io.Writer, v categoryJSON) {
		_ = writeTable(w, categoryHeader, [][]string{categoryRow(v)})
	})
}

func (a *app) categoryListCommand() *cobra.Command {
	return &cobra.Command{
		Use: "list", Short: "List categories", Args: cobra.NoArgs,
		RunE: a.action(categoryList),
	}
}

func categoryList(ctx context.Context, d *deps) error {
	cs, err := d.st.R().Categories(ctx)
	if err != nil {
		return err
	}
	views, err := categoryViews(ctx, d.st, cs...)
	if err != nil {
		return err
	}
	return printMany(d, views, categoryHeader, categoryRow)
}

// categoryViews gives each category its Parent/Child path.
func categoryViews(ctx context.Context, st *store.Store, cs ...*store.Category) ([]categoryJSON, error) {
	all, err := st.R().Categories(ctx)
	if err != nil {
		return nil, err
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
	return views, nil
}
