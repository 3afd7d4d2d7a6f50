package main

import (
	"context"
	"errors"
	"strconv"

	"github.com/spf13/cobra"

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
	NotifyOff   []string `json:"notify_off"`
	CreatedAt   string   `json:"created_at"`
	LastLoginAt *string  `json:"last_login_at"`
}

func userView(u *store.User, companies map[int64]string) userJSON {
	v := userJSON{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, CompanyID: u.CompanyID,
		Confirmed: u.ConfirmedAt != nil, Disabled: u.Disabled, HasPassword: u.PasswordHash != "",
		CreatedAt: u.CreatedAt.Format(timeFormat), NotifyOff: []string{}}
	for _, k := range ticketing.NoticeKinds {
		if !ticketing.WantsNotice(u, k) {
			v.NotifyOff = append(v.NotifyOff, k)
		}
	}
	if u.CompanyID != nil {
		v.Company = companies[*u.CompanyID]
	}
	if u.LastLoginAt != nil {
		s := u.LastLoginAt.Format(timeFormat)
		v.LastLoginAt = &s
	}
	return v
}

func (a *app) companyNames(ctx context.Context) (map[int64]string, error) {
	cs, err := a.st.R().Companies(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[int64]string, len(cs))
	for _, c := range cs {
		m[c.ID] = c.Name
	}
	return m, nil
}

func (a *app) printUsers(ctx context.Context, one bool, us ...*store.User) error {
	names, err := a.companyNames(ctx)
	if err != nil {
		return err
	}
	if a.jsonOut() {
		if one {
			return a.printJSON(userView(us[0], names))
		}
		out := make([]userJSON, 0, len(us))
		for _, u := range us {
			out = append(out, userView(u, names))
		}
		return a.printJSON(out)
	}
	rows := make([][]string, 0, len(us))
	for _, u := range us {
		v := userView(u, names)
		rows = append(rows, []string{strconv.FormatInt(v.ID, 10), v.Email, v.Name, v.Role, v.Company,
			strconv.FormatBool(v.Confirmed), strconv.FormatBool(v.Disabled)})
	}
	return a.printTable([]string{"ID", "EMAIL", "NAME", "ROLE", "COMPANY", "CONFIRMED", "DISABLED"}, rows)
}

// companyID resolves --company (name or id); "" is no company.
func (a *app) companyID(ctx context.Context, ref string) (*int64, error) {
	if ref == "" {
		return nil, nil
	}
	c, err := a.st.R().CompanyByRef(ctx, ref)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, errors.New("unknown company " + strconv.Quote(ref))
		}
		return nil, err
	}
	return &c.ID, nil
}

