package store

import (
	"context"
	"fmt"
	"unicode/utf8"
)

// A prefix longer than the FTS5 prefix indexes (2 and 3 characters) makes
// FTS5 merge the whole doclist of every word it starts, across the whole
// index, before it reads a row: "impres" costs what every "impressora"
// ever written costs, whatever window the search looks at. Expanded into
// the words it starts (from the index's vocabulary), the term is an OR of
// plain words, which FTS5 reads lazily, newest first, within the window.

// maxPrefixWords: a prefix starting more words than this stays a prefix.
const maxPrefixWords = 32

// expandPrefixes rewrites sq's one-word prefix terms of 4 characters or
// more into the words of the index they start (SQLite only).
func (q *Q) expandPrefixes(ctx context.Context, sq SearchQuery) (SearchQuery, error) {
	out := SearchQuery{Groups: make([]SearchGroup, len(sq.Groups))}
	for i, g := range sq.Groups {
		ng := SearchGroup{Neg: g.Neg}
		for _, t := range g.Terms {
			if !t.Prefix || len(t.Words) != 1 || utf8.RuneCountInString(t.Words[0]) < 4 {
				ng.Terms = append(ng.Terms, t)
				continue
			}
			w := foldWord(t.Words[0])
			var words []string
			// Terms are stored folded; the range is every term starting w.
			err := q.db.NewRaw("SELECT term FROM ticket_search_vocab WHERE term >= ? AND term < ? ORDER BY term LIMIT ?",
				w, w+"\U0010FFFF", maxPrefixWords+1).Scan(ctx, &words)
			if err != nil {
				return sq, fmt.Errorf("store: search vocabulary: %w", err)
			}
			switch {
			case len(words) > maxPrefixWords:
				ng.Terms = append(ng.Terms, t)
			case len(words) == 0:
				// Nothing starts with it: the word itself, found nowhere.
				ng.Terms = append(ng.Terms, SearchTerm{Words: []string{w}})
			default:
				for _, x := range words {
					ng.Terms = append(ng.Terms, SearchTerm{Words: []string{x}})
				}
			}
		}
		out.Groups[i] = ng
	}
	return out, nil
}
