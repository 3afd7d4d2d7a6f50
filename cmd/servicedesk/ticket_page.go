package main

import (
	"context"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// The ticket page's reads on the command line: the status history and
// the original mails, through the same ticketing functions as the portal.

func (a *app) ticketHistoryCommand() *cobra.Command {
	var o ticketNumberOpts
	return &cobra.Command{
		Use: "history N", Short: "A ticket's status history from the audit log (as the actor may see it)", Args: cobra.ExactArgs(1),
		Example: `  servicedesk ticket history 1001
  servicedesk ticket history 1001 --as maria@acme.com.br -o json   # what the requester sees`,
		PreRun: func(_ *cobra.Command, args []string) { o.number = args[0] },
		RunE: a.action(func(ctx context.Context, d *deps) error {
			n, err := ticketNumber(o.number)
			if err != nil {
				return err
			}
			h, err := d.svc.StatusHistory(ctx, d.actor, n)
			if err != nil {
				return err
			}
			return printMany(d, h, []string{"AT", "ACTOR", "FROM", "TO", "REASON"}, func(c ticketing.StatusChange) []string {
				actor := c.Actor
				if actor == "" {
					actor = store.SystemActorEmail
				}
				return []string{c.At.UTC().Format(time.RFC3339), actor, c.From, c.To, c.Reason}
			})
		}),
	}
}

func (a *app) ticketMailCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "mail", Short: "The original mails of a ticket and its comments (staff only)"}
	var o ticketNumberOpts
	list := &cobra.Command{
		Use: "list N", Short: "List the mails a ticket and its comments came from", Args: cobra.ExactArgs(1),
		PreRun: func(_ *cobra.Command, args []string) { o.number = args[0] },
		RunE: a.action(func(ctx context.Context, d *deps) error {
			n, err := ticketNumber(o.number)
			if err != nil {
				return err
			}
			ms, err := d.svc.TicketMails(ctx, d.actor, n)
			if err != nil {
				return err
			}
			return printMany(d, ms, []string{"ID", "COMMENT_ID", "FROM", "SUBJECT", "RECEIVED"}, func(m *store.MailMessage) []string {
				comment := ""
				if m.CommentID != nil {
					comment = strconv.FormatInt(*m.CommentID, 10)
				}
				return []string{strconv.FormatInt(m.ID, 10), comment, m.FromAddr, m.Subject, m.ReceivedAt.UTC().Format(time.RFC3339)}
			})
		}),
	}
	var g struct{ number, id string }
	get := &cobra.Command{
		Use: "get N ID", Short: "Write the original .eml of mail ID of ticket N to standard output", Args: cobra.ExactArgs(2),
		Example: `  servicedesk ticket mail get 1001 42 > original.eml`,
		PreRun:  func(_ *cobra.Command, args []string) { g.number, g.id = args[0], args[1] },
		RunE: a.action(func(ctx context.Context, d *deps) error {
			n, err := ticketNumber(g.number)
			if err != nil {
				return err
			}
			id, err := parseID(g.id)
			if err != nil {
				return err
			}
			_, raw, err := d.svc.MailSource(ctx, d.actor, n, id)
			if err != nil {
				return err
			}
			_, err = d.stdout.Write(raw)
			return err
		}),
	}
	cmd.AddCommand(list, get)
	return cmd
}
