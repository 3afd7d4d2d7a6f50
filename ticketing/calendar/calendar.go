// Package calendar does business-time arithmetic for SLA targets: a
// week of opening hours in a time zone of its own, and holidays (the
// Brazilian national ones, movable feasts included, plus custom ones per
// calendar). It knows nothing of tickets or the database.
package calendar

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Span is one opening period of a day, as wall-clock offsets from
// midnight: 8h to 18h is {8 * time.Hour, 18 * time.Hour}. End may be 24h.
type Span struct {
	Start, End time.Duration
}

// Date is a civil date, without a time zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// ParseDate reads "2026-12-25".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse("2006-01-02", strings.TrimSpace(s))
	if err != nil {
		return Date{}, fmt.Errorf("calendar: invalid date %q (want YYYY-MM-DD)", s)
	}
	return DateOf(t), nil
}

// DateOf is the civil date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// Holiday is a day without business hours. Yearly holidays repeat on the
// same month and day every year (a state or city holiday); others happen
// once.
type Holiday struct {
	Date   Date
	Name   string
	Yearly bool
}

// Calendar is a business calendar. Build it with New; it is immutable and
// safe for concurrent use.
type Calendar struct {
	loc      *time.Location
	week     [7][]Span // by time.Weekday
	national bool      // Brazilian national holidays apply
	once     map[Date]string
	yearly   map[[2]int]string // month, day
}

// Options describe a calendar.
type Options struct {
	Location *time.Location // default America/Sao_Paulo
	// Week holds the opening spans per weekday (index time.Sunday…
	// time.Saturday). Spans of one day must not overlap.
	Week [7][]Span
	// BrazilNational adds the national holidays, movable feasts included.
	BrazilNational bool
	Holidays       []Holiday
}

// ErrNeverOpen is returned when a calendar has no business hours at all.
var ErrNeverOpen = errors.New("calendar: no business hours in the week")

// New checks o and returns its calendar.
func New(o Options) (*Calendar, error) {
	c := &Calendar{loc: o.Location, national: o.BrazilNational, once: map[Date]string{}, yearly: map[[2]int]string{}}
	if c.loc == nil {
		loc, err := time.LoadLocation("America/Sao_Paulo")
		if err != nil {
			return nil, fmt.Errorf("calendar: %w", err)
		}
		c.loc = loc
	}
	open := false
	for wd, spans := range o.Week {
		s := slices.Clone(spans)
		sort.Slice(s, func(i, j int) bool { return s[i].Start < s[j].Start })
		for i, sp := range s {
			if sp.Start < 0 || sp.End > 24*time.Hour || sp.Start >= sp.End {
				return nil, fmt.Errorf("calendar: %s: invalid span %s–%s", time.Weekday(wd), fmtClock(sp.Start), fmtClock(sp.End))
			}
			if i > 0 && sp.Start < s[i-1].End {
				return nil, fmt.Errorf("calendar: %s: spans %s–%s and %s–%s overlap", time.Weekday(wd),
					fmtClock(s[i-1].Start), fmtClock(s[i-1].End), fmtClock(sp.Start), fmtClock(sp.End))
			}
		}
		c.week[wd] = s
		open = open || len(s) > 0
	}
	if !open {
		return nil, ErrNeverOpen
	}
	for _, h := range o.Holidays {
		if h.Yearly {
			c.yearly[[2]int{int(h.Date.Month), h.Date.Day}] = h.Name
		} else {
			c.once[h.Date] = h.Name
		}
	}
	return c, nil
}

// Always is a calendar open around the clock every day (a plan without
// business hours: calendar minutes, as the old app counted).
func Always(loc *time.Location) *Calendar {
	var o Options
	o.Location = loc
	for i := range o.Week {
		o.Week[i] = []Span{{0, 24 * time.Hour}}
	}
	c, _ := New(o)
	return c
}

// WeekdaysNineToSix is the common default: Monday to Friday, 9h–18h.
func WeekdaysNineToSix() [7][]Span {
	var w [7][]Span
	for d := time.Monday; d <= time.Friday; d++ {
		w[d] = []Span{{9 * time.Hour, 18 * time.Hour}}
	}
	return w
}

// Location is the calendar's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// Holiday reports whether d is a holiday of this calendar, and its name.
func (c *Calendar) Holiday(d Date) (string, bool) {
	if n, ok := c.once[d]; ok {
		return n, true
	}
	if n, ok := c.yearly[[2]int{int(d.Month), d.Day}]; ok {
		return n, true
	}
	if c.national {
		if n, ok := brazilNational(d); ok {
			return n, true
		}
	}
	return "", false
}

