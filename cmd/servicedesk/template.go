package main

import (
	"context"
	"io"
	"os"
	"slices"

	"github.com/spf13/cobra"

	"github.com/jcservicedesk/servicedesk/mailbox/compose"
	"github.com/jcservicedesk/servicedesk/ticketing"
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

// templateTarget is the event, language and company flags of a template
// command.
type templateTarget struct {
	event, lang, company string
}

func (o *templateTarget) flags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.lang, "lang", "pt-BR", "pt-BR or en")
	cmd.Flags().StringVar(&o.company, "company", "", "company name or id (default: all companies)")
}

// check refuses an unknown event or language (exit 2, nothing opened).
func (o *templateTarget) check(_ *cobra.Command, args []string) error {
	o.event = args[0]
	if !slices.Contains(compose.Events(), o.event) {
		return usagef("unknown event %q (want one of %v)", o.event, compose.Events())
	}
	if !slices.Contains(templateLangs, o.lang) {
		return usagef("unknown language %q (want pt-BR or en)", o.lang)
	}
	return nil
}

// companyID resolves --company (0: all companies).
func (a *app) templateCompany(ctx context.Context, company string) (int64, error) {
	id, err := a.companyID(ctx, company)
	if err != nil || id == nil {
		return 0, err
	}
	return *id, nil
}

func (a *app) templateCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "template", Short: "Mail templates: the defaults and their overrides (global or per company)"}
	cmd.AddCommand(a.templateListCommand(), a.templateShowCommand(), a.templateSetCommand(), a.templateResetCommand())
	return cmd
}

func (a *app) templateListCommand() *cobra.Command {
	return &cobra.Command{
		Use: "list", Short: "List every event and language, and which are overridden", Args: cobra.NoArgs,
		RunE: a.action(func(ctx context.Context, d *deps) error { return a.templateList(ctx, d) }),
	}
}

func (a *app) templateList(ctx context.Context, d *deps) error {
	overrides, err := d.st.R().EmailTemplates(ctx)
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
	return printMany(d, out, []string{"EVENT", "LANGUAGE", "TEMPLATE", "COMPANY"}, func(t templateJSON) []string {
		kind := "default"
		if t.Overridden {
			kind = "override"
			if t.Company == "" {
				t.Company = "(all companies)"
			}
		}
		return []string{t.Event, t.Language, kind, t.Company}
	})
}

func (a *app) templateShowCommand() *cobra.Command {
	var o templateTarget
	cmd := &cobra.Command{
		Use: "show EVENT", Short: "Print the template in effect for an event", Args: cobra.ExactArgs(1),
		PreRunE: o.check,
		RunE:    a.action(func(ctx context.Context, d *deps) error { return a.templateShow(ctx, d, o) }),
	}
	o.flags(cmd)
	return cmd
}

func (a *app) templateShow(ctx context.Context, d *deps, o templateTarget) error {
	cid, err := a.templateCompany(ctx, o.company)
	if err != nil {
		return err
	}
	out := templateJSON{Event: o.event, Language: o.lang, Company: o.company}
	if t, err := d.st.R().EmailTemplateFor(ctx, cid, o.event, o.lang); err != nil {
		return err
	} else if t != nil {
		out.Overridden, out.Subject, out.Text, out.HTML = true, t.Subject, t.BodyText, t.BodyHTML
	} else {
		def, ok := compose.DefaultTemplate(o.event, o.lang)
		if !ok {
			return usagef("no default template for %s (%s)", o.event, o.lang)
		}
		out.Subject, out.Text, out.HTML = def.Subject, def.Text, def.HTML
	}
	return printOne(d, out, func(w io.Writer, t templateJSON) {
		fprintf(w, "== subject\n%s\n== text\n%s\n== html\n%s\n", t.Subject, t.Text, t.HTML)
	})
}

type templateSetOpts struct {
	templateTarget
	subject, textFile, htmlFile string
	subjectSet                  bool
}

func (a *app) templateSetCommand() *cobra.Command {
	var o templateSetOpts
	cmd := &cobra.Command{
		Use:   "set EVENT --subject S --text-file F --html-file F",
		Short: "Override a template; it is checked now and refused if it does not render",
		Args:  cobra.ExactArgs(1),
		PreRunE: func(cmd *cobra.Command, args []string) error {
			o.subjectSet = cmd.Flags().Changed("subject")
			return o.check(cmd, args)
		},
		RunE: a.action(func(ctx context.Context, d *deps) error { return a.templateSet(ctx, d, o) }),
	}
	cmd.Flags().StringVar(&o.subject, "subject", "", "subject template (text/template)")
	cmd.Flags().StringVar(&o.textFile, "text-file", "", "file with the text part (text/template)")
	cmd.Flags().StringVar(&o.htmlFile, "html-file", "", "file with the HTML part (html/template)")
	o.flags(cmd)
	return cmd
}

func (a *app) templateSet(ctx context.Context, d *deps, o templateSetOpts) error {
	cid, err := a.templateCompany(ctx, o.company)
	if err != nil {
		return err
	}
	def, _ := compose.DefaultTemplate(o.event, o.lang)
	in := ticketing.TemplateInput{CompanyID: cid, Event: o.event, Language: o.lang, Subject: def.Subject, Text: def.Text, HTML: def.HTML}
	if o.subjectSet {
		in.Subject = o.subject
	}
	for _, f := range []struct {
		path string
		dst  *string
	}{{o.textFile, &in.Text}, {o.htmlFile, &in.HTML}} {
		if f.path == "" {
			continue
		}
		b, err := os.ReadFile(f.path)
		if err != nil {
			return usagef("template file: %v", err)
		}
		*f.dst = string(b)
	}
	row, err := d.svc.SetTemplate(ctx, d.actor, in)
	if err != nil {
		return err
	}
	out := templateJSON{Event: row.Event, Language: row.Language, Company: o.company, Overridden: true, Subject: row.Subject}
	return printOne(d, out, func(w io.Writer, t templateJSON) {
		fprintf(w, "template %s (%s) overridden\n", t.Event, t.Language)
	})
}

type templateResetOpts struct {
	templateTarget
	destructive
}

func (a *app) templateResetCommand() *cobra.Command {
	var o templateResetOpts
	cmd := &cobra.Command{
		Use: "reset EVENT", Short: "Remove an override; the default applies again", Args: cobra.ExactArgs(1),
		PreRunE: o.check,
		RunE:    a.action(func(ctx context.Context, d *deps) error { return a.templateReset(ctx, d, o) }),
	}
	o.templateTarget.flags(cmd)
	o.destructive.flags(cmd)
	return cmd
}

func (a *app) templateReset(ctx context.Context, d *deps, o templateResetOpts) error {
	cid, err := a.templateCompany(ctx, o.company)
	if err != nil {
		return err
	}
	if err := o.confirm(d, "Remove the override of "+o.event+" ("+o.lang+")"); err != nil {
		return err
	}
	if err := d.svc.ResetTemplate(ctx, d.actor, cid, o.event, o.lang, o.dryRun); err != nil {
		return err
	}
	out := templateJSON{Event: o.event, Language: o.lang, Company: o.company}
	return printOne(d, out, func(w io.Writer, t templateJSON) {
		if o.dryRun {
			fprintf(w, "template %s (%s) would go back to the default (dry run; nothing changed)\n", t.Event, t.Language)
			return
		}
		fprintf(w, "template %s (%s) back to the default\n", t.Event, t.Language)
	})
}
