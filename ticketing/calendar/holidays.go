package calendar

import "time"

// Easter is the date of Easter Sunday in the Gregorian calendar
// (the anonymous "Meeus/Jones/Butcher" algorithm).
func Easter(year int) Date {
	a := year % 19
	b, c := year/100, year%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return Date{year, time.Month(month), day}
}

func addDays(d Date, n int) Date {
	return DateOf(time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC))
}

// fixedNational are the Brazilian national holidays on fixed dates (Lei
// 662/1949, 6.802/1980 for 12 October, 14.759/2023 for 20 November).
var fixedNational = map[[2]int]string{
	{1, 1}:   "Confraternização Universal",
	{4, 21}:  "Tiradentes",
	{5, 1}:   "Dia do Trabalho",
	{9, 7}:   "Independência do Brasil",
	{10, 12}: "Nossa Senhora Aparecida",
	{11, 2}:  "Finados",
	{11, 15}: "Proclamação da República",
	{11, 20}: "Dia Nacional de Zumbi e da Consciência Negra",
	{12, 25}: "Natal",
}

// brazilNational reports the national holiday on d, movable feasts
// included: Carnaval (Monday and Tuesday, 48 and 47 days before Easter),
// Sexta-feira Santa (2 days before) and Corpus Christi (60 days after).
// Carnaval and Corpus Christi are "pontos facultativos" by law, but
// businesses close on them, so a helpdesk calendar does too.
func brazilNational(d Date) (string, bool) {
	if d.Month == time.November && d.Day == 20 && d.Year < 2024 {
		return "", false // national only from 2024
	}
	if n, ok := fixedNational[[2]int{int(d.Month), d.Day}]; ok {
		return n, true
	}
	e := Easter(d.Year)
	switch d {
	case addDays(e, -48):
		return "Carnaval (segunda-feira)", true
	case addDays(e, -47):
		return "Carnaval (terça-feira)", true
	case addDays(e, -2):
		return "Sexta-feira Santa", true
	case addDays(e, 60):
		return "Corpus Christi", true
	}
	return "", false
}

// BrazilNational lists the national holidays of year, in date order.
func BrazilNational(year int) []Holiday {
	var out []Holiday
	for d := (Date{year, time.January, 1}); d.Year == year; d = next(d) {
		if n, ok := brazilNational(d); ok {
			out = append(out, Holiday{Date: d, Name: n})
		}
	}
	return out
}
