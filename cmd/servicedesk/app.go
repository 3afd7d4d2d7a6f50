package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/jcservicedesk/servicedesk/configs"
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

	root     *cobra.Command
	cfg      *configs.Config
	st       *store.Store
	svc      *ticketing.Service
	outbound *outbound.Outbound
	key      []byte // the secret key, once openStore has run
	log      *slog.Logger
	d        *deps // built by app.deps
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
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
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
			return nil
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	pf := root.PersistentFlags()
	pf.StringVar(&a.configFile, "config", "", "configuration file (default: ./servicedesk.yaml, ./configs/servicedesk.yaml, /etc/servicedesk/servicedesk.yaml)")
	pf.StringVar(&a.database, "database", "", "database URL (sqlite:///path.db or postgres://…); overrides database.url")
	pf.StringVarP(&a.output, "output", "o", "table", "output format: table or json")
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
		a.lgpdCommand(),
	)
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
	a.log = newLogger(cfg.Log, a.stderr)
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

// openStore opens and migrates the database and seeds the first admin.
func (a *app) openStore(ctx context.Context) (*store.Store, error) {
	if a.svc != nil {
		return a.st, nil
	}
	st, err := a.openRaw(ctx)
	if err != nil {
		return nil, err
	}
	if applied, err := st.Migrate(ctx); err != nil {
		return nil, err
	} else if len(applied) > 0 {
		a.log.Info("database migrated", "applied", applied)
	}
	if err := a.seed(ctx); err != nil {
		return nil, err
	}
	key, err := a.secretKey(ctx)
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
	a.svc = ticketing.NewService(st, ticketing.WithTxHook(ob.Hook), ticketing.WithListener(ob.Listener))
	return st, nil
}

// openRaw opens the database without migrating it.
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
	opts := store.Options{Driver: target.Driver, DSN: target.DSN, MaxOpenConns: cfg.Database.MaxOpenConns}
	if target.InMemory() {
		opts.DSN = ":memory:"
	}
	st, err := store.Open(ctx, opts)
	if err != nil {
		return nil, err
	}
	a.st = st
	return st, nil
}

// seed creates the default company and the admin on first start. It never
// overwrites an existing user. Without a configured password it prints a
// generated one, once.
func (a *app) seed(ctx context.Context) error {
	cfg := a.cfg
	var generated string
	err := a.st.InTx(ctx, func(q *store.Q) error {
		company, err := q.CompanyByName(ctx, cfg.Admin.Company)
		if errors.Is(err, store.ErrNotFound) {
			// The default company collects people of no known company
			// (mail.unknown_sender: create): they must not see each
			// other's tickets.
			company = &store.Company{Name: cfg.Admin.Company, Isolated: true}
			if err := q.CreateCompany(ctx, company); err != nil {
				return err
			}
			if err := q.Audit(ctx, nil, company.ID, "company", company.ID, "seed", nil, company); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		if _, err := q.UserByEmail(ctx, store.AllCompanies(), cfg.Admin.Email); err == nil {
			return nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		pw := cfg.Admin.Password
		if pw == "" {
			generated = randomPassword()
			pw = generated
		}
		cid := company.ID
		_, err = ticketing.CreateUserTx(ctx, q, nil, ticketing.UserInput{
			Email: cfg.Admin.Email, Name: cfg.Admin.Name, Role: store.RoleAdmin, CompanyID: &cid, Password: pw,
		}, func() time.Time { return time.Now() })
		return err
	})
	if err != nil {
		return fmt.Errorf("seed admin: %w", err)
	}
	if generated != "" {
		fmt.Fprintf(a.stderr, "First start: created admin %s with password %s\n(shown once; change it with `servicedesk user set-password --email %s`)\n",
			cfg.Admin.Email, generated, cfg.Admin.Email)
	}
	return nil
}

func randomPassword() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// secretKey is the configured key, or one generated once and kept in the
// database so every process (and every restart) signs alike.
func (a *app) secretKey(ctx context.Context) ([]byte, error) {
	if k := a.cfg.Security.SecretKey; k != "" {
		return []byte(k), nil
	}
	var b [32]byte
	_, _ = rand.Read(b[:])
	var key string
	err := a.st.InTx(ctx, func(q *store.Q) error {
		var err error
		key, err = q.SettingOrInit(ctx, "secret_key", base64.RawStdEncoding.EncodeToString(b[:]))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	return []byte(key), nil
}

// actor is the user ticket commands act as: --as, else the seeded admin.
func (a *app) actor(ctx context.Context) (*store.User, error) {
	email := a.as
	if email == "" {
		email = a.cfg.Admin.Email
	}
	u, err := a.st.R().UserByEmail(ctx, store.AllCompanies(), email)
	if err != nil {
		return nil, fmt.Errorf("acting user %s: %w", email, err)
	}
	if u.Disabled {
		return nil, fmt.Errorf("acting user %s is disabled", email)
	}
	return u, nil
}

// adminRun opens the store and runs fn as the seeded admin (directory
// commands).
func (a *app) adminRun(fn func(cmd *cobra.Command, ctx context.Context, admin *store.User, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		if _, err := a.openStore(ctx); err != nil {
			return err
		}
		admin, err := a.adminActor(ctx)
		if err != nil {
			return err
		}
		return fn(cmd, ctx, admin, args)
	}
}

// adminActor is the seeded admin, for directory commands.
func (a *app) adminActor(ctx context.Context) (*store.User, error) {
	a.as = ""
	return a.actor(ctx)
}

// printJSON writes v as indented JSON.
func (a *app) printJSON(v any) error { return writeJSON(a.stdout, v) }

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printList prints items as a JSON array (never null) or as a table, one
// row per item.
func printList[T any](a *app, items []T, header []string, row func(T) []string) error {
	if a.jsonOut() {
		if items == nil {
			items = []T{}
		}
		return a.printJSON(items)
	}
	rows := make([][]string, 0, len(items))
	for _, it := range items {
		rows = append(rows, row(it))
	}
	return a.printTable(header, rows)
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
