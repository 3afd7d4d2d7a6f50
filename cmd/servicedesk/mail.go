package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/jcservicedesk/servicedesk/mailbox/delivery"
	"github.com/jcservicedesk/servicedesk/mailbox/intake"
	"github.com/jcservicedesk/servicedesk/mailbox/mbox"
	"github.com/jcservicedesk/servicedesk/store"
)

// Exit codes of the mail pipe (sysexits.h), as MTAs expect.
const (
	exDataErr  = 65 // the input is not mail (it was quarantined)
	exTempFail = 75 // try again later: nothing was stored
)

// newIntake builds the one ingest path from the configuration.
func (a *app) newIntake(ctx context.Context) (*intake.Intake, error) {
	if _, err := a.openStore(ctx); err != nil {
		return nil, err
	}
	cfg := a.cfg
	loop := cfg.SMTP.Hostname
	if u, err := url.Parse(cfg.HTTP.PublicURL); err == nil && u.Hostname() != "" {
		loop = u.Hostname()
	}
	return intake.New(intake.Config{
		Addresses:        cfg.Mail.Addresses,
		CommentAddress:   cfg.Mail.CommentAddress,
		UnknownSender:    cfg.Mail.UnknownSender,
		DefaultCompany:   cfg.Admin.Company,
		DefaultRole:      cfg.Users.DefaultRole,
		ReopenDays:       cfg.Mail.ReopenDays,
		SubjectTagPrefix: cfg.Mail.SubjectTagPrefix,
		RateLimitPerHour: cfg.Mail.RateLimitPerHour,
		Secret:           a.key,
		LoopValues:       []string{loop},
		MaxMessageBytes:  cfg.SMTP.MaxMessageBytes,
		MaxAttachment:    cfg.Attachments.MaxBytes,
	}, a.svc, a.log), nil
}

type outcomeJSON struct {
	Source string `json:"source"`
	Action string `json:"action"`
	Ticket int64  `json:"ticket,omitempty"`
	Reason string `json:"reason,omitempty"`
}

func (a *app) mailCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "mail", Short: "Mail tools: the gateway pipe, ingested mail and the quarantine"}
	var isMbox bool
	ingest := &cobra.Command{
		Use:   "ingest [FILE…]",
		Short: "Ingest RFC 5322 messages from stdin or files (a Postfix/procmail pipe target)",
		Long: "Reads one message from standard input, or each FILE (with --mbox, every message of each mbox file), " +
			"and turns it into a ticket change.\nExit 0: committed (as a ticket, comment, bounce, duplicate, or quarantine entry); " +
			"65: the input is not mail (kept in quarantine); 75: temporary failure, nothing stored, the MTA should retry.",
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.ingest(cmd.Context(), args, isMbox)
		},
	}
	ingest.Flags().BoolVar(&isMbox, "mbox", false, "each FILE (or stdin) is an mbox with many messages")
	var limit int
	list := &cobra.Command{
		Use: "list", Short: "List ingested messages and what became of each, newest first", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			ms, err := st.R().MailList(cmd.Context(), limit)
			if err != nil {
				return err
			}
			return printList(a, ms, []string{"ID", "RECEIVED", "SOURCE", "FROM", "SUBJECT", "KIND", "ACTION", "REASON"},
				func(m *store.MailMessage) []string {
					return []string{strconv.FormatInt(m.ID, 10), m.ReceivedAt.Format(timeFormat), m.Source, m.FromAddr,
						trunc(m.Subject, 40), m.Kind, m.Action, m.Reason}
				})
		},
	}
	list.Flags().IntVar(&limit, "limit", 50, "at most this many")
	var raw bool
	show := &cobra.Command{
		Use: "show ID", Short: "Show an ingested message (--raw prints the original .eml)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(args[0])
			if err != nil {
				return err
			}
			st, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			m, body, err := st.R().MailRaw(cmd.Context(), id)
			if err != nil {
				return err
			}
			if raw {
				_, err := a.stdout.Write(body)
				return err
			}
			return a.printJSON(m)
		},
	}
	show.Flags().BoolVar(&raw, "raw", false, "print the original message")
	cmd.AddCommand(ingest, list, show, a.quarantineCommand(), a.outboxCommand(), a.sendTestCommand(), a.bouncingCommand())
	return cmd
}

