package store

import (
	"context"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"golang.org/x/text/unicode/norm"
)

// Snippets are quoted in Go on both databases. SQLite's snippet() runs
// the MATCH again over the whole index (a prefix term merges every
// matching doclist again) to quote 25 rows; PostgreSQL's ts_headline
// parses the raw text with its own token kinds, so a word inside a host
// name or a path ("www.impressão.com.br", "/dados/impressão/") is found
// (the index splits punctuation) but not marked, and it drops text at the
// edges of its fragment. Quoting in Go reads only those rows' text by
// primary key; the words are split as the unicode61 tokenizer does, and
// a word is marked when it matches as the index matched it: folded as
// unicode61 with remove_diacritics 2 folds on SQLite, and as PostgreSQL
// itself answers for each word (accents folded by unaccent, Portuguese
// stems, prefixes) there.

// snippetTokens is how many words a quote holds, as snippet(…, 24).
const snippetTokens = 24

// wordMatch says whether a token of a text matches word of a term (the
// last word of a prefix term when prefix).
type wordMatch func(tok snipToken, word string, prefix bool) bool

// foldedMatch is SQLite's match: the folded token equals the folded
// word, or starts it for a prefix.
func foldedMatch(tok snipToken, word string, prefix bool) bool {
	return tok.folded == word || (prefix && strings.HasPrefix(tok.folded, word))
}

// quoteSnippets quotes the best unit of each hit, the matched words
// between the markers, from the text the unit indexes.
func (q *Q) quoteSnippets(ctx context.Context, sq SearchQuery, rows []searchRow) (map[int64]string, error) {
	byKind := map[int64][]int64{}
	for _, r := range rows {
		kind, id := r.source(q.pg)
		byKind[kind] = append(byKind[kind], id)
	}
	texts := map[[2]int64]string{}
	for kind, ids := range byKind {
		var stmt string
		switch kind {
		case unitTicket:
			stmt = "SELECT id, subject || ? || description AS text FROM tickets WHERE id IN (?)"
		case unitComment:
			stmt = "SELECT id, body_text AS text FROM ticket_comments WHERE id IN (?)"
		default:
			stmt = "SELECT id, filename AS text FROM attachments WHERE id IN (?)"
		}
		args := []any{bun.In(ids)}
		if kind == unitTicket {
			args = []any{"\n", bun.In(ids)}
		}
		var out []struct {
			ID   int64  `bun:"id"`
			Text string `bun:"text"`
		}
		if err := q.db.NewRaw(stmt, args...).Scan(ctx, &out); err != nil {
			return nil, fmt.Errorf("store: search snippets: %w", err)
		}
		for _, o := range out {
			texts[[2]int64{kind, o.ID}] = o.Text
		}
	}
	terms := snippetTerms(sq)
	match := wordMatch(foldedMatch)
	if q.pg {
		var err error
		if match, err = q.pgWordMatch(ctx, terms, texts); err != nil {
			return nil, err
		}
	}
	m := make(map[int64]string, len(rows))
	for _, r := range rows {
		kind, id := r.source(q.pg)
		m[r.Unit] = snipQuote(texts[[2]int64{kind, id}], terms, match)
	}
	return m, nil
}

// pgWordMatch asks PostgreSQL, in one query, which words of the texts
// match which words of the terms under the index's configuration, and
// answers from that.
func (q *Q) pgWordMatch(ctx context.Context, terms []snippetTerm, texts map[[2]int64]string) (wordMatch, error) {
	// A term word as a tsquery: bound, never spliced; quoted, so no
	// character of it is tsquery syntax.
	src := func(word string, prefix bool) string {
		s := "'" + strings.ReplaceAll(word, "'", "''") + "'"
		if prefix {
			s += ":*"
		}
		return s
	}
	var srcs []string
	seen := map[string]bool{}
	for _, t := range terms {
		for i, w := range t.words {
			if s := src(w, t.prefix && i == len(t.words)-1); !seen[s] {
				seen[s] = true
				srcs = append(srcs, s)
			}
		}
	}
	var toks []string
	seenTok := map[string]bool{}
	for _, text := range texts {
		for _, tk := range snipTokenize(text) {
			if !seenTok[tk.text] {
				seenTok[tk.text] = true
				toks = append(toks, tk.text)
			}
		}
	}
	matched := map[[2]string]bool{}
	if len(srcs) > 0 && len(toks) > 0 {
		var out []struct {
			Tok string `bun:"tok"`
			Src string `bun:"src"`
		}
		err := q.db.NewRaw(`SELECT w.tok, t.src FROM unnest(CAST(? AS text[])) AS w(tok) CROSS JOIN unnest(CAST(? AS text[])) AS t(src)
			WHERE to_tsvector('sd_portuguese', w.tok) @@ to_tsquery('sd_portuguese', t.src)`,
			pgdialect.Array(toks), pgdialect.Array(srcs)).Scan(ctx, &out)
		if err != nil {
			return nil, fmt.Errorf("store: search snippet words: %w", err)
		}
		for _, o := range out {
			matched[[2]string{o.Tok, o.Src}] = true
		}
	}
	return func(tok snipToken, word string, prefix bool) bool {
		return matched[[2]string{tok.text, src(word, prefix)}]
	}, nil
}

