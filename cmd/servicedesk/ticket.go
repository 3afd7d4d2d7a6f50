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
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

type ticketJSON struct {
	Number          int64         `json:"number"`
	Subject         string        `json:"subject"`
	Status          string        `json:"status"`
	Priority        string        `json:"priority"`
	Source          string        `json:"source"`
	CompanyID       int64         `json:"company_id"`
	Company         string        `json:"company"`
	Requester       string        `json:"requester"`
	Assignee        *string       `json:"assignee"`
	Category        *string       `json:"category"`
	Subcategory     *string       `json:"subcategory"`
	Description     string        `json:"description,omitempty"`
	CreatedAt       string        `json:"created_at"`
	UpdatedAt       string        `json:"updated_at"`
	FirstResponseAt *string       `json:"first_response_at"`
	ResolvedAt      *string       `json:"resolved_at"`
	ClosedAt        *string       `json:"closed_at"`
	Solution        string        `json:"solution,omitempty"`
	CloseReason     string        `json:"close_reason,omitempty"`
	TechEvaluation  string        `json:"tech_evaluation,omitempty"`
	Classification  string        `json:"classification,omitempty"`
	Rating          *int          `json:"rating"`
	RatingComment   string        `json:"rating_comment,omitempty"`
	ReopenCount     int           `json:"reopen_count"`
	SLA             *slaJSON      `json:"sla"`
	Participants    []string      `json:"participants,omitempty"`
	Comments        []commentJSON `json:"comments,omitempty"`
	// Match: where ticket list --search found it.
	Match *searchMatchJSON `json:"match,omitempty"`
}

type attachmentJSON struct {
	ID          int64  `json:"id"`
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	Inline      bool   `json:"inline"`
	CommentID   *int64 `json:"comment_id"`
	SHA256      string `json:"sha256"`
	CreatedAt   string `json:"created_at"`
}

func attachmentView(a *store.Attachment) attachmentJSON {
	return attachmentJSON{ID: a.ID, Filename: a.Filename, ContentType: a.ContentType, Size: a.Size, Inline: a.Inline,
		CommentID: a.CommentID, SHA256: a.SHA256, CreatedAt: a.CreatedAt.UTC().Format(timeFormat)}
}

var attachmentHeader = []string{"ID", "FILENAME", "TYPE", "SIZE", "COMMENT"}

func attachmentRow(a attachmentJSON) []string {
	comment := "-"
	if a.CommentID != nil {
		comment = strconv.FormatInt(*a.CommentID, 10)
	}
	return []string{strconv.FormatInt(a.ID, 10), a.Filename, a.ContentType, strconv.FormatInt(a.Size, 10), comment}
}

type commentJSON struct {
	ID        int64  `json:"id"`
	Author    string `json:"author"`
	Body      string `json:"body"`
	Internal  bool   `json:"internal"`
	Source    string `json:"source"`
	CreatedAt string `json:"created_at"`
}

func fmtTime(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := t.UTC().Format(timeFormat)
	return &s
}

