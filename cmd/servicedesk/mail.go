package main

import (
	"cmp"
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
		Addresses:         cfg.Mail.Addresses,
		CommentAddress:    cfg.Mail.CommentAddress,
		UnknownSender:     cfg.Mail.UnknownSender,
		DefaultCompany:    cfg.Admin.Company,
		DefaultRole:       cfg.Users.DefaultRole,
		ReopenDays:        cfg.Mail.ReopenDays,
		SubjectTagPrefix:  cfg.Mail.SubjectTagPrefix,
		RateLimitPerHour:  cfg.Mail.RateLimitPerHour,
		Secret:            a.key,
		LoopValues:        []string{loop},
		MaxMessageBytes:   cfg.SMTP.MaxMessageBytes,
		MaxAttachment:     cfg.Attachments.MaxBytes,
		MaxParts:          cfg.Mail.MaxParts,
		Auth:              a.authenticator(),
		SenderPolicy:      cfg.Mail.SenderPolicy,
		BounceAddress:     bounceAddress(cfg.Mail),
		MaxAttempts:       cfg.Mail.MaxAttempts,
		PostmasterAddress: cmp.Or(cfg.Mail.PostmasterAddress, cfg.Admin.Email),
		FromAddress:       cmp.Or(cfg.Mail.DefaultSender, cfg.Mail.MainAddress()),
	}, a.svc, a.log), nil
}

// outcomeJSON is what became of one input of `mail ingest` or of a
// reprocessed quarantine entry.
type outcomeJSON struct {
	Source     string `json:"source"`
	Action     string `json:"action"` // ticket, comment, bounce, quarantine, duplicate, ignored; failed
	Ticket     int64  `json:"ticket,omitempty"`
	Reason     string `json:"reason,omitempty"`
	Quarantine int64  `json:"quarantine_id,omitempty"` // the entry that holds it
	Error      string `json:"error,omitempty"`         // why it failed (action failed)
}

func outcomeOf(source string, out delivery.Outcome) outcomeJSON {
	return outcomeJSON{Source: source, Action: out.Action, Ticket: out.TicketNum, Reason: out.Reason, Quarantine: out.QuarantineID}
}

func printOutcome(w io.Writer, r outcomeJSON) {
	line := r.Source + ": " + r.Action
	if r.Ticket > 0 {
		line += " #" + strconv.FormatInt(r.Ticket, 10)
	}
	if r.Quarantine > 0 {
		line += " as quarantine entry " + strconv.FormatInt(r.Quarantine, 10)
	}
	if r.Reason != "" {
		line += " (" + r.Reason + ")"
	}
	if r.Error != "" {
		line += ": " + r.Error
	}
	fprintf(w, "%s\n", line)
}

func (a *app) mailCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "mail", Short: "Mail tools: the gateway pipe, ingested mail and the quarantine"}
	cmd.AddCommand(a.mailIngestCommand(), a.mailListCommand(), a.mailShowCommand(),
		a.quarantineCommand(), a.outboxCommand(), a.sendTestCommand(), a.bouncingCommand())
	return cmd
}

type mailIngestOpts struct {
	files  []string
	isMbox bool
}

func (a *app) mailIngestCommand() *cobra.Command {
	var o mailIngestOpts
	cmd := &cobra.Command{
		Use:   "ingest [FILE…]",
		Short: "Ingest RFC 5322 messages from stdin or files (a Postfix/procmail pipe target)",
		Long: "Reads one message from standard input, or each FILE (with --mbox, every message of each mbox file), " +
			"and turns it into a ticket change.\nExit 0: committed (as a ticket, comment, bounce, duplicate, or quarantine entry); " +
			"65: the input is not mail (kept in quarantine); 75: temporary failure, nothing stored, the MTA should retry. " +
			"With several inputs each is reported, and the exit code is that of the worst failure, naming the inputs that failed.",
		RunE: func(cmd *cobra.Command, args []string) error {
			o.files = args
			// The intake is built here, not through a.action: a missing
			// database is a temporary failure (75) for the MTA, not exit 1.
			ctx := cmd.Context()
			in, err := a.newIntake(ctx)
			if err != nil {
				return exitCodeError{code: exTempFail, err: err}
			}
			d := &deps{cfg: a.cfg, st: a.st, svc: a.svc, log: a.log, stdin: a.stdin, stdout: a.stdout, stderr: a.stderr, json: a.jsonOut()}
			return mailIngest(ctx, d, in, o)
		},
	}
	cmd.Flags().BoolVar(&o.isMbox, "mbox", false, "each FILE (or stdin) is an mbox with many messages")
	return cmd
}

// ingestFailure is one input that failed, with its exit code.
type ingestFailure struct {
	source string
	code   int
	err    error
}

