package parse

import (
	"errors"
	"os"
	"testing"
	"unicode/utf8"
)

func FuzzParse(f *testing.F) {
	for _, file := range corpusFiles(f) {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("From: a@x\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: message/rfc822\n\nFrom: c@x\nContent-Type: multipart/alternative; boundary=c\n\n--c\n\nx\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		// No wall-clock bound here: under load (or -race) a slow machine
		// fails it for nothing. Parse's cost is watched by the benchmarks
		// (bench_test.go); a real hang is caught by the fuzzer's timeout.
		m, err := Parse(raw, Limits{MaxAttachmentBytes: 1 << 10})
		if err != nil {
			if !errors.Is(err, ErrNotMail) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		checkUTF8(t, m)
	})
}

func FuzzStripQuotes(f *testing.F) {
	f.Add("new\n\nOn Mon, 1 Jan 2024, X wrote:\n> old")
	f.Add("a\n-----Original Message-----\nb")
	f.Add("x\n________\nFrom: a\nSent: b\nTo: c\nSubject: d\n")
	f.Add("> q\nnew\n> q\n-- \nsig")
	f.Fuzz(func(t *testing.T, s string) {
		got, quoted := StripQuotes(s)
		if !quoted && got != s {
			t.Fatalf("quoted=false but text changed: %q -> %q", s, got)
		}
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("invalid UTF-8 from valid input: %q", got)
		}
		if quoted && len(got) > len(s) {
			t.Fatalf("stripped text longer than input")
		}
	})
}

func FuzzHTMLToText(f *testing.F) {
	f.Add("<p>a</p><ul><li>b</li></ul><a href='http://x'>y</a><blockquote>q</blockquote>")
	f.Add("<pre>a\n\nb</pre><table><tr><td>1<td>2</table>")
	f.Fuzz(func(t *testing.T, s string) {
		if out := HTMLToText(s); !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8: %q", out)
		}
		if out := SanitizeHTML(s, false); !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 from SanitizeHTML: %q", out)
		}
	})
}
