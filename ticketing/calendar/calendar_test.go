package calendar

import (
	"errors"
	"testing"
	"time"
)

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func mustNew(t testing.TB, o Options) *Calendar {
	t.Helper()
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func at(loc *time.Location, s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		panic(err)
	}
	return t
}

// TestAdd checks due times. Every expectation was worked out by hand in
// its comment (2026-12-01 is a Tuesday).
func TestAdd(t *testing.T) {
	sp := mustLoc(t, "America/Sao_Paulo")
	ny := mustLoc(t, "America/New_York")
	manaus := mustLoc(t, "America/Manaus")
	office := mustNew(t, Options{Location: sp, Week: WeekdaysNineToSix(), BrazilNational: true})
	var split [7][]Span
	for d := time.Monday; d <= time.Friday; d++ {
		split[d] = []Span{{8 * time.Hour, 12 * time.Hour}, {13 * time.Hour, 17 * time.Hour}}
	}
	lunch := mustNew(t, Options{Location: sp, Week: split, BrazilNational: true})
	custom := mustNew(t, Options{Location: sp, Week: WeekdaysNineToSix(), BrazilNational: true, Holidays: []Holiday{
		{Date: Date{2000, time.January, 25}, Name: "Aniversário de São Paulo", Yearly: true},
		{Date: Date{2026, time.December, 24}, Name: "Véspera de Natal"},
	}})
	nyOffice := mustNew(t, Options{Location: ny, Week: WeekdaysNineToSix()})
	manausOffice := mustNew(t, Options{Location: manaus, Week: WeekdaysNineToSix(), BrazilNational: true})

	cases := []struct {
		name  string
		cal   *Calendar
		start time.Time
		d     time.Duration
		want  time.Time
	}{
		// Inside one day: 10:00 + 4h = 14:00.
		{"same day", office, at(sp, "2026-12-01 10:00"), 4 * time.Hour, at(sp, "2026-12-01 14:00")},
		// 16:00 + 4h: 2h to 18:00, 2h from Wed 09:00 = 11:00.
		{"overnight", office, at(sp, "2026-12-01 16:00"), 4 * time.Hour, at(sp, "2026-12-02 11:00")},
		// Opened at night: counting starts Wed 09:00, + 1h = 10:00.
		{"opened at night", office, at(sp, "2026-12-01 20:00"), time.Hour, at(sp, "2026-12-02 10:00")},
		// Opened before opening: Tue 09:00 + 1h = 10:00.
		{"opened early", office, at(sp, "2026-12-01 07:00"), time.Hour, at(sp, "2026-12-01 10:00")},
		// Fri 17:00 + 2h: 1h Friday, weekend skipped, Mon 09:00 + 1h.
		{"over the weekend", office, at(sp, "2026-12-04 17:00"), 2 * time.Hour, at(sp, "2026-12-07 10:00")},
		// Saturday counts from Monday 09:00.
		{"opened on saturday", office, at(sp, "2026-12-05 10:00"), time.Hour, at(sp, "2026-12-07 10:00")},
		// Zero duration: the next open instant, Monday 09:00.
		{"zero on sunday night", office, at(sp, "2026-12-06 23:59"), 0, at(sp, "2026-12-07 09:00")},
		// Zero duration while open: start itself.
		{"zero while open", office, at(sp, "2026-12-01 10:00"), 0, at(sp, "2026-12-01 10:00")},
		// 14:00 + 4h ends exactly at the close: due 18:00, not Wed 09:00.
		{"ends at the close", office, at(sp, "2026-12-01 14:00"), 4 * time.Hour, at(sp, "2026-12-01 18:00")},
		// Thu 24 Dec 17:00 + 2h: 1h Thu, Natal (Fri), weekend, Mon 28 10:00.
		{"natal", office, at(sp, "2026-12-24 17:00"), 2 * time.Hour, at(sp, "2026-12-28 10:00")},
		// 31 Dec is a working day in Brazil: 09:00 + 9h = 18:00.
		{"new year's eve works", office, at(sp, "2026-12-31 09:00"), 9 * time.Hour, at(sp, "2026-12-31 18:00")},
		// Thu 31 Dec 17:00 + 2h: 1h, 1 Jan holiday (Fri), weekend, Mon 4 Jan 10:00.
		{"confraternização", office, at(sp, "2026-12-31 17:00"), 2 * time.Hour, at(sp, "2027-01-04 10:00")},
		// Mon 09:00 + 27h = three full days: Wed 18:00.
		{"three days", office, at(sp, "2026-12-07 09:00"), 27 * time.Hour, at(sp, "2026-12-09 18:00")},
		// Mon 09:00 + 45h = the whole week: Fri 18:00.
		{"one week", office, at(sp, "2026-12-07 09:00"), 45 * time.Hour, at(sp, "2026-12-11 18:00")},
		// Mon 09:00 + 46h: the week, then 1h of the next Monday.
		{"a week and an hour", office, at(sp, "2026-12-07 09:00"), 46 * time.Hour, at(sp, "2026-12-14 10:00")},
		// Mon 09:00 + 90h: two full weeks, Fri 18 Dec 18:00.
		{"two weeks", office, at(sp, "2026-12-07 09:00"), 90 * time.Hour, at(sp, "2026-12-18 18:00")},
		// Mon 21 Dec + 45h: 21–24 (36h), Natal off, Mon 28 (9h) ends 18:00.
		{"week with natal", office, at(sp, "2026-12-21 09:00"), 45 * time.Hour, at(sp, "2026-12-28 18:00")},
		// Carnaval 2026 (Easter 5 Apr − 48/47 = 16/17 Feb): Fri 13 Feb 17:00 + 2h,
		// 1h Fri, weekend, Mon and Tue off, Ash Wednesday 18 Feb 10:00.
		{"carnaval", office, at(sp, "2026-02-13 17:00"), 2 * time.Hour, at(sp, "2026-02-18 10:00")},
		// Sexta-feira Santa 2026 is 3 Apr: Thu 17:00 + 2h = Mon 6 Apr 10:00.
		{"sexta-feira santa", office, at(sp, "2026-04-02 17:00"), 2 * time.Hour, at(sp, "2026-04-06 10:00")},
		// Tiradentes (Tue 21 Apr 2026): Mon 17:00 + 2h = Wed 22 10:00.
		{"tiradentes", office, at(sp, "2026-04-20 17:00"), 2 * time.Hour, at(sp, "2026-04-22 10:00")},
		// Corpus Christi 2026 (5 Apr + 60 = Thu 4 Jun): Wed 17:30 + 1h,
		// 30 min Wed, Thu off, Fri 09:30.
		{"corpus christi", office, at(sp, "2026-06-03 17:30"), time.Hour, at(sp, "2026-06-05 09:30")},
		// Consciência Negra (Fri 20 Nov 2026): Thu 18:00 is closed, Fri off,
		// Mon 23 Nov 10:00.
		{"consciência negra", office, at(sp, "2026-11-19 18:00"), time.Hour, at(sp, "2026-11-23 10:00")},
		// 20 Nov became national only in 2024: Mon 20 Nov 2023 works.
		{"20 nov 2023 works", office, at(sp, "2023-11-20 09:00"), time.Hour, at(sp, "2023-11-20 10:00")},
		// Custom yearly holiday, 25 Jan (Mon in 2027): Fri 22 Jan 17:00 + 2h
		// = 1h Fri, weekend, Mon off, Tue 26 10:00.
		{"yearly city holiday", custom, at(sp, "2027-01-22 17:00"), 2 * time.Hour, at(sp, "2027-01-26 10:00")},
		// Custom one-off holiday 24 Dec 2026 plus Natal: Wed 23 17:00 + 2h
		// = 1h Wed, Thu and Fri off, weekend, Mon 28 10:00.
		{"one-off company holiday", custom, at(sp, "2026-12-23 17:00"), 2 * time.Hour, at(sp, "2026-12-28 10:00")},
		// Lunch break: 11:00 + 2h = 1h to 12:00, 13:00 + 1h = 14:00.
		{"lunch break", lunch, at(sp, "2026-12-01 11:00"), 2 * time.Hour, at(sp, "2026-12-01 14:00")},
		// Lunch break, start during lunch: 12:30 counts from 13:00, + 1h.
		{"start at lunch", lunch, at(sp, "2026-12-01 12:30"), time.Hour, at(sp, "2026-12-01 14:00")},
		// Start given in UTC: 12:00Z is 09:00 in São Paulo; + 1h = 13:00Z.
		{"utc start", office, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC), time.Hour, time.Date(2026, 12, 1, 13, 0, 0, 0, time.UTC)},
		// Manaus is UTC−4: 12:00Z is 08:00 there, counting from 09:00 (13:00Z),
		// + 1h = 14:00Z.
		{"other zone", manausOffice, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC), time.Hour, time.Date(2026, 12, 1, 14, 0, 0, 0, time.UTC)},
		// New York spring forward (Sun 8 Mar 2026, 02:00 → 03:00), open
		// around the clock: Sat 12:00 EST + 24h of real time = Sun 13:00 EDT.
		{"dst spring forward", Always(ny), at(ny, "2026-03-07 12:00"), 24 * time.Hour, at(ny, "2026-03-08 13:00")},
		// Fall back (Sun 1 Nov 2026, 02:00 → 01:00): Sat 12:00 EDT + 24h =
		// Sun 11:00 EST (16:00Z).
		{"dst fall back", Always(ny), at(ny, "2026-10-31 12:00"), 24 * time.Hour, time.Date(2026, 11, 1, 16, 0, 0, 0, time.UTC)},
		// Business hours stay wall-clock across DST: Fri 6 Mar 17:00 EST + 2h
		// = 1h Fri, Mon 9 Mar 10:00 EDT (14:00Z).
		{"dst office hours", nyOffice, at(ny, "2026-03-06 17:00"), 2 * time.Hour, time.Date(2026, 3, 9, 14, 0, 0, 0, time.UTC)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.cal.Add(tc.start, tc.d)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(tc.want) {
				t.Errorf("Add(%s, %s) = %s, want %s", tc.start, tc.d, got, tc.want)
			}
			// Between is Add's inverse wherever the start is open.
			if tc.cal.Open(tc.start) {
				if b := tc.cal.Between(tc.start, got); b != tc.d {
					t.Errorf("Between(%s, %s) = %s, want %s", tc.start, got, b, tc.d)
				}
			}
		})
	}
}

