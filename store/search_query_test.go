package store

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode"
)

func TestParseSearch(t *testing.T) {
	w := func(words ...string) SearchTerm { return SearchTerm{Words: words} }
	p := func(words ...string) SearchTerm { return SearchTerm{Words: words, Prefix: true} }
	g := func(terms ...SearchTerm) SearchGroup { return SearchGroup{Terms: terms} }
	n := func(term SearchTerm) SearchGroup { return SearchGroup{Terms: []SearchTerm{term}, Neg: true} }
	for _, c := range []struct {
		in   string
		want []SearchGroup
	}{
		{"impressora", []SearchGroup{g(p("impressora"))}},
		{"impressora ", []SearchGroup{g(p("impressora"))}},
		{"impressora laser", []SearchGroup{g(w("impressora")), g(p("laser"))}},
		{`"impressora laser"`, []SearchGroup{g(w("impressora", "laser"))}},
		{`"impressora laser`, []SearchGroup{g(w("impressora", "laser"))}}, // unclosed quote
		{"impressora -laser", []SearchGroup{g(w("impressora")), n(w("laser"))}},
		{`impressora -"papel preso"`, []SearchGroup{g(w("impressora")), n(w("papel", "preso"))}},
		{"monitor OR tela cabo", []SearchGroup{g(w("monitor"), w("tela")), g(p("cabo"))}},
		{"monitor or tela", []SearchGroup{g(w("monitor"), p("tela"))}},
		{"a OR b OR cd", []SearchGroup{g(w("a"), w("b"), p("cd"))}},
		{"OR monitor OR", []SearchGroup{g(w("monitor"))}},
		{"-senha OR monitor", []SearchGroup{n(w("senha")), g(p("monitor"))}},
		{"e-mail", []SearchGroup{g(p("e", "mail"))}},
		{"x", []SearchGroup{g(w("x"))}}, // too short to be a prefix
		{"impressão NEAR(a) *", []SearchGroup{g(w("impressão")), g(w("NEAR", "a"))}},
		{`"or"`, []SearchGroup{g(w("or"))}},
		{"joão@acme.com.br", []SearchGroup{g(p("joão", "acme", "com", "br"))}},
	} {
		got, err := ParseSearch(c.in)
		if err != nil {
			t.Errorf("ParseSearch(%q): %v", c.in, err)
			continue
		}
		if !reflect.DeepEqual(got.Groups, c.want) {
			t.Errorf("ParseSearch(%q) = %+v, want %+v", c.in, got.Groups, c.want)
		}
	}
	for _, in := range []string{"", " ", "-senha", `-"a b"`, "OR", `""`, "*&|!", strings.Repeat("a ", 17), strings.Repeat("x", 501)} {
		if _, err := ParseSearch(in); !errors.Is(err, ErrBadSearch) {
			t.Errorf("ParseSearch(%q): err = %v, want ErrBadSearch", in, err)
		}
	}
}

func TestSearchRendering(t *testing.T) {
	q, err := ParseSearch(`"papel preso" monitor OR tela -senha impres`)
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, g := range q.Positive() {
		parts = append(parts, g.fts5())
	}
	if got, want := strings.Join(parts, " | "), `"papel preso" | ("monitor" OR "tela") | "impres"*`; got != want {
		t.Errorf("fts5 = %s, want %s", got, want)
	}
	if got, want := fts5Any(q.Negative()), `"senha"`; got != want {
		t.Errorf("fts5 negative = %s", got)
	}
	sql, args := pgAny(q.Positive())
	if strings.Count(sql, "?") != len(args) || !reflect.DeepEqual(args, []any{"papel preso", "monitor", "tela", "'impres':*"}) {
		t.Errorf("pg = %s %v", sql, args)
	}
}

func TestParseSnippet(t *testing.T) {
	got := parseSnippet("A " + markStart + "Impressão" + markEnd + "\n\n falhou " + markStart + "ontem" + markEnd)
	want := []SnippetPart{{Text: "A "}, {Text: "Impressão", Match: true}, {Text: " falhou "}, {Text: "ontem", Match: true}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseSnippet = %+v", got)
	}
	// Stray markers (text that held the private-use runes) mark nothing odd.
	if got := parseSnippet(markEnd + "a" + markStart); !reflect.DeepEqual(got, []SnippetPart{{Text: "a"}}) {
		t.Errorf("stray markers: %+v", got)
	}
}

// FuzzParseSearch: any text parses or is refused with ErrBadSearch; what
// parses has at least one positive group, words of letters and digits
// only, one prefix at most (on the last term), renders to FTS5 with
// balanced quotes, and round-trips through String.
func FuzzParseSearch(f *testing.F) {
	for _, s := range []string{"impressora", `"papel preso" -toner OR`, "a OR b -c", `-"`, `""""`, "e-mail joão@x", "OR or Or",
		"ção\u0301", "\x00\xff", `NEAR("a" "b")`, "-", "a -", `"or" or-`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := ParseSearch(s)
		if err != nil {
			if !errors.Is(err, ErrBadSearch) {
				t.Fatalf("ParseSearch(%q): %v", s, err)
			}
			return
		}
		if len(q.Positive()) == 0 {
			t.Fatalf("ParseSearch(%q): no positive group", s)
		}
		prefixes := 0
		for gi, g := range q.Groups {
			if len(g.Terms) == 0 || (g.Neg && len(g.Terms) != 1) {
				t.Fatalf("ParseSearch(%q): bad group %+v", s, g)
			}
			for ti, term := range g.Terms {
				if term.Prefix {
					prefixes++
					if gi != len(q.Groups)-1 || ti != len(g.Terms)-1 || g.Neg {
						t.Fatalf("ParseSearch(%q): prefix not on the last term: %+v", s, q)
					}
				}
				for _, w := range term.Words {
					if w == "" || strings.IndexFunc(w, func(r rune) bool {
						return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r)
					}) >= 0 {
						t.Fatalf("ParseSearch(%q): word %q", s, w)
					}
				}
			}
			if fts := g.fts5(); strings.Count(fts, `"`)%2 != 0 {
				t.Fatalf("ParseSearch(%q): fts5 %s", s, fts)
			}
			if sql, args := g.pgTSQuery(); strings.Count(sql, "?") != len(args) {
				t.Fatalf("ParseSearch(%q): pg %s %v", s, sql, args)
			}
		}
		if prefixes > 1 {
			t.Fatalf("ParseSearch(%q): %d prefixes", s, prefixes)
		}
		again, err := ParseSearch(q.String())
		if err != nil || !reflect.DeepEqual(again, q) {
			t.Fatalf("ParseSearch(%q) = %+v; String %q parses to %+v, %v", s, q, q.String(), again, err)
		}
	})
}