func ticketView(t *store.Ticket) ticketJSON {
	v := ticketJSON{Number: t.Number, Subject: t.Subject, Status: t.Status, Priority: t.Priority, Source: t.Source,
		CompanyID: t.CompanyID, CreatedAt: t.CreatedAt.UTC().Format(timeFormat), UpdatedAt: t.UpdatedAt.UTC().Format(timeFormat),
		FirstResponseAt: fmtTime(t.FirstResponseAt), ResolvedAt: fmtTime(t.ResolvedAt), ClosedAt: fmtTime(t.ClosedAt),
		Solution: t.Solution, CloseReason: t.CloseReason, TechEvaluation: t.TechEvaluation, Classification: t.Classification, Rating: t.Rating, RatingComment: t.RatingComment, ReopenCount: t.ReopenCount}
	if t.Company != nil {
		v.Company = t.Company.Name
	}
	if t.Requester != nil {
		v.Requester = t.Requester.Email
	}
	if t.Assignee != nil && t.AssigneeID != nil {
		v.Assignee = &t.Assignee.Email
	}
	if t.Category != nil && t.CategoryID != nil {
		v.Category = &t.Category.Name
	}
	if t.SLAPlanID != nil {
		v.SLA = &slaJSON{PlanID: *t.SLAPlanID, FirstResponseDue: fmtTime(t.FirstResponseDue), ResolutionDue: fmtTime(t.ResolutionDue),
			PausedAt: fmtTime(t.SLAPausedAt), PauseReason: t.SLAPauseReason, PausedSeconds: t.SLAPausedSeconds,
			FirstResponseBreachedAt: fmtTime(t.FirstResponseBreachedAt), ResolutionBreachedAt: fmtTime(t.ResolutionBreachedAt)}
	}
	return v
}

// slaJSON is a ticket's SLA clock: null when no plan applies.
type slaJSON struct {
	PlanID                  int64   `json:"plan_id"`
	FirstResponseDue        *string `json:"first_response_due"`
	ResolutionDue           *string `json:"resolution_due"`
	PausedAt                *string `json:"paused_at"`
	PauseReason             string  `json:"pause_reason,omitempty"`
	PausedSeconds           int64   `json:"paused_seconds"`
	FirstResponseBreachedAt *string `json:"first_response_breached_at"`
	ResolutionBreachedAt    *string `json:"resolution_breached_at"`
}

var ticketHeader = []string{"NUMBER", "STATUS", "PRIORITY", "COMPANY", "REQUESTER", "ASSIGNEE", "SUBJECT"}

func ticketRow(v ticketJSON) []string {
	assignee := "-"
	if v.Assignee != nil {
		assignee = *v.Assignee
	}
	return []string{"#" + strconv.FormatInt(v.Number, 10), v.Status, v.Priority, v.Company, v.Requester, assignee, v.Subject}
}

// ticketShowJSON is `ticket show`: the ticket with its comments,
// participants and attachments, each always an array.
type ticketShowJSON struct {
	ticketJSON
	Comments     []commentJSON    `json:"comments"`
	Participants []string         `json:"participants"`
	Attachments  []attachmentJSON `json:"attachments"`
}

func ticketShowView(ctx context.Context, st *store.Store, v *ticketing.View) (ticketShowJSON, error) {
	out := ticketShowJSON{ticketJSON: ticketView(v.Ticket), Comments: []commentJSON{}, Participants: []string{}, Attachments: []attachmentJSON{}}
	out.Description = v.Ticket.Description
	if id := v.Ticket.SubcategoryID; id != nil {
		sub, err := st.R().Category(ctx, *id)
		if err != nil {
			return out, err
		}
		out.Subcategory = &sub.Name
	}
	for _, p := range v.Participants {
		out.Participants = append(out.Participants, p.Email)
	}
	for _, c := range v.Comments {
		author := "system"
		if c.Author != nil {
			author = c.Author.Email
		}
		out.Comments = append(out.Comments, commentJSON{ID: c.ID, Author: author, Body: c.BodyText, Internal: c.Internal,
			Source: c.Source, CreatedAt: c.CreatedAt.UTC().Format(timeFormat)})
	}
	for _, a := range v.Attachments {
		out.Attachments = append(out.Attachments, attachmentView(a))
	}
	return out, nil
}

