package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/jcservicedesk/servicedesk/configs"
	"github.com/jcservicedesk/servicedesk/mailbox/compose"
	"github.com/jcservicedesk/servicedesk/mailbox/outbound"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// usageError marks bad command-line usage (exit 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// exitCodeError carries a specific exit code (the mail pipe's 65 and 75).
type exitCodeError struct {
	code int
	err  error
}

func (e exitCodeError) Error() string { return e.err.Error() }
func (e exitCodeError) Unwrap() error { return e.err }

// app is what every command shares: flags, then lazily the config, the
// store and the ticket service.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer

	configFile string
	database   string
	output     string
	as         string
	mayCreate  bool // serve and migrate: create, migrate and seed the database
	target     configs.DatabaseTarget

	root     *cobra.Command
	cfg      *configs.Config
	st       *store.Store
	svc      *ticketing.Service
	outbound *outbound.Outbound
	key      []byte // the secret key, once openStore has run
	log      *slog.Logger
	d        *deps    // built by app.deps
	cli      cliFlags // -v and the admin commands' log level (errors.go)
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	if a.st != nil {
		a.st.Close()
	}
	if err == nil {
		return exitOK
	}
	msg := cleanMessage(err)
	fmt.Fprintln(stderr, "servicedesk: "+msg)
	var ue usageError
	var ce exitCodeError
	switch {
	case errors.As(err, &ce):
		return ce.code
	case errors.As(err, &ue), isCobraUsage(err):
		return exitUsage
	}
	return exitError
}

// isCobraUsage recognises the errors cobra makes itself for bad usage.
func isCobraUsage(err error) bool {
	m := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "flag needs an argument",
		"invalid argument", "accepts ", "requires at least", "required flag", "if any flags in the group"} {
		if strings.Contains(m, p) {
			return true
		}
	}
	return false
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "servicedesk",
		Short:         "JC Service Desk — an email-first helpdesk",
		Long:          "JC Service Desk: `servicedesk serve` runs the daemon (SMTP receiver, IMAP pollers); the other commands administer it.",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if a.output != "table" && a.output != "json" {
				return usagef("--output must be table or json, not %q", a.output)
			}
			path := cmd.CommandPath()
			a.mayCreate = path == "servicedesk serve" || path == "servicedesk migrate"
			// Every audit row written by this process says where it came
			// from: the daemon's automatic changes are the system's, the
			// rest is an admin at a shell (or cron, which looks alike).
			via := ticketing.ViaCLI
			if path == "servicedesk serve" {
				via = ticketing.ViaSystem
			}
			cmd.SetContext(ticketing.WithVia(cmd.Context(), via, osUser()))
			return nil
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	pf := root.PersistentFlags()
	pf.StringVar(&a.configFile, "config", "", "configuration file (default: ./servicedesk.yaml, ./configs/servicedesk.yaml, /etc/servicedesk/servicedesk.yaml)")
	pf.StringVar(&a.database, "database", "", "database URL (sqlite:///path.db or postgres://…); overrides database.url")
	pf.StringVarP(&a.output, "output", "o", "table", "output format: table or json")
	pf.StringVar(&a.as, "as", "", "act as this user (default: the first active admin)")
	a.root = root
	root.AddCommand(
		a.serveCommand(),
		a.migrateCommand(),
		a.configCommand(),
		a.companyCommand(),
		a.userCommand(),
		a.categoryCommand(),
		a.ticketCommand(),
		a.mailCommand(),
		a.templateCommand(),
		a.slaCommand(),
		a.queueCommand(),
		a.contractCommand(),
		a.auditCommand(),
		a.lgpdCommand(),
		a.retentionCommand(),
		a.assetCommand(),
	)
	a.extendRoot(root)
	for _, c := range root.Commands() {
		setUsageArgs(c)
	}
	root.RunE = groupRun
	return root
}

// groupRun is the RunE of commands that only group others: an unknown
// subcommand is a usage error instead of a help page with exit 0.
func groupRun(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("unknown command %q for %q", args[0], cmd.CommandPath())
	}
	return cmd.Help()
}

