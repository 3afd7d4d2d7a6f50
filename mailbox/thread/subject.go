package thread

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// SubjectTag formats the ticket tag put in outbound subjects: prefix "#"
// and 1042 give "[#1042]", prefix "JC#" gives "[JC#1042]".
func SubjectTag(prefix string, num int64) string {
	return "[" + prefix + strconv.FormatInt(num, 10) + "]"
}

// maxTags bounds the work on hostile subjects.
const maxTags = 32

// FindSubjectTags returns the ticket numbers of every "[prefix N]" tag in
// subject, in order of appearance and without duplicates. Spaces inside the
// brackets ("[ #1042 ]") are tolerated, the prefix matches case-insensitively,
// and numbers that are zero or overflow int64 are ignored.
func FindSubjectTags(prefix, subject string) []int64 {
	var out []int64
	for i := 0; i < len(subject) && len(out) < maxTags; i++ {
		if subject[i] != '[' {
			continue
		}
		n, ok := parseTag(prefix, subject[i+1:])
		if !ok || containsID(out, n) {
			continue
		}
		out = append(out, n)
	}
	return out
}

func containsID(ids []int64, n int64) bool {
	for _, v := range ids {
		if v == n {
			return true
		}
	}
	return false
}

// parseTag parses " prefix 1042 ]" at the start of s (after the '[').
func parseTag(prefix, s string) (int64, bool) {
	s = strings.TrimLeft(s, " \t")
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return 0, false
	}
	s = strings.TrimLeft(s[len(prefix):], " \t")
	end := 0
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	if end == 0 {
		return 0, false
	}
	digits := s[:end]
	if !strings.HasPrefix(strings.TrimLeft(s[end:], " \t"), "]") {
		return 0, false
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	return n, true
}

// replyPrefixes are the reply/forward markers mail clients put before the
// subject, lower-cased: English, German (AW, WG, Antw), Portuguese (RES,
// ENC), Spanish (RV), French (TR), Nordic (SV, VS), Italian (R, RIF, I is
// left out: too many real subjects start "I:"), Polish, Turkish, Chinese
// and Japanese.
var replyPrefixes = map[string]bool{
	"re": true, "fwd": true, "fw": true, "aw": true, "wg": true,
	"res": true, "enc": true, "rv": true, "tr": true, "sv": true,
	"vs": true, "antw": true, "antwort": true, "rif": true, "r": true,
	"odp": true, "pd": true, "ynt": true, "vb": true, "vl": true,
	"回复": true, "回覆": true, "转发": true, "轉寄": true, "答复": true,
	"返信": true, "転送": true,
}

// BaseSubject reduces a subject to what the conversation is about: reply
// and forward prefixes in many languages (also "Re[2]:", "Re(2):", "Re :",
// full-width colons, repeated), leading "[list-name]" tags, ticket tags like
// "[#1042]" or "[JC#1042]" anywhere, and a trailing "(fwd)" are removed and
// whitespace is collapsed. Used for display and as a last-resort match.
func BaseSubject(subject string) string {
	s := strings.ToValidUTF8(subject, "\uFFFD")
	s = strings.Join(strings.Fields(s), " ")
	for {
		before := s
		s = strings.TrimSpace(stripTicketTags(s))
		s = stripLeadingPrefix(s)
		s = strings.TrimSpace(s)
		s = stripLeadingListTag(s)
		if s == before {
			break
		}
	}
	for {
		t := strings.TrimSpace(s)
		lower := strings.ToLower(t)
		if !strings.HasSuffix(lower, "(fwd)") {
			break
		}
		s = t[:len(t)-len("(fwd)")]
	}
	return strings.Join(strings.Fields(s), " ")
}

// stripLeadingPrefix removes one "word[n]:" reply/forward marker.
func stripLeadingPrefix(s string) string {
	colon, width := -1, 0
	for i, r := range s {
		if i > 24 {
			break
		}
		if r == ':' || r == '：' {
			colon, width = i, utf8.RuneLen(r)
			break
		}
	}
	if colon <= 0 {
		return s
	}
	word := strings.TrimSpace(s[:colon])
	// "Re[2]", "Re(2)", "Re^2"
	if i := strings.IndexAny(word, "[(^"); i > 0 {
		count := strings.TrimRight(word[i+1:], "])")
		if !allDigits(count) {
			return s
		}
		word = strings.TrimSpace(word[:i])
	}
	if !replyPrefixes[strings.ToLower(word)] {
		return s
	}
	return s[colon+width:]
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// stripLeadingListTag removes a leading "[list-name]" as mailing lists add.
// Long bracket groups are kept: they are probably the subject itself.
func stripLeadingListTag(s string) string {
	if !strings.HasPrefix(s, "[") {
		return s
	}
	end := strings.IndexByte(s, ']')
	if end < 0 || end > 64 {
		return s
	}
	if strings.ContainsAny(s[1:end], "[") {
		return s
	}
	return s[end+1:]
}

// stripTicketTags removes every "[… #123]" style tag: a short bracket group
// whose content ends with '#' followed by digits (any helpdesk's tag).
func stripTicketTags(s string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '[')
		if i < 0 {
			b.WriteString(s)
			break
		}
		j := strings.IndexByte(s[i:], ']')
		if j < 0 {
			b.WriteString(s)
			break
		}
		if k := strings.LastIndexByte(s[i+1:i+j], '['); k >= 0 {
			// "[a[#1]": the tag is the innermost group.
			b.WriteString(s[:i+1+k])
			s = s[i+1+k:]
			continue
		}
		inner := strings.TrimSpace(s[i+1 : i+j])
		if j <= 48 && isTicketTag(inner) {
			b.WriteString(s[:i])
			b.WriteByte(' ')
		} else {
			b.WriteString(s[:i+j+1])
		}
		s = s[i+j+1:]
	}
	return b.String()
}

func isTicketTag(inner string) bool {
	h := strings.LastIndexByte(inner, '#')
	if h < 0 {
		return false
	}
	num := strings.TrimSpace(inner[h+1:])
	if !allDigits(num) {
		return false
	}
	for _, r := range inner[:h] {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == ' ' || r == '.' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
