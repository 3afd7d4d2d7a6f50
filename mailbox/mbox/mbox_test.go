package mbox

import (
	"errors"
	"strings"
	"testing"
)

func collect(t *testing.T, in string) ([]string, error) {
	t.Helper()
	var out []string
	err := Each(strings.NewReader(in), func(m []byte) error {
		out = append(out, string(m))
		return nil
	})
	return out, err
}

func TestEach(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string
		err      bool
	}{
		{"empty", "", nil, false},
		{"one", "From a@b Sat Jan  1 00:00:00 2026\nSubject: x\n\nbody\n", []string{"Subject: x\n\nbody"}, false},
		{"two with quoted From", "From a@b Sat\nSubject: 1\n\n>From here\n>>From there\n\nFrom c@d Sun\nSubject: 2\n\nb2\n",
			[]string{"Subject: 1\n\nFrom here\n>From there\n", "Subject: 2\n\nb2"}, false},
		{"From inside a paragraph is body", "From a@b\nSubject: 1\n\nline\nFrom not a separator\n", []string{"Subject: 1\n\nline\nFrom not a separator"}, false},
		{"crlf", "From a@b\r\nSubject: 1\r\n\r\nx\r\n\r\nFrom c@d\r\nSubject: 2\r\n\r\ny\r\n", []string{"Subject: 1\r\n\r\nx\r\n", "Subject: 2\r\n\r\ny"}, false},
		{"no leading From", "Subject: x\n\nbody\n", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := collect(t, tc.in)
			if (err != nil) != tc.err {
				t.Fatalf("err = %v", err)
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCallbackErrorStops(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := Each(strings.NewReader("From a\nS: 1\n\nFrom b\nS: 2\n"), func([]byte) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Fatalf("err %v after %d", err, n)
	}
}

func FuzzEach(f *testing.F) {
	f.Add("From a@b\nSubject: 1\n\n>From x\n\nFrom c\n\ny\n")
	f.Add("From \n\n\nFrom \n")
	f.Fuzz(func(t *testing.T, in string) {
		total := 0
		_ = Each(strings.NewReader(in), func(m []byte) error {
			total += len(m)
			return nil
		})
		if total > len(in) {
			t.Fatalf("messages longer than the input: %d > %d", total, len(in))
		}
	})
}

func TestTrimFromLine(t *testing.T) {
	for in, want := range map[string]string{
		"From MAILER-DAEMON Mon Nov 30 09:15:34 2026\nFrom: a@x\n\nb": "From: a@x\n\nb",
		"\r\nFrom x\r\nSubject: s\r\n\r\n":                            "Subject: s\r\n\r\n",
		"From: a@x\n\nFrom here on":                                   "From: a@x\n\nFrom here on",
		"From only":                                                   "",
	} {
		if got := string(TrimFromLine([]byte(in))); got != want {
			t.Errorf("TrimFromLine(%q) = %q, want %q", in, got, want)
		}
	}
}
