package store

import (
	"strings"
	"testing"
)

// The erased person's name and address are replaced as whole words only:
// "Ana" is not inside "semana", nor bob@x.com inside jimbob@x.com.
func TestScrubberReplacesWholeWordsOnly(t *testing.T) {
	sc := newScrubber(EraseTarget{AnonEmail: "anon-1@invalid", AnonName: "Titular #1", Placeholder: "[x]"},
		"bob@x.com", "Ana", nil)
	for in, want := range map[string]string{
		"Falei com Ana ontem.":          "Falei com Titular #1 ontem.",
		"Na próxima semana, Mariana.":   "Na próxima semana, Mariana.",
		"ANA: <bob@x.com>":              "Titular #1: <anon-1@invalid>",
		"cc jimbob@x.com, bob@x.com.br": "cc jimbob@x.com, bob@x.com.br",
		"QW5hYW5hAnaQW5h":               "QW5hYW5hAnaQW5h",
	} {
		if got := sc.text(in); got != want {
			t.Errorf("text(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestScrubberKeepsCommonLines: a greeting or signature the person also
// wrote is everyone's; it stays in other people's text.
func TestScrubberKeepsCommonLines(t *testing.T) {
	sc := newScrubber(EraseTarget{Placeholder: "[x]", AnonEmail: "anon-1@invalid", AnonName: "Titular #1"}, "bob@x.com", "Bob Souza",
		[]string{"Atenciosamente,\nBob", "O servidor de arquivos caiu de novo hoje cedo"})
	got := string(sc.bytes([]byte("Atenciosamente,\nAna\nO servidor de arquivos caiu de novo hoje cedo")))
	if !strings.Contains(got, "Atenciosamente,") {
		t.Errorf("a common line was erased from someone else's text: %q", got)
	}
	if strings.Contains(got, "servidor de arquivos caiu") {
		t.Errorf("the person's own sentence stayed: %q", got)
	}
}