func mailIngest(ctx context.Context, d *deps, in *intake.Intake, o mailIngestOpts) error {
	var results []outcomeJSON
	var failed []ingestFailure
	fail := func(source string, code int, err error) {
		failed = append(failed, ingestFailure{source, code, err})
		results = append(results, outcomeJSON{Source: source, Action: "failed", Error: err.Error()})
	}
	one := func(name string, raw []byte) {
		out, err := in.Deliver(ctx, delivery.Envelope{Source: delivery.SourcePipe, ReceivedAt: time.Now()}, raw)
		if err != nil {
			fail(name, exTempFail, err)
			return
		}
		res := outcomeOf(name, out)
		results = append(results, res)
		if out.Action == store.MailQuarantine && out.Reason == intake.ReasonNotMail {
			failed = append(failed, ingestFailure{name, exDataErr, fmt.Errorf("not mail; kept in quarantine as entry %d", out.QuarantineID)})
		}
	}
	read := func(name string, r io.Reader) {
		if o.isMbox {
			i := 0
			err := mbox.Each(r, func(msg []byte) error {
				i++
				one(fmt.Sprintf("%s#%d", name, i), append([]byte(nil), msg...))
				return nil
			})
			if err != nil {
				fail(fmt.Sprintf("%s#%d", name, i+1), exDataErr, fmt.Errorf("not an mbox: %w", err))
			}
			return
		}
		// Read past the message limit so an oversized message is kept whole
		// in quarantine; only absurd input is refused outright.
		hardCap := 4*d.cfg.SMTP.MaxMessageBytes + 1<<20
		raw, err := io.ReadAll(io.LimitReader(r, hardCap+1))
		if err != nil {
			fail(name, exTempFail, fmt.Errorf("read: %w", err))
			return
		}
		if int64(len(raw)) > hardCap {
			fail(name, exDataErr, fmt.Errorf("over %d bytes, refused", hardCap))
			return
		}
		one(name, raw)
	}
	if len(o.files) == 0 {
		read("stdin", d.stdin)
	}
	for _, f := range o.files {
		fh, err := os.Open(f)
		if err != nil {
			fail(f, exitError, err)
			continue
		}
		read(f, fh)
		if err := fh.Close(); err != nil {
			d.log.Warn("closing an ingested file", "file", f, "err", err)
		}
	}
	// One line per input (what MTAs log), or a JSON array.
	if d.json {
		if err := printMany(d, results, nil, nil); err != nil {
			return err
		}
	} else {
		for _, r := range results {
			printOutcome(d.stdout, r)
		}
	}
	return ingestError(failed, len(results))
}

// ingestError names the inputs that failed; the exit code is the worst
// one: 75 (retry) over 65 (not mail) over 1.
func ingestError(failed []ingestFailure, total int) error {
	if len(failed) == 0 {
		return nil
	}
	rank := map[int]int{exTempFail: 3, exDataErr: 2, exitError: 1}
	code := failed[0].code
	var parts []string
	for _, f := range failed {
		if rank[f.code] > rank[code] {
			code = f.code
		}
		parts = append(parts, f.source+": "+f.err.Error())
	}
	if total == 1 {
		return exitCodeError{code: code, err: errors.New(parts[0])}
	}
	return exitCodeError{code: code, err: fmt.Errorf("%d of %d inputs failed: %s", len(failed), total, strings.Join(parts, "; "))}
}

type mailListOpts struct{ paging }

func (a *app) mailListCommand() *cobra.Command {
	var o mailListOpts
	cmd := &cobra.Command{
		Use: "list", Short: "List ingested messages and what became of each, newest first", Args: cobra.NoArgs,
		RunE: a.checked(&o.paging, func(ctx context.Context, d *deps) error { return mailList(ctx, d, o) }),
	}
	o.flags(cmd, 50)
	return cmd
}

func mailList(ctx context.Context, d *deps, o mailListOpts) error {
	limit, offset := o.page()
	ms, err := d.st.R().MailPage(ctx, limit, offset)
	if err != nil {
		return err
	}
	return printMany(d, ms, []string{"ID", "RECEIVED", "SOURCE", "FROM", "SUBJECT", "KIND", "ACTION", "REASON"},
		func(m *store.MailMessage) []string {
			return []string{strconv.FormatInt(m.ID, 10), m.ReceivedAt.Format(timeFormat), m.Source, m.FromAddr,
				trunc(m.Subject, 40), m.Kind, m.Action, m.Reason}
		})
}

type idOpts struct {
	id  int64
	raw bool
}

// idArg parses the ID argument before the action runs (a bad one is exit 2
// with nothing opened).
func (o *idOpts) idArg(_ *cobra.Command, args []string) error {
	id, err := parseID(args[0])
	o.id = id
	return err
}

func (a *app) mailShowCommand() *cobra.Command {
	var o idOpts
	cmd := &cobra.Command{
		Use: "show ID", Short: "Show an ingested message (--raw prints the original .eml)", Args: cobra.ExactArgs(1),
		PreRunE: o.idArg,
		RunE:    a.action(func(ctx context.Context, d *deps) error { return mailShow(ctx, d, o) }),
	}
	cmd.Flags().BoolVar(&o.raw, "raw", false, "print the original message")
	return cmd
}

func mailShow(ctx context.Context, d *deps, o idOpts) error {
	m, body, err := d.st.R().MailRaw(ctx, o.id)
	if err != nil {
		return err
	}
	if o.raw {
		_, err := d.stdout.Write(body)
		return err
	}
	return writeJSON(d.stdout, m)
}

