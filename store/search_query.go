package store

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// ErrBadSearch: a search text with nothing to look for (empty, only
// negated words, only punctuation) or too long.
var ErrBadSearch = errors.New("store: bad search")

// Limits of one search text, so a pasted mail cannot become a query that
// takes seconds.
const (
	maxSearchRunes = 500
	maxSearchTerms = 16
	// minPrefixRunes: a one-letter prefix would match half the index.
	minPrefixRunes = 2
)

// SearchQuery is a parsed search text, websearch-style: every group must
// match somewhere in the ticket (its subject and description, a comment,
// an attachment's file name); a negated group must match nowhere in it.
// One parser serves both databases; each renders it in its own syntax.
type SearchQuery struct {
	Groups []SearchGroup
}

// SearchGroup is one or more terms joined by OR.
type SearchGroup struct {
	Terms []SearchTerm
	Neg   bool // "-word": tickets containing it are left out
}

// SearchTerm is a word, or a phrase of words in order. Words are runs of
// letters and digits, as both indexes tokenise them.
type SearchTerm struct {
	Words []string
	// Prefix: the last word also matches longer words (it is the last
	// thing typed, perhaps not finished).
	Prefix bool
}

// ParseSearch parses text: words, "quoted phrases", -word to exclude, OR
// between two terms; the last word, when not quoted, matches as a prefix.
// Anything else is text: no character has a meaning to the database.
// The text is composed first (NFC), as the indexes compose what they
// hold: "é" typed as "e" and U+0301 (macOS) is the same word.
func ParseSearch(text string) (SearchQuery, error) {
	text = norm.NFC.String(text)
	if utf8.RuneCountInString(text) > maxSearchRunes {
		return SearchQuery{}, fmt.Errorf("%w: longer than %d characters", ErrBadSearch, maxSearchRunes)
	}
	type token struct {
		words  []string
		neg    bool
		quoted bool
		or     bool
	}
	var toks []token
	rest := text
	for {
		rest = strings.TrimLeftFunc(rest, unicode.IsSpace)
		if rest == "" {
			break
		}
		neg := false
		if rest[0] == '-' {
			neg = true
			rest = rest[1:]
		}
		var raw string
		quoted := false
		if rest != "" && rest[0] == '"' {
			quoted = true
			end := strings.IndexByte(rest[1:], '"')
			if end < 0 {
				raw, rest = rest[1:], "" // an unclosed quote runs to the end
			} else {
				raw, rest = rest[1:1+end], rest[2+end:]
			}
		} else {
			end := strings.IndexFunc(rest, func(r rune) bool { return unicode.IsSpace(r) || r == '"' })
			if end < 0 {
				end = len(rest)
			}
			raw, rest = rest[:end], rest[end:]
		}
		if !neg && !quoted && strings.EqualFold(raw, "or") {
			toks = append(toks, token{or: true})
			continue
		}
		if ws := searchWords(raw); len(ws) > 0 {
			toks = append(toks, token{words: ws, neg: neg, quoted: quoted})
		}
	}
	// The prefix applies to the last token when it is a bare word typed
	// last (not a quoted phrase, not excluded).
	lastIdx := -1
	if n := len(toks); n > 0 && !toks[n-1].or && !toks[n-1].quoted && !toks[n-1].neg {
		w := toks[n-1].words
		if utf8.RuneCountInString(w[len(w)-1]) >= minPrefixRunes {
			lastIdx = n - 1
		}
	}
	var q SearchQuery
	terms := 0
	pendingOr := false
	for i, tk := range toks {
		if tk.or {
			pendingOr = true
			continue
		}
		term := SearchTerm{Words: tk.words, Prefix: i == lastIdx}
		terms++
		n := len(q.Groups)
		// OR joins two positive terms; next to an excluded one it is a word
		// too common to mean anything, and dropped.
		if pendingOr && !tk.neg && n > 0 && !q.Groups[n-1].Neg {
			q.Groups[n-1].Terms = append(q.Groups[n-1].Terms, term)
		} else {
			q.Groups = append(q.Groups, SearchGroup{Terms: []SearchTerm{term}, Neg: tk.neg})
		}
		pendingOr = false
	}
	if terms > maxSearchTerms {
		return SearchQuery{}, fmt.Errorf("%w: more than %d words", ErrBadSearch, maxSearchTerms)
	}
	if len(q.Positive()) == 0 {
		return SearchQuery{}, fmt.Errorf("%w: nothing to look for", ErrBadSearch)
	}
	return q, nil
}

