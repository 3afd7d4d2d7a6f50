package main

import (
	"archive/zip"
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// lgpdCommand groups the privacy commands: policy revisions and consents,
// data-subject requests, export and erasure of a person's data.
func (a *app) lgpdCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "lgpd", Short: "Privacy (LGPD): policy revisions, consents, data-subject requests, export and erasure"}
	rev := &cobra.Command{Use: "revision", Short: "Privacy policy revisions, per company or global"}
	rev.AddCommand(a.lgpdRevisionAddCommand(), a.lgpdRevisionListCommand(), a.lgpdRevisionShowCommand(), a.lgpdRevisionPublishCommand())
	req := &cobra.Command{Use: "request", Short: "Data-subject requests (export, erasure, correction) and their legal deadline"}
	req.AddCommand(a.lgpdRequestAddCommand(), a.lgpdRequestListCommand(), a.lgpdRequestCloseCommand())
	cmd.AddCommand(rev, req, a.lgpdConsentsCommand(), a.lgpdExportCommand(), a.lgpdAnonymizeCommand())
	return cmd
}

// lgpdCompany resolves --company (an id or a name); "" is the global series.
func lgpdCompany(ctx context.Context, d *deps, ref string) (int64, error) {
	if ref == "" {
		return 0, nil
	}
	c, err := d.st.R().CompanyByRef(ctx, ref)
	if err != nil {
		return 0, fmt.Errorf("company %q: %w", ref, err)
	}
	return c.ID, nil
}

func lgpdID(what, s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, usagef("invalid %s id %q", what, s)
	}
	return id, nil
}

func lgpdRevisionRow(r *store.LGPDRevision) []string {
	company := "global"
	if r.CompanyID != nil {
		company = strconv.FormatInt(*r.CompanyID, 10)
	}
	published := ""
	if r.PublishedAt != nil {
		published = r.PublishedAt.Format(timeFormat)
	}
	return []string{strconv.FormatInt(r.ID, 10), company, r.Version, r.Status, r.Title, published}
}

var lgpdRevisionHeader = []string{"ID", "COMPANY", "VERSION", "STATUS", "TITLE", "PUBLISHED"}

func printLGPDRevision(w io.Writer, r *store.LGPDRevision) {
	row := lgpdRevisionRow(r)
	fprintf(w, "Revision %s (company %s, version %s): %s\nTitle: %s\n", row[0], row[1], row[2], row[3], r.Title)
	if row[5] != "" {
		fprintf(w, "Published: %s\n", row[5])
	}
	fprintf(w, "\n%s\n", r.Body)
}

type lgpdRevisionAddOpts struct {
	company, file, title string
	publish              bool
}

func (a *app) lgpdRevisionAddCommand() *cobra.Command {
	var o lgpdRevisionAddOpts
	cmd := &cobra.Command{
		Use: "add", Short: "Add the next revision of a company's policy (no --company: the global default)", Args: cobra.NoArgs,
		RunE: a.action(func(ctx context.Context, d *deps) error { return lgpdRevisionAdd(ctx, d, o) }),
	}
	cmd.Flags().StringVar(&o.company, "company", "", "company id or name (default: the global policy)")
	cmd.Flags().StringVar(&o.file, "file", "", "the policy text, Markdown (- for stdin)")
	cmd.Flags().StringVar(&o.title, "title", "", "title (default: Política de privacidade)")
	cmd.Flags().BoolVar(&o.publish, "publish", false, "publish it at once (the company's requesters accept it again)")
	_ = cmd.MarkFlagRequired("file")
	return cmd
}

func lgpdRevisionAdd(ctx context.Context, d *deps, o lgpdRevisionAddOpts) error {
	var body []byte
	var err error
	if o.file == "-" {
		body, err = io.ReadAll(io.LimitReader(d.stdin, 2<<20))
	} else {
		body, err = os.ReadFile(o.file)
	}
	if err != nil {
		return usagef("--file: %v", err)
	}
	cid, err := lgpdCompany(ctx, d, o.company)
	if err != nil {
		return err
	}
	r, err := d.svc.AddRevision(ctx, d.actor, ticketing.RevisionInput{CompanyID: cid, Title: o.title, Body: string(body), Publish: o.publish})
	if err != nil {
		return err
	}
	return printOne(d, r, printLGPDRevision)
}

type lgpdRevisionListOpts struct {
	company string
	set     bool
}

