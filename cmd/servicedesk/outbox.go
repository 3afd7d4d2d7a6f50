package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/jcservicedesk/servicedesk/mailbox/compose"
	"github.com/jcservicedesk/servicedesk/mailbox/outbound"
	"github.com/jcservicedesk/servicedesk/mailbox/sender"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

func (a *app) outboxCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "outbox", Short: "Outbound mail queued by ticket changes"}
	cmd.AddCommand(a.outboxListCommand(), a.outboxShowCommand(), a.outboxRetryCommand(), a.outboxPurgeCommand())
	return cmd
}

type outboxListOpts struct {
	paging
	status string
	ticket int64
}

func (a *app) outboxListCommand() *cobra.Command {
	var o outboxListOpts
	var ticket string
	cmd := &cobra.Command{
		Use: "list", Short: "List queued, sent and failed mail, newest first", Args: cobra.NoArgs,
		PreRunE: func(*cobra.Command, []string) error {
			switch o.status {
			case "", store.OutboxQueued, store.OutboxSending, store.OutboxSent, store.OutboxFailed:
			default:
				return usagef("unknown status %q (want queued, sending, sent or failed)", o.status)
			}
			if ticket != "" {
				n, err := ticketNumber(ticket)
				if err != nil {
					return err
				}
				o.ticket = n
			}
			return nil
		},
		RunE: a.checked(&o.paging, func(ctx context.Context, d *deps) error { return outboxList(ctx, d, o) }),
	}
	cmd.Flags().StringVar(&o.status, "status", "", "queued, sending, sent or failed")
	cmd.Flags().StringVar(&ticket, "ticket", "", "only mail about this ticket number")
	o.flags(cmd, 50)
	return cmd
}

func outboxList(ctx context.Context, d *deps, o outboxListOpts) error {
	f := store.OutboxFilter{Status: o.status}
	f.Limit, f.Offset = o.page()
	if f.Limit == 0 {
		f.Limit = -1 // --all
	}
	if o.ticket > 0 {
		t, err := d.st.R().TicketByNumber(ctx, store.AllCompanies(), o.ticket, false)
		if err != nil {
			return err
		}
		f.TicketID = t.ID
	}
	ms, err := d.st.R().OutboxList(ctx, f)
	if err != nil {
		return err
	}
	return printMany(d, ms, []string{"ID", "QUEUED", "STATUS", "TRIES", "TO", "EVENT", "SUBJECT", "LAST_ERROR"},
		func(m *store.OutboxMail) []string {
			return []string{strconv.FormatInt(m.ID, 10), m.CreatedAt.Format(timeFormat), m.Status,
				strconv.Itoa(m.Attempts), m.Recipients, m.Event, trunc(m.Subject, 40), trunc(m.LastError, 60)}
		})
}

func (a *app) outboxShowCommand() *cobra.Command {
	var o idOpts
	cmd := &cobra.Command{
		Use: "show ID", Short: "Show one outbound mail (--raw prints the .eml)", Args: cobra.ExactArgs(1),
		PreRunE: o.idArg,
		RunE:    a.action(func(ctx context.Context, d *deps) error { return outboxShow(ctx, d, o, a.outbound) }),
	}
	cmd.Flags().BoolVar(&o.raw, "raw", false, "print the message as sent")
	return cmd
}

// outboxShow prints a row; "rendered" says whether its bytes are stored
// yet. A mail queued by a change is rendered and signed by the sender
// after the change commits: until then --raw prints a rendering made now
// (same wording and headers; the DKIM signature is made again when sent).
func outboxShow(ctx context.Context, d *deps, o idOpts, ob *outbound.Outbound) error {
	m, err := d.st.R().OutboxGet(ctx, o.id)
	if err != nil {
		return err
	}
	if !o.raw {
		return writeJSON(d.stdout, struct {
			*store.OutboxMail
			Rendered bool `json:"rendered"`
		}{m, m.Rendered()})
	}
	raw := m.Raw
	if !m.Rendered() {
		if raw, _, err = ob.Render(m); err != nil {
			return err
		}
		fprintf(d.stderr, "outbox %d is not rendered yet: this is a rendering made now; the sender stores its own when it sends it\n", m.ID)
	}
	_, err = d.stdout.Write(raw)
	return err
}

func (a *app) outboxRetryCommand() *cobra.Command {
	var o idOpts
	return &cobra.Command{
		Use: "retry ID", Short: "Queue a failed mail again, now", Args: cobra.ExactArgs(1),
		PreRunE: o.idArg,
		RunE:    a.action(func(ctx context.Context, d *deps) error { return outboxRetry(ctx, d, o) }),
	}
}

func outboxRetry(ctx context.Context, d *deps, o idOpts) error {
	m, err := d.svc.RetryOutbox(ctx, d.actor, o.id)
	if err != nil {
		return err
	}
	return printOne(d, m, func(w io.Writer, m *store.OutboxMail) {
		fprintf(w, "outbox %d queued again for %s\n", m.ID, m.Recipients)
	})
}

type outboxPurgeOpts struct {
	destructive
	olderThan time.Duration
	failedToo bool
}

func (a *app) outboxPurgeCommand() *cobra.Command {
	var o outboxPurgeOpts
	cmd := &cobra.Command{
		Use: "purge", Short: "Delete sent mail older than --older-than (and failed with --failed)", Args: cobra.NoArgs,
		PreRunE: func(*cobra.Command, []string) error {
			if o.olderThan <= 0 {
				return usagef("--older-than must be positive, e.g. 720h")
			}
			return nil
		},
		RunE: a.action(func(ctx context.Context, d *deps) error { return outboxPurge(ctx, d, o) }),
	}
	cmd.Flags().DurationVar(&o.olderThan, "older-than", 30*24*time.Hour, "age of the mail to delete")
	cmd.Flags().BoolVar(&o.failedToo, "failed", false, "delete failed mail too")
	o.destructive.flags(cmd)
	return cmd
}

func outboxPurge(ctx context.Context, d *deps, o outboxPurgeOpts) error {
	what := "sent"
	if o.failedToo {
		what = "sent and failed"
	}
	if err := o.confirm(d, fmt.Sprintf("Delete %s mail older than %s", what, o.olderThan)); err != nil {
		return err
	}
	n, err := d.svc.PurgeOutbox(ctx, d.actor, time.Now().Add(-o.olderThan), o.failedToo, o.dryRun)
	if err != nil {
		return err
	}
	out := map[string]any{"deleted": n, "dry_run": o.dryRun}
	if o.dryRun {
		out = map[string]any{"would_delete": n, "dry_run": true}
	}
	return printOne(d, out, func(w io.Writer, _ map[string]any) {
		if o.dryRun {
			fprintf(w, "would delete %d messages (dry run; nothing changed)\n", n)
			return
		}
		fprintf(w, "deleted %d messages\n", n)
	})
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
