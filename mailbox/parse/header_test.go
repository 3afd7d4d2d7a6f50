package parse

import (
	"slices"
	"testing"
	"time"

	"github.com/jcservicedesk/servicedesk/mailbox/thread"
)

// The parser reads ids with mailbox/thread's grammar (its own tests and
// msgid_diff_test.go cover it); these are the cases the parser relies on.
func TestIDList(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"<a@x> <b@y>", []string{"a@x", "b@y"}},
		{"<a@x>\r\n\t<b@y>", []string{"a@x", "b@y"}},
		{"<a@x>,<b@y>, <a@x>", []string{"a@x", "b@y"}},
		{"a@x b@y", []string{"a@x", "b@y"}},
		{"<a@x> (message from John <j@x> of Mon)", []string{"a@x"}},
		{`"Your message of Mon" <a@x>`, []string{"a@x"}},
		{"<a@x> <trunc@", []string{"a@x"}},
		{"<long-id-\r\n part@x>", []string{"long-id-part@x"}},
		{"", nil},
		{"just words", nil},
	}
	for _, tt := range tests {
		if got := thread.IDs(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("IDs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFirstID(t *testing.T) {
	for in, want := range map[string]string{
		" <abc@x.example> ": "abc@x.example",
		"abc@x.example":     "abc@x.example",
		"<12345>":           "12345",
		"":                  "",
		"<a@x> (comment)":   "a@x",
	} {
		if got := thread.FirstID(in); got != want {
			t.Errorf("FirstID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDecodeWords(t *testing.T) {
	tests := []struct{ in, want string }{
		{"=?utf-8?Q?Ol=C3=A1?=", "Olá"},
		{"=?ISO-8859-1?Q?Jo=E3o?= Silva", "João Silva"},
		{"=?utf-8?B?w6k=?= =?utf-8?B?w6k=?=", "éé"},
		// A character split across two words.
		{"=?utf-8?B?ww==?= =?utf-8?B?qcOp?=", "éé"},
		{"=?utf-8?Q?a?=\r\n =?utf-8?Q?b?=", "ab"},
		{"=?bogus?Q?x", "=?bogus?Q?x"},
		{"=?utf-8?X?abc?=", "=?utf-8?X?abc?="},
		{"plain", "plain"},
		{"=?gb2312?B?xOO6ww==?=", "你好"},
		{"=?big5?B?pq2mdw==?=", "早安"},
	}
	for _, tt := range tests {
		if got := decodeWords(tt.in); got != tt.want {
			t.Errorf("decodeWords(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseAddressList(t *testing.T) {
	tests := []struct {
		in   string
		want []Address
		warn bool
	}{
		{`"Santos, Carla" <c@x.example>, b@y.example`, []Address{{"Santos, Carla", "c@x.example"}, {"", "b@y.example"}}, false},
		{`=?utf-8?Q?Jos=C3=A9?= <j@x.example>`, []Address{{"José", "j@x.example"}}, false},
		{`Conceição Araújo <c@x.example>`, []Address{{"Conceição Araújo", "c@x.example"}}, false},
		{`Maria <m@x.example`, []Address{{"Maria", "m@x.example"}}, true},
		{`Dr. Who <who@x.example>, Bad <<bad`, []Address{{"Dr. Who", "who@x.example"}}, true},
		{`undisclosed-recipients:;`, []Address{}, false},
		{`c@x.example (Carla)`, []Address{{"Carla", "c@x.example"}}, false},
	}
	for _, tt := range tests {
		warned := false
		got := parseAddressList(tt.in, func(string) { warned = true })
		if len(got) == 0 && len(tt.want) == 0 {
			continue
		}
		if !slices.Equal(got, tt.want) || warned != tt.warn {
			t.Errorf("parseAddressList(%q) = %v warned=%v, want %v warned=%v", tt.in, got, warned, tt.want, tt.warn)
		}
	}
}

func TestParseDate(t *testing.T) {
	want := time.Date(2024, 3, 12, 13, 15, 0, 0, time.UTC)
	for _, in := range []string{
		"Tue, 12 Mar 2024 13:15:00 +0000",
		"Tue, 12 Mar 2024 13:15:00 +0000 (UTC)",
		"12 Mar 2024 13:15:00 GMT",
		"Tue, 12 Mar 2024 13:15 +0000",
		"Tue,  12  Mar 2024 13:15:00 +0000",
		"2024-03-12T13:15:00Z",
	} {
		got, ok := parseDate(in)
		if !ok || !got.Equal(want) {
			t.Errorf("parseDate(%q) = %v, %v", in, got, ok)
		}
	}
	if _, ok := parseDate("yesterday-ish"); ok {
		t.Error("garbage date parsed")
	}
}

func TestParseParams(t *testing.T) {
	tests := []struct {
		in, value, key, want string
	}{
		{`attachment; filename="a b.pdf"`, "attachment", "filename", "a b.pdf"},
		{`attachment; filename*=utf-8''relat%C3%B3rio.pdf`, "attachment", "filename", "relatório.pdf"},
		{`attachment; filename*0*=iso-8859-1''pe%E7a; filename*1=s.txt`, "attachment", "filename", "peças.txt"},
		{`attachment; filename="x.pdf"; filename*=utf-8''y.pdf`, "attachment", "filename", "y.pdf"},
		{`inline; filename==?utf-8?Q?caf=C3=A9.png?=`, "inline", "filename", "café.png"},
		{`attachment; filename=unquoted name.pdf`, "attachment", "filename", "unquoted name.pdf"},
		{`Text/HTML; Charset="UTF-8"`, "text/html", "charset", "UTF-8"},
		{`multipart/mixed; boundary="a;b"`, "multipart/mixed", "boundary", "a;b"},
	}
	for _, tt := range tests {
		v, p := parseParams(tt.in)
		if v != tt.value || p[tt.key] != tt.want {
			t.Errorf("parseParams(%q) = %q %q, want %q %q", tt.in, v, p[tt.key], tt.value, tt.want)
		}
	}
}

// Addresses with RFC 5322 comments and a trailing dot are recovered.
func TestAddressCommentsAndTrailingDot(t *testing.T) {
	tests := []struct {
		in   string
		want []Address
		warn bool
	}{
		{`Pete(A wonderful \) chap) <pete(his account)@silly.test(his host)>`, []Address{{"Pete", "pete@silly.test"}}, false},
		{`pete(his account)@silly.test(his host)`, []Address{{"his account", "pete@silly.test"}}, false},
		{`Mary <mary@example.com.>`, []Address{{"Mary", "mary@example.com"}}, true},
		{`mary@example.com.`, []Address{{"", "mary@example.com"}}, true},
		{`A (x) <a@x.example>, b@y.example (Bee (the) Second)`, []Address{{"A", "a@x.example"}, {"Bee (the) Second", "b@y.example"}}, false},
		{`(only a comment) <c@z.example>`, []Address{{"only a comment", "c@z.example"}}, false},
	}
	for _, tt := range tests {
		warned := false
		got := parseAddressList(tt.in, func(string) { warned = true })
		if !slices.Equal(got, tt.want) {
			t.Errorf("parseAddressList(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
		if warned != tt.warn {
			t.Errorf("parseAddressList(%q) warned %v, want %v", tt.in, warned, tt.warn)
		}
	}
}
