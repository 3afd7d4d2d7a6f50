package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

const timeFormat = "2006-01-02T15:04:05Z07:00"

type userJSON struct {
	ID          int64    `json:"id"`
	Email       string   `json:"email"`
	Name        string   `json:"name"`
	Role        string   `json:"role"`
	CompanyID   *int64   `json:"company_id"`
	Company     string   `json:"company"`
	Confirmed   bool     `json:"confirmed"`
	Disabled    bool     `json:"disabled"`
	HasPassword bool     `json:"has_password"`
	Require2FA  bool     `json:"require_2fa"`
	LockedUntil *string  `json:"locked_until"`
	NotifyOff   []string `json:"notify_off"`
	CreatedAt   string   `json:"created_at"`
	LastLoginAt *string  `json:"last_login_at"`
}

func userView(u *store.User, companies map[int64]string) userJSON {
	v := userJSON{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, CompanyID: u.CompanyID,
		Confirmed: u.ConfirmedAt != nil, Disabled: u.Disabled, HasPassword: u.PasswordHash != "", Require2FA: u.Require2FA,
		CreatedAt: u.CreatedAt.Format(timeFormat), NotifyOff: []string{}}
	for _, k := range ticketing.NoticeKinds {
		if !ticketing.WantsNotice(u, k) {
			v.NotifyOff = append(v.NotifyOff, k)
		}
	}
	if u.CompanyID != nil {
		v.Company = companies[*u.CompanyID]
	}
	if u.LockedUntil != nil && time.Now().Before(*u.LockedUntil) {
		s := u.LockedUntil.Format(timeFormat)
		v.LockedUntil = &s
	}
	if u.LastLoginAt != nil {
		s := u.LastLoginAt.Format(timeFormat)
		v.LastLoginAt = &s
	}
	return v
}

// companyNames maps company ids to names (template.go uses it too).
func (a *app) companyNames(ctx context.Context) (map[int64]string, error) {
	return companyNamesOf(ctx, a.st)
}

func companyNamesOf(ctx context.Context, st *store.Store) (map[int64]string, error) {
	cs, err := st.R().Companies(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[int64]string, len(cs))
	for _, c := range cs {
		m[c.ID] = c.Name
	}
	return m, nil
}

var userHeader = []string{"ID", "EMAIL", "NAME", "ROLE", "COMPANY", "CONFIRMED", "DISABLED"}

func userRow(v userJSON) []string {
	return []string{strconv.FormatInt(v.ID, 10), v.Email, v.Name, v.Role, v.Company,
		strconv.FormatBool(v.Confirmed), strconv.FormatBool(v.Disabled)}
}

// printUser prints one user: an object with -o json, else a one-row table.
func printUser(ctx context.Context, d *deps, u *store.User) error {
	names, err := companyNamesOf(ctx, d.st)
	if err != nil {
		return err
	}
	return printOne(d, userView(u, names), func(w io.Writer, v userJSON) {
		_ = writeTable(w, userHeader, [][]string{userRow(v)})
	})
}

// companyID resolves --company (name or id); "" is no company.
func (a *app) companyID(ctx context.Context, ref string) (*int64, error) {
	return companyIDOf(ctx, a.st, ref)
}

func companyIDOf(ctx context.Context, st *store.Store, ref string) (*int64, error) {
	if ref == "" {
		return nil, nil
	}
	c, err := st.R().CompanyByRef(ctx, ref)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, errors.New("unknown company " + strconv.Quote(ref))
		}
		return nil, err
	}
	return &c.ID, nil
}

// Languages a user may prefer (those the mail templates exist in).
var userLanguages = []string{"pt-BR", "en"}

// checkRole and checkLanguage refuse unknown enumerated values before the
// service sees them: a typo in a flag is bad usage (exit 2), not a failed
// change.
func checkRole(flag, role string) error {
	if !store.ValidRole(role) {
		return usagef("unknown role %q for --%s (want client, tech, supervisor or admin)", role, flag)
	}
	return nil
}

func checkLanguage(lang string) error {
	if lang != "" && !slices.Contains(userLanguages, lang) {
		return usagef("unknown language %q for --language (want pt-BR or en)", lang)
	}
	return nil
}

func (a *app) userCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Manage users"}
	cmd.AddCommand(a.userAddCommand(), a.userListCommand(), a.userShowCommand(), a.userUpdateCommand(),
		a.userDisableCommand(), a.userSetPasswordCommand(), a.userUnlockCommand(), a.userSessionsCommand(),
		a.userLogoutAllCommand())
	return cmd
}

type userAddOpts struct {
	in      ticketing.UserInput
	company string
}