func printTicketShow(w io.Writer, out ticketShowJSON) {
	assignee := "-"
	if out.Assignee != nil {
		assignee = *out.Assignee
	}
	fprintf(w, "#%d  %s\n", out.Number, out.Subject)
	fprintf(w, "status: %s   priority: %s   source: %s\n", out.Status, out.Priority, out.Source)
	fprintf(w, "company: %s   requester: %s   assignee: %s\n", out.Company, out.Requester, assignee)
	if out.Category != nil {
		cat := *out.Category
		if out.Subcategory != nil {
			cat += "/" + *out.Subcategory
		}
		fprintf(w, "category: %s\n", cat)
	}
	if len(out.Participants) > 0 {
		fprintf(w, "participants: %s\n", strings.Join(out.Participants, ", "))
	}
	fprintf(w, "created: %s   updated: %s\n\n%s\n", out.CreatedAt, out.UpdatedAt, out.Description)
	for _, c := range out.Comments {
		kind := ""
		if c.Internal {
			kind = " (internal)"
		}
		fprintf(w, "\n--- %s, %s%s\n%s\n", c.Author, c.CreatedAt, kind, c.Body)
	}
	if len(out.Attachments) > 0 {
		fprintf(w, "\nattachments:\n")
		for _, a := range out.Attachments {
			fprintf(w, "  %d  %s (%s, %d bytes)\n", a.ID, a.Filename, a.ContentType, a.Size)
		}
	}
}

// ticketNumber parses "1042" or "#1042".
func ticketNumber(s string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimPrefix(s, "#"), 10, 64)
	if err != nil || n <= 0 {
		return 0, usagef("invalid ticket number %q (want e.g. 1042 or #1042)", s)
	}
	return n, nil
}

func (a *app) userByEmail(ctx context.Context, email string) (*store.User, error) {
	u, err := a.st.R().UserByEmail(ctx, store.AllCompanies(), email)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errors.New("unknown user " + strconv.Quote(email))
	}
	return u, err
}

func (a *app) ticketCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "ticket", Short: "Work tickets (as the seeded admin, or --as EMAIL under the same rules as the portal)"}

	var cr struct{ requester, subject, body, category, priority, company, contract, queue, asset string }
	create := &cobra.Command{
		Use: "create", Short: "Open a ticket", Args: cobra.NoArgs,
		Example: `  servicedesk ticket create --requester maria@acme.com.br --subject "Impressora não imprime" --category Hardware/Impressora
  servicedesk ticket create --requester maria@acme.com.br --subject "VPN" --priority urgent --body "Sem acesso desde 8h"`,
		PreRunE: func(*cobra.Command, []string) error { return checkPriority(cr.priority) },
		RunE: a.action(func(ctx context.Context, d *deps) error {
			req, err := a.userByEmail(ctx, cr.requester)
			if err != nil {
				return err
			}
			in := ticketing.CreateInput{Requester: req, Subject: cr.subject, Body: cr.body, Priority: cr.priority,
				Contract: cr.contract, Queue: cr.queue, Asset: cr.asset, Source: store.SourceCLI}
			if cr.category != "" {
				if in.CategoryID, in.SubcategoryID, err = d.svc.ResolveCategory(ctx, cr.category); err != nil {
					return err
				}
			}
			if cr.company != "" {
				id, err := a.companyID(ctx, cr.company)
				if err != nil {
					return err
				}
				in.CompanyID = *id
			}
			t, err := d.svc.Create(ctx, d.actor, in)
			if err != nil {
				return err
			}
			return ticketShowAs(ctx, d, d.actor, t.Number)
		}),
	}
	f := create.Flags()
	f.StringVar(&cr.requester, "requester", "", "requester's email (an existing user)")
	f.StringVar(&cr.subject, "subject", "", "subject")
	f.StringVar(&cr.body, "body", "", "description")
	f.StringVar(&cr.category, "category", "", "category or Parent/Subcategory, by name or id")
	f.StringVar(&cr.priority, "priority", "normal", "low, normal, high or urgent")
	f.StringVar(&cr.company, "company", "", "company (default: the requester's)")
	f.StringVar(&cr.contract, "contract", "", "contract of the company, by name or id (scopes the SLA plan)")
	f.StringVar(&cr.queue, "queue", "", "queue, by name or id")
	f.StringVar(&cr.asset, "asset", "", "asset of the company, by id, tag or name")
	_ = create.MarkFlagRequired("requester")
	_ = create.MarkFlagRequired("subject")

	cmd.AddCommand(create, a.ticketListCommand(), a.ticketShowCommand(), a.ticketUpdateCommand(), a.ticketCommentCommand(),
		a.ticketAssignCommand(), a.ticketStatusCommand(), a.ticketAttachmentCommand(),
		a.ticketHistoryCommand(), a.ticketMailCommand())
	return cmd
}

