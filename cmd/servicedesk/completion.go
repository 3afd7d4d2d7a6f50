package main

import (
	"context"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/jcservicedesk/servicedesk/mailbox/compose"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// Dynamic shell completion (`servicedesk completion bash|zsh|fish`): ticket
// numbers, statuses, roles, companies, users and template events come
// from the database or the domain, as the acting user may see them.

type completer func(ctx context.Context, d *deps) ([]string, error)

// complete turns a completer into cobra's form. It never fails loudly: a
// shell completing a word has no use for an error message.
func (a *app) complete(fn completer) cobra.CompletionFunc {
	return func(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		ctx := cmd.Context()
		if ctx == nil {
			ctx = context.Background()
		}
		d, err := a.deps(ctx)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
		}
		words, err := fn(ctx, d)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
		}
		return withPrefix(words, toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

// fixed completes from a list that needs no database.
func fixed(words ...string) cobra.CompletionFunc {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		return withPrefix(words, toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

// withPrefix keeps the candidates (a candidate may carry "\tdescription")
// that start with what was typed.
func withPrefix(words []string, toComplete string) []string {
	out := make([]string, 0, len(words))
	for _, w := range words {
		value, _, _ := strings.Cut(w, "\t")
		if strings.HasPrefix(strings.ToLower(value), strings.ToLower(toComplete)) {
			out = append(out, w)
		}
	}
	return out
}

// onlyArg completes the i-th positional argument with fn, nothing else.
func onlyArg(i int, fn cobra.CompletionFunc) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) != i {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return fn(cmd, args, toComplete)
	}
}

func completeTickets(ctx context.Context, d *deps) ([]string, error) {
	ts, err := d.svc.List(ctx, d.actor, store.TicketFilter{Limit: maxPage})
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		out = append(out, strconv.FormatInt(t.Number, 10)+"\t"+t.Status+": "+t.Subject)
	}
	return out, nil
}

func completeCompanies(ctx context.Context, d *deps) ([]string, error) {
	cs, err := d.st.R().Companies(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out, nil
}

func completeUsers(ctx context.Context, d *deps) ([]string, error) {
	us, err := d.st.R().Users(ctx, store.AllCompanies(), store.UserFilter{})
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(us))
	for _, u := range us {
		out = append(out, u.Email+"\t"+u.Role)
	}
	return out, nil
}

// completeStatusList completes a comma-separated --status: the words
// before the last comma stay as typed.
func completeStatusList(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	done, last := "", toComplete
	if i := strings.LastIndex(toComplete, ","); i >= 0 {
		done, last = toComplete[:i+1], toComplete[i+1:]
	}
	var out []string
	for _, s := range append(append([]string(nil), ticketing.Statuses...), statusActive) {
		if strings.HasPrefix(s, last) && !strings.Contains(","+done, ","+s+",") {
			out = append(out, done+s)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
}

var (
	roles      = []string{store.RoleClient, store.RoleTech, store.RoleSupervisor, store.RoleAdmin}
	priorities = []string{store.PriorityLow, store.PriorityNormal, store.PriorityHigh, store.PriorityUrgent}
)

// registerCompletions attaches completions across the tree, including to
// commands defined in files of their own (template), so each command file
// stays about its command.
func (a *app) registerCompletions(root *cobra.Command) {
	tickets := a.complete(completeTickets)
	companies := a.complete(completeCompanies)
	users := a.complete(completeUsers)
	args := map[string]cobra.CompletionFunc{
		"ticket show":            onlyArg(0, tickets),
		"ticket comment":         onlyArg(0, tickets),
		"ticket assign":          onlyArg(0, tickets),
		"ticket update":          onlyArg(0, tickets),
		"ticket attachment list": onlyArg(0, tickets),
		"ticket attachment get":  onlyArg(0, tickets),
		"company show":           onlyArg(0, companies),
		"company update":         onlyArg(0, companies),
		"company remove":         onlyArg(0, companies),
		"user show":              onlyArg(0, users),
		"user update":            onlyArg(0, users),
		"user disable":           onlyArg(0, users),
		"template show":          onlyArg(0, fixed(compose.Events()...)),
		"template set":           onlyArg(0, fixed(compose.Events()...)),
		"template reset":         onlyArg(0, fixed(compose.Events()...)),
	}
	args["ticket status"] = func(cmd *cobra.Command, a []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(a) == 1 {
			return fixed(ticketing.Statuses...)(cmd, a, toComplete)
		}
		return onlyArg(0, tickets)(cmd, a, toComplete)
	}
	flags := map[string]cobra.CompletionFunc{
		"company": companies, "role": fixed(roles...), "priority": fixed(priorities...),
		"language": fixed(userLanguages...), "lang": fixed(templateLangs...),
		"requester": users, "assignee": users, "to": users, "as": users,
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		path := strings.TrimPrefix(c.CommandPath(), root.Name()+" ")
		if fn := args[path]; fn != nil && c.ValidArgsFunction == nil {
			c.ValidArgsFunction = fn
		}
		for name, fn := range flags {
			// mail send-test --to is any address, not a user.
			if name == "to" && path != "ticket assign" {
				continue
			}
			if c.Flags().Lookup(name) != nil || c.PersistentFlags().Lookup(name) != nil {
				_ = c.RegisterFlagCompletionFunc(name, fn)
			}
		}
		if path == "ticket list" {
			_ = c.RegisterFlagCompletionFunc("status", completeStatusList)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// addExamples gives an Example section to the main commands defined in
// files of their own.
func addExamples(root *cobra.Command) {
	if c, _, err := root.Find([]string{"mail", "ingest"}); err == nil && c.Example == "" {
		c.Example = `  servicedesk mail ingest --config /etc/servicedesk/servicedesk.yaml < message.eml   # as an MTA pipe does
  servicedesk mail ingest saved/*.eml -o json                                     # per file, what became of it
  servicedesk mail ingest --mbox export.mbox`
	}
}