func (a *app) ingest(ctx context.Context, files []string, isMbox bool) error {
	temp := func(err error) error { return exitCodeError{code: exTempFail, err: err} }
	in, err := a.newIntake(ctx)
	if err != nil {
		return temp(err)
	}
	var results []outcomeJSON
	worst := 0
	one := func(name string, raw []byte) error {
		out, err := in.Deliver(ctx, delivery.Envelope{Source: delivery.SourcePipe, ReceivedAt: time.Now()}, raw)
		if err != nil {
			return temp(fmt.Errorf("%s: %w", name, err))
		}
		if out.Action == store.MailQuarantine && out.Reason == intake.ReasonNotMail {
			worst = exDataErr
		}
		results = append(results, outcomeJSON{Source: name, Action: out.Action, Ticket: out.TicketNum, Reason: out.Reason})
		return nil
	}
	read := func(name string, r io.Reader) error {
		if isMbox {
			i := 0
			err := mbox.Each(r, func(msg []byte) error {
				i++
				return one(fmt.Sprintf("%s#%d", name, i), append([]byte(nil), msg...))
			})
			var ce exitCodeError
			if err != nil && !errors.As(err, &ce) {
				return exitCodeError{code: exDataErr, err: err}
			}
			return err
		}
		// Read past the message limit so an oversized message is kept whole
		// in quarantine; only absurd input is refused outright.
		hardCap := 4*a.cfg.SMTP.MaxMessageBytes + 1<<20
		raw, err := io.ReadAll(io.LimitReader(r, hardCap+1))
		if err != nil {
			return temp(fmt.Errorf("read %s: %w", name, err))
		}
		if int64(len(raw)) > hardCap {
			return exitCodeError{code: exDataErr, err: fmt.Errorf("%s: over %d bytes, refused", name, hardCap)}
		}
		return one(name, raw)
	}
	if len(files) == 0 {
		if err := read("stdin", a.stdin); err != nil {
			return err
		}
	}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return exitCodeError{code: exitError, err: err}
		}
		err = read(f, fh)
		fh.Close()
		if err != nil {
			return err
		}
	}
	if a.jsonOut() {
		if err := a.printJSON(results); err != nil {
			return err
		}
	} else {
		for _, r := range results {
			line := r.Source + ": " + r.Action
			if r.Ticket > 0 {
				line += " #" + strconv.FormatInt(r.Ticket, 10)
			}
			if r.Reason != "" {
				line += " (" + r.Reason + ")"
			}
			fprintf(a.stdout, "%s\n", line)
		}
	}
	if worst != 0 {
		return exitCodeError{code: worst, err: errors.New("input is not mail; kept in quarantine")}
	}
	return nil
}

func (a *app) quarantineCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "quarantine", Short: "Mail that could not be placed, kept whole with the reason"}
	var limit int
	list := &cobra.Command{
		Use: "list", Short: "List held messages, newest first", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			ms, err := st.R().QuarantineList(cmd.Context(), limit)
			if err != nil {
				return err
			}
			return printList(a, ms, []string{"ID", "RECEIVED", "FROM", "SUBJECT", "REASON"}, func(m *store.Quarantined) []string {
				return []string{strconv.FormatInt(m.ID, 10), m.CreatedAt.Format(timeFormat), m.FromAddr, trunc(m.Subject, 40), m.Reason}
			})
		},
	}
	list.Flags().IntVar(&limit, "limit", 100, "at most this many")
	var raw bool
	show := &cobra.Command{
		Use: "show ID", Short: "Show a held message (--raw prints the .eml)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(args[0])
			if err != nil {
				return err
			}
			st, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			m, body, err := st.R().QuarantineGet(cmd.Context(), id)
			if err != nil {
				return err
			}
			if raw {
				_, err := a.stdout.Write(body)
				return err
			}
			if a.jsonOut() {
				return a.printJSON(m)
			}
			fprintf(a.stdout, "id: %d\nreceived: %s\nsource: %s\nfrom: %s\nsubject: %s\nmessage-id: %s\nsize: %d\nreason: %s\n",
				m.ID, m.CreatedAt.Format(timeFormat), m.Source, m.FromAddr, m.Subject, m.MessageID, m.RawSize, m.Reason)
			return nil
		},
	}
	show.Flags().BoolVar(&raw, "raw", false, "print the original message")
	reprocess := &cobra.Command{
		Use: "reprocess ID", Short: "Run a held message through the intake again (after fixing its cause)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			id, err := parseID(args[0])
			if err != nil {
				return err
			}
			in, err := a.newIntake(ctx)
			if err != nil {
				return err
			}
			held, body, err := a.st.R().QuarantineGet(ctx, id)
			if err != nil {
				return err
			}
			// Place it as it would have been placed: same recipients and
			// envelope sender (a Bcc to the comment address, a reply token
			// only in RCPT TO), but as accepted mail, never refused.
			env := intake.EnvelopeFromJSON(held.Envelope)
			env.Source, env.ReceivedAt = delivery.SourcePipe, time.Now()
			// Release first: if it lands in quarantine again, that is a
			// new entry with the new reason.
			if err := a.st.InTx(ctx, func(q *store.Q) error { return q.QuarantineRelease(ctx, id) }); err != nil {
				return err
			}
			out, err := in.Deliver(ctx, env, body)
			if err != nil {
				_ = a.st.InTx(context.WithoutCancel(ctx), func(q *store.Q) error { return q.QuarantineUnrelease(ctx, id) })
				return err
			}
			res := outcomeJSON{Source: "quarantine " + args[0], Action: out.Action, Ticket: out.TicketNum, Reason: out.Reason}
			if a.jsonOut() {
				return a.printJSON(res)
			}
			fprintf(a.stdout, "%s: %s #%d %s\n", res.Source, res.Action, res.Ticket, res.Reason)
			return nil
		},
	}
	del := &cobra.Command{
		Use: "delete ID", Short: "Delete a held message for good", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(args[0])
			if err != nil {
				return err
			}
			st, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			return st.InTx(cmd.Context(), func(q *store.Q) error { return q.QuarantineDelete(cmd.Context(), id) })
		},
	}
	cmd.AddCommand(list, show, reprocess, del)
	return cmd
}

func parseID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, usagef("invalid id %q", s)
	}
	return id, nil
}

func trunc(s string, n int) string {
	r := []rune(strings.TrimSpace(s))
	if len(r) <= n {
		return string(r)
	}
	return string(r[:n-1]) + "…"
}