// ticketShowAs prints ticket n as actor sees it (what every change prints).
func ticketShowAs(ctx context.Context, d *deps, actor *store.User, n int64) error {
	v, err := d.svc.Get(ctx, actor, n)
	if err != nil {
		return err
	}
	out, err := ticketShowView(ctx, d.st, v)
	if err != nil {
		return err
	}
	return printOne(d, out, printTicketShow)
}

// Status words --status takes beyond the statuses themselves.
const statusActive = "active" // every unresolved status

func statusList() string {
	return strings.Join(ticketing.Statuses, ", ") + " or " + statusActive
}

// checkPriority refuses an unknown --priority as bad usage.
func checkPriority(p string) error {
	if !ticketing.ValidPriority(p) {
		return usagef("unknown priority %q for --priority (want low, normal, high or urgent)", p)
	}
	return nil
}

type ticketListOpts struct {
	statuses         []string
	company          string
	assignee, search string
	subject          string
	unassigned       bool
	paging
}

func (a *app) ticketListCommand() *cobra.Command {
	var o ticketListOpts
	list := &cobra.Command{
		Use: "list", Short: "List tickets, most recently updated first", Args: cobra.NoArgs,
		Example: `  servicedesk ticket list --status active                  # every unresolved ticket
  servicedesk ticket list --status open,pending --company "Acme Ltda" -o json
  servicedesk ticket list --unassigned --limit 20
  servicedesk ticket list --all -o json > tickets.json     # every ticket, page by page
  servicedesk ticket list --as maria@acme.com.br           # what a client sees
  servicedesk ticket list --search 'impressao -toner'      # full text, best match first`,
		RunE: a.action(func(ctx context.Context, d *deps) error { return ticketList(ctx, d, o) }),
	}
	lfl := list.Flags()
	lfl.StringArrayVar(&o.statuses, "status", nil, "only these statuses, or active for every unresolved one (repeatable or comma-separated)")
	lfl.StringVar(&o.company, "company", "", "only this company")
	lfl.StringVar(&o.assignee, "assignee", "", "only tickets assigned to this email")
	lfl.BoolVar(&o.unassigned, "unassigned", false, "only unassigned tickets")
	lfl.StringVar(&o.search, "search", "", `full-text search of subjects, descriptions, comments and file names, best match first: words, "a phrase", -word, a OR b`)
	lfl.StringVar(&o.subject, "subject", "", "subject contains this text")
	o.paging.flags(list, 50)
	list.MarkFlagsMutuallyExclusive("assignee", "unassigned")
	list.MarkFlagsMutuallyExclusive("search", "subject")
	return list
}

// parseStatuses expands --status values: comma lists, and active for every
// status but resolved and closed.
func parseStatuses(values []string) ([]string, error) {
	var out []string
	for _, s := range values {
		for _, part := range strings.Split(s, ",") {
			part = strings.TrimSpace(part)
			switch {
			case part == statusActive:
				for _, st := range ticketing.Statuses {
					if st != store.StatusResolved && st != store.StatusClosed && !slices.Contains(out, st) {
						out = append(out, st)
					}
				}
			case ticketing.ValidStatus(part):
				if !slices.Contains(out, part) {
					out = append(out, part)
				}
			default:
				return nil, usagef("unknown status %q for --status (want %s)", part, statusList())
			}
		}
	}
	return out, nil
}

