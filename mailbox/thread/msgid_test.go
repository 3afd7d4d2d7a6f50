package thread

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNormalizeID(t *testing.T) {
	tests := []struct{ in, want string }{
		{"<ABC@Example.COM>", "abc@example.com"},
		{"  <abc@example.com>  ", "abc@example.com"},
		{"abc@example.com", "abc@example.com"},
		{"<abc\r\n @example.com>", "abc@example.com"},
		{"<>", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := NormalizeID(tt.in); got != tt.want {
			t.Errorf("NormalizeID(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseReferences(t *testing.T) {
	long := "<" + strings.Repeat("x", 300) + "@h>"
	tests := []struct {
		name, irt, refs string
		want            []string
	}{
		{"standard", "<c@h>", "<a@h> <b@h> <c@h>", []string{"c@h", "b@h", "a@h"}},
		{"no in-reply-to", "", "<a@h> <b@h>", []string{"b@h", "a@h"}},
		{"folded", "", "<a@h>\r\n <b@h>\r\n\t<c@h>", []string{"c@h", "b@h", "a@h"}},
		{"comments", "<x@h> (from John, \"Tue\")", "<a@h> (root (nested)) <b@h>", []string{"x@h", "b@h", "a@h"}},
		{"missing brackets", "x@h", "a@h, b@h", []string{"x@h", "b@h", "a@h"}},
		{"mixed", "", "<a@h> b@h", []string{"b@h", "a@h"}},
		{"old in-reply-to", `Your message of "Tue, 1 Jan 2026 10:00 <nope>" <x@h>`, "", []string{"x@h"}},
		{"truncated last", "", "<a@h> <b@h> <c@tru", []string{"b@h", "a@h"}},
		{"overlong skipped", "", "<a@h> " + long, []string{"a@h"}},
		{"duplicates", "<A@H>", "<a@h> <b@h> <a@h>", []string{"a@h", "b@h"}},
		{"case folded", "", "<Msg@Host.Example>", []string{"msg@host.example"}},
		{"empty brackets", "", "<> <a@h>", []string{"a@h"}},
		{"garbage", "hello world", "", nil},
		{"bracketed without at", "<local-id-123>", "", []string{"local-id-123"}},
		{"id split by folding", "", "<abc\r\n @h>", []string{"abc@h"}},
		{"stray bracket", "a < b <x@h>", "", []string{"x@h"}},
		{"empty", "", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ParseReferences(tt.irt, tt.refs); !slices.Equal(got, tt.want) {
				t.Errorf("ParseReferences(%q, %q) = %q, want %q", tt.irt, tt.refs, got, tt.want)
			}
		})
	}
}

func TestParseReferencesCap(t *testing.T) {
	var b strings.Builder
	for i := range 300 {
		b.WriteString("<m." + strconv.Itoa(i) + "@h> ")
	}
	got := ParseReferences("", b.String())
	if len(got) != maxRefs {
		t.Fatalf("len = %d, want %d", len(got), maxRefs)
	}
	if !strings.HasSuffix(got[0], ".299@h") {
		t.Fatalf("newest first broken: %q", got[0])
	}
}

func TestNewMessageID(t *testing.T) {
	re := regexp.MustCompile(`^<jc\.\d{8}T\d{6}\.[0-9a-f]{24}@help\.example>$`)
	a, b := NewMessageID("Help.Example"), NewMessageID("help.example")
	if !re.MatchString(a) {
		t.Fatalf("NewMessageID = %q", a)
	}
	if a == b {
		t.Fatal("ids not unique")
	}
	if got := NewMessageID(""); !strings.HasSuffix(got, "@localhost>") {
		t.Fatalf("empty domain: %q", got)
	}
	if ids := ParseReferences(a, ""); len(ids) != 1 || ids[0] != NormalizeID(a) {
		t.Fatalf("own id does not parse back: %q", ids)
	}
}

func FuzzParseReferences(f *testing.F) {
	f.Add("<c@h>", "<a@h> <b@h> <c@h>")
	f.Add("x@h (comment", "<a@h> \"q<b@h>\" <c@")
	f.Add("", "\xff<\xfe@h>")
	f.Fuzz(func(t *testing.T, irt, refs string) {
		ids := ParseReferences(irt, refs)
		if len(ids) > maxRefs {
			t.Fatalf("%d ids", len(ids))
		}
		for i, id := range ids {
			if id == "" || len(id) > maxIDLen || !utf8.ValidString(id) || strings.ContainsAny(id, " <>") {
				t.Fatalf("bad id %q", id)
			}
			if id != NormalizeID(id) {
				t.Fatalf("id %q not normalized", id)
			}
			if slices.Contains(ids[:i], id) {
				t.Fatalf("duplicate %q", id)
			}
		}
	})
}

func BenchmarkParseReferences(b *testing.B) {
	var refs strings.Builder
	for i := range 20 {
		refs.WriteString(NewMessageID("mail.example.com"))
		if i%3 == 0 {
			refs.WriteString("\r\n ")
		} else {
			refs.WriteString(" ")
		}
	}
	irt := NewMessageID("mail.example.com")
	b.ReportAllocs()
	for b.Loop() {
		if len(ParseReferences(irt, refs.String())) != 21 {
			b.Fatal("wrong count")
		}
	}
}

func TestIDsKeepCase(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"<A@X> <b@y>, <A@X>", []string{"A@X", "b@y"}},
		{"<a@x> b@y", []string{"a@x", "b@y"}},
		{"<cut@x <b@y>", []string{"b@y"}},
		{"<a\v@x>", nil},
		{"", nil},
	}
	for _, tt := range tests {
		if got := IDs(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("IDs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	for in, want := range map[string]string{
		" <Abc@X.example> ": "Abc@X.example",
		"<12345>":           "12345",
		"<a@x> (comment)":   "a@x",
		"<12 34 \"x\">":     "1234\"x\"", // no id by the grammar: kept as a key
		"":                  "",
	} {
		if got := FirstID(in); got != want {
			t.Errorf("FirstID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWritableID(t *testing.T) {
	for id, want := range map[string]bool{
		"jc.1@help.example":             true,
		"a b@c":                         false,
		" a@c":                          false,
		"<a@c>":                         false,
		"local-only":                    false,
		"a(b)@c":                        false,
		"ação@c":                        false,
		strings.Repeat("x", 251) + "@c": false,
	} {
		if got := WritableID(id); got != want {
			t.Errorf("WritableID(%q) = %v, want %v", id, got, want)
		}
	}
}