// maxDays bounds every walk over the calendar: a calendar whose holidays
// cover every open day for this long is treated as never open.
const maxDays = 366 * 20

// spans returns the open periods of day d as instants, in order. Wall
// times are resolved in the calendar's zone, so a day with a DST change
// has its spans at the right instants (and 0h–24h lasts 23 or 25 hours).
func (c *Calendar) spans(d Date) [][2]time.Time {
	if _, ok := c.Holiday(d); ok {
		return nil
	}
	day := time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, c.loc)
	var out [][2]time.Time
	for _, sp := range c.week[day.Weekday()] {
		out = append(out, [2]time.Time{c.wall(d, sp.Start), c.wall(d, sp.End)})
	}
	return out
}

// wall is the instant of offset off after midnight on d, in wall-clock
// terms (24h is the next midnight).
func (c *Calendar) wall(d Date, off time.Duration) time.Time {
	h, m, s := int(off/time.Hour), int(off%time.Hour/time.Minute), int(off%time.Minute/time.Second)
	return time.Date(d.Year, d.Month, d.Day, h, m, s, 0, c.loc)
}

func next(d Date) Date {
	return DateOf(time.Date(d.Year, d.Month, d.Day+1, 12, 0, 0, 0, time.UTC))
}

// Add returns the instant at which d of business time has passed since
// start. Time before the first opening counts from that opening; a zero d
// gives the next open instant (start itself while open). The result is in
// the calendar's zone.
func (c *Calendar) Add(start time.Time, d time.Duration) (time.Time, error) {
	if d < 0 {
		return time.Time{}, fmt.Errorf("calendar: negative duration %s", d)
	}
	start = start.In(c.loc)
	day := DateOf(start)
	for range maxDays {
		for _, sp := range c.spans(day) {
			from, to := sp[0], sp[1]
			if !to.After(start) {
				continue
			}
			if from.Before(start) {
				from = start
			}
			// A target that ends exactly at a closing is due then, not
			// at the next opening.
			if avail := to.Sub(from); d <= avail {
				return from.Add(d), nil
			} else {
				d -= avail
			}
		}
		day = next(day)
	}
	return time.Time{}, ErrNeverOpen
}

// Between is the business time from a to b (zero when b is not after a).
func (c *Calendar) Between(a, b time.Time) time.Duration {
	if !b.After(a) {
		return 0
	}
	a, b = a.In(c.loc), b.In(c.loc)
	var total time.Duration
	last := DateOf(b)
	for day, i := DateOf(a), 0; i < maxDays; day, i = next(day), i+1 {
		for _, sp := range c.spans(day) {
			from, to := sp[0], sp[1]
			if from.Before(a) {
				from = a
			}
			if to.After(b) {
				to = b
			}
			if to.After(from) {
				total += to.Sub(from)
			}
		}
		if day == last {
			break
		}
	}
	return total
}

// Open reports whether t falls in business hours.
func (c *Calendar) Open(t time.Time) bool {
	t = t.In(c.loc)
	for _, sp := range c.spans(DateOf(t)) {
		if !t.Before(sp[0]) && t.Before(sp[1]) {
			return true
		}
	}
	return false
}

func fmtClock(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// ParseSpan reads "08:00-18:00" (24:00 allowed as an end).
func ParseSpan(s string) (Span, error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return Span{}, fmt.Errorf("calendar: invalid hours %q (want HH:MM-HH:MM)", s)
	}
	start, err1 := parseClock(a)
	end, err2 := parseClock(b)
	if err1 != nil || err2 != nil || start >= end {
		return Span{}, fmt.Errorf("calendar: invalid hours %q (want HH:MM-HH:MM, start before end)", s)
	}
	return Span{start, end}, nil
}

func parseClock(s string) (time.Duration, error) {
	var h, m int
	if _, err := fmt.Sscanf(strings.TrimSpace(s), "%d:%d", &h, &m); err != nil {
		return 0, err
	}
	if h < 0 || h > 24 || m < 0 || m > 59 || (h == 24 && m != 0) {
		return 0, errors.New("out of range")
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, nil
}

// String is "08:00-18:00".
func (s Span) String() string { return fmtClock(s.Start) + "-" + fmtClock(s.End) }