func TestBetween(t *testing.T) {
	sp := mustLoc(t, "America/Sao_Paulo")
	office := mustNew(t, Options{Location: sp, Week: WeekdaysNineToSix(), BrazilNational: true})
	cases := []struct {
		name string
		a, b time.Time
		want time.Duration
	}{
		// 16:00–18:00 Tue, 09:00–11:00 Wed.
		{"overnight", at(sp, "2026-12-01 16:00"), at(sp, "2026-12-02 11:00"), 4 * time.Hour},
		// 17:00–18:00 Fri, 09:00–10:00 Mon.
		{"weekend", at(sp, "2026-12-04 17:00"), at(sp, "2026-12-07 10:00"), 2 * time.Hour},
		// Thu 24 Dec whole day (9h), Natal off, Mon 28 whole day (9h).
		{"natal", at(sp, "2026-12-24 09:00"), at(sp, "2026-12-28 18:00"), 18 * time.Hour},
		// Night to night within one day: nothing open before 09:00 or after 18:00.
		{"outside hours", at(sp, "2026-12-01 19:00"), at(sp, "2026-12-02 08:00"), 0},
		{"reversed", at(sp, "2026-12-02 10:00"), at(sp, "2026-12-01 10:00"), 0},
	}
	for _, tc := range cases {
		if got := office.Between(tc.a, tc.b); got != tc.want {
			t.Errorf("%s: Between = %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestOpen(t *testing.T) {
	sp := mustLoc(t, "America/Sao_Paulo")
	office := mustNew(t, Options{Location: sp, Week: WeekdaysNineToSix(), BrazilNational: true})
	for s, want := range map[string]bool{
		"2026-12-01 09:00": true,  // opening instant
		"2026-12-01 17:59": true,  // last minute
		"2026-12-01 18:00": false, // the close is exclusive
		"2026-12-05 10:00": false, // Saturday
		"2026-12-25 10:00": false, // Natal
	} {
		if got := office.Open(at(sp, s)); got != want {
			t.Errorf("Open(%s) = %v, want %v", s, got, want)
		}
	}
}

func TestEaster(t *testing.T) {
	for year, want := range map[int]Date{
		2000: {2000, time.April, 23},
		2019: {2019, time.April, 21},
		2024: {2024, time.March, 31},
		2025: {2025, time.April, 20},
		2026: {2026, time.April, 5},
		2027: {2027, time.March, 28},
		2038: {2038, time.April, 25}, // the latest possible date
		2285: {2285, time.March, 22}, // the earliest possible date
	} {
		if got := Easter(year); got != want {
			t.Errorf("Easter(%d) = %s, want %s", year, got, want)
		}
	}
}

func TestBrazilNational(t *testing.T) {
	got := BrazilNational(2026)
	want := []string{"2026-01-01", "2026-02-16", "2026-02-17", "2026-04-03", "2026-04-21", "2026-05-01", "2026-06-04",
		"2026-09-07", "2026-10-12", "2026-11-02", "2026-11-15", "2026-11-20", "2026-12-25"}
	if len(got) != len(want) {
		t.Fatalf("2026 has %d national holidays, want %d: %v", len(got), len(want), got)
	}
	for i, h := range got {
		if h.Date.String() != want[i] {
			t.Errorf("holiday %d = %s (%s), want %s", i, h.Date, h.Name, want[i])
		}
	}
	if n := len(BrazilNational(2023)); n != 12 {
		t.Errorf("2023 has %d national holidays, want 12 (20 Nov only from 2024)", n)
	}
}

func TestNewRefuses(t *testing.T) {
	if _, err := New(Options{}); !errors.Is(err, ErrNeverOpen) {
		t.Errorf("empty week: err = %v, want ErrNeverOpen", err)
	}
	var w [7][]Span
	w[time.Monday] = []Span{{9 * time.Hour, 12 * time.Hour}, {11 * time.Hour, 14 * time.Hour}}
	if _, err := New(Options{Week: w}); err == nil {
		t.Error("overlapping spans accepted")
	}
	w[time.Monday] = []Span{{12 * time.Hour, 9 * time.Hour}}
	if _, err := New(Options{Week: w}); err == nil {
		t.Error("backwards span accepted")
	}
	c := Always(time.UTC)
	if _, err := c.Add(time.Now(), -time.Hour); err == nil {
		t.Error("negative duration accepted")
	}
}

func TestParseSpan(t *testing.T) {
	for in, want := range map[string]string{"08:00-18:00": "08:00-18:00", " 9:30 - 12:00 ": "09:30-12:00", "00:00-24:00": "00:00-24:00"} {
		s, err := ParseSpan(in)
		if err != nil || s.String() != want {
			t.Errorf("ParseSpan(%q) = %v, %v; want %s", in, s, err, want)
		}
	}
	for _, in := range []string{"", "8-18", "18:00-08:00", "25:00-26:00", "09:00-24:30", "09:60-10:00"} {
		if _, err := ParseSpan(in); err == nil {
			t.Errorf("ParseSpan(%q) accepted", in)
		}
	}
}

func BenchmarkAddFiveDays(b *testing.B) {
	sp := mustLoc(b, "America/Sao_Paulo")
	office := mustNew(b, Options{Location: sp, Week: WeekdaysNineToSix(), BrazilNational: true})
	start := at(sp, "2026-12-21 15:00")
	for b.Loop() {
		if _, err := office.Add(start, 45*time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}