func (a *app) quarantineCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "quarantine", Short: "Mail that could not be placed, kept whole with the reason"}
	cmd.AddCommand(a.quarantineListCommand(), a.quarantineShowCommand(), a.quarantineReprocessCommand(), a.quarantineDeleteCommand())
	return cmd
}

type quarantineListOpts struct{ paging }

func (a *app) quarantineListCommand() *cobra.Command {
	var o quarantineListOpts
	cmd := &cobra.Command{
		Use: "list", Short: "List held messages, newest first", Args: cobra.NoArgs,
		RunE: a.checked(&o.paging, func(ctx context.Context, d *deps) error { return quarantineList(ctx, d, o) }),
	}
	o.flags(cmd, 100)
	return cmd
}

func quarantineList(ctx context.Context, d *deps, o quarantineListOpts) error {
	limit, offset := o.page()
	ms, err := d.st.R().QuarantinePage(ctx, limit, offset)
	if err != nil {
		return err
	}
	return printMany(d, ms, []string{"ID", "RECEIVED", "FROM", "SUBJECT", "REASON"}, func(m *store.Quarantined) []string {
		return []string{strconv.FormatInt(m.ID, 10), m.CreatedAt.Format(timeFormat), m.FromAddr, trunc(m.Subject, 40), m.Reason}
	})
}

func (a *app) quarantineShowCommand() *cobra.Command {
	var o idOpts
	cmd := &cobra.Command{
		Use: "show ID", Short: "Show a held message (--raw prints the .eml)", Args: cobra.ExactArgs(1),
		PreRunE: o.idArg,
		RunE:    a.action(func(ctx context.Context, d *deps) error { return quarantineShow(ctx, d, o) }),
	}
	cmd.Flags().BoolVar(&o.raw, "raw", false, "print the original message")
	return cmd
}

func quarantineShow(ctx context.Context, d *deps, o idOpts) error {
	m, body, err := d.st.R().QuarantineGet(ctx, o.id)
	if err != nil {
		return err
	}
	if o.raw {
		_, err := d.stdout.Write(body)
		return err
	}
	return printOne(d, m, func(w io.Writer, m *store.Quarantined) {
		state := "held"
		if m.ReleasedAt != nil {
			state = "released " + m.ReleasedAt.Format(timeFormat)
		}
		fprintf(w, "id: %d\nreceived: %s\nstate: %s\nsource: %s\nfrom: %s\nsubject: %s\nmessage-id: %s\nsize: %d\nreason: %s\n",
			m.ID, m.CreatedAt.Format(timeFormat), state, m.Source, m.FromAddr, m.Subject, m.MessageID, m.RawSize, m.Reason)
	})
}

func (a *app) quarantineReprocessCommand() *cobra.Command {
	var o idOpts
	return &cobra.Command{
		Use: "reprocess ID", Short: "Run a held message through the intake again (after fixing its cause)", Args: cobra.ExactArgs(1),
		Long: "Runs a held message through the intake again. The entry is then released (still shown by `quarantine show ID`); " +
			"if the message lands in quarantine again, the new entry's id is printed.",
		PreRunE: o.idArg,
		RunE: a.action(func(ctx context.Context, d *deps) error {
			in, err := a.newIntake(ctx)
			if err != nil {
				return err
			}
			return quarantineReprocess(ctx, d, in, o)
		}),
	}
}

func quarantineReprocess(ctx context.Context, d *deps, in *intake.Intake, o idOpts) error {
	res, err := in.Reprocess(ctx, d.actor, o.id)
	if err != nil {
		return err
	}
	return printOne(d, outcomeOf("quarantine "+strconv.FormatInt(res.ID, 10), res.Outcome), printOutcome)
}

type quarantineDeleteOpts struct {
	idOpts
	destructive
}

func (a *app) quarantineDeleteCommand() *cobra.Command {
	var o quarantineDeleteOpts
	cmd := &cobra.Command{
		Use: "delete ID", Short: "Delete a held message for good", Args: cobra.ExactArgs(1),
		PreRunE: o.idArg,
		RunE:    a.action(func(ctx context.Context, d *deps) error { return quarantineDelete(ctx, d, o) }),
	}
	o.destructive.flags(cmd)
	return cmd
}

func quarantineDelete(ctx context.Context, d *deps, o quarantineDeleteOpts) error {
	if err := o.confirm(d, fmt.Sprintf("Delete quarantined mail %d for good", o.id)); err != nil {
		return err
	}
	m, err := d.svc.DeleteQuarantined(ctx, d.actor, o.id, o.dryRun)
	if err != nil {
		return err
	}
	out := map[string]any{"id": m.ID, "from": m.FromAddr, "subject": m.Subject, "deleted": !o.dryRun}
	return printOne(d, out, func(w io.Writer, _ map[string]any) {
		if o.dryRun {
			fprintf(w, "would delete quarantined mail %d from %s (dry run; nothing changed)\n", m.ID, m.FromAddr)
			return
		}
		fprintf(w, "deleted quarantined mail %d from %s\n", m.ID, m.FromAddr)
	})
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
