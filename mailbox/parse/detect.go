package parse

import (
	"bytes"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
)

// Charset detection for 8-bit text that is not UTF-8 and has no label we
// can trust: every candidate decoder is tried, the ones that produce
// invalid sequences are out, and the rest are scored by how much the text
// looks like the script the charset is for (kana for the Japanese ones,
// Hangul for Korean, common Han characters for Chinese, lower-case
// Cyrillic words, accented letters inside Latin words). The charsets the
// message declares elsewhere get a bonus.

// script is what a charset is meant to write.
type script int

const (
	scriptOther   script = iota
	scriptLatin          // Western European
	scriptCentral        // Central European Latin
	scriptCyrillic
	scriptChinese
	scriptJapanese
	scriptKorean
)

type candidate struct {
	name   string
	enc    encoding.Encoding
	script script
}

// candidates in tie-break order: the Western default first.
var candidates = []candidate{
	{"windows-1252", charmap.Windows1252, scriptLatin},
	{"gb18030", simplifiedchinese.GB18030, scriptChinese},
	{"big5", traditionalchinese.Big5, scriptChinese},
	{"shift_jis", japanese.ShiftJIS, scriptJapanese},
	{"euc-jp", japanese.EUCJP, scriptJapanese},
	{"euc-kr", korean.EUCKR, scriptKorean},
	{"windows-1251", charmap.Windows1251, scriptCyrillic},
	{"koi8-r", charmap.KOI8R, scriptCyrillic},
	{"windows-1250", charmap.Windows1250, scriptCentral},
}

// maxSample bounds the bytes scored per candidate.
const maxSample = 16 << 10

// hintBonus is added per non-ASCII byte for a charset the message declares.
const hintBonus = 0.4

// detectDecode decodes b (not valid UTF-8) with the best scoring charset:
// the declared hints first, then the candidates. It falls back to
// Windows-1252, which decodes anything.
func detectDecode(b []byte, hints []string) string {
	sample, split := b, false
	if len(sample) > maxSample {
		cut := maxSample
		for cut > 0 && sample[cut-1] >= utf8.RuneSelf {
			cut-- // end on ASCII so no multi-byte character is split
		}
		if cut == 0 {
			cut, split = maxSample, true // no ASCII at all: a split character is allowed
		}
		sample = sample[:cut]
	}
	n8 := 0
	for _, c := range sample {
		if c >= utf8.RuneSelf {
			n8++
		}
	}
	if n8 == 0 || n8 == 1 && len(hints) == 0 {
		return win1252(b) // one byte is no evidence against the default
	}
	var best encoding.Encoding
	bestScore := 0.0
	try := func(enc encoding.Encoding, sc script, bonus float64) {
		s, ok := strictDecode(enc, sample)
		if !ok && split {
			s, ok = strictDecodeSplit(enc, sample)
		}
		if !ok {
			return
		}
		v := scoreText(s, sc)/float64(n8) + bonus
		if best == nil || v > bestScore {
			best, bestScore = enc, v
		}
	}
	seen := map[string]bool{}
	for _, h := range hints {
		enc, sc := lookupCharset(h)
		if enc == nil || seen[h] {
			continue
		}
		seen[h] = true
		try(enc, sc, hintBonus)
	}
	for _, c := range candidates {
		if !seen[c.name] {
			try(c.enc, c.script, 0)
		}
	}
	if best == nil || bestScore <= -1 {
		return win1252(b)
	}
	out, err := best.NewDecoder().Bytes(b)
	if err != nil {
		return win1252(b)
	}
	return toValidUTF8(out)
}

func toValidUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return string(bytes.ToValidUTF8(b, []byte("\uFFFD")))
}

// strictDecode decodes b with enc and reports false when the decoder had
// to replace an invalid sequence.
func strictDecode(enc encoding.Encoding, b []byte) (string, bool) {
	out, err := enc.NewDecoder().Bytes(b)
	if err != nil || !utf8.Valid(out) {
		return "", false
	}
	if bytes.Count(out, []byte("\uFFFD")) > bytes.Count(b, []byte("\uFFFD")) {
		return "", false
	}
	return string(out), true
}

// strictDecodeSplit is strictDecode for a sample that may end inside a
// multi-byte character: one replacement at the very end is allowed.
func strictDecodeSplit(enc encoding.Encoding, b []byte) (string, bool) {
	out, err := enc.NewDecoder().Bytes(b)
	if err != nil || !utf8.Valid(out) {
		return "", false
	}
	repl := []byte("\uFFFD")
	trimmed := bytes.TrimSuffix(out, repl)
	if bytes.Count(trimmed, repl) > bytes.Count(b, repl) {
		return "", false
	}
	return string(trimmed), true
}

// scoreText sums how typical each non-ASCII character of s is for sc.
func scoreText(s string, sc script) float64 {
	total := 0.0
	prev := rune(' ')
	rs := []rune(s)
	for i, r := range rs {
		next := rune(' ')
		if i+1 < len(rs) {
			next = rs[i+1]
		}
		if r >= utf8.RuneSelf {
			total += runeScore(r, prev, next, sc)
		}
		prev = r
	}
	return total
}

func isASCIILetter(r rune) bool { return r < utf8.RuneSelf && (r|0x20 >= 'a' && r|0x20 <= 'z') }