func (a *app) lgpdRevisionListCommand() *cobra.Command {
	var o lgpdRevisionListOpts
	cmd := &cobra.Command{
		Use: "list", Short: "List revisions, drafts included", Args: cobra.NoArgs,
		PreRun: func(cmd *cobra.Command, _ []string) { o.set = cmd.Flags().Changed("company") },
		RunE:   a.action(func(ctx context.Context, d *deps) error { return lgpdRevisionList(ctx, d, o) }),
	}
	cmd.Flags().StringVar(&o.company, "company", "", "only this company's revisions (\"\" or global: the global series)")
	return cmd
}

func lgpdRevisionList(ctx context.Context, d *deps, o lgpdRevisionListOpts) error {
	var filter *int64
	if o.set {
		ref := o.company
		if ref == "global" {
			ref = ""
		}
		cid, err := lgpdCompany(ctx, d, ref)
		if err != nil {
			return err
		}
		filter = &cid
	}
	rs, err := d.svc.Revisions(ctx, d.actor, filter)
	if err != nil {
		return err
	}
	return printMany(d, rs, lgpdRevisionHeader, lgpdRevisionRow)
}

func (a *app) lgpdRevisionShowCommand() *cobra.Command {
	var ref string
	return &cobra.Command{
		Use: "show ID", Short: "Show a revision with its text", Args: cobra.ExactArgs(1),
		PreRun: func(_ *cobra.Command, args []string) { ref = args[0] },
		RunE: a.action(func(ctx context.Context, d *deps) error {
			id, err := lgpdID("revision", ref)
			if err != nil {
				return err
			}
			r, err := d.svc.Revision(ctx, d.actor, id)
			if err != nil {
				return err
			}
			return printOne(d, r, printLGPDRevision)
		}),
	}
}

func (a *app) lgpdRevisionPublishCommand() *cobra.Command {
	var ref string
	return &cobra.Command{
		Use: "publish ID", Short: "Publish a draft; the previous revision of its company is superseded", Args: cobra.ExactArgs(1),
		PreRun: func(_ *cobra.Command, args []string) { ref = args[0] },
		RunE: a.action(func(ctx context.Context, d *deps) error {
			id, err := lgpdID("revision", ref)
			if err != nil {
				return err
			}
			r, err := d.svc.PublishRevision(ctx, d.actor, id)
			if err != nil {
				return err
			}
			return printOne(d, r, printLGPDRevision)
		}),
	}
}

type lgpdConsentsOpts struct{ company, version string }

func (a *app) lgpdConsentsCommand() *cobra.Command {
	var o lgpdConsentsOpts
	cmd := &cobra.Command{
		Use: "consents", Short: "Who of a company accepted which revision, when, from where", Args: cobra.NoArgs,
		RunE: a.action(func(ctx context.Context, d *deps) error { return lgpdConsents(ctx, d, o) }),
	}
	cmd.Flags().StringVar(&o.company, "company", "", "company id or name")
	cmd.Flags().StringVar(&o.version, "revision", "", "only acceptances of this version (of the company's policy, else the global one)")
	_ = cmd.MarkFlagRequired("company")
	return cmd
}

func lgpdConsents(ctx context.Context, d *deps, o lgpdConsentsOpts) error {
	if o.version != "" {
		if _, err := strconv.ParseUint(o.version, 10, 63); err != nil {
			return usagef("--revision must be a version number, not %q", o.version)
		}
	}
	cid, err := lgpdCompany(ctx, d, o.company)
	if err != nil {
		return err
	}
	rs, err := d.svc.Consents(ctx, d.actor, cid, o.version)
	if err != nil {
		return err
	}
	return printMany(d, rs, []string{"WHEN", "EMAIL", "REVISION", "VERSION", "CHANNEL", "IP"}, func(c *store.ConsentRow) []string {
		v := c.Version
		if c.Global {
			v += " (global)"
		}
		return []string{c.ConsentedAt.Format(timeFormat), c.Email, strconv.FormatInt(c.RevisionID, 10), v, c.Channel, c.IP}
	})
}

// lgpdRequestJSON is a request with the person's address, for scripts.
type lgpdRequestJSON struct {
	*store.LGPDRequest
	Email   string `json:"email"`
	Overdue bool   `json:"overdue"`
}

func lgpdRequestView(d *deps, r *store.LGPDRequest) lgpdRequestJSON {
	v := lgpdRequestJSON{LGPDRequest: r}
	if r.User != nil {
		v.Email = r.User.Email
	}
	v.Overdue = r.Status == store.RequestOpen && d.svc.Clock().After(r.DueAt)
	return v
}

func lgpdRequestRow(v lgpdRequestJSON) []string {
	return []string{strconv.FormatInt(v.ID, 10), v.Email, v.Kind, v.Status, v.FiledAt.Format(timeFormat), v.DueAt.Format(timeFormat), strconv.FormatBool(v.Overdue)}
}