// searchWords splits s into runs of letters and digits (marks stay with
// their letter: a decomposed "ã" is one word with its base).
func searchWords(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r)
	})
}

// Positive is the groups that must match.
func (q SearchQuery) Positive() []SearchGroup { return q.groups(false) }

// Negative is the groups that must not match.
func (q SearchQuery) Negative() []SearchGroup { return q.groups(true) }

func (q SearchQuery) groups(neg bool) []SearchGroup {
	var out []SearchGroup
	for _, g := range q.Groups {
		if g.Neg == neg {
			out = append(out, g)
		}
	}
	return out
}

// String renders q back in the syntax ParseSearch reads; parsing the
// result gives q again.
func (q SearchQuery) String() string {
	var b strings.Builder
	for i, g := range q.Groups {
		if i > 0 {
			b.WriteByte(' ')
		}
		if g.Neg {
			b.WriteByte('-')
		}
		for j, t := range g.Terms {
			if j > 0 {
				b.WriteString(" OR ")
			}
			switch {
			case t.Prefix:
				w := strings.Join(t.Words, "-")
				if strings.EqualFold(w, "or") {
					w += "-" // the word, not the operator
				}
				b.WriteString(w)
			default:
				b.WriteString(`"` + strings.Join(t.Words, " ") + `"`)
			}
		}
	}
	return b.String()
}

// fts5 renders a group for SQLite's FTS5 MATCH: every term a quoted
// string (so no character is FTS5 syntax), prefixes starred.
func (g SearchGroup) fts5() string {
	parts := make([]string, len(g.Terms))
	for i, t := range g.Terms {
		s := `"` + strings.ReplaceAll(strings.Join(t.Words, " "), `"`, `""`) + `"`
		if t.Prefix {
			s += "*"
		}
		parts[i] = s
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return "(" + strings.Join(parts, " OR ") + ")"
}

// fts5Any is an FTS5 expression matching any of groups' terms: the units
// worth ranking and quoting once the ticket qualifies.
func fts5Any(groups []SearchGroup) string {
	parts := make([]string, len(groups))
	for i, g := range groups {
		parts[i] = g.fts5()
	}
	return strings.Join(parts, " OR ")
}

// pgTSQuery renders a group as a PostgreSQL tsquery expression with its
// arguments (bun placeholders). Each word goes through the sd_portuguese
// configuration, as the documents did: accents folded, stemmed, stop
// words dropped. Words hold only letters and digits, so quoting them in
// to_tsquery's syntax is safe; they are still bound, never spliced.
func (g SearchGroup) pgTSQuery() (string, []any) {
	var parts []string
	var args []any
	for _, t := range g.Terms {
		switch {
		case t.Prefix && len(t.Words) == 1:
			parts = append(parts, "to_tsquery('sd_portuguese', ?)")
			args = append(args, pgPrefix(t.Words[0]))
		case t.Prefix:
			parts = append(parts, "tsquery_phrase(phraseto_tsquery('sd_portuguese', ?), to_tsquery('sd_portuguese', ?))")
			args = append(args, strings.Join(t.Words[:len(t.Words)-1], " "), pgPrefix(t.Words[len(t.Words)-1]))
		case len(t.Words) == 1:
			parts = append(parts, "plainto_tsquery('sd_portuguese', ?)")
			args = append(args, t.Words[0])
		default:
			parts = append(parts, "phraseto_tsquery('sd_portuguese', ?)")
			args = append(args, strings.Join(t.Words, " "))
		}
	}
	return "(" + strings.Join(parts, " || ") + ")", args
}

func pgPrefix(w string) string { return "'" + strings.ReplaceAll(w, "'", "''") + "':*" }

// pgAny is a tsquery expression matching any of groups' terms.
func pgAny(groups []SearchGroup) (string, []any) {
	var parts []string
	var args []any
	for _, g := range groups {
		s, a := g.pgTSQuery()
		parts = append(parts, s)
		args = append(args, a...)
	}
	return "(" + strings.Join(parts, " || ") + ")", args
}
