package parse

import (
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
)

func encode(t *testing.T, enc encoding.Encoding, s string) []byte {
	t.Helper()
	b, err := enc.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatalf("encode %q: %v", s, err)
	}
	return b
}

// Text with no usable label is read in the charset whose script it looks
// like, also in short header-sized pieces.
func TestDetectCharset(t *testing.T) {
	tests := []struct {
		name string
		enc  encoding.Encoding
		text string
	}{
		{"gb18030 subject", simplifiedchinese.GB18030, "打印机无法连接网络"},
		{"gbk body", simplifiedchinese.GBK, "您好，我的电脑无法登录邮件系统，请帮忙处理。谢谢！"},
		{"big5 subject", traditionalchinese.Big5, "請問帳號密碼無法登錄"},
		{"big5 body", traditionalchinese.Big5, "您好，印表機從昨天開始無法列印，請協助處理。"},
		{"shift_jis subject", japanese.ShiftJIS, "パスワードの再設定について"},
		{"shift_jis name", japanese.ShiftJIS, "佐藤一郎"},
		{"euc-jp body", japanese.EUCJP, "お世話になっております。メールが送信できません。"},
		{"euc-kr subject", korean.EUCKR, "비밀번호 재설정 요청"},
		{"euc-kr body", korean.EUCKR, "안녕하세요. 메일이 발송되지 않습니다. 확인 부탁드립니다."},
		{"koi8-r subject", charmap.KOI8R, "Не работает почта"},
		{"koi8-r body", charmap.KOI8R, "Здравствуйте! Принтер не печатает, помогите пожалуйста."},
		{"windows-1251 subject", charmap.Windows1251, "Не работает почта"},
		{"windows-1251 all caps", charmap.Windows1251, "СРОЧНО: Не работает почта"},
		{"windows-1250 czech", charmap.Windows1250, "Tiskárna v účtárně nefunguje, prosím o pomoc"},
		{"windows-1250 polish", charmap.Windows1250, "Drukarka nie działa, proszę o pomoc"},
		{"windows-1252 portuguese", charmap.Windows1252, "Não consigo acessar o e-mail, técnico"},
		{"windows-1252 german", charmap.Windows1252, "Drucker funktioniert nicht, bitte um Rückmeldung"},
		{"windows-1252 french", charmap.Windows1252, "L'imprimante ne répond plus, merci de vérifier"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := encode(t, tt.enc, tt.text)
			if utf8.Valid(b) {
				t.Fatalf("test input is valid UTF-8")
			}
			if got := detectDecode(b, nil); got != tt.text {
				t.Errorf("detectDecode = %q, want %q", got, tt.text)
			}
			if got := decodeRawHeader(b, nil); got != tt.text {
				t.Errorf("decodeRawHeader = %q, want %q", got, tt.text)
			}
		})
	}
}

// A declared charset decides where detection alone would hesitate, and
// UTF-8 still comes first.
func TestDeclaredCharsets(t *testing.T) {
	raw := []byte("From: a@x\r\nSubject: =?ISO-8859-2?Q?x?=\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n" +
		"Content-Type: text/plain; charset=\"GB2312\"\r\n\r\nx\r\n--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\nx\r\n--b--\r\n")
	got := declaredCharsets(raw)
	if len(got) != 2 || got[0] != "gb18030" || got[1] != "iso-8859-2" {
		t.Errorf("declaredCharsets = %q, want [gb18030 iso-8859-2]", got)
	}
	// Two bytes: as valid in many charsets, the hint decides.
	b := encode(t, simplifiedchinese.GBK, "网")
	if s := detectDecode(b, []string{"gb18030"}); s != "网" {
		t.Errorf("with a GB hint = %q", s)
	}
	if s := decodeRawHeader([]byte("Olá"), &charsetHints{list: []string{"koi8-r"}, done: true}); s != "Olá" {
		t.Errorf("UTF-8 header with a hint = %q", s)
	}
}