func (a *app) userAddCommand() *cobra.Command {
	var o userAddOpts
	add := &cobra.Command{
		Use: "add", Short: "Add a user (confirmed unless --unconfirmed)", Args: cobra.NoArgs,
		Example: `  servicedesk user add --email maria@acme.com.br --name Maria --company "Acme Ltda"   # a client
  servicedesk user add --email ana@helpdesk.example --name Ana --role tech
  servicedesk user add --email chefe@helpdesk.example --role admin --language en`,
		RunE: a.action(func(ctx context.Context, d *deps) error { return userAdd(ctx, d, o) }),
	}
	af := add.Flags()
	af.StringVar(&o.in.Email, "email", "", "email address (unique, case-insensitive)")
	af.StringVar(&o.in.Name, "name", "", "full name")
	af.StringVar(&o.in.Role, "role", store.RoleClient, "client, tech, supervisor or admin")
	af.StringVar(&o.company, "company", "", "company name or id (required for clients)")
	af.BoolVar(&o.in.Unconfirmed, "unconfirmed", false, "leave the address unconfirmed")
	af.StringVar(&o.in.Language, "language", "", "preferred language (pt-BR or en)")
	_ = add.MarkFlagRequired("email")
	return add
}

func userAdd(ctx context.Context, d *deps, o userAddOpts) error {
	if err := checkRole("role", o.in.Role); err != nil {
		return err
	}
	if err := checkLanguage(o.in.Language); err != nil {
		return err
	}
	in := o.in
	var err error
	if in.CompanyID, err = companyIDOf(ctx, d.st, o.company); err != nil {
		return err
	}
	u, err := d.svc.CreateUser(ctx, d.actor, in)
	if err != nil {
		return err
	}
	return printUser(ctx, d, u)
}

type userListOpts struct{ company, role string }

func (a *app) userListCommand() *cobra.Command {
	var o userListOpts
	list := &cobra.Command{
		Use: "list", Short: "List users", Args: cobra.NoArgs,
		RunE: a.action(func(ctx context.Context, d *deps) error { return userList(ctx, d, o) }),
	}
	list.Flags().StringVar(&o.company, "company", "", "only users of this company")
	list.Flags().StringVar(&o.role, "role", "", "only users with this role")
	return list
}

func userList(ctx context.Context, d *deps, o userListOpts) error {
	f := store.UserFilter{Role: o.role}
	if o.role != "" {
		if err := checkRole("role", o.role); err != nil {
			return err
		}
	}
	if id, err := companyIDOf(ctx, d.st, o.company); err != nil {
		return err
	} else if id != nil {
		f.CompanyID = *id
	}
	us, err := d.st.R().Users(ctx, store.AllCompanies(), f)
	if err != nil {
		return err
	}
	names, err := companyNamesOf(ctx, d.st)
	if err != nil {
		return err
	}
	views := make([]userJSON, 0, len(us))
	for _, u := range us {
		views = append(views, userView(u, names))
	}
	return printMany(d, views, userHeader, userRow)
}

type userEmailOpts struct{ email string }

func (a *app) userShowCommand() *cobra.Command {
	var o userEmailOpts
	return &cobra.Command{
		Use: "show EMAIL", Short: "Show one user", Args: cobra.ExactArgs(1),
		PreRun: func(_ *cobra.Command, args []string) { o.email = args[0] },
		RunE:   a.action(func(ctx context.Context, d *deps) error { return userShow(ctx, d, o) }),
	}
}

func userShow(ctx context.Context, d *deps, o userEmailOpts) error {
	u, err := userByEmailOf(ctx, d.st, o.email)
	if err != nil {
		return err
	}
	return printUser(ctx, d, u)
}

type userUpdateOpts struct {
	email                                   string
	newEmail, name, role, company, language string
	notifyOn, notifyOff                     []string
	require2FA                              bool
	changed                                 func(flag string) bool
}

func (a *app) userUpdateCommand() *cobra.Command {
	var o userUpdateOpts
	update := &cobra.Command{
		Use: "update EMAIL", Short: "Change a user (only the flags given)", Args: cobra.ExactArgs(1),
		PreRun: func(cmd *cobra.Command, args []string) { o.email, o.changed = args[0], cmd.Flags().Changed },
		RunE:   a.action(func(ctx context.Context, d *deps) error { return userUpdate(ctx, d, o) }),
	}
	uf := update.Flags()
	uf.StringVar(&o.newEmail, "email", "", "new email address")
	uf.StringVar(&o.name, "name", "", "full name")
	uf.StringVar(&o.role, "role", "", "client, tech, supervisor or admin")
	uf.StringVar(&o.company, "company", "", "company name or id (empty: none)")
	uf.StringVar(&o.language, "language", "", "preferred language (pt-BR or en)")
	uf.Bool("enable", false, "enable a disabled user")
	uf.BoolVar(&o.require2FA, "require-2fa", false, "require a second factor at sign-in (--require-2fa=false to lift)")
	uf.StringArrayVar(&o.notifyOff, "notify-off", nil, "stop mailing this kind of notice (repeatable: commented, status_changed, …)")
	uf.StringArrayVar(&o.notifyOn, "notify-on", nil, "mail this kind of notice again (repeatable)")
	return update
}