func printLGPDRequest(w io.Writer, v lgpdRequestJSON) {
	fprintf(w, "Request %d: %s of %s, %s (filed %s, due %s)\n", v.ID, v.Kind, v.Email, v.Status,
		v.FiledAt.Format(timeFormat), v.DueAt.Format(timeFormat))
}

type lgpdRequestAddOpts struct{ email, kind, note string }

func (a *app) lgpdRequestAddCommand() *cobra.Command {
	var o lgpdRequestAddOpts
	cmd := &cobra.Command{
		Use: "add", Short: "Record a data-subject request; it is due in 15 days", Args: cobra.NoArgs,
		RunE: a.action(func(ctx context.Context, d *deps) error {
			if !ticketing.ValidRequestKind(o.kind) {
				return usagef("unknown --kind %q (want export, erasure or correction)", o.kind)
			}
			r, err := d.svc.AddRequest(ctx, d.actor, ticketing.RequestInput{Email: o.email, Kind: o.kind, Note: o.note})
			if err != nil {
				return err
			}
			return printOne(d, lgpdRequestView(d, r), printLGPDRequest)
		}),
	}
	cmd.Flags().StringVar(&o.email, "user", "", "the person's email address")
	cmd.Flags().StringVar(&o.kind, "kind", "", "export, erasure or correction")
	cmd.Flags().StringVar(&o.note, "note", "", "what was asked, how it came in")
	_ = cmd.MarkFlagRequired("user")
	_ = cmd.MarkFlagRequired("kind")
	return cmd
}

type lgpdRequestListOpts struct {
	status  string
	overdue bool
}

func (a *app) lgpdRequestListCommand() *cobra.Command {
	var o lgpdRequestListOpts
	cmd := &cobra.Command{
		Use: "list", Short: "List data-subject requests, soonest due first", Args: cobra.NoArgs,
		RunE: a.action(func(ctx context.Context, d *deps) error {
			switch o.status {
			case "", store.RequestOpen, store.RequestDone, store.RequestRejected:
			default:
				return usagef("unknown --status %q (want open, done or rejected)", o.status)
			}
			rs, err := d.svc.Requests(ctx, d.actor, ticketing.RequestListFilter{Status: o.status, Overdue: o.overdue})
			if err != nil {
				return err
			}
			vs := make([]lgpdRequestJSON, 0, len(rs))
			for _, r := range rs {
				vs = append(vs, lgpdRequestView(d, r))
			}
			return printMany(d, vs, []string{"ID", "EMAIL", "KIND", "STATUS", "FILED", "DUE", "OVERDUE"}, lgpdRequestRow)
		}),
	}
	cmd.Flags().StringVar(&o.status, "status", "", "open, done or rejected")
	cmd.Flags().BoolVar(&o.overdue, "overdue", false, "only open requests past their due date")
	return cmd
}

type lgpdRequestCloseOpts struct{ id, status, note string }

func (a *app) lgpdRequestCloseCommand() *cobra.Command {
	var o lgpdRequestCloseOpts
	cmd := &cobra.Command{
		Use: "close ID", Short: "Close a request as done or rejected", Args: cobra.ExactArgs(1),
		PreRun: func(_ *cobra.Command, args []string) { o.id = args[0] },
		RunE: a.action(func(ctx context.Context, d *deps) error {
			id, err := lgpdID("request", o.id)
			if err != nil {
				return err
			}
			if o.status != store.RequestDone && o.status != store.RequestRejected {
				return usagef("--status must be done or rejected, not %q", o.status)
			}
			r, err := d.svc.CloseRequest(ctx, d.actor, id, o.status, o.note)
			if err != nil {
				return err
			}
			return printOne(d, lgpdRequestView(d, r), printLGPDRequest)
		}),
	}
	cmd.Flags().StringVar(&o.status, "status", "", "done or rejected")
	cmd.Flags().StringVar(&o.note, "note", "", "how it was handled")
	_ = cmd.MarkFlagRequired("status")
	return cmd
}

type lgpdExportOpts struct {
	email, out string
	withFiles  bool
}

func (a *app) lgpdExportCommand() *cobra.Command {
	var o lgpdExportOpts
	cmd := &cobra.Command{
		Use: "export", Short: "Everything held about a person, as JSON (with --with-files: a zip with the files and raw mails)", Args: cobra.NoArgs,
		RunE: a.action(func(ctx context.Context, d *deps) error { return lgpdExport(ctx, d, o) }),
	}
	cmd.Flags().StringVar(&o.email, "user", "", "the person's email address")
	cmd.Flags().StringVar(&o.out, "out", "", "write to this file (mode 0600) instead of stdout")
	cmd.Flags().BoolVar(&o.withFiles, "with-files", false, "a zip of export.json, the attachments and the raw mails (needs --out)")
	_ = cmd.MarkFlagRequired("user")
	return cmd
}