// setUsageArgs makes argument-count errors usage errors (exit 2).
func setUsageArgs(c *cobra.Command) {
	if c.Run == nil && c.RunE == nil {
		c.RunE = groupRun
		c.Args = cobra.ArbitraryArgs
	}
	if c.Args != nil {
		check := c.Args
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := check(cmd, args); err != nil {
				return usageError{err}
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		setUsageArgs(sub)
	}
}

// config loads the configuration once.
func (a *app) config() (*configs.Config, error) {
	if a.cfg != nil {
		return a.cfg, nil
	}
	cfg, err := configs.Load(configs.LoadOptions{
		ConfigFile: a.configFile,
		Flags:      a.root.PersistentFlags(),
		FlagKeys:   map[string]string{"database": "database.url"},
	})
	if err != nil {
		return nil, err
	}
	a.cfg = cfg
	a.log = newLogger(a.cli.logConfig(cfg.Log), a.stderr)
	return cfg, nil
}

func newLogger(c configs.LogConfig, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// openStore opens the database and builds the services. Only serve and
// migrate (a.mayCreate) create, migrate and seed it; every other command
// needs a migrated database and changes nothing when there is none.
func (a *app) openStore(ctx context.Context) (*store.Store, error) {
	if a.svc != nil {
		return a.st, nil
	}
	st, err := a.openRaw(ctx)
	if err != nil {
		return nil, err
	}
	if a.mayCreate {
		if applied, err := st.Migrate(ctx); err != nil {
			return nil, err
		} else if len(applied) > 0 {
			a.log.Info("database migrated", "applied", applied)
		}
	} else if err := st.CheckMigrated(ctx); errors.Is(err, store.ErrNotMigrated) {
		return nil, a.noDatabase(err)
	} else if err != nil {
		return nil, err
	}
	boot := ticketing.NewService(st)
	if a.mayCreate {
		if err := a.seed(ctx, boot); err != nil {
			return nil, err
		}
	}
	key, err := boot.SecretKey(ctx, a.cfg.Security.SecretKey)
	if err != nil {
		return nil, err
	}
	a.key = key
	// Every ticket change, from the CLI, mail or the portal, queues its
	// mail in the same transaction.
	ob, err := a.newOutbound(key)
	if err != nil {
		return nil, err
	}
	a.outbound = ob
	a.svc = ticketing.NewService(st, ticketing.WithTxHook(ob.Hook), ticketing.WithListener(ob.Listener),
		ticketing.WithLocation(a.cfg.Location()),
		ticketing.WithRatingTTL(a.cfg.Tickets.RatingTTL),
		ticketing.WithAccounts(ticketing.AccountConfig{Secret: key,
			SessionLifetime: a.cfg.Security.SessionLifetime, RememberLifetime: a.cfg.Security.RememberLifetime,
			IdleTimeout: a.cfg.Security.IdleTimeout, Require2FARoles: a.cfg.Security.Require2FARoles,
			HashConcurrency: a.cfg.Security.PasswordHashConcurrency}),
		ticketing.WithTemplateCheck(func(subject, text, html string) error {
			return compose.Validate(compose.Template{Subject: subject, Text: text, HTML: html})
		}))
	return st, nil
}

// noDatabase words a missing or unmigrated database for the admin.
func (a *app) noDatabase(err error) error {
	migrate := "; run `servicedesk migrate` first"
	// What is missing, without the store's own prefix.
	detail := strings.TrimPrefix(err.Error(), store.ErrNotMigrated.Error()+": ")
	if !errors.Is(err, store.ErrNotMigrated) {
		detail = ""
	}
	if detail != "" {
		detail = " (" + detail + ")"
	}
	if a.target.Driver == store.Postgres {
		return fmt.Errorf("schema not migrated%s%s", migrate, detail)
	}
	// The absolute path: a wrong working folder is the usual cause.
	path := a.target.DSN
	if abs, aerr := filepath.Abs(path); aerr == nil {
		path = abs
	}
	if errors.Is(err, store.ErrNoDatabase) {
		return fmt.Errorf("no database at %s%s", path, migrate)
	}
	return fmt.Errorf("database at %s is not migrated%s%s", path, migrate, detail)
}

// openRaw opens the database without migrating it; it creates the SQLite
// file (and its folder) only for serve and migrate.
func (a *app) openRaw(ctx context.Context) (*store.Store, error) {
	if a.st != nil {
		return a.st, nil
	}
	cfg, err := a.config()
	if err != nil {
		return nil, err
	}
	target, err := configs.ParseDatabaseURL(cfg.Database.URL)
	if err != nil {
		return nil, err
	}
	a.target = target
	opts := store.Options{Driver: target.Driver, DSN: target.DSN, MaxOpenConns: cfg.Database.MaxOpenConns, MustExist: !a.mayCreate}
	if target.InMemory() {
		// A throwaway database exists only in this process.
		opts.DSN, opts.MustExist, a.mayCreate = ":memory:", false, true
	}
	st, err := store.Open(ctx, opts)
	if errors.Is(err, store.ErrNoDatabase) {
		return nil, a.noDatabase(err)
	}
	if err != nil {
		return nil, err
	}
	a.st = st
	return st, nil
}

// seed creates the default company and the first admin, once per
// database. Without a configured password it prints a generated one, once.
func (a *app) seed(ctx context.Context, svc *ticketing.Service) error {
	c := a.cfg.Admin
	res, err := svc.Seed(ctx, ticketing.SeedInput{Company: c.Company, Email: c.Email, Name: c.Name, Password: c.Password})
	if err != nil {
		return err
	}
	if res.Password != "" {
		fmt.Fprintf(a.stderr, "First start: created admin %s with password %s\n(shown once; change it with `servicedesk user set-password --email %s`)\n",
			res.Admin.Email, res.Password, res.Admin.Email)
	}
	return nil
}

// actor is the user commands act as: --as, else the first active admin.
func (a *app) actor(ctx context.Context) (*store.User, error) {
	return a.svc.ActingUser(ctx, a.as)
}

// printJSON writes v as indented JSON.
func (a *app) printJSON(v any) error { return writeJSON(a.stdout, v) }

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// osUser names the operating-system user for the audit log.
func osUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return os.Getenv("USER")
}

// printTable writes rows under a header, aligned.
func (a *app) printTable(header []string, rows [][]string) error {
	return writeTable(a.stdout, header, rows)
}

func writeTable(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

func (a *app) jsonOut() bool { return a.output == "json" }

// readLine reads one line (a password) from r.
func readLine(r io.Reader) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, 4096))
	if err != nil {
		return "", err
	}
	s := strings.TrimRight(string(b), "\r\n")
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	return s, nil
}