func runeScore(r, prev, next rune, sc script) float64 {
	if r >= 0x1100 && isASCIILetter(prev) {
		// An ideograph or syllable glued to a Latin letter: Latin text whose
		// accented letter and the next byte were read as one character.
		return -1.5
	}
	switch {
	case r == utf8.RuneError:
		return -5
	case r >= 0x80 && r <= 0x9f: // C1 controls: a byte the charset leaves undefined
		return -4
	case r >= 0x3040 && r <= 0x30ff: // kana
		if sc == scriptJapanese {
			return 3
		}
		return 0
	case r >= 0xac00 && r <= 0xd7a3: // Hangul syllables
		if sc != scriptKorean {
			return 0
		}
		if commonHangul[r] {
			return 3
		}
		// Chinese and Japanese double-byte text often decodes as valid
		// but unusual Hangul.
		return 0.75
	case r >= 0x4e00 && r <= 0x9fff: // CJK unified ideographs
		v := 1.5
		if commonHan[r] {
			v = 3
		}
		if sc == scriptKorean {
			v /= 3 // Korean text is mostly Hangul
		}
		return v
	case r >= 0x3000 && r <= 0x303f, r >= 0xff01 && r <= 0xff5e: // CJK punctuation, full-width forms
		return 1.5
	case r >= 0xff61 && r <= 0xff9f: // half-width katakana: rare, typical of a wrong decoder
		return -1
	case r >= 0x3400 && r <= 0x4dbf, r >= 0xe000 && r <= 0xf8ff, r >= 0xf900 && r <= 0xfaff, r >= 0x20000:
		return -2 // rare ideographs, private use
	case r >= 0x3130 && r <= 0x318f, r >= 0x1100 && r <= 0x11ff: // Hangul jamo
		return -1
	case r >= 0x0410 && r <= 0x044f || r == 0x0401 || r == 0x0451:
		return cyrillicScore(r, prev, next)
	case r >= 0x0400 && r <= 0x04ff:
		return -0.3
	case r >= 0x00c0 && r <= 0x024f && r != 0xd7 && r != 0xf7:
		return latinScore(r, prev, next, sc)
	case r >= 0x2010 && r <= 0x2027, r == 0x20ac, r == 0xab, r == 0xbb, r == 0xb0, r == 0xa0, r == 0x2122:
		return 0 // dashes, quotes, ellipsis, euro, guillemets, degree
	case unicode.IsLetter(r):
		return -0.3
	}
	return -1 // symbols, box drawing, super/subscripts
}

// cyrillicScore favours lower-case letters and common ones: decoding
// Windows-1251 as KOI8-R (or back) swaps the cases.
func cyrillicScore(r, prev, next rune) float64 {
	if isASCIILetter(prev) || isASCIILetter(next) {
		return -1 // inside a Latin word: Central European text read as Cyrillic
	}
	lower := r >= 0x0430 && r <= 0x044f || r == 0x0451
	v := 0.0
	switch {
	case lower:
		v = 1.2
	case prev >= 0x0410 && prev <= 0x044f:
		v = -0.2 // capital inside a word: all-caps, or a swapped case
	default:
		v = 0.8 // capital at a word start
	}
	if commonCyrillic[unicode.ToLower(r)] {
		v += 0.5
	}
	return v
}

// latinScore favours accented letters inside Latin words, and the letters
// of the charset's own languages.
func latinScore(r, prev, next rune, sc script) float64 {
	v := -0.6 // alone, or next to other non-ASCII letters: likely garbage
	if isASCIILetter(prev) || isASCIILetter(next) {
		v = 0.6
	}
	l := unicode.ToLower(r)
	switch {
	case westernLetters[l]:
		v += 0.6
	case centralLetters[l]:
		v += 0.6
	default:
		v -= 0.3
	}
	return v
}

func runeSet(s string) map[rune]bool {
	m := map[rune]bool{}
	for _, r := range s {
		m[r] = true
	}
	return m
}

// commonHan are frequent characters of Chinese text in simplified and
// traditional forms, plus helpdesk words.
var commonHan = runeSet("的一是不了在人有我他这個个们們中来來上大为為和国國地到以说說时時要就出会會可也你对對生能而子那得于於着著下自之年过過发發后後作里裡用道行所然家种種事成方多经經么麼去法学學如都同现現当當没沒动動面起看定天分还還进進好小部其些主样樣理心她本前开開但因只从從想实實日" +
	"请請问問题題谢謝您服务務电電脑腦邮郵件系统統打印机機网網络絡密码碼账賬号號登录錄无無帮幫助收送客户戶公司工程师師")

// commonHangul are frequent syllables of Korean text.
var commonHangul = runeSet("이다는가하에의을를고지서기사로리니요습세안녕은도한수있없것들나우그시해제정보내주게어아자대전화일부문확인드립감터프린작동않메일번호비밀계정컴퓨오류요청처")

var commonCyrillic = runeSet("оеаинтсрвлкмдпуяыь")

// Western letters leave out ì, ò and ù: as Windows-1252 they are what
// Czech ě, ň and ů become.
var westernLetters = runeSet("áàâãäåçéèêëíîïñóôõöúûüýÿßæœšž")

var centralLetters = runeSet("ąćčďęěĺľłńňőŕřśšťůűźżž")

// scriptOf names the script of a charset name (canonical, see normLabel).
func scriptOf(name string) script {
	for _, c := range candidates {
		if c.name == name {
			return c.script
		}
	}
	switch name {
	case "gbk", "gb2312", "hz-gb-2312":
		return scriptChinese
	case "iso-2022-jp":
		return scriptJapanese
	case "iso-8859-2", "iso-8859-16":
		return scriptCentral
	case "iso-8859-5", "koi8-u", "ibm866", "x-mac-cyrillic":
		return scriptCyrillic
	case "iso-8859-1", "iso-8859-15", "macintosh":
		return scriptLatin
	}
	return scriptOther
}
