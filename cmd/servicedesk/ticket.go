package main

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

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
	Description     string        `json:"description,omitempty"`
	CreatedAt       string        `json:"created_at"`
	UpdatedAt       string        `json:"updated_at"`
	FirstResponseAt *string       `json:"first_response_at"`
	ResolvedAt      *string       `json:"resolved_at"`
	ClosedAt        *string       `json:"closed_at"`
	TechEvaluation  string        `json:"tech_evaluation,omitempty"`
	Rating          *int          `json:"rating"`
	RatingComment   string        `json:"rating_comment,omitempty"`
	ReopenCount     int           `json:"reopen_count"`
	Participants    []string      `json:"participants,omitempty"`
	Comments        []commentJSON `json:"comments,omitempty"`
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
		TechEvaluation: t.TechEvaluation, Rating: t.Rating, RatingComment: t.RatingComment, ReopenCount: t.ReopenCount}
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
	return v
}

func (a *app) printTickets(ts []*store.Ticket) error {
	if a.jsonOut() {
		out := make([]ticketJSON, 0, len(ts))
		for _, t := range ts {
			out = append(out, ticketView(t))
		}
		return a.printJSON(out)
	}
	rows := make([][]string, 0, len(ts))
	for _, t := range ts {
		v := ticketView(t)
		assignee := "-"
		if v.Assignee != nil {
			assignee = *v.Assignee
		}
		rows = append(rows, []string{"#" + strconv.FormatInt(t.Number, 10), v.Status, v.Priority, v.Company, v.Requester, assignee, v.Subject})
	}
	return a.printTable([]string{"NUMBER", "STATUS", "PRIORITY", "COMPANY", "REQUESTER", "ASSIGNEE", "SUBJECT"}, rows)
}

