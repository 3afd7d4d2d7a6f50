package main

import (
	"context"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

func (a *app) slaCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "sla", Short: "SLA plans, business calendars and holidays; `sla check` records warnings and breaches (cron)"}
	plan := &cobra.Command{Use: "plan", Short: "SLA plans: targets per company, contract, category and priority"}
	plan.AddCommand(a.slaPlanAddCommand(), a.slaPlanListCommand(), a.slaPlanShowCommand(), a.slaPlanUpdateCommand(), a.slaPlanRemoveCommand())
	cal := &cobra.Command{Use: "calendar", Short: "Business calendars: weekly hours in a time zone, with holidays"}
	cal.AddCommand(a.slaCalendarAddCommand(), a.slaCalendarListCommand(), a.slaCalendarShowCommand(), a.slaCalendarUpdateCommand())
	hol := &cobra.Command{Use: "holiday", Short: "Days off of a calendar, besides the national holidays"}
	hol.AddCommand(a.slaHolidayAddCommand(), a.slaHolidayListCommand(), a.slaHolidayRemoveCommand())
	cmd.AddCommand(plan, cal, hol, a.slaCheckCommand(), a.slaPauseCommand(true), a.slaPauseCommand(false))
	return cmd
}

// planJSON is a plan as the CLI prints it, with names instead of ids.
type planJSON struct {
	ID                      int64  `json:"id"`
	Name                    string `json:"name"`
	Company                 string `json:"company"`
	Contract                *int64 `json:"contract_id"`
	Category                string `json:"category"`
	Priority                string `json:"priority"`
	FirstResponseMinutes    int    `json:"first_response_minutes"`
	ResolutionMinutes       int    `json:"resolution_minutes"`
	Calendar                string `json:"calendar"`
	Active                  bool   `json:"active"`
	WarnPercent             int    `json:"warn_percent"`
	BreachNotifySupervisors bool   `json:"breach_notify_supervisors"`
	BreachQueueID           *int64 `json:"breach_queue_id"`
}

