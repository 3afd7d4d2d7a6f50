package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/jcservicedesk/servicedesk/configs"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// The shape of a command (gotosocial's cmd/gotosocial/action): cobra
// declares the command and its flags into an opts struct, and RunE calls a
// plain action
//
//	func templateSet(ctx context.Context, d *deps, o templateSetOpts) error
//
// that parses nothing, calls one service function and prints the result
// with printOne or printMany. Actions never open store transactions: every
// state change is a service call that checks the policy and audits.

// deps is what an action needs, built once per process by app.deps.
type deps struct {
	cfg   *configs.Config
	st    *store.Store // read side only: lists and shows
	svc   *ticketing.Service
	log   *slog.Logger
	actor *store.User // who the command acts as (--as, else an admin)

	stdin   io.Reader
	stdout  io.Writer
	stderr  io.Writer
	json    bool // --output json
	verbose bool // -v: jobs print what they did even on success
}

// action adapts an action to cobra's RunE: it opens the migrated store,
// finds the acting user, and runs fn.
func (a *app) action(fn func(ctx context.Context, d *deps) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		ctx := cmd.Context()
		d, err := a.deps(ctx)
		if err != nil {
			return err
		}
		return fn(ctx, d)
	}
}

// deps opens the store and resolves the actor once.
func (a *app) deps(ctx context.Context) (*deps, error) {
	if a.d != nil {
		return a.d, nil
	}
	if _, err := a.openStore(ctx); err != nil {
		return nil, err
	}
	actor, err := a.actor(ctx)
	if err != nil {
		return nil, err
	}
	a.d = &deps{cfg: a.cfg, st: a.st, svc: a.svc, log: a.log, actor: actor,
		stdin: a.stdin, stdout: a.stdout, stderr: a.stderr, json: a.jsonOut(), verbose: a.cli.verbose}
	return a.d, nil
}

// printOne prints one object: a JSON object with -o json, else text.
func printOne[T any](d *deps, v T, text func(w io.Writer, v T)) error {
	if d.json {
		return writeJSON(d.stdout, v)
	}
	text(d.stdout, v)
	return nil
}

// printMany prints a list: always a JSON array with -o json (never null,
// never a bare object for one row), else an aligned table.
func printMany[T any](d *deps, items []T, header []string, row func(T) []string) error {
	if d.json {
		if items == nil {
			items = []T{}
		}
		return writeJSON(d.stdout, items)
	}
	rows := make([][]string, 0, len(items))
	for _, it := range items {
		rows = append(rows, row(it))
	}
	return writeTable(d.stdout, header, rows)
}

// destructive holds the flags every destructive command takes (delete,
// remove, purge, clear, anonymize, retention): --dry-run reports what
// would change and changes nothing; on a terminal the command asks first
// unless --yes.
type destructive struct {
	dryRun bool
	yes    bool
}

func (o *destructive) flags(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "show what would change and change nothing")
	cmd.Flags().BoolVarP(&o.yes, "yes", "y", false, "do not ask for confirmation")
}

// confirm asks "what? [y/N]" when stdin is a terminal and --yes was not
// given; scripts and cron (no terminal) proceed. A "no" is an error that
// changes nothing.
func (o *destructive) confirm(d *deps, what string) error {
	if o.yes || o.dryRun {
		return nil
	}
	f, ok := d.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	fprintf(d.stderr, "%s? [y/N] ", what)
	line, _ := bufio.NewReader(f).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes", "s", "sim":
		return nil
	}
	return errors.New("cancelled; nothing changed")
}

// paging holds --limit, --offset and --all for list commands.
type paging struct {
	limit  int
	offset int
	all    bool
}

// maxPage is the largest --limit; --all pages through everything.
const maxPage = 1000

func (p *paging) flags(cmd *cobra.Command, def int) {
	cmd.Flags().IntVar(&p.limit, "limit", def, fmt.Sprintf("at most this many (1–%d)", maxPage))
	cmd.Flags().IntVar(&p.offset, "offset", 0, "skip this many first")
	cmd.Flags().BoolVar(&p.all, "all", false, "list every row (ignores --limit)")
}

// check refuses out-of-range values with a usage error (exit 2).
func (p *paging) check() error {
	if !p.all && (p.limit < 1 || p.limit > maxPage) {
		return usagef("--limit must be between 1 and %d (use --all for everything), not %d", maxPage, p.limit)
	}
	if p.offset < 0 {
		return usagef("--offset must not be negative, not %d", p.offset)
	}
	return nil
}

// page is the limit (0: no limit, with --all) and offset for a store query.
func (p *paging) page() (limit, offset int) {
	if p.all {
		return 0, p.offset
	}
	return p.limit, p.offset
}

// checked is a.action for list commands: the paging flags are checked
// first, so a bad value is exit 2 with nothing opened.
func (a *app) checked(p *paging, fn func(ctx context.Context, d *deps) error) func(*cobra.Command, []string) error {
	run := a.action(fn)
	return func(cmd *cobra.Command, args []string) error {
		if err := p.check(); err != nil {
			return err
		}
		return run(cmd, args)
	}
}