func TestCharsetAliases(t *testing.T) {
	tests := []struct {
		label string
		enc   encoding.Encoding
		text  string
	}{
		{"iso-gb2312", simplifiedchinese.GBK, "网络"},
		{"x-gbk", simplifiedchinese.GBK, "网络"},
		{"GB_2312-80", simplifiedchinese.GBK, "网络"},
		{"x-sjis", japanese.ShiftJIS, "ネットワーク"},
		{"windows-31j", japanese.ShiftJIS, "ネットワーク"},
		{"ks_c_5601-1987", korean.EUCKR, "네트워크"},
		{"cp949", korean.EUCKR, "네트워크"},
		{"x-euc-jp", japanese.EUCJP, "ネットワーク"},
		{"koi8r", charmap.KOI8R, "сеть"},
		{"x-cp1251", charmap.Windows1251, "сеть"},
		{"cp1250", charmap.Windows1250, "síť"},
		{"latin2", charmap.ISO8859_2, "síť"},
		{"big5-hkscs", traditionalchinese.Big5, "網絡"},
	}
	for _, tt := range tests {
		s, ok := decodeCharset(encode(t, tt.enc, tt.text), tt.label)
		if s != tt.text || !ok {
			t.Errorf("decodeCharset(%s) = %q, %v; want %q", tt.label, s, ok, tt.text)
		}
	}
	// Shift_JIS bytes labelled ISO-2022-JP, GBK labelled with a GB2312 alias
	// and an unknown label all come out right.
	if s, _ := decodeCharset(encode(t, japanese.ShiftJIS, "プリンター"), "iso-2022-jp"); s != "プリンター" {
		t.Errorf("Shift_JIS labelled ISO-2022-JP = %q", s)
	}
	if s, _ := decodeCharset(encode(t, charmap.Windows1251, "Принтер не печатает"), "x-made-up"); s != "Принтер не печатает" {
		t.Errorf("unknown label = %q", s)
	}
}

// The common broken encoded words are read.
func TestBrokenEncodedWords(t *testing.T) {
	for in, want := range map[string]string{
		"=?utf-8?Q?Ol=C3=A1 mundo?=":                     "Olá mundo",
		"=?utf-8?B?T2zDoQ===?=":                          "Olá",
		"=?utf-8?B?T2zDoQ?=":                             "Olá",
		"=?utf-8?B?T2zDoQ==IG11bmRv?=":                   "Olá mundo",
		"=?ISO-2022-JP?B?g3aDioOTg16BWw==?=":             "プリンター",
		"=?iso-gb2312?B?zfjC5w==?=":                      "网络",
		"=?utf-8?q?a?= =?utf-8?q?b c?=":                  "ab c",
		"=?utf-8?q?unterminated =?utf-8?q?x?=":           "=?utf-8?q?unterminated x",
		"=?ks_c_5601-1987?Q?=C7=C1=B8=B0=C5=CD =B9=AE?=": "프린터 문",
	} {
		if got := decodeWords(in); got != want {
			t.Errorf("decodeWords(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzCharsetFallback: whatever the bytes, hints and label, the fallback
// yields valid UTF-8, and valid UTF-8 input without controls stays as is.
func FuzzCharsetFallback(f *testing.F) {
	f.Add([]byte("\xb4\xf2\xd3\xa1\xbb\xfa"), "", "gb2312")
	f.Add([]byte("\x83v\x83\x8a\x83\x93\x83^\x81["), "iso-2022-jp", "")
	f.Add([]byte("\xcd\xc5 \xd2\xc1\xc2\xcf\xd4\xc1\xc5\xd4"), "x-unknown", "koi8-r")
	f.Add([]byte("Ol\xe1"), "us-ascii", "")
	f.Add([]byte("\x1b$B%W%j%s%?!<\x1b(B"), "", "")
	f.Fuzz(func(t *testing.T, b []byte, label, hint string) {
		hints := &charsetHints{list: []string{normLabel(hint)}, done: true}
		s, _ := decodeCharsetHints(b, label, hints)
		if !utf8.ValidString(s) {
			t.Fatalf("decodeCharsetHints(%q, %q) not UTF-8: %q", b, label, s)
		}
		if d := detectDecode(b, []string{hint}); !utf8.ValidString(d) {
			t.Fatalf("detectDecode not UTF-8: %q", d)
		}
		h := decodeRawHeader(b, hints)
		if !utf8.ValidString(h) {
			t.Fatalf("decodeRawHeader not UTF-8: %q", h)
		}
		if plainHeaderValue(b) && !isISO2022JP(b) && h != string(b) {
			t.Fatalf("plain UTF-8 changed: %q -> %q", b, h)
		}
		if w := decodeWords(string(bytesToValid(b))); !utf8.ValidString(w) {
			t.Fatalf("decodeWords not UTF-8: %q", w)
		}
	})
}

func bytesToValid(b []byte) []byte { return []byte(toValidUTF8(b)) }

// An HTML part with no MIME charset is read in its <meta> charset, also
// one detection does not try.
func TestHTMLMetaCharset(t *testing.T) {
	text := encode(t, charmap.ISO8859_5, "Принтер")
	if detectDecode(text, nil) == "Принтер" {
		t.Fatal("detection alone reads it: the test proves nothing")
	}
	body := append([]byte("<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-8859-5\"></head><body><p>"),
		text...)
	body = append(body, "</p></body></html>"...)
	raw := append([]byte("From: a@x.example\r\nContent-Type: text/html\r\n\r\n"), body...)
	m, err := Parse(raw, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	wantEq(t, "Text", m.Text, "Принтер")
}
