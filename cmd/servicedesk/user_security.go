package main

import (
	"context"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/jcservicedesk/servicedesk/ticketing"
)

// Account security from the shell until the admin pages exist: lift a
// lockout, list and end sessions, invite people to register.

func (a *app) userUnlockCommand() *cobra.Command {
	var o userEmailOpts
	return &cobra.Command{
		Use: "unlock EMAIL", Short: "Lift the lockout after too many wrong passwords", Args: cobra.ExactArgs(1),
		Example: `  servicedesk user unlock maria@acme.com.br`,
		PreRun:  func(_ *cobra.Command, args []string) { o.email = args[0] },
		RunE:    a.action(func(ctx context.Context, d *deps) error { return userUnlock(ctx, d, o) }),
	}
}

func userUnlock(ctx context.Context, d *deps, o userEmailOpts) error {
	if err := d.svc.Unlock(ctx, d.actor, o.email); err != nil {
		return err
	}
	u, err := userByEmailOf(ctx, d.st, o.email)
	if err != nil {
		return err
	}
	return printUser(ctx, d, u)
}

type sessionJSON struct {
	ID         string `json:"id"`
	IP         string `json:"ip"`
	UserAgent  string `json:"user_agent"`
	Remember   bool   `json:"remember"`
	CreatedAt  string `json:"created_at"`
	LastUsedAt string `json:"last_used_at"`
	ExpiresAt  string `json:"expires_at"`
}

func sessionView(s *ticketing.SessionInfo) sessionJSON {
	return sessionJSON{ID: s.ID, IP: s.IP, UserAgent: s.UserAgent, Remember: s.Remember,
		CreatedAt: s.CreatedAt.Format(timeFormat), LastUsedAt: s.LastUsedAt.Format(timeFormat), ExpiresAt: s.ExpiresAt.Format(timeFormat)}
}

var sessionHeader = []string{"ID", "IP", "LAST_USED", "EXPIRES", "REMEMBER", "BROWSER"}

func sessionRow(v sessionJSON) []string {
	return []string{v.ID, v.IP, v.LastUsedAt, v.ExpiresAt, strconv.FormatBool(v.Remember), truncateCell(v.UserAgent, 60)}
}

func truncateCell(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func (a *app) userSessionsCommand() *cobra.Command {
	var o userEmailOpts
	return &cobra.Command{
		Use: "sessions EMAIL", Short: "List a user's signed-in sessions", Args: cobra.ExactArgs(1),
		Example: `  servicedesk user sessions maria@acme.com.br
  servicedesk user sessions maria@acme.com.br -o json`,
		PreRun: func(_ *cobra.Command, args []string) { o.email = args[0] },
		RunE:   a.action(func(ctx context.Context, d *deps) error { return userSessions(ctx, d, o) }),
	}
}

func userSessions(ctx context.Context, d *deps, o userEmailOpts) error {
	if _, err := userByEmailOf(ctx, d.st, o.email); err != nil {
		return err
	}
	ss, err := d.svc.Sessions(ctx, d.actor, o.email)
	if err != nil {
		return err
	}
	views := make([]sessionJSON, 0, len(ss))
	for _, s := range ss {
		views = append(views, sessionView(s))
	}
	return printMany(d, views, sessionHeader, sessionRow)
}

type userLogoutAllOpts struct {
	email string
	destructive
}

type logoutAllJSON struct {
	Email    string `json:"email"`
	Sessions int    `json:"sessions"`
	DryRun   bool   `json:"dry_run,omitempty"`
}

func (a *app) userLogoutAllCommand() *cobra.Command {
	var o userLogoutAllOpts
	cmd := &cobra.Command{
		Use: "logout-all EMAIL", Short: "End every session of a user (they must sign in again)", Args: cobra.ExactArgs(1),
		Example: `  servicedesk user logout-all maria@acme.com.br --yes`,
		PreRun:  func(_ *cobra.Command, args []string) { o.email = args[0] },
		RunE:    a.action(func(ctx context.Context, d *deps) error { return userLogoutAll(ctx, d, o) }),
	}
	o.destructive.flags(cmd)
	return cmd
}

func userLogoutAll(ctx context.Context, d *deps, o userLogoutAllOpts) error {
	u, err := userByEmailOf(ctx, d.st, o.email)
	if err != nil {
		return err
	}
	if o.dryRun {
		ss, err := d.svc.Sessions(ctx, d.actor, u.Email)
		if err != nil {
			return err
		}
		return printOne(d, dryRunJSON[logoutAllJSON]{DryRun: true, Action: "logout-all", Target: logoutAllJSON{Email: u.Email, Sessions: len(ss)}},
			func(w io.Writer, v dryRunJSON[logoutAllJSON]) {
				fprintf(w, "would end %d sessions of %s (dry run: nothing changed)\n", v.Target.Sessions, v.Target.Email)
			})
	}
	if err := o.confirm(d, "End every session of "+u.Email); err != nil {
		return err
	}
	n, err := d.svc.LogoutAll(ctx, d.actor, u.Email)
	if err != nil {
		return err
	}
	return printOne(d, logoutAllJSON{Email: u.Email, Sessions: n}, func(w io.Writer, v logoutAllJSON) {
		fprintf(w, "ended %d sessions of %s\n", v.Sessions, v.Email)
	})
}

type companyInviteOpts struct {
	ref, email string
	ttl        time.Duration
}

type inviteJSON struct {
	Company   string `json:"company"`
	Email     string `json:"email"`
	ExpiresAt string `json:"expires_at"`
	Link      string `json:"link"`
}

func (a *app) companyInviteCommand() *cobra.Command {
	var o companyInviteOpts
	cmd := &cobra.Command{
		Use: "invite ID|NAME", Short: "Make a registration link for a company (mailed too with --email)", Args: cobra.ExactArgs(1),
		Example: `  servicedesk company invite "Acme Ltda" --email maria@gmail.com
  servicedesk company invite "Acme Ltda" --ttl 48h     # a link for whoever gets it`,
		PreRun: func(_ *cobra.Command, args []string) { o.ref = args[0] },
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.ttl < time.Minute || o.ttl > 30*24*time.Hour {
				return usagef("--ttl must be between 1m and 720h, not %s", o.ttl)
			}
			return a.action(func(ctx context.Context, d *deps) error { return companyInvite(ctx, d, o) })(cmd, args)
		},
	}
	cmd.Flags().StringVar(&o.email, "email", "", "the address invited (also mails the link); empty: anyone with the link")
	cmd.Flags().DurationVar(&o.ttl, "ttl", 168*time.Hour, "how long the link works")
	return cmd
}

func companyInvite(ctx context.Context, d *deps, o companyInviteOpts) error {
	c, err := companyByRef(ctx, d, o.ref)
	if err != nil {
		return err
	}
	token, err := d.svc.CreateInvite(ctx, d.actor, strconv.FormatInt(c.ID, 10), o.email, o.ttl)
	if err != nil {
		return err
	}
	link := strings.TrimRight(d.cfg.HTTP.PublicURL, "/") + "/register?invite=" + url.QueryEscape(token)
	v := inviteJSON{Company: c.Name, Email: strings.ToLower(strings.TrimSpace(o.email)),
		ExpiresAt: d.svc.Clock().Add(o.ttl).Format(timeFormat), Link: link}
	return printOne(d, v, func(w io.Writer, v inviteJSON) {
		fprintf(w, "%s\n", v.Link)
	})
}
