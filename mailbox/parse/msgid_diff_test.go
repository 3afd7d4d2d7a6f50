package parse

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/jcservicedesk/servicedesk/mailbox/thread"
)

// The Message-ID grammar moved to mailbox/thread (thread.IDs, FirstID).
// These tests ran the parser's former grammar (legacyIDList, legacyFirstID,
// kept below as it was) against the new one over the corpus and under the
// fuzzer, so that every difference is one decided on, and named in
// decideIDDiff.

// idHeader finds the id-bearing header fields, at the top or in a part.
var idHeader = regexp.MustCompile(`(?im)^(message-id|in-reply-to|references|content-id|original-message-id)[ \t]*:(.*(?:\n[ \t].*)*)`)

// idValues returns every id-bearing header value of the corpus: the .eml
// files and the Go fuzz corpora of the mailbox packages.
func idValues(t testing.TB) map[string][]string {
	files := corpusFiles(t)
	fuzz, _ := filepath.Glob("../*/testdata/fuzz/*/*")
	out := map[string][]string{}
	for _, f := range append(files, fuzz...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		texts := []string{string(b)}
		if strings.HasPrefix(texts[0], "go test fuzz v1") {
			texts = nil
			for _, line := range strings.Split(string(b), "\n")[1:] {
				if i := strings.IndexByte(line, '('); i > 0 && strings.HasSuffix(line, ")") {
					if s, err := strconv.Unquote(line[i+1 : len(line)-1]); err == nil {
						texts = append(texts, s)
					}
				}
			}
		}
		for _, text := range texts {
			text = strings.ReplaceAll(text, "\r\n", "\n")
			for _, m := range idHeader.FindAllStringSubmatch(text, -1) {
				out[f] = append(out[f], strings.TrimSpace(m[2]))
			}
		}
	}
	return out
}

// decideIDDiff names the decision behind a difference between the former
// and the new grammar on value s, or "" for one nobody decided on.
func decideIDDiff(s string, old, new []string) string {
	for _, id := range new {
		if !slices.Contains(old, id) && strings.Contains(s, "<") && !strings.Contains(s, "<"+id+">") {
			// "<a@x> b@y": the old grammar ignored bare ids once any
			// id had brackets; sloppy MUAs mix them, and References
			// chains break if we drop them.
			return "bare ids next to bracketed ones are kept"
		}
		if !slices.Contains(old, id) && strings.Contains(s, ";") {
			return "bare ids are also separated by ';'"
		}
	}
	if strings.ContainsAny(s, `"(`) && strings.Contains(s, "@") && !slices.Equal(old, new) {
		for _, id := range append(slices.Clone(old), new...) {
			if !strings.Contains(s, "<"+id+">") {
				// 'a"x"@b': the old grammar split a bare token at a
				// quoted string or comment, the new one skips them and
				// keeps the rest as one token. Garbage either way.
				return "bare tokens around comments or quoted strings are joined"
			}
		}
	}
	for _, id := range old {
		if slices.Contains(new, id) {
			continue
		}
		switch {
		case len(id) > 250:
			return "ids over 250 bytes are skipped (hostile or corrupted)"
		case strings.ContainsAny(id, `()",<>`):
			return "ids with specials are skipped"
		case strings.IndexFunc(s, func(r rune) bool {
			return (r < 0x20 && r != '\t' && r != '\r' && r != '\n') || r == 0x7f || (r > 0x7f && unicode.IsSpace(r))
		}) >= 0:
			// The old grammar removed every Unicode space (\v, NBSP…)
			// as if it were folding.
			return "only SP, HT, CR and LF fold; other spaces and control characters make an id invalid"
		case !utf8.ValidString(s):
			return "ids with invalid UTF-8 are skipped, not repaired"
		case strings.Contains(s, ";"):
			return "bare ids are also separated by ';'"
		}
	}
	if !utf8.ValidString(s) {
		// An id repaired by dropping bytes may collide with another
		// (and so change the order of what is left).
		return "ids with invalid UTF-8 are skipped, not repaired"
	}
	return ""
}