func userUpdate(ctx context.Context, d *deps, o userUpdateOpts) error {
	if o.changed("role") {
		if err := checkRole("role", o.role); err != nil {
			return err
		}
	}
	if o.changed("language") {
		if err := checkLanguage(o.language); err != nil {
			return err
		}
	}
	for _, k := range append(append([]string(nil), o.notifyOn...), o.notifyOff...) {
		if !slices.Contains(ticketing.NoticeKinds, k) {
			return usagef("unknown notice kind %q for --notify-on/--notify-off (want one of %s)", k, strings.Join(ticketing.NoticeKinds, ", "))
		}
	}
	var cid *int64
	if o.changed("company") {
		var err error
		if cid, err = companyIDOf(ctx, d.st, o.company); err != nil {
			return err
		}
	}
	u, err := d.svc.UpdateUser(ctx, d.actor, o.email, func(u *store.User) error {
		if o.changed("email") {
			e, err := ticketing.NormalizeAddress(o.newEmail)
			if err != nil {
				return err
			}
			u.Email = e
		}
		if o.changed("name") {
			u.Name = o.name
		}
		if o.changed("role") {
			u.Role = o.role
		}
		if o.changed("company") {
			u.CompanyID = cid
		}
		if o.changed("language") {
			u.Language = o.language
		}
		if o.changed("enable") {
			u.Disabled = false
		}
		if o.changed("require-2fa") {
			u.Require2FA = o.require2FA
		}
		if o.changed("notify-on") || o.changed("notify-off") {
			return ticketing.SetNoticePrefs(u, o.notifyOn, o.notifyOff)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return printUser(ctx, d, u)
}

type userDisableOpts struct {
	email string
	destructive
}

func (a *app) userDisableCommand() *cobra.Command {
	var o userDisableOpts
	disable := &cobra.Command{
		Use: "disable EMAIL", Short: "Disable a user (they can no longer log in or act)", Args: cobra.ExactArgs(1),
		PreRun: func(_ *cobra.Command, args []string) { o.email = args[0] },
		RunE:   a.action(func(ctx context.Context, d *deps) error { return userDisable(ctx, d, o) }),
	}
	o.destructive.flags(disable)
	return disable
}

func userDisable(ctx context.Context, d *deps, o userDisableOpts) error {
	if o.dryRun {
		u, err := userByEmailOf(ctx, d.st, o.email)
		if err != nil {
			return err
		}
		names, err := companyNamesOf(ctx, d.st)
		if err != nil {
			return err
		}
		return printOne(d, dryRunJSON[userJSON]{DryRun: true, Action: "disable", Target: userView(u, names)},
			func(w io.Writer, v dryRunJSON[userJSON]) {
				fprintf(w, "would disable user %s (dry run: nothing changed)\n", v.Target.Email)
			})
	}
	if err := o.confirm(d, "Disable user "+o.email); err != nil {
		return err
	}
	u, err := d.svc.UpdateUser(ctx, d.actor, o.email, func(u *store.User) error { u.Disabled = true; return nil })
	if err != nil {
		return err
	}
	return printUser(ctx, d, u)
}

type userSetPasswordOpts struct{ email string }

func (a *app) userSetPasswordCommand() *cobra.Command {
	var o userSetPasswordOpts
	setPassword := &cobra.Command{
		Use: "set-password --email EMAIL", Short: "Set a password: asked twice without echo on a terminal, else one line of standard input",
		Args: cobra.NoArgs,
		Example: `  servicedesk user set-password --email ana@helpdesk.example                 # asks twice
  printf '%s\n' "$PW" | servicedesk user set-password --email ana@helpdesk.example`,
		RunE: a.action(func(ctx context.Context, d *deps) error { return userSetPassword(ctx, d, o) }),
	}
	setPassword.Flags().StringVar(&o.email, "email", "", "the user's email")
	_ = setPassword.MarkFlagRequired("email")
	return setPassword
}

func userSetPassword(ctx context.Context, d *deps, o userSetPasswordOpts) error {
	pw, err := readPassword(d)
	if err != nil {
		return err
	}
	if err := d.svc.SetPassword(ctx, d.actor, o.email, pw); err != nil {
		return err
	}
	u, err := userByEmailOf(ctx, d.st, o.email)
	if err != nil {
		return err
	}
	return printUser(ctx, d, u)
}

// userByEmailOf finds a user in any company, saying which one is unknown.
func userByEmailOf(ctx context.Context, st *store.Store, email string) (*store.User, error) {
	u, err := st.R().UserByEmail(ctx, store.AllCompanies(), email)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errors.New("unknown user " + strconv.Quote(email))
	}
	return u, err
}

// readPassword reads the new password: on a terminal it asks twice with
// echo off and refuses a mismatch; from a pipe it reads one line, as
// scripts expect.
func readPassword(d *deps) (string, error) {
	f, ok := d.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return readLine(d.stdin)
	}
	ask := func(prompt string) (string, error) {
		fprintf(d.stderr, "%s", prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fprintf(d.stderr, "\n")
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		return string(b), nil
	}
	pw, err := ask("New password: ")
	if err != nil {
		return "", err
	}
	again, err := ask("Repeat the password: ")
	if err != nil {
		return "", err
	}
	if pw != again {
		return "", errors.New("the passwords do not match; nothing changed")
	}
	return pw, nil
}