func ticketList(ctx context.Context, d *deps, o ticketListOpts) error {
	if err := o.check(); err != nil {
		return err
	}
	statuses, err := parseStatuses(o.statuses)
	if err != nil {
		return err
	}
	filter := store.TicketFilter{Statuses: statuses, Unassigned: o.unassigned, Search: o.subject, Limit: o.limit, Offset: o.offset}
	if o.company != "" {
		c, err := companyByRef(ctx, d, o.company)
		if err != nil {
			return err
		}
		filter.CompanyID = c.ID
	}
	if o.assignee != "" {
		u, err := userByEmailOf(ctx, d.st, o.assignee)
		if err != nil {
			return err
		}
		filter.AssigneeID = u.ID
	}
	if o.search != "" {
		return ticketSearch(ctx, d, o, filter)
	}
	var ts []*store.Ticket
	if o.all {
		// Page through everything at the largest page the store serves.
		filter.Limit = maxPage
		for {
			page, err := d.svc.List(ctx, d.actor, filter)
			if err != nil {
				return err
			}
			ts = append(ts, page...)
			if len(page) < filter.Limit {
				break
			}
			filter.Offset += len(page)
		}
	} else if ts, err = d.svc.List(ctx, d.actor, filter); err != nil {
		return err
	}
	views := make([]ticketJSON, 0, len(ts))
	for _, t := range ts {
		views = append(views, ticketView(t))
	}
	return printMany(d, views, ticketHeader, ticketRow)
}

type ticketNumberOpts struct{ number string }

func (a *app) ticketShowCommand() *cobra.Command {
	var o ticketNumberOpts
	return &cobra.Command{
		Use: "show N", Short: "Show a ticket with its comments and attachments", Args: cobra.ExactArgs(1),
		Example: `  servicedesk ticket show 1001
  servicedesk ticket show '#1001' -o json | jq '.attachments'`,
		PreRun: func(_ *cobra.Command, args []string) { o.number = args[0] },
		RunE:   a.action(func(ctx context.Context, d *deps) error { return ticketShow(ctx, d, o) }),
	}
}

func ticketShow(ctx context.Context, d *deps, o ticketNumberOpts) error {
	n, err := ticketNumber(o.number)
	if err != nil {
		return err
	}
	return ticketShowAs(ctx, d, d.actor, n)
}

type ticketUpdateOpts struct {
	number                                string
	priority, subject, category, contract string
	queue, asset                          string
	changed                               func(flag string) bool
}

func (a *app) ticketUpdateCommand() *cobra.Command {
	var o ticketUpdateOpts
	update := &cobra.Command{
		Use: "update N [--priority P] [--subject S] [--category C]", Short: "Change a ticket's priority, subject or category",
		Args: cobra.ExactArgs(1),
		Example: `  servicedesk ticket update 1001 --priority urgent
  servicedesk ticket update 1001 --subject "Impressora do 2º andar" --category Hardware/Impressora
  servicedesk ticket update 1001 --category ""               # no category`,
		PreRun: func(cmd *cobra.Command, args []string) { o.number, o.changed = args[0], cmd.Flags().Changed },
		RunE:   a.action(func(ctx context.Context, d *deps) error { return ticketUpdate(ctx, d, o) }),
	}
	f := update.Flags()
	f.StringVar(&o.priority, "priority", "", "low, normal, high or urgent")
	f.StringVar(&o.subject, "subject", "", "new subject")
	f.StringVar(&o.category, "category", "", `category or Parent/Subcategory, by name or id ("" for none)`)
	f.StringVar(&o.contract, "contract", "", `contract of the ticket's company, by name or id ("" for none)`)
	f.StringVar(&o.queue, "queue", "", `queue, by name or id ("" for none)`)
	f.StringVar(&o.asset, "asset", "", `asset of the ticket's company, by id, tag or name ("" for none)`)
	return update
}