func TestIDGrammarDifferentialCorpus(t *testing.T) {
	values := idValues(t)
	n, changed := 0, 0
	for f, vs := range values {
		for _, v := range vs {
			n++
			old, new := legacyIDList(v), thread.IDs(v)
			if oldFirst, newFirst := legacyFirstID(v), thread.FirstID(v); oldFirst != newFirst {
				changed++
				t.Logf("%s: first id of %q: old %q, new %q", filepath.Base(f), v, oldFirst, newFirst)
				if decideIDDiff(v, []string{oldFirst}, []string{newFirst}) == "" {
					t.Errorf("%s: undecided change of the first id of %q: %q -> %q", filepath.Base(f), v, oldFirst, newFirst)
				}
			}
			if slices.Equal(old, new) {
				continue
			}
			changed++
			why := decideIDDiff(v, old, new)
			t.Logf("%s: %q: old %q, new %q (%s)", filepath.Base(f), v, old, new, why)
			if why == "" {
				t.Errorf("%s: undecided change for %q: old %q, new %q", filepath.Base(f), v, old, new)
			}
		}
	}
	t.Logf("%d id-bearing values in %d files, %d changed", n, len(values), changed)
	if n < 50 {
		t.Fatalf("only %d id-bearing header values found: the corpus walk is broken", n)
	}
}

func FuzzIDGrammarDifferential(f *testing.F) {
	for _, vs := range idValues(f) {
		for _, v := range vs {
			f.Add(v)
		}
	}
	f.Add(`<a@x> b@y; c@z (comment <d@w>) "quoted <e@v>" <trunc@`)
	f.Fuzz(func(t *testing.T, v string) {
		old, new := legacyIDList(v), thread.IDs(v)
		if !slices.Equal(old, new) && decideIDDiff(v, old, new) == "" {
			t.Fatalf("undecided change for %q: old %q, new %q", v, old, new)
		}
	})
}

// The parser's former grammar, frozen for the differential above.

// legacyFirstID returns the first message id in s without angle
// brackets and whitespace, or s trimmed of them when it holds no id form.
func legacyFirstID(s string) string {
	if ids := legacyIDList(s); len(ids) > 0 {
		return ids[0]
	}
	s = strings.Trim(strings.TrimSpace(s), "<>")
	return strings.Join(strings.Fields(s), "")
}

// legacyIDList reads the message ids of a References or In-Reply-To value
// leniently: comments and quoted strings are skipped, ids may be folded or
// separated by commas, and bare ids (with an "@") are accepted when the value
// has no bracketed ids at all. Duplicates are dropped, order kept. An id
// without its closing bracket is truncated and skipped.
func legacyIDList(s string) []string {
	var ids []string
	var seen map[string]bool // once ids is long; a scan is cheaper before
	add := func(id string) {
		if strings.IndexFunc(id, unicode.IsSpace) >= 0 {
			id = strings.Join(strings.Fields(id), "")
		}
		id = strings.ToValidUTF8(id, "")
		if id == "" {
			return
		}
		if seen != nil {
			if seen[id] {
				return
			}
			seen[id] = true
		} else {
			for _, x := range ids {
				if x == id {
					return
				}
			}
			if len(ids) >= 16 {
				seen = make(map[string]bool, 2*len(ids))
				for _, x := range ids {
					seen[x] = true
				}
				seen[id] = true
			}
		}
		ids = append(ids, id)
	}
	bracketed := strings.Contains(s, "<")
	var bare strings.Builder
	flushBare := func() {
		if !bracketed && strings.Contains(bare.String(), "@") {
			add(bare.String())
		}
		bare.Reset()
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '(':
			flushBare()
			depth := 1
			for i++; i < len(s) && depth > 0; i++ {
				switch s[i] {
				case '\\':
					i++
				case '(':
					depth++
				case ')':
					depth--
				}
			}
			i--
		case '"':
			flushBare()
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' {
					i++
				}
			}
		case '<':
			flushBare()
			end := strings.IndexAny(s[i+1:], "<>")
			if end < 0 {
				return ids
			}
			if s[i+1+end] == '>' {
				add(s[i+1 : i+1+end])
			}
			i += end
		case ' ', '\t', '\r', '\n', ',':
			flushBare()
		default:
			bare.WriteByte(c)
		}
	}
	flushBare()
	return ids
}