func planView(ctx context.Context, d *deps, p *store.SLAPlan) (planJSON, error) {
	v := planJSON{ID: p.ID, Name: p.Name, Contract: p.ContractID, Priority: p.Priority, FirstResponseMinutes: p.FirstResponseMinutes,
		ResolutionMinutes: p.ResolutionMinutes, Active: p.Active, WarnPercent: p.WarnPercent,
		BreachNotifySupervisors: p.BreachNotifySupervisors, BreachQueueID: p.BreachQueueID}
	r := d.st.R()
	if p.CompanyID != nil {
		c, err := r.Company(ctx, *p.CompanyID)
		if err != nil {
			return v, err
		}
		v.Company = c.Name
	}
	if p.CategoryID != nil {
		c, err := r.Category(ctx, *p.CategoryID)
		if err != nil {
			return v, err
		}
		v.Category = c.Name
		if c.ParentID != nil {
			parent, err := r.Category(ctx, *c.ParentID)
			if err != nil {
				return v, err
			}
			v.Category = parent.Name + "/" + c.Name
		}
	}
	if p.CalendarID != nil {
		c, err := r.SLACalendar(ctx, *p.CalendarID)
		if err != nil {
			return v, err
		}
		v.Calendar = c.Name
	}
	return v, nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func minutes(m int) string {
	if m == 0 {
		return "-"
	}
	return (time.Duration(m) * time.Minute).String()
}

func printPlan(ctx context.Context, d *deps, p *store.SLAPlan) error {
	v, err := planView(ctx, d, p)
	if err != nil {
		return err
	}
	return printOne(d, v, func(w io.Writer, v planJSON) {
		fprintf(w, "plan %d %q: company %s, category %s, priority %s, first response %s, resolution %s, calendar %s, active %v\n",
			v.ID, v.Name, orDash(v.Company), orDash(v.Category), orDash(v.Priority), minutes(v.FirstResponseMinutes),
			minutes(v.ResolutionMinutes), orDash(v.Calendar), v.Active)
	})
}

// checkPlanPriority refuses an unknown --priority (exit 2); empty is any.
func checkPlanPriority(p string) error {
	if p == "" {
		return nil
	}
	return checkPriority(p)
}

// planFlags declares the flags of plan add and update into in.
func planFlags(cmd *cobra.Command, in *ticketing.SLAPlanInput, inactive *bool) {
	f := cmd.Flags()
	f.StringVar(&in.Name, "name", "", "plan name")
	f.StringVar(&in.Company, "company", "", "company name or id (default: every company)")
	f.StringVar(&in.Contract, "contract", "", "only tickets under this contract of the company (name or id)")
	f.StringVar(&in.Category, "category", "", `only this category ("Hardware" also covers its subcategories, or "Hardware/Impressora")`)
	f.StringVar(&in.Priority, "priority", "", "only this priority: low, normal, high or urgent")
	f.DurationVar(&in.FirstResponse, "first-response", 0, "first-response target in business time, e.g. 4h")
	f.DurationVar(&in.Resolution, "resolution", 0, "resolution target in business time, e.g. 24h")
	f.StringVar(&in.Calendar, "calendar", "", "business calendar (default: around the clock)")
	f.IntVar(&in.WarnPercent, "warn-percent", 80, "warn the assignee at this share of a target")
	f.BoolVar(&in.NotifySupervisors, "notify-supervisors", true, "tell supervisors of breaches")
	f.StringVar(&in.BreachQueue, "breach-queue", "", "move breached tickets to this queue")
	f.BoolVar(inactive, "inactive", false, "the plan applies to no ticket until activated")
	_ = cmd.RegisterFlagCompletionFunc("priority", cobra.FixedCompletions([]string{"low", "normal", "high", "urgent"}, cobra.ShellCompDirectiveNoFileComp))
}

func (a *app) slaPlanAddCommand() *cobra.Command {
	var in ticketing.SLAPlanInput
	var inactive bool
	cmd := &cobra.Command{
		Use: "add", Short: "Add an SLA plan", Args: cobra.NoArgs,
		PreRunE: func(*cobra.Command, []string) error { return checkPlanPriority(in.Priority) },
		Example: `  servicedesk sla calendar add --name Comercial --hours mon-fri=09:00-18:00
  servicedesk sla plan add --name "Acme urgente" --company "Acme Ltda" --priority urgent \
      --first-response 1h --resolution 8h --calendar Comercial`,
		RunE: a.action(func(ctx context.Context, d *deps) error {
			in.Active = !inactive
			p, err := d.svc.CreateSLAPlan(ctx, d.actor, in)
			if err != nil {
				return err
			}
			return printPlan(ctx, d, p)
		}),
	}
	planFlags(cmd, &in, &inactive)
	_ = cmd.MarkFlagRequired("name")
	return cmd
}

func (a *app) slaPlanListCommand() *cobra.Command {
	return &cobra.Command{
		Use: "list", Short: "List SLA plans", Args: cobra.NoArgs,
		RunE: a.action(func(ctx context.Context, d *deps) error {
			ps, err := d.st.R().SLAPlans(ctx)
			if err != nil {
				return err
			}
			out := make([]planJSON, 0, len(ps))
			for _, p := range ps {
				v, err := planView(ctx, d, p)
				if err != nil {
					return err
				}
				out = append(out, v)
			}
			return printMany(d, out, []string{"ID", "NAME", "COMPANY", "CATEGORY", "PRIORITY", "FIRST_RESPONSE", "RESOLUTION", "CALENDAR", "ACTIVE"},
				func(v planJSON) []string {
					return []string{strconv.FormatInt(v.ID, 10), v.Name, orDash(v.Company), orDash(v.Category), orDash(v.Priority),
						minutes(v.FirstResponseMinutes), minutes(v.ResolutionMinutes), orDash(v.Calendar), strconv.FormatBool(v.Active)}
				})
		}),
	}
}

func (a *app) slaPlanShowCommand() *cobra.Command {
	var ref string
	return &cobra.Command{
		Use: "show ID|NAME", Short: "Show an SLA plan", Args: cobra.ExactArgs(1),
		PreRun: func(_ *cobra.Command, args []string) { ref = args[0] },
		RunE: a.action(func(ctx context.Context, d *deps) error {
			p, err := d.st.R().SLAPlanByRef(ctx, ref)
			if err != nil {
				return err
			}
			return printPlan(ctx, d, p)
		}),
	}
}

func (a *app) slaPlanUpdateCommand() *cobra.Command {
	var upd ticketing.SLAPlanInput
	var inactive bool
	var ref string
	cmd := &cobra.Command{
		Use: "update ID|NAME", Short: "Change an SLA plan (only the flags given); tickets get it when opened or re-scoped",
		Args: cobra.ExactArgs(1),
		PreRunE: func(_ *cobra.Command, args []string) error {
			ref = args[0]
			return checkPlanPriority(upd.Priority)
		},
	}
	cmd.RunE = a.action(func(ctx context.Context, d *deps) error {
		fl := cmd.Flags()
		p, err := d.svc.UpdateSLAPlan(ctx, d.actor, ref, func(in *ticketing.SLAPlanInput) {
			set := func(name string, dst *string, v string) {
				if fl.Changed(name) {
					*dst = v
				}
			}
			set("name", &in.Name, upd.Name)
			set("company", &in.Company, upd.Company)
			set("contract", &in.Contract, upd.Contract)
			set("category", &in.Category, upd.Category)
			set("priority", &in.Priority, upd.Priority)
			set("calendar", &in.Calendar, upd.Calendar)
			set("breach-queue", &in.BreachQueue, upd.BreachQueue)
			if fl.Changed("first-response") {
				in.FirstResponse = upd.FirstResponse
			}
			if fl.Changed("resolution") {
				in.Resolution = upd.Resolution
			}
			if fl.Changed("warn-percent") {
				in.WarnPercent = upd.WarnPercent
			}
			if fl.Changed("notify-supervisors") {
				in.NotifySupervisors = upd.NotifySupervisors
			}
			if fl.Changed("inactive") {
				in.Active = !inactive
			}
		})
		if err != nil {
			return err
		}
		return printPlan(ctx, d, p)
	})
	planFlags(cmd, &upd, &inactive)
	return cmd
}

func (a *app) slaPlanRemoveCommand() *cobra.Command {
	var o destructive
	var ref string
	cmd := &cobra.Command{
		Use: "remove ID|NAME", Short: "Remove an SLA plan (its tickets keep their due times)", Args: cobra.ExactArgs(1),
		PreRun: func(_ *cobra.Command, args []string) { ref = args[0] },
		RunE: a.action(func(ctx context.Context, d *deps) error {
			if err := o.confirm(d, "Remove SLA plan "+ref); err != nil {
				return err
			}
			p, err := d.svc.RemoveSLAPlan(ctx, d.actor, ref, o.dryRun)
			if err != nil {
				return err
			}
			return printPlan(ctx, d, p)
		}),
	}
	o.flags(cmd)
	return cmd
}

// calendarJSON is a calendar as the CLI prints it.
type calendarJSON struct {
	ID             int64               `json:"id"`
	Name           string              `json:"name"`
	TimeZone       string              `json:"time_zone"`
	Hours          map[string][]string `json:"hours"`
	BrazilNational bool                `json:"brazil_national"`
	Holidays       []holidayJSON       `json:"holidays"`
}

type holidayJSON struct {
	Day    string `json:"day"`
	Name   string `json:"name"`
	Yearly bool   `json:"yearly"`
}

var weekdayNames = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// weekdayAliases reads English and Portuguese day names.
var weekdayAliases = map[string]time.Weekday{
	"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6,
	"dom": 0, "seg": 1, "ter": 2, "qua": 3, "qui": 4, "sex": 5, "sab": 6, "sáb": 6,
}

// parseHours reads --hours values such as "mon-fri=09:00-12:00,13:00-18:00"
// or "sat=09:00-13:00" into a week.
func parseHours(vals []string) (ticketing.CalendarWeek, error) {
	w := ticketing.CalendarWeek{}
	for _, v := range vals {
		days, spans, ok := strings.Cut(v, "=")
		if !ok {
			return nil, usagef("invalid --hours %q (want e.g. mon-fri=09:00-18:00)", v)
		}
		var list []time.Weekday
		for _, part := range strings.Split(strings.ToLower(days), ",") {
			from, to, isRange := strings.Cut(strings.TrimSpace(part), "-")
			a, ok1 := weekdayAliases[from]
			b, ok2 := a, true
			if isRange {
				b, ok2 = weekdayAliases[to]
			}
			if !ok1 || !ok2 {
				return nil, usagef("invalid day %q in --hours %q (want mon…sun or seg…dom)", part, v)
			}
			for d := a; ; d = (d + 1) % 7 {
				list = append(list, d)
				if d == b {
					break
				}
			}
		}
		for _, d := range list {
			w[d] = nil
			if strings.TrimSpace(spans) == "" || spans == "closed" {
				continue
			}
			w[d] = append(w[d], strings.Split(spans, ",")...)
		}
	}
	return w, nil
}

func calendarView(c *store.SLACalendar) calendarJSON {
	v := calendarJSON{ID: c.ID, Name: c.Name, TimeZone: c.TimeZone, BrazilNational: c.BrazilNational,
		Hours: map[string][]string{}, Holidays: []holidayJSON{}}
	if w, err := ticketing.ParseWeek(c.Week); err == nil {
		for d, spans := range w {
			v.Hours[weekdayNames[d]] = spans
		}
	}
	for _, h := range c.Holidays {
		v.Holidays = append(v.Holidays, holidayJSON{Day: h.Day, Name: h.Name, Yearly: h.Yearly})
	}
	return v
}

func printCalendar(d *deps, c *store.SLACalendar) error {
	return printOne(d, calendarView(c), func(w io.Writer, v calendarJSON) {
		fprintf(w, "calendar %d %q (%s), national holidays: %v\n", v.ID, v.Name, v.TimeZone, v.BrazilNational)
		for i := 1; i <= 7; i++ {
			day := weekdayNames[i%7] // Monday first
			if spans := v.Hours[day]; len(spans) > 0 {
				fprintf(w, "  %s %s\n", day, strings.Join(spans, ", "))
			}
		}
		for _, h := range v.Holidays {
			fprintf(w, "  holiday %s %s\n", h.Day, h.Name)
		}
	})
}

func calendarFlags(cmd *cobra.Command, name, tz *string, hours *[]string, noNational *bool) {
	f := cmd.Flags()
	f.StringVar(name, "name", "", "calendar name")
	f.StringVar(tz, "tz", "America/Sao_Paulo", "IANA time zone of the hours")
	f.StringArrayVar(hours, "hours", nil, `opening hours, e.g. "mon-fri=09:00-12:00,13:00-18:00" (repeatable; "sat=closed")`)
	f.BoolVar(noNational, "no-national-holidays", false, "do not close on Brazilian national holidays")
}

func (a *app) slaCalendarAddCommand() *cobra.Command {
	var name, tz string
	var hours []string
	var noNational bool
	cmd := &cobra.Command{
		Use: "add", Short: "Add a business calendar", Args: cobra.NoArgs,
		Example: `  servicedesk sla calendar add --name Comercial --hours mon-fri=08:00-12:00,13:00-18:00 --hours sat=08:00-12:00`,
		RunE: a.action(func(ctx context.Context, d *deps) error {
			w, err := parseHours(hours)
			if err != nil {
				return err
			}
			if len(hours) == 0 {
				w, _ = parseHours([]string{"mon-fri=09:00-18:00"})
			}
			c, err := d.svc.CreateCalendar(ctx, d.actor, ticketing.CalendarInput{Name: name, TimeZone: tz, Week: w, BrazilNational: !noNational})
			if err != nil {
				return err
			}
			return printCalendar(d, c)
		}),
	}
	calendarFlags(cmd, &name, &tz, &hours, &noNational)
	_ = cmd.MarkFlagRequired("name")
	return cmd
}

func (a *app) slaCalendarListCommand() *cobra.Command {
	return &cobra.Command{
		Use: "list", Short: "List business calendars", Args: cobra.NoArgs,
		RunE: a.action(func(ctx context.Context, d *deps) error {
			cs, err := d.st.R().SLACalendars(ctx)
			if err != nil {
				return err
			}
			out := make([]calendarJSON, 0, len(cs))
			for _, c := range cs {
				out = append(out, calendarView(c))
			}
			return printMany(d, out, []string{"ID", "NAME", "TIME_ZONE", "NATIONAL_HOLIDAYS", "OWN_HOLIDAYS"}, func(v calendarJSON) []string {
				return []string{strconv.FormatInt(v.ID, 10), v.Name, v.TimeZone, strconv.FormatBool(v.BrazilNational), strconv.Itoa(len(v.Holidays))}
			})
		}),
	}
}

func (a *app) slaCalendarShowCommand() *cobra.Command {
	var ref string
	return &cobra.Command{
		Use: "show ID|NAME", Short: "Show a calendar with its hours and holidays", Args: cobra.ExactArgs(1),
		PreRun: func(_ *cobra.Command, args []string) { ref = args[0] },
		RunE: a.action(func(ctx context.Context, d *deps) error {
			c, err := d.st.R().SLACalendarByRef(ctx, ref)
			if err != nil {
				return err
			}
			return printCalendar(d, c)
		}),
	}
}

func (a *app) slaCalendarUpdateCommand() *cobra.Command {
	var name, tz string
	var hours []string
	var noNational bool
	var ref string
	cmd := &cobra.Command{
		Use: "update ID|NAME", Short: "Change a calendar (only the flags given; --hours replaces the days it names)",
		Args:   cobra.ExactArgs(1),
		PreRun: func(_ *cobra.Command, args []string) { ref = args[0] },
	}
	cmd.RunE = a.action(func(ctx context.Context, d *deps) error {
		w, err := parseHours(hours)
		if err != nil {
			return err
		}
		fl := cmd.Flags()
		c, err := d.svc.UpdateCalendar(ctx, d.actor, ref, func(in *ticketing.CalendarInput) {
			if fl.Changed("name") {
				in.Name = name
			}
			if fl.Changed("tz") {
				in.TimeZone = tz
			}
			if fl.Changed("no-national-holidays") {
				in.BrazilNational = !noNational
			}
			for day, spans := range w {
				in.Week[day] = spans
			}
		})
		if err != nil {
			return err
		}
		return printCalendar(d, c)
	})
	calendarFlags(cmd, &name, &tz, &hours, &noNational)
	return cmd
}

func (a *app) slaHolidayAddCommand() *cobra.Command {
	var cal, day, name string
	var yearly bool
	cmd := &cobra.Command{
		Use: "add", Short: "Add a day off to a calendar", Args: cobra.NoArgs,
		Example: `  servicedesk sla holiday add --calendar Comercial --date 2027-01-25 --name "Aniversário de São Paulo" --yearly`,
		RunE: a.action(func(ctx context.Context, d *deps) error {
			h, err := d.svc.AddHoliday(ctx, d.actor, cal, day, name, yearly)
			if err != nil {
				return err
			}
			return printOne(d, holidayJSON{Day: h.Day, Name: h.Name, Yearly: h.Yearly}, func(w io.Writer, v holidayJSON) {
				fprintf(w, "holiday %s %s added to %s\n", v.Day, v.Name, cal)
			})
		}),
	}
	cmd.Flags().StringVar(&cal, "calendar", "", "calendar name or id")
	cmd.Flags().StringVar(&day, "date", "", "the day, YYYY-MM-DD")
	cmd.Flags().StringVar(&name, "name", "", "what it is")
	cmd.Flags().BoolVar(&yearly, "yearly", false, "every year on this month and day")
	_ = cmd.MarkFlagRequired("calendar")
	_ = cmd.MarkFlagRequired("date")
	return cmd
}

func (a *app) slaHolidayListCommand() *cobra.Command {
	var cal string
	cmd := &cobra.Command{
		Use: "list", Short: "List a calendar's own holidays", Args: cobra.NoArgs,
		RunE: a.action(func(ctx context.Context, d *deps) error {
			c, err := d.st.R().SLACalendarByRef(ctx, cal)
			if err != nil {
				return err
			}
			return printMany(d, calendarView(c).Holidays, []string{"DAY", "NAME", "YEARLY"}, func(h holidayJSON) []string {
				return []string{h.Day, h.Name, strconv.FormatBool(h.Yearly)}
			})
		}),
	}
	cmd.Flags().StringVar(&cal, "calendar", "", "calendar name or id")
	_ = cmd.MarkFlagRequired("calendar")
	return cmd
}

func (a *app) slaHolidayRemoveCommand() *cobra.Command {
	var cal, day string
	var o destructive
	cmd := &cobra.Command{
		Use: "remove", Short: "Remove a day off from a calendar", Args: cobra.NoArgs,
		RunE: a.action(func(ctx context.Context, d *deps) error {
			if err := o.confirm(d, "Remove the holiday "+day+" from "+cal); err != nil {
				return err
			}
			if err := d.svc.RemoveHoliday(ctx, d.actor, cal, day, o.dryRun); err != nil {
				return err
			}
			return printOne(d, map[string]any{"calendar": cal, "removed": day, "dry_run": o.dryRun}, func(w io.Writer, _ map[string]any) {
				fprintf(w, "holiday %s removed from %s\n", day, cal)
			})
		}),
	}
	cmd.Flags().StringVar(&cal, "calendar", "", "calendar name or id")
	cmd.Flags().StringVar(&day, "date", "", "the day, YYYY-MM-DD")
	_ = cmd.MarkFlagRequired("calendar")
	_ = cmd.MarkFlagRequired("date")
	o.flags(cmd)
	return cmd
}

func (a *app) slaCheckCommand() *cobra.Command {
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Record SLA warnings and breaches that came due, each once, and tell people (run by cron or serve)",
		Long: "Finds the tickets whose first-response or resolution target is at its warning share or past due, records each " +
			"warning and breach once (a second run, or two at once, record nothing twice) and queues the mail. " +
			"Exit 0 when it ran: breaches are data, not failures. Quiet on success unless -v, --dry-run or -o json.",
		Example: `  servicedesk sla check --dry-run
  */5 * * * *  servicedesk --config /etc/servicedesk/servicedesk.yaml sla check`,
		Args: cobra.NoArgs,
		RunE: a.action(func(ctx context.Context, d *deps) error {
			rep, err := d.svc.CheckSLA(ctx, d.actor, ticketing.SLACheckOptions{DryRun: dryRun})
			if err != nil {
				return err
			}
			if !d.json && !dryRun && !d.verbose {
				return nil
			}
			return printOne(d, rep, func(w io.Writer, r *ticketing.SLACheckReport) {
				fprintf(w, "checked %d tickets: %d warnings, %d breaches (dry run: nothing recorded)\n", r.Checked, r.Warnings, r.Breaches)
				for _, h := range r.Hits {
					fprintf(w, "  #%d %s (due %s)\n", h.Ticket, h.Kind, h.DueAt.UTC().Format(timeFormat))
				}
			})
		}),
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "report what is due and record nothing")
	return cmd
}

func (a *app) slaPauseCommand(pause bool) *cobra.Command {
	use, short := "resume TICKET", "Restart the SLA clock of a ticket"
	if pause {
		use, short = "pause TICKET", "Stop the SLA clock of a ticket (staff)"
	}
	var number int64
	cmd := &cobra.Command{
		Use: use, Short: short, Args: cobra.ExactArgs(1),
		PreRunE: func(_ *cobra.Command, args []string) (err error) {
			number, err = ticketNumber(args[0])
			return err
		},
		RunE: a.action(func(ctx context.Context, d *deps) error {
			var t *store.Ticket
			var err error
			if pause {
				t, err = d.svc.PauseSLA(ctx, d.actor, number)
			} else {
				t, err = d.svc.ResumeSLA(ctx, d.actor, number)
			}
			if err != nil {
				return err
			}
			return printOne(d, ticketView(t), func(w io.Writer, v ticketJSON) {
				fprintf(w, "#%d: SLA %s\n", v.Number, map[bool]string{true: "paused", false: "running"}[pause])
			})
		}),
	}
	return cmd
}