func ticketUpdate(ctx context.Context, d *deps, o ticketUpdateOpts) error {
	n, err := ticketNumber(o.number)
	if err != nil {
		return err
	}
	if !o.changed("priority") && !o.changed("subject") && !o.changed("category") && !o.changed("contract") &&
		!o.changed("queue") && !o.changed("asset") {
		return usagef("nothing to change: give --priority, --subject, --category, --contract, --queue or --asset")
	}
	var in ticketing.UpdateInput
	if o.changed("priority") {
		if err := checkPriority(o.priority); err != nil {
			return err
		}
		in.Priority = &o.priority
	}
	if o.changed("subject") {
		in.Subject = &o.subject
	}
	if o.changed("category") {
		in.Category = &o.category
	}
	if o.changed("contract") {
		in.Contract = &o.contract
	}
	if o.changed("queue") {
		in.Queue = &o.queue
	}
	if o.changed("asset") {
		in.Asset = &o.asset
	}
	if _, err := d.svc.Update(ctx, d.actor, n, in); err != nil {
		return err
	}
	return ticketShowAs(ctx, d, d.actor, n)
}

type ticketCommentOpts struct {
	number   string
	body     string
	bodyFile string
	internal bool
	to, cc   []string
	changed  func(flag string) bool
}

func (a *app) ticketCommentCommand() *cobra.Command {
	var o ticketCommentOpts
	comment := &cobra.Command{
		Use: "comment N (--body TEXT | --body-file FILE)", Short: "Add a public comment (or --internal note)", Args: cobra.ExactArgs(1),
		Example: `  servicedesk ticket comment 1001 --body "Reinicie, por favor" --as ana@helpdesk.example
  servicedesk ticket comment 1001 --internal --body "driver antigo"
  servicedesk ticket comment 1001 --body-file resposta.txt
  git log -1 | servicedesk ticket comment 1001 --internal --body-file -   # from standard input
  servicedesk ticket comment 1001 --body "Resolvido" --to maria@acme.com.br --cc gerente@acme.com.br`,
		PreRun: func(cmd *cobra.Command, args []string) { o.number, o.changed = args[0], cmd.Flags().Changed },
		RunE:   a.action(func(ctx context.Context, d *deps) error { return ticketComment(ctx, d, o) }),
	}
	comment.Flags().StringVar(&o.body, "body", "", "comment text")
	comment.Flags().StringVar(&o.bodyFile, "body-file", "", "read the comment text from this file (- for standard input)")
	comment.Flags().BoolVar(&o.internal, "internal", false, "internal note, never shown to the requester")
	comment.Flags().StringSliceVar(&o.to, "to", nil, "mail the reply only to these of the requester and the Cc participants (repeatable; --to '' for none of them)")
	comment.Flags().StringSliceVar(&o.cc, "cc", nil, "also mail the reply to these addresses (repeatable)")
	comment.MarkFlagsMutuallyExclusive("body", "body-file")
	return comment
}

// maxCommentFile bounds --body-file: a comment, not an attachment.
const maxCommentFile = 1 << 20

func ticketComment(ctx context.Context, d *deps, o ticketCommentOpts) error {
	n, err := ticketNumber(o.number)
	if err != nil {
		return err
	}
	if o.body == "" && o.bodyFile == "" {
		return usagef("give the comment with --body TEXT or --body-file FILE (- for standard input)")
	}
	body := o.body
	if o.bodyFile != "" {
		if body, err = readBodyFile(d.stdin, o.bodyFile); err != nil {
			return err
		}
	}
	in := ticketing.CommentInput{Body: body, Internal: o.internal, Source: store.SourceCLI}
	if o.changed != nil && (o.changed("to") || o.changed("cc")) {
		if o.internal {
			return usagef("--to and --cc pick who a public reply is mailed to; an --internal note is mailed to staff only")
		}
		in.Recipients = &ticketing.ReplyRecipients{To: nonEmpty(o.to), Cc: nonEmpty(o.cc)}
		if !o.changed("to") { // only --cc: everyone who follows, and these
			v, err := d.svc.Get(ctx, d.actor, n)
			if err != nil {
				return err
			}
			for _, u := range ticketing.ReplyCandidates(v.Ticket, v.Ticket.Requester, v.Participants) {
				in.Recipients.To = append(in.Recipients.To, u.Email)
			}
		}
	}
	if _, err := d.svc.Comment(ctx, d.actor, n, in); err != nil {
		return err
	}
	return ticketShowAs(ctx, d, d.actor, n)
}

