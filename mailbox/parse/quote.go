package parse

import (
	"regexp"
	"strings"
)

// Reply headers ("On … wrote:") in the languages our requesters use. They
// are matched on one line or on two joined lines, as Gmail wraps them.
var replyHeaderRes = []*regexp.Regexp{
	regexp.MustCompile(`^On\s.{4,300}\swrote:$`),
	regexp.MustCompile(`^Em\s.{4,300}\sescreveu:$`),
	regexp.MustCompile(`^El\s.{4,300}\sescribió:$`),
	regexp.MustCompile(`^Am\s.{4,300}\sschrieb\s?.{0,300}:$`),
	regexp.MustCompile(`^Le\s.{4,300}\sa\s+écrit\s?:$`),
}

// Outlook and older clients separate the history with a banner line.
var separatorRe = regexp.MustCompile(`(?i)^-{2,}\s*(original message|mensagem original|mensaje original|ursprüngliche nachricht|message d'origine)\s*-{2,}$`)

// Outlook header block field names, per language, without the colon.
var (
	obFrom    = []string{"from", "de", "von"}
	obSent    = []string{"sent", "enviado", "enviada em", "enviado em", "date", "data", "fecha", "gesendet", "envoyé"}
	obTo      = []string{"to", "para", "an", "à", "cc"}
	obSubject = []string{"subject", "assunto", "asunto", "betreff", "objet"}
)

// Mobile clients' one-line signatures, lower case.
var mobileSigs = []string{
	"sent from my ", "enviado do meu ", "enviado de meu ", "enviado desde mi ", "von meinem ", "envoyé de mon ",
	"get outlook for ios", "get outlook for android", "obter o outlook para ios", "obter o outlook para android",
	"sent from mail for windows", "enviado do email para windows", "sent from outlook",
}

// StripQuotes returns the new part of a reply: text before the first reply
// header or Outlook history block, without ">" quoted lines, signature
// ("-- ") or mobile signature lines. Unquoted text between quotes is kept.
// When nothing would remain, text comes back unchanged with quoted false.
func StripQuotes(text string) (newText string, quoted bool) {
	lines := strings.Split(normalizeNewlines(text), "\n")
	keep := make([]bool, len(lines))
	for i := range keep {
		keep[i] = true
	}
	removed := false
	cut := func(from int) {
		for j := from; j < len(lines); j++ {
			keep[j] = false
		}
		removed = true
	}
	for i := 0; i < len(lines); i++ {
		if !keep[i] {
			continue
		}
		raw := lines[i]
		l := strings.TrimSpace(raw)
		if isQuoted(raw) {
			keep[i] = false
			removed = true
			continue
		}
		if raw == "-- " || l == "--" || l == "-- " {
			cut(i)
			break
		}
		if isMobileSig(l) {
			keep[i] = false
			removed = true
			continue
		}
		if strings.HasPrefix(l, "--") && separatorRe.MatchString(l) {
			cut(backOverRule(lines, i))
			break
		}
		if outlookBlock(lines, i) {
			cut(backOverRule(lines, i))
			break
		}
		if n := replyHeader(lines, i); n > 0 {
			next := i + n
			for next < len(lines) && strings.TrimSpace(lines[next]) == "" {
				next++
			}
			if next < len(lines) && isQuoted(lines[next]) {
				// Bottom-posted or interleaved: drop the header and go on.
				for j := i; j < i+n; j++ {
					keep[j] = false
				}
				removed = true
				i += n - 1
				continue
			}
			cut(i)
			break
		}
	}
	if !removed {
		return text, false
	}
	var out []string
	blank := 0
	for i, l := range lines {
		if !keep[i] {
			continue
		}
		if strings.TrimSpace(l) == "" {
			blank++
			if blank > 1 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, strings.TrimRight(l, " \t"))
	}
	res := strings.TrimSpace(strings.Join(out, "\n"))
	if res == "" {
		return text, false
	}
	return res, true
}