// snippetTerm is a positive term's folded words.
type snippetTerm struct {
	words  []string
	prefix bool
}

func snippetTerms(sq SearchQuery) []snippetTerm {
	var ts []snippetTerm
	for _, g := range sq.Positive() {
		for _, t := range g.Terms {
			st := snippetTerm{prefix: t.Prefix}
			for _, w := range t.Words {
				st.words = append(st.words, foldWord(w))
			}
			ts = append(ts, st)
		}
	}
	return ts
}

// foldWord lower-cases w and drops its diacritics (ã → a, ç → c).
func foldWord(w string) string {
	ascii := true
	for i := 0; i < len(w) && ascii; i++ {
		ascii = w[i] < utf8.RuneSelf
	}
	if ascii {
		return strings.ToLower(w) // most words: nothing to decompose
	}
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.ToLower(w)) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

type snipToken struct {
	start, end int    // byte offsets in the text
	text       string // as written
	folded     string
}

// snipTokenize splits text into unicode61's tokens: runs of letters, digits
// and marks.
func snipTokenize(text string) []snipToken {
	var toks []snipToken
	start := -1
	for i, r := range text {
		word := unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
		if word && start < 0 {
			start = i
		} else if !word && start >= 0 {
			toks = append(toks, snipToken{start: start, end: i, text: text[start:i], folded: foldWord(text[start:i])})
			start = -1
		}
	}
	if start >= 0 {
		toks = append(toks, snipToken{start: start, end: len(text), text: text[start:], folded: foldWord(text[start:])})
	}
	return toks
}

// snipQuote is the snippet of text: up to snippetTokens words from a little
// before the first match, the matched words between the markers, "…"
// where text was cut.
func snipQuote(text string, terms []snippetTerm, match wordMatch) string {
	toks := snipTokenize(text)
	if len(toks) == 0 {
		return ""
	}
	matched := make([]bool, len(toks))
	first := -1
	for i := range toks {
		for _, t := range terms {
			if n := matchAt(toks, i, t, match); n > 0 {
				for j := i; j < i+n; j++ {
					matched[j] = true
				}
				if first < 0 {
					first = i
				}
			}
		}
	}
	from := 0
	if first > 3 {
		from = first - 3
	}
	to := min(len(toks), from+snippetTokens)
	if to-from < snippetTokens {
		from = max(0, to-snippetTokens)
	}
	var b strings.Builder
	if from > 0 {
		b.WriteString("…")
	}
	pos := toks[from].start
	if from == 0 {
		pos = 0
	}
	for i := from; i < to; i++ {
		tk := toks[i]
		b.WriteString(text[pos:tk.start])
		if matched[i] {
			b.WriteString(markStart + text[tk.start:tk.end] + markEnd)
		} else {
			b.WriteString(text[tk.start:tk.end])
		}
		pos = tk.end
	}
	if to < len(toks) {
		b.WriteString("…")
	} else {
		b.WriteString(text[pos:])
	}
	return b.String()
}

// matchAt is how many tokens from i term t matches (0: none).
func matchAt(toks []snipToken, i int, t snippetTerm, match wordMatch) int {
	if len(t.words) == 0 || i+len(t.words) > len(toks) {
		return 0
	}
	for j, w := range t.words {
		if !match(toks[i+j], w, t.prefix && j == len(t.words)-1) {
			return 0
		}
	}
	return len(t.words)
}