// nonEmpty drops the blanks of a repeated flag ("--to ”" means none).
func nonEmpty(in []string) []string {
	out := []string{}
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// readBodyFile reads a comment from a file or, for "-", standard input.
func readBodyFile(stdin io.Reader, name string) (string, error) {
	r := stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return "", usagef("--body-file: %v", err)
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxCommentFile+1))
	if err != nil {
		return "", fmt.Errorf("read --body-file %s: %w", name, err)
	}
	if len(b) > maxCommentFile {
		return "", usagef("--body-file %s is over %d bytes; attach large text instead", name, maxCommentFile)
	}
	if !utf8.Valid(b) {
		return "", usagef("--body-file %s is not UTF-8 text", name)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

type ticketAssignOpts struct{ number, to string }

func (a *app) ticketAssignCommand() *cobra.Command {
	var o ticketAssignOpts
	assign := &cobra.Command{
		Use: "assign N --to EMAIL", Short: "Assign (take or transfer) a ticket", Args: cobra.ExactArgs(1),
		Example: `  servicedesk ticket assign 1001 --to ana@helpdesk.example
  servicedesk ticket assign 1001 --to ana@helpdesk.example --as ana@helpdesk.example   # take it`,
		PreRun: func(_ *cobra.Command, args []string) { o.number = args[0] },
		RunE:   a.action(func(ctx context.Context, d *deps) error { return ticketAssign(ctx, d, o) }),
	}
	assign.Flags().StringVar(&o.to, "to", "", "assignee's email (tech, supervisor or admin)")
	_ = assign.MarkFlagRequired("to")
	return assign
}

func ticketAssign(ctx context.Context, d *deps, o ticketAssignOpts) error {
	n, err := ticketNumber(o.number)
	if err != nil {
		return err
	}
	u, err := userByEmailOf(ctx, d.st, o.to)
	if err != nil {
		return err
	}
	if _, err := d.svc.Assign(ctx, d.actor, n, u); err != nil {
		return err
	}
	return ticketShowAs(ctx, d, d.actor, n)
}

type ticketStatusOpts struct {
	number, status string
	in             ticketing.StatusInput
}

func (a *app) ticketStatusCommand() *cobra.Command {
	var o ticketStatusOpts
	status := &cobra.Command{
		Use: "status N STATUS", Short: "Change status: open, pending, resolved, closed or reopened", Args: cobra.ExactArgs(2),
		Example: `  servicedesk ticket status 1001 pending
  servicedesk ticket status 1001 resolved --solution "driver reinstalado" --as ana@helpdesk.example
  servicedesk ticket status 1001 closed --reason "resolvido" --evaluation "driver antigo" --classification tecnico`,
		PreRun: func(_ *cobra.Command, args []string) { o.number, o.status = args[0], args[1] },
		RunE:   a.action(func(ctx context.Context, d *deps) error { return ticketStatus(ctx, d, o) }),
	}
	f := status.Flags()
	f.StringVar(&o.in.Solution, "solution", "", "the solution, required when resolving")
	f.StringVar(&o.in.Reason, "reason", "", "why it is closed, required when closing")
	f.StringVar(&o.in.Evaluation, "evaluation", "", "technician's evaluation (internal), required when closing")
	f.StringVar(&o.in.Classification, "classification", "", "required when closing: "+strings.Join(ticketing.Classifications, ", "))
	return status
}

func ticketStatus(ctx context.Context, d *deps, o ticketStatusOpts) error {
	n, err := ticketNumber(o.number)
	if err != nil {
		return err
	}
	if !ticketing.ValidStatus(o.status) {
		return usagef("unknown status %q (want %s)", o.status, strings.Join(ticketing.Statuses, ", "))
	}
	if _, err := d.svc.SetStatus(ctx, d.actor, n, o.status, o.in); err != nil {
		return err
	}
	return ticketShowAs(ctx, d, d.actor, n)
}

func (a *app) ticketAttachmentCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "attachment", Short: "A ticket's attached files (as the actor may see them)"}
	cmd.AddCommand(a.ticketAttachmentListCommand(), a.ticketAttachmentGetCommand())
	return cmd
}