func lgpdExport(ctx context.Context, d *deps, o lgpdExportOpts) error {
	if o.withFiles && o.out == "" {
		return usagef("--with-files writes a zip: give it a file with --out")
	}
	u, err := d.st.R().UserByEmail(ctx, store.AllCompanies(), o.email)
	if err != nil {
		return fmt.Errorf("user %s: %w", o.email, err)
	}
	x, err := d.svc.Export(ctx, d.actor, u.ID)
	if err != nil {
		return err
	}
	if o.out == "" {
		return writeJSON(d.stdout, x)
	}
	files := 0
	err = writeFileAtomic(o.out, func(w io.Writer) error {
		if !o.withFiles {
			return writeJSON(w, x)
		}
		zw := zip.NewWriter(w)
		jw, err := zw.Create("export.json")
		if err != nil {
			return err
		}
		if err := writeJSON(jw, x); err != nil {
			return err
		}
		err = x.Files(ctx, func(name string, data []byte) error {
			fw, err := zw.Create(name)
			if err != nil {
				return err
			}
			files++
			_, err = fw.Write(data)
			return err
		})
		if err != nil {
			return err
		}
		return zw.Close()
	})
	if err != nil {
		return fmt.Errorf("export to %s: %w", o.out, err)
	}
	summary := map[string]any{"out": o.out, "user": x.Profile.Email, "tickets": len(x.Tickets), "comments": len(x.Comments),
		"mails": len(x.Mails), "files": files}
	return printOne(d, summary, func(w io.Writer, v map[string]any) {
		fprintf(w, "wrote the data of %s to %s (%d tickets, %d comments, %d mails, %d files)\n",
			v["user"], v["out"], v["tickets"], v["comments"], v["mails"], v["files"])
	})
}

// writeFileAtomic writes a file of personal data: readable by its owner
// only, and complete or absent (a temporary file renamed at the end).
func writeFileAtomic(name string, fn func(w io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	bw := bufio.NewWriter(f)
	if err := fn(bw); err != nil {
		f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), name)
}

type lgpdAnonymizeOpts struct {
	email string
	destructive
}

func (a *app) lgpdAnonymizeCommand() *cobra.Command {
	var o lgpdAnonymizeOpts
	cmd := &cobra.Command{
		Use:   "anonymize",
		Short: "Erase a person: name, address, what they wrote, their mails and files; statistics stay",
		Long: "Erase a person (LGPD right to erasure) in one transaction. On SQLite the freed pages are zeroed and the WAL\n" +
			"checkpointed; on PostgreSQL the old row versions remain in the table files until VACUUM runs.",
		Args: cobra.NoArgs,
		RunE: a.action(func(ctx context.Context, d *deps) error { return lgpdAnonymize(ctx, d, o) }),
	}
	cmd.Flags().StringVar(&o.email, "user", "", "the person's email address")
	o.flags(cmd)
	_ = cmd.MarkFlagRequired("user")
	return cmd
}

func lgpdAnonymize(ctx context.Context, d *deps, o lgpdAnonymizeOpts) error {
	id, err := d.svc.UserIDByEmail(ctx, o.email)
	if err != nil {
		return fmt.Errorf("user %s: %w", o.email, err)
	}
	if err := o.confirm(d, "Erase every personal datum of "+o.email+" (this cannot be undone)"); err != nil {
		return err
	}
	res, err := d.svc.Anonymize(ctx, d.actor, id, o.dryRun)
	if err != nil {
		return err
	}
	return printOne(d, res, func(w io.Writer, r *ticketing.AnonymizeResult) {
		verb := "erased"
		if r.DryRun {
			verb = "would erase (dry run, nothing changed)"
		}
		c := r.EraseCounts
		fprintf(w, "%s user %d, now %s:\n", verb, r.UserID, c.PlaceholderEmail)
		fprintf(w, "  tickets %d, comments %d, chat %d, attachments %d (files %d)\n", c.Tickets, c.Comments, c.Chat, c.Attachments, c.Blobs)
		fprintf(w, "  raw mails %d deleted, %d rewritten; message refs %d; quarantine %d\n", c.Mails, c.MailsRewritten, c.MailRefs, c.Quarantine)
		fprintf(w, "  outbox %d deleted, %d rewritten; others' texts %d; notifications %d\n", c.Outbox, c.OutboxRewritten, c.OthersRewritten, c.Notifications)
		fprintf(w, "  audit rows %d; sessions %d; consents %d; requests %d\n", c.Audit, c.Sessions, c.Consents, c.Requests)
	})
}
