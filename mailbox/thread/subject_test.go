package thread

import (
	"slices"
	"testing"
	"unicode/utf8"
)

func TestSubjectTag(t *testing.T) {
	tests := []struct {
		prefix string
		num    int64
		want   string
	}{
		{"#", 1042, "[#1042]"},
		{"JC#", 1042, "[JC#1042]"},
		{"", 7, "[7]"},
	}
	for _, tt := range tests {
		if got := SubjectTag(tt.prefix, tt.num); got != tt.want {
			t.Errorf("SubjectTag(%q, %d) = %q, want %q", tt.prefix, tt.num, got, tt.want)
		}
	}
}

func TestFindSubjectTags(t *testing.T) {
	tests := []struct {
		prefix, subject string
		want            []int64
	}{
		{"#", "Re: Printer broken [#1042]", []int64{1042}},
		{"#", "[#1] and [#2] and [#1]", []int64{1, 2}},
		{"#", "Re: [ #1042 ] spaced", []int64{1042}},
		{"#", "[\t#  77\t]", []int64{77}},
		{"JC#", "RES: [jc#1042] Impressora", []int64{1042}},
		{"JC#", "[JC #1042]", nil}, // space inside the prefix is not the prefix
		{"JC#", "[#1042]", nil},
		{"#", "[JC#1042]", nil},
		{"#", "[#99999999999999999999] overflow", nil},
		{"#", "[#9223372036854775807] max", []int64{9223372036854775807}},
		{"#", "[#0] zero", nil},
		{"#", "[#-5] negative", nil},
		{"#", "[#12a] junk", nil},
		{"#", "[#12", nil},
		{"#", "#1042 without brackets", nil},
		{"#", "[[#5]]", []int64{5}},
		{"#", "", nil},
		{"", "[2024] report [#3]", []int64{2024}},
	}
	for _, tt := range tests {
		if got := FindSubjectTags(tt.prefix, tt.subject); !slices.Equal(got, tt.want) {
			t.Errorf("FindSubjectTags(%q, %q) = %v, want %v", tt.prefix, tt.subject, got, tt.want)
		}
	}
}

func TestFindSubjectTagsRoundTrip(t *testing.T) {
	for _, p := range []string{"#", "JC#", "Ticket "} {
		s := "Re: hello " + SubjectTag(p, 31337)
		if got := FindSubjectTags(p, s); !slices.Equal(got, []int64{31337}) {
			t.Errorf("prefix %q: %v", p, got)
		}
	}
}

func TestBaseSubject(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Printer broken", "Printer broken"},
		{"Re: Printer broken", "Printer broken"},
		{"RE: Re: FW: Fwd: Printer broken", "Printer broken"},
		{"AW: WG: Drucker kaputt", "Drucker kaputt"},
		{"RES: ENC: Impressora", "Impressora"},
		{"Res: Enc: Impressora", "Impressora"},
		{"RV: Impresora", "Impresora"},
		{"TR: Imprimante", "Imprimante"},
		{"Re : Imprimante", "Imprimante"},
		{"SV: VS: Skrivare", "Skrivare"},
		{"Antw: Printer", "Printer"},
		{"回复: 打印机", "打印机"},
		{"转发：打印机", "打印机"},
		{"答复: 打印机", "打印机"},
		{"Re[2]: Printer", "Printer"},
		{"Re(3): Printer", "Printer"},
		{"[support-list] Re: Printer", "Printer"},
		{"Re: [support-list] Printer", "Printer"},
		{"Re: Printer broken [#1042]", "Printer broken"},
		{"[JC#1042] Re: Printer", "Printer"},
		{"Re: [ #1042 ] Printer", "Printer"},
		{"Printer   broken\t again", "Printer broken again"},
		{"Printer broken (fwd)", "Printer broken"},
		{"Resolved: printer", "Resolved: printer"},
		{"Reunion: friday", "Reunion: friday"},
		{"Re:", ""},
		{"", ""},
		{"Note [important] here", "Note [important] here"},
		{"Re: Re", "Re"},
		{"Ticket: 42", "Ticket: 42"},
	}
	for _, tt := range tests {
		if got := BaseSubject(tt.in); got != tt.want {
			t.Errorf("BaseSubject(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzFindSubjectTags(f *testing.F) {
	f.Add("#", "Re: [#1042] x [ #7 ]")
	f.Add("JC#", "[jc#99999999999999999999999]")
	f.Add("", "[1][2")
	f.Fuzz(func(t *testing.T, prefix, subject string) {
		tags := FindSubjectTags(prefix, subject)
		if len(tags) > maxTags {
			t.Fatalf("%d tags", len(tags))
		}
		for i, n := range tags {
			if n <= 0 {
				t.Fatalf("non-positive tag %d", n)
			}
			if slices.Contains(tags[:i], n) {
				t.Fatalf("duplicate tag %d", n)
			}
		}
	})
}

func FuzzBaseSubject(f *testing.F) {
	f.Add("RE: Re[2]: [list] Fwd: hello [#1042] (fwd)")
	f.Add("回复：转发: 你好")
	f.Add("\xff\xfeRe: x")
	f.Fuzz(func(t *testing.T, s string) {
		got := BaseSubject(s)
		if !utf8.ValidString(got) {
			t.Fatalf("invalid UTF-8 %q", got)
		}
		if len(got) > len(s)+3*len(s) {
			t.Fatalf("output grew: %q -> %q", s, got)
		}
		// Idempotent: a base subject has nothing left to strip.
		if again := BaseSubject(got); again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, got, again)
		}
	})
}
