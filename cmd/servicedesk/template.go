package main

import (
	"context"
	"errors"
	"os"
	"slices"

	"github.com/spf13/cobra"

	"github.com/jcservicedesk/servicedesk/mailbox/compose"
	"github.com/jcservicedesk/servicedesk/store"
)

var templateLangs = []string{"pt-BR", "en"}

type templateJSON struct {
	Event      string `json:"event"`
	Language   string `json:"language"`
	Company    string `json:"company,omitempty"`
	Overridden bool   `json:"overridden"`
	Subject    string `json:"subject,omitempty"`
	Text       string `json:"text,omitempty"`
	HTML       string `json:"html,omitempty"`
}

// templateTarget checks the event, language and company flags.
func (a *app) templateTarget(ctx context.Context, event, lang, company string) (int64, error) {
	if !slices.Contains(compose.Events(), event) {
		return 0, usagef("unknown event %q (want one of %v)", event, compose.Events())
	}
	if !slices.Contains(templateLangs, lang) {
		return 0, usagef("unknown language %q (want pt-BR or en)", lang)
	}
	id, err := a.companyID(ctx, company)
	if err != nil || id == nil {
		return 0, err
	}
	return *id, nil
}

func (a *app) templateCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "template", Short: "Mail templates: the defaults and their overrides (global or per company)"}
	var lang, company string
	list := &cobra.Command{
		Use: "list", Short: "List every event and language, and which are overridden", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			overrides, err := st.R().EmailTemplates(ctx)
			if err != nil {
				return err
			}
			names, err := a.companyNames(ctx)
			if err != nil {
				return err
			}
			var out []templateJSON
			for _, ev := range compose.Events() {
				for _, l := range templateLangs {
					out = append(out, templateJSON{Event: ev, Language: l})
					for _, o := range overrides {
						if o.Event == ev && o.Language == l {
							out = append(out, templateJSON{Event: ev, Language: l, Company: names[o.CompanyIDValue()], Overridden: true})
						}
					}
				}
			}
			if a.jsonOut() {
				return a.printJSON(out)
			}
			rows := make([][]string, 0, len(out))
			for _, t := range out {
				kind := "default"
				if t.Overridden {
					kind = "override"
					if t.Company == "" {
						t.Company = "(all companies)"
					}
				}
				rows = append(rows, []string{t.Event, t.Language, kind, t.Company})
			}
			return a.printTable([]string{"EVENT", "LANGUAGE", "TEMPLATE", "COMPANY"}, rows)
		},
	}
	show := &cobra.Command{
		Use: "show EVENT", Short: "Print the template in effect for an event", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			cid, err := a.templateTarget(ctx, args[0], lang, company)
			if err != nil {
				return err
			}
			out := templateJSON{Event: args[0], Language: lang, Company: company}
			if o, err := st.R().EmailTemplateFor(ctx, cid, args[0], lang); err != nil {
				return err
			} else if o != nil {
				out.Overridden, out.Subject, out.Text, out.HTML = true, o.Subject, o.BodyText, o.BodyHTML
			} else {
				d, _ := compose.DefaultTemplate(args[0], lang)
				out.Subject, out.Text, out.HTML = d.Subject, d.Text, d.HTML
			}
			if a.jsonOut() {
				return a.printJSON(out)
			}
			fprintf(a.stdout, "== subject\n%s\n== text\n%s\n== html\n%s\n", out.Subject, out.Text, out.HTML)
			return nil
		},
	}
	var subject, textFile, htmlFile string
	set := &cobra.Command{
		Use:   "set EVENT --subject S --text-file F --html-file F",
		Short: "Override a template; it is checked now and refused if it does not render",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			cid, err := a.templateTarget(ctx, args[0], lang, company)
			if err != nil {
				return err
			}
			def, _ := compose.DefaultTemplate(args[0], lang)
			t := compose.Template{Subject: def.Subject, Text: def.Text, HTML: def.HTML}
			if cmd.Flags().Changed("subject") {
				t.Subject = subject
			}
			for _, f := range []struct {
				path string
				dst  *string
			}{{textFile, &t.Text}, {htmlFile, &t.HTML}} {
				if f.path == "" {
					continue
				}
				b, err := os.ReadFile(f.path)
				if err != nil {
					return err
				}
				*f.dst = string(b)
			}
			if err := compose.Validate(t); err != nil {
				return err
			}
			row := &store.EmailTemplate{Event: args[0], Language: lang, Subject: t.Subject, BodyText: t.Text, BodyHTML: t.HTML}
			if cid > 0 {
				row.CompanyID = &cid
			}
			if err := st.InTx(ctx, func(q *store.Q) error {
				if err := q.SetEmailTemplate(ctx, row); err != nil {
					return err
				}
				return q.Audit(ctx, nil, cid, "email_template", row.ID, "set", nil, row)
			}); err != nil {
				return err
			}
			out := templateJSON{Event: row.Event, Language: row.Language, Company: company, Overridden: true, Subject: row.Subject}
			if a.jsonOut() {
				return a.printJSON(out)
			}
			fprintf(a.stdout, "template %s (%s) overridden\n", row.Event, row.Language)
			return nil
		},
	}
	set.Flags().StringVar(&subject, "subject", "", "subject template (text/template)")
	set.Flags().StringVar(&textFile, "text-file", "", "file with the text part (text/template)")
	set.Flags().StringVar(&htmlFile, "html-file", "", "file with the HTML part (html/template)")
	reset := &cobra.Command{
		Use: "reset EVENT", Short: "Remove an override; the default applies again", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			cid, err := a.templateTarget(ctx, args[0], lang, company)
			if err != nil {
				return err
			}
			var removed bool
			if err := st.InTx(ctx, func(q *store.Q) error {
				removed, err = q.ResetEmailTemplate(ctx, cid, args[0], lang)
				return err
			}); err != nil {
				return err
			}
			if !removed {
				return errors.New("no override for " + args[0] + " (" + lang + ")")
			}
			if a.jsonOut() {
				return a.printJSON(templateJSON{Event: args[0], Language: lang, Company: company})
			}
			fprintf(a.stdout, "template %s (%s) back to the default\n", args[0], lang)
			return nil
		},
	}
	for _, c := range []*cobra.Command{show, set, reset} {
		c.Flags().StringVar(&lang, "lang", "pt-BR", "pt-BR or en")
		c.Flags().StringVar(&company, "company", "", "company name or id (default: all companies)")
	}
	cmd.AddCommand(list, show, set, reset)
	return cmd
}