func isQuoted(l string) bool {
	return strings.HasPrefix(strings.TrimLeft(l, " \t"), ">")
}

func isMobileSig(l string) bool {
	if len(l) > 80 {
		return false
	}
	if isASCII(l) {
		// ToLower of ASCII is ASCII lower-casing; no allocation.
		for _, s := range mobileSigs {
			if len(l) >= len(s) && lowerEqualASCII(l[:len(s)], s) {
				return true
			}
		}
		return false
	}
	ll := strings.ToLower(l)
	for _, s := range mobileSigs {
		if strings.HasPrefix(ll, s) {
			return true
		}
	}
	return false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// lowerEqualASCII reports whether strings.ToLower(s) == t for ASCII s.
func lowerEqualASCII(s, t string) bool {
	if len(s) != len(t) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != t[i] {
			return false
		}
	}
	return true
}

// replyHeader reports how many lines (1 or 2) form a reply header at i.
func replyHeader(lines []string, i int) int {
	l := strings.TrimSpace(lines[i])
	if len(l) < 6 || len(l) > 400 || !hasReplyPrefix(l) {
		return 0
	}
	for _, re := range replyHeaderRes {
		if re.MatchString(l) {
			return 1
		}
	}
	if i+1 < len(lines) {
		j := strings.TrimSpace(lines[i+1])
		if j != "" && len(j) < 200 && !isQuoted(lines[i+1]) {
			joined := l + " " + j
			for _, re := range replyHeaderRes {
				if re.MatchString(joined) {
					return 2
				}
			}
		}
	}
	return 0
}

// hasReplyPrefix is a cheap filter before the regexps.
func hasReplyPrefix(l string) bool {
	switch l[:3] {
	case "On ", "Em ", "El ", "Am ", "Le ":
		return true
	}
	return false
}

// outlookBlock spots "From:" followed within a few lines by a date line,
// a recipient line and a subject line (Outlook's plain-text reply header).
// Date alone ("Date:") counts only after a rule or separator line, since
// forwarded mail uses the same fields and must not be stripped.
func outlookBlock(lines []string, i int) bool {
	if !hasField(lines[i], obFrom) {
		return false
	}
	sent, to, subj := false, false, false
	for j := i + 1; j < len(lines) && j <= i+7; j++ {
		l := lines[j]
		switch {
		case hasField(l, obSent):
			sent = true
		case hasField(l, obTo):
			to = true
		case hasField(l, obSubject):
			subj = true
		}
	}
	if !(sent && to && subj) {
		return false
	}
	hasSent := false
	for j := i + 1; j < len(lines) && j <= i+7; j++ {
		if hasField(lines[j], []string{"sent", "enviado", "enviada em", "enviado em", "gesendet", "envoyé"}) {
			hasSent = true
		}
	}
	return hasSent || backOverRule(lines, i) < i
}

// hasField matches "Name:" with optional Markdown-ish bold ("*From:*").
func hasField(l string, names []string) bool {
	l = strings.TrimLeft(strings.TrimSpace(l), "*")
	k, _, ok := strings.Cut(l, ":")
	if !ok || len(k) > 12 {
		return false
	}
	k = strings.TrimSpace(strings.Trim(k, "*"))
	if isASCII(k) {
		for _, n := range names {
			if lowerEqualASCII(k, n) {
				return true
			}
		}
		return false
	}
	k = strings.ToLower(k)
	for _, n := range names {
		if k == n {
			return true
		}
	}
	return false
}

// backOverRule moves the cut above an underscore or dash rule line (and
// blank lines between) that introduces the history block.
func backOverRule(lines []string, i int) int {
	j := i - 1
	for j >= 0 && strings.TrimSpace(lines[j]) == "" {
		j--
	}
	if j >= 0 {
		l := strings.TrimSpace(lines[j])
		if len(l) >= 5 && strings.Trim(l, "_-=") == "" {
			return j
		}
	}
	return i
}