func (a *app) ticketAttachmentListCommand() *cobra.Command {
	var o ticketNumberOpts
	return &cobra.Command{
		Use: "list N", Short: "List a ticket's attachments", Args: cobra.ExactArgs(1),
		PreRun: func(_ *cobra.Command, args []string) { o.number = args[0] },
		RunE:   a.action(func(ctx context.Context, d *deps) error { return ticketAttachmentList(ctx, d, o) }),
	}
}

func ticketAttachmentList(ctx context.Context, d *deps, o ticketNumberOpts) error {
	n, err := ticketNumber(o.number)
	if err != nil {
		return err
	}
	v, err := d.svc.Get(ctx, d.actor, n)
	if err != nil {
		return err
	}
	views := make([]attachmentJSON, 0, len(v.Attachments))
	for _, at := range v.Attachments {
		views = append(views, attachmentView(at))
	}
	return printMany(d, views, attachmentHeader, attachmentRow)
}

type ticketAttachmentGetOpts struct {
	number, id string
	out        string
}

func (a *app) ticketAttachmentGetCommand() *cobra.Command {
	var o ticketAttachmentGetOpts
	get := &cobra.Command{
		Use:   "get N [ID]",
		Short: "Write an attachment to standard output or --out FILE (ID may be left out when the ticket has one)",
		Args:  cobra.RangeArgs(1, 2),
		Example: `  servicedesk ticket attachment get 1001 --out print.png
  servicedesk ticket attachment get 1001 7 > log.txt`,
		PreRun: func(_ *cobra.Command, args []string) {
			o.number = args[0]
			if len(args) > 1 {
				o.id = args[1]
			}
		},
		RunE: a.action(func(ctx context.Context, d *deps) error { return ticketAttachmentGet(ctx, d, o) }),
	}
	get.Flags().StringVar(&o.out, "out", "", "write the file here instead of standard output (never overwrites)")
	return get
}

func ticketAttachmentGet(ctx context.Context, d *deps, o ticketAttachmentGetOpts) error {
	n, err := ticketNumber(o.number)
	if err != nil {
		return err
	}
	var id int64
	if o.id != "" {
		if id, err = parseID(o.id); err != nil {
			return err
		}
	} else {
		v, err := d.svc.Get(ctx, d.actor, n)
		if err != nil {
			return err
		}
		if len(v.Attachments) != 1 {
			return usagef("ticket #%d has %d attachments; name one by ID (see `ticket attachment list %d`)", n, len(v.Attachments), n)
		}
		id = v.Attachments[0].ID
	}
	at, data, err := d.svc.Attachment(ctx, d.actor, n, id)
	if err != nil {
		return err
	}
	if o.out == "" {
		_, err := d.stdout.Write(data)
		return err
	}
	f, err := os.OpenFile(o.out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", o.out, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", o.out, err)
	}
	return printOne(d, attachmentView(at), func(w io.Writer, v attachmentJSON) {
		fprintf(w, "%s: %d bytes written to %s\n", v.Filename, v.Size, o.out)
	})
}
