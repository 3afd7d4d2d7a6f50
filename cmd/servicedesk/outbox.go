package main

import (
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/jcservicedesk/servicedesk/mailbox/compose"
	"github.com/jcservicedesk/servicedesk/mailbox/sender"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

func (a *app) outboxCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "outbox", Short: "Outbound mail queued by ticket changes"}
	var f store.OutboxFilter
	var ticket string
	list := &cobra.Command{
		Use: "list", Short: "List queued, sent and failed mail, newest first", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			if f.Status != "" && f.Status != store.OutboxQueued && f.Status != store.OutboxSending && f.Status != store.OutboxSent && f.Status != store.OutboxFailed {
				return usagef("unknown status %q (want queued, sending, sent or failed)", f.Status)
			}
			if ticket != "" {
				n, err := ticketNumber(ticket)
				if err != nil {
					return err
				}
				t, err := st.R().TicketByNumber(ctx, store.AllCompanies(), n, false)
				if err != nil {
					return err
				}
				f.TicketID = t.ID
			}
			ms, err := st.R().OutboxList(ctx, f)
			if err != nil {
				return err
			}
			return printList(a, ms, []string{"ID", "QUEUED", "STATUS", "TRIES", "TO", "EVENT", "SUBJECT", "LAST_ERROR"},
				func(m *store.OutboxMail) []string {
					return []string{strconv.FormatInt(m.ID, 10), m.CreatedAt.Format(timeFormat), m.Status,
						strconv.Itoa(m.Attempts), m.Recipients, m.Event, trunc(m.Subject, 40), trunc(m.LastError, 60)}
				})
		},
	}
	list.Flags().StringVar(&f.Status, "status", "", "queued, sending, sent or failed")
	list.Flags().StringVar(&ticket, "ticket", "", "only mail about this ticket number")
	list.Flags().IntVar(&f.Limit, "limit", 50, "at most this many")

	var raw bool
	show := &cobra.Command{
		Use: "show ID", Short: "Show one outbound mail (--raw prints the .eml)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(args[0])
			if err != nil {
				return err
			}
			st, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			m, err := st.R().OutboxGet(cmd.Context(), id)
			if err != nil {
				return err
			}
			if raw {
				_, err := a.stdout.Write(m.Raw)
				return err
			}
			return a.printJSON(m)
		},
	}
	show.Flags().BoolVar(&raw, "raw", false, "print the message as sent")

	retry := &cobra.Command{
		Use: "retry ID", Short: "Queue a failed mail again, now", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(args[0])
			if err != nil {
				return err
			}
			st, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			if err := st.InTx(cmd.Context(), func(q *store.Q) error { return q.OutboxRequeue(cmd.Context(), id) }); err != nil {
				return err
			}
			m, err := st.R().OutboxGet(cmd.Context(), id)
			if err != nil {
				return err
			}
			if a.jsonOut() {
				return a.printJSON(m)
			}
			fprintf(a.stdout, "outbox %d queued again for %s\n", m.ID, m.Recipients)
			return nil
		},
	}
	var olderThan time.Duration
	var failedToo bool
	purge := &cobra.Command{
		Use: "purge", Short: "Delete sent mail older than --older-than (and failed with --failed)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if olderThan <= 0 {
				return usagef("--older-than must be positive, e.g. 720h")
			}
			st, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			var n int64
			err = st.InTx(cmd.Context(), func(q *store.Q) error {
				var err error
				n, err = q.OutboxPurge(cmd.Context(), time.Now().Add(-olderThan), failedToo)
				return err
			})
			if err != nil {
				return err
			}
			if a.jsonOut() {
				return a.printJSON(map[string]int64{"deleted": n})
			}
			fprintf(a.stdout, "deleted %d messages\n", n)
			return nil
		},
	}
	purge.Flags().DurationVar(&olderThan, "older-than", 30*24*time.Hour, "age of the mail to delete")
	purge.Flags().BoolVar(&failedToo, "failed", false, "delete failed mail too")
	cmd.AddCommand(list, show, retry, purge)
	return cmd
}

func (a *app) sendTestCommand() *cobra.Command {
	var to, lang string
	cmd := &cobra.Command{
		Use: "send-test --to ADDRESS", Short: "Compose a test mail and send it now through the configured relay", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if _, err := a.openStore(ctx); err != nil {
				return err
			}
			addr, err := ticketing.NormalizeAddress(to)
			if err != nil {
				return err
			}
			c, err := compose.New()
			if err != nil {
				return err
			}
			d := compose.SampleData(compose.EventTest, lang)
			d.From, d.To, d.LoopValue, d.Date = a.senderAddress(), []compose.Address{{Email: addr}}, a.loopValue(), time.Now()
			d.MessageID, d.InReplyTo, d.References, d.ReplyTo = "", "", nil, ""
			m, err := c.Compose(d, nil)
			if err != nil {
				return err
			}
			snd := sender.New(a.senderConfig(), nil, a.log)
			if err := snd.SendNow(ctx, sender.Message{MessageID: m.MessageID, From: m.From, To: m.To, Raw: m.Raw, CreatedAt: time.Now()}); err != nil {
				return fmt.Errorf("send-test: %w", err)
			}
			where := fmt.Sprintf("via %s:%d", a.cfg.Mail.Server, a.cfg.Mail.Port)
			if a.cfg.Mail.SuppressSend {
				where = "written to " + a.cfg.Mail.OutboxDir + " (mail.suppress_send)"
			}
			if a.jsonOut() {
				return a.printJSON(map[string]string{"to": addr, "message_id": m.MessageID, "sent": where})
			}
			fprintf(a.stdout, "test mail <%s> to %s %s\n", m.MessageID, addr, where)
			return nil
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "recipient")
	cmd.Flags().StringVar(&lang, "lang", "pt-BR", "pt-BR or en")
	_ = cmd.MarkFlagRequired("to")
	return cmd
}
