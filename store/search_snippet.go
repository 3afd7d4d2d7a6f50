package store

import (
	"context"
	"fmt"
	"strings"
	"unicode"

	"github.com/uptrace/bun"
	"golang.org/x/text/unicode/norm"
)

// SQLite's snippet() runs the MATCH again over the whole index (a prefix
// term merges every matching doclist again) to quote 25 rows; quoting in
// Go reads only those rows' text by primary key. The words are split and
// folded as the unicode61 tokenizer with remove_diacritics 2 does.

// snippetTokens is how many words a quote holds, as snippet(…, 24).
const snippetTokens = 24

// sqliteSnippets quotes the best unit of each hit, the matched words
// between the markers, from the text the unit indexes.
func (q *Q) sqliteSnippets(ctx context.Context, sq SearchQuery, rows []searchRow) (map[int64]string, error) {
	byKind := map[int64][]int64{}
	for _, r := range rows {
		kind, id := r.source(false)
		byKind[kind] = append(byKind[kind], id)
	}
	texts := map[[2]int64]string{}
	for kind, ids := range byKind {
		var stmt string
		switch kind {
		case unitTicket:
			stmt = "SELECT id, subject || char(10) || description AS text FROM tickets WHERE id IN (?)"
		case unitComment:
			stmt = "SELECT id, body_text AS text FROM ticket_comments WHERE id IN (?)"
		default:
			stmt = "SELECT id, filename AS text FROM attachments WHERE id IN (?)"
		}
		var out []struct {
			ID   int64  `bun:"id"`
			Text string `bun:"text"`
		}
		if err := q.db.NewRaw(stmt, bun.In(ids)).Scan(ctx, &out); err != nil {
			return nil, fmt.Errorf("store: search snippets: %w", err)
		}
		for _, o := range out {
			texts[[2]int64{kind, o.ID}] = o.Text
		}
	}
	terms := snippetTerms(sq)
	m := make(map[int64]string, len(rows))
	for _, r := range rows {
		kind, id := r.source(false)
		m[r.Unit] = snipQuote(texts[[2]int64{kind, id}], terms)
	}
	return m, nil
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
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.ToLower(w)) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

type snipToken struct {
	start, end int // byte offsets in the text
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
			toks = append(toks, snipToken{start: start, end: i, folded: foldWord(text[start:i])})
			start = -1
		}
	}
	if start >= 0 {
		toks = append(toks, snipToken{start: start, end: len(text), folded: foldWord(text[start:])})
	}
	return toks
}

// snipQuote is the snippet of text: up to snippetTokens words from a little
// before the first match, the matched words between the markers, "…"
// where text was cut.
func snipQuote(text string, terms []snippetTerm) string {
	toks := snipTokenize(text)
	if len(toks) == 0 {
		return ""
	}
	matched := make([]bool, len(toks))
	first := -1
	for i := range toks {
		for _, t := range terms {
			if n := matchAt(toks, i, t); n > 0 {
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
func matchAt(toks []snipToken, i int, t snippetTerm) int {
	if len(t.words) == 0 || i+len(t.words) > len(toks) {
		return 0
	}
	for j, w := range t.words {
		tk := toks[i+j].folded
		last := j == len(t.words)-1
		if tk != w && !(last && t.prefix && strings.HasPrefix(tk, w)) {
			return 0
		}
	}
	return len(t.words)
}