func (a *app) printTicket(v *ticketing.View) error {
	out := ticketView(v.Ticket)
	out.Description = v.Ticket.Description
	out.Participants = []string{}
	for _, p := range v.Participants {
		out.Participants = append(out.Participants, p.Email)
	}
	out.Comments = []commentJSON{}
	for _, c := range v.Comments {
		author := "system"
		if c.Author != nil {
			author = c.Author.Email
		}
		out.Comments = append(out.Comments, commentJSON{ID: c.ID, Author: author, Body: c.BodyText, Internal: c.Internal,
			Source: c.Source, CreatedAt: c.CreatedAt.UTC().Format(timeFormat)})
	}
	if a.jsonOut() {
		// show always includes the comments array, even when empty.
		type withComments struct {
			ticketJSON
			Comments     []commentJSON `json:"comments"`
			Participants []string      `json:"participants"`
		}
		return a.printJSON(withComments{ticketJSON: out, Comments: out.Comments, Participants: out.Participants})
	}
	w := a.stdout
	assignee := "-"
	if out.Assignee != nil {
		assignee = *out.Assignee
	}
	fprintf(w, "#%d  %s\n", out.Number, out.Subject)
	fprintf(w, "status: %s   priority: %s   source: %s\n", out.Status, out.Priority, out.Source)
	fprintf(w, "company: %s   requester: %s   assignee: %s\n", out.Company, out.Requester, assignee)
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
	return nil
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

// ticketRun opens the store, finds the acting user and runs fn.
func (a *app) ticketRun(fn func(ctx context.Context, actor *store.User, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		if _, err := a.openStore(ctx); err != nil {
			return err
		}
		actor, err := a.actor(ctx)
		if err != nil {
			return err
		}
		return fn(ctx, actor, args)
	}
}

func (a *app) ticketCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "ticket", Short: "Work tickets (as the seeded admin, or --as EMAIL under the same rules as the portal)"}
	cmd.PersistentFlags().StringVar(&a.as, "as", "", "act as this user (default: the configured admin)")

	var cr struct{ requester, subject, body, category, priority, company string }
	create := &cobra.Command{
		Use: "create", Short: "Open a ticket", Args: cobra.NoArgs,
		RunE: a.ticketRun(func(ctx context.Context, actor *store.User, _ []string) error {
			req, err := a.userByEmail(ctx, cr.requester)
			if err != nil {
				return err
			}
			in := ticketing.CreateInput{Requester: req, Subject: cr.subject, Body: cr.body, Priority: cr.priority, Source: store.SourceCLI}
			if cr.category != "" {
				if in.CategoryID, in.SubcategoryID, err = a.svc.ResolveCategory(ctx, cr.category); err != nil {
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
			t, err := a.svc.Create(ctx, actor, in)
			if err != nil {
				return err
			}
			return a.showTicket(ctx, actor, t.Number)
		}),
	}
	f := create.Flags()
	f.StringVar(&cr.requester, "requester", "", "requester's email (an existing user)")
	f.StringVar(&cr.subject, "subject", "", "subject")
	f.StringVar(&cr.body, "body", "", "description")
	f.StringVar(&cr.category, "category", "", "category or Parent/Subcategory, by name or id")
	f.StringVar(&cr.priority, "priority", "normal", "low, normal, high or urgent")
	f.StringVar(&cr.company, "company", "", "company (default: the requester's)")
	_ = create.MarkFlagRequired("requester")
	_ = create.MarkFlagRequired("subject")

	var lf struct {
		statuses         []string
		company          string
		assignee, search string
		unassigned       bool
		limit            int
	}
	list := &cobra.Command{
		Use: "list", Short: "List tickets, most recently updated first", Args: cobra.NoArgs,
		RunE: a.ticketRun(func(ctx context.Context, actor *store.User, _ []string) error {
			filter := store.TicketFilter{Unassigned: lf.unassigned, Limit: lf.limit, Search: lf.search}
			for _, s := range lf.statuses {
				for _, part := range strings.Split(s, ",") {
					part = strings.TrimSpace(part)
					if !ticketing.ValidStatus(part) {
						return usagef("unknown status %q (want new, open, pending, resolved, closed or reopened)", part)
					}
					filter.Statuses = append(filter.Statuses, part)
				}
			}
			if lf.company != "" {
				id, err := a.companyID(ctx, lf.company)
				if err != nil {
					return err
				}
				filter.CompanyID = *id
			}
			if lf.assignee != "" {
				u, err := a.userByEmail(ctx, lf.assignee)
				if err != nil {
					return err
				}
				filter.AssigneeID = u.ID
			}
			ts, err := a.svc.List(ctx, actor, filter)
			if err != nil {
				return err
			}
			return a.printTickets(ts)
		}),
	}
	lfl := list.Flags()
	lfl.StringArrayVar(&lf.statuses, "status", nil, "only these statuses (repeatable or comma-separated)")
	lfl.StringVar(&lf.company, "company", "", "only this company")
	lfl.StringVar(&lf.assignee, "assignee", "", "only tickets assigned to this email")
	lfl.BoolVar(&lf.unassigned, "unassigned", false, "only unassigned tickets")
	lfl.StringVar(&lf.search, "search", "", "subject contains")
	lfl.IntVar(&lf.limit, "limit", 50, "at most this many (1-1000)")
	list.MarkFlagsMutuallyExclusive("assignee", "unassigned")

	show := &cobra.Command{
		Use: "show N", Short: "Show a ticket with its comments", Args: cobra.ExactArgs(1),
		RunE: a.ticketRun(func(ctx context.Context, actor *store.User, args []string) error {
			n, err := ticketNumber(args[0])
			if err != nil {
				return err
			}
			return a.showTicket(ctx, actor, n)
		}),
	}

	var cm struct {
		body     string
		internal bool
	}
	comment := &cobra.Command{
		Use: "comment N --body TEXT", Short: "Add a public comment (or --internal note)", Args: cobra.ExactArgs(1),
		RunE: a.ticketRun(func(ctx context.Context, actor *store.User, args []string) error {
			n, err := ticketNumber(args[0])
			if err != nil {
				return err
			}
			if _, err := a.svc.Comment(ctx, actor, n, ticketing.CommentInput{Body: cm.body, Internal: cm.internal, Source: store.SourceCLI}); err != nil {
				return err
			}
			return a.showTicket(ctx, actor, n)
		}),
	}
	comment.Flags().StringVar(&cm.body, "body", "", "comment text")
	comment.Flags().BoolVar(&cm.internal, "internal", false, "internal note, never shown to the requester")
	_ = comment.MarkFlagRequired("body")

	var to string
	assign := &cobra.Command{
		Use: "assign N --to EMAIL", Short: "Assign (take or transfer) a ticket", Args: cobra.ExactArgs(1),
		RunE: a.ticketRun(func(ctx context.Context, actor *store.User, args []string) error {
			n, err := ticketNumber(args[0])
			if err != nil {
				return err
			}
			u, err := a.userByEmail(ctx, to)
			if err != nil {
				return err
			}
			if _, err := a.svc.Assign(ctx, actor, n, u); err != nil {
				return err
			}
			return a.showTicket(ctx, actor, n)
		}),
	}
	assign.Flags().StringVar(&to, "to", "", "assignee's email (tech, supervisor or admin)")
	_ = assign.MarkFlagRequired("to")

	var evaluation string
	status := &cobra.Command{
		Use: "status N STATUS", Short: "Change status: open, pending, resolved, closed or reopened", Args: cobra.ExactArgs(2),
		RunE: a.ticketRun(func(ctx context.Context, actor *store.User, args []string) error {
			n, err := ticketNumber(args[0])
			if err != nil {
				return err
			}
			if !ticketing.ValidStatus(args[1]) {
				return usagef("unknown status %q (want new, open, pending, resolved, closed or reopened)", args[1])
			}
			if _, err := a.svc.SetStatus(ctx, actor, n, args[1], ticketing.StatusInput{Evaluation: evaluation}); err != nil {
				return err
			}
			return a.showTicket(ctx, actor, n)
		}),
	}
	status.Flags().StringVar(&evaluation, "evaluation", "", "technician's evaluation, when closing")

	cmd.AddCommand(create, list, show, comment, assign, status)
	return cmd
}

func (a *app) showTicket(ctx context.Context, actor *store.User, n int64) error {
	v, err := a.svc.Get(ctx, actor, n)
	if err != nil {
		return err
	}
	return a.printTicket(v)
}