func (a *app) userCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Manage users"}
	var in ticketing.UserInput
	var company string
	add := &cobra.Command{
		Use: "add", Short: "Add a user (confirmed unless --unconfirmed)", Args: cobra.NoArgs,
		RunE: a.adminRun(func(cmd *cobra.Command, ctx context.Context, admin *store.User, args []string) error {
			var err error
			if in.CompanyID, err = a.companyID(ctx, company); err != nil {
				return err
			}
			u, err := a.svc.CreateUser(ctx, admin, in)
			if err != nil {
				return err
			}
			return a.printUsers(ctx, true, u)
		}),
	}
	af := add.Flags()
	af.StringVar(&in.Email, "email", "", "email address (unique, case-insensitive)")
	af.StringVar(&in.Name, "name", "", "full name")
	af.StringVar(&in.Role, "role", store.RoleClient, "client, tech, supervisor or admin")
	af.StringVar(&company, "company", "", "company name or id (required for clients)")
	af.BoolVar(&in.Unconfirmed, "unconfirmed", false, "leave the address unconfirmed")
	af.StringVar(&in.Language, "language", "", "preferred language (pt-BR or en)")
	_ = add.MarkFlagRequired("email")

	var lf struct{ company, role string }
	list := &cobra.Command{
		Use: "list", Short: "List users", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			f := store.UserFilter{Role: lf.role}
			if lf.role != "" && !store.ValidRole(lf.role) {
				return usagef("unknown role %q (want client, tech, supervisor or admin)", lf.role)
			}
			if id, err := a.companyID(ctx, lf.company); err != nil {
				return err
			} else if id != nil {
				f.CompanyID = *id
			}
			us, err := st.R().Users(ctx, store.AllCompanies(), f)
			if err != nil {
				return err
			}
			return a.printUsers(ctx, false, us...)
		},
	}
	list.Flags().StringVar(&lf.company, "company", "", "only users of this company")
	list.Flags().StringVar(&lf.role, "role", "", "only users with this role")

	show := &cobra.Command{
		Use: "show EMAIL", Short: "Show one user", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			u, err := st.R().UserByEmail(ctx, store.AllCompanies(), args[0])
			if err != nil {
				return err
			}
			return a.printUsers(ctx, true, u)
		},
	}

	var upd struct {
		email, name, role, company, language string
		notifyOn, notifyOff                  []string
	}
	update := &cobra.Command{
		Use: "update EMAIL", Short: "Change a user (only the flags given)", Args: cobra.ExactArgs(1),
		RunE: a.adminRun(func(cmd *cobra.Command, ctx context.Context, admin *store.User, args []string) error {
			fl := cmd.Flags()
			var cid *int64
			var err error
			if fl.Changed("company") {
				if cid, err = a.companyID(ctx, upd.company); err != nil {
					return err
				}
			}
			u, err := a.svc.UpdateUser(ctx, admin, args[0], func(u *store.User) error {
				if fl.Changed("email") {
					e, err := ticketing.NormalizeAddress(upd.email)
					if err != nil {
						return err
					}
					u.Email = e
				}
				if fl.Changed("name") {
					u.Name = upd.name
				}
				if fl.Changed("role") {
					u.Role = upd.role
				}
				if fl.Changed("company") {
					u.CompanyID = cid
				}
				if fl.Changed("language") {
					u.Language = upd.language
				}
				if fl.Changed("enable") {
					u.Disabled = false
				}
				if fl.Changed("notify-on") || fl.Changed("notify-off") {
					return ticketing.SetNoticePrefs(u, upd.notifyOn, upd.notifyOff)
				}
				return nil
			})
			if err != nil {
				return err
			}
			return a.printUsers(ctx, true, u)
		}),
	}
	uf := update.Flags()
	uf.StringVar(&upd.email, "email", "", "new email address")
	uf.StringVar(&upd.name, "name", "", "full name")
	uf.StringVar(&upd.role, "role", "", "client, tech, supervisor or admin")
	uf.StringVar(&upd.company, "company", "", "company name or id (empty: none)")
	uf.StringVar(&upd.language, "language", "", "preferred language")
	uf.Bool("enable", false, "enable a disabled user")
	uf.StringArrayVar(&upd.notifyOff, "notify-off", nil, "stop mailing this kind of notice (repeatable: commented, status_changed, …)")
	uf.StringArrayVar(&upd.notifyOn, "notify-on", nil, "mail this kind of notice again (repeatable)")

	disable := &cobra.Command{
		Use: "disable EMAIL", Short: "Disable a user (they can no longer log in or act)", Args: cobra.ExactArgs(1),
		RunE: a.adminRun(func(cmd *cobra.Command, ctx context.Context, admin *store.User, args []string) error {
			u, err := a.svc.UpdateUser(ctx, admin, args[0], func(u *store.User) error { u.Disabled = true; return nil })
			if err != nil {
				return err
			}
			return a.printUsers(ctx, true, u)
		}),
	}

	var pwEmail string
	setPassword := &cobra.Command{
		Use: "set-password --email EMAIL", Short: "Set a password read from standard input", Args: cobra.NoArgs,
		RunE: a.adminRun(func(cmd *cobra.Command, ctx context.Context, admin *store.User, args []string) error {
			pw, err := readLine(a.stdin)
			if err != nil {
				return err
			}
			if err := a.svc.SetPassword(ctx, admin, pwEmail, pw); err != nil {
				return err
			}
			u, err := a.st.R().UserByEmail(ctx, store.AllCompanies(), pwEmail)
			if err != nil {
				return err
			}
			return a.printUsers(ctx, true, u)
		}),
	}
	setPassword.Flags().StringVar(&pwEmail, "email", "", "the user's email")
	_ = setPassword.MarkFlagRequired("email")

	cmd.AddCommand(add, list, show, update, disable, setPassword)
	return cmd
}
