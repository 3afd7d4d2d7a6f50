package parse

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func readCorpus(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(corpusDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		raw  []byte
		lim  Limits
		want error
	}{
		{"empty", nil, Limits{}, ErrNotMail},
		{"blank lines", []byte("\r\n\r\n"), Limits{}, ErrNotMail},
		{"binary", readCorpus(t, "not-mail.bin"), Limits{}, ErrNotMail},
		{"prose", []byte("hello world, this is not mail\nsecond line"), Limits{}, ErrNotMail},
		{"unknown fields only", []byte("Foo: bar\nBaz: qux\n\nbody"), Limits{}, ErrNotMail},
		{"nul in header", []byte("From: a@x\x00\nSubject: y\n\nbody"), Limits{}, ErrNotMail},
		{"too large", []byte("From: a@x.example\n\n" + strings.Repeat("x", 100)), Limits{MaxMessageBytes: 50}, ErrTooLarge},
		{"minimal", []byte("Subject: hi\n\nbody"), Limits{}, nil},
		{"no body", []byte("From: a@x.example"), Limits{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.raw, tt.lim)
			if !errors.Is(err, tt.want) {
				t.Errorf("Parse error = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestCorpusBehaviour states, per fixture, the facts the goldens must show.
func TestCorpusBehaviour(t *testing.T) {
	tests := []struct {
		file  string
		check func(t *testing.T, m *Message)
	}{
		{"outlook-html-from-block-quote.eml", func(t *testing.T, m *Message) {
			wantContains(t, "NewText", m.NewText, "paper jam")
			wantNotContains(t, "NewText", m.NewText, "print spooler")
			wantNotContains(t, "NewHTML", m.NewHTML, "print spooler")
			wantAttachment(t, m, "winmail.dat", "application/ms-tnef")
		}},
		{"outlook-ptbr-de-enviado.eml", func(t *testing.T, m *Message) {
			wantEq(t, "Subject", m.Subject, "RES: [#2077] Impressora fiscal não liga")
			wantEq(t, "From.Name", m.From.Name, "João Pereira")
			wantNotContains(t, "NewText", m.NewText, "Enviado:")
			if len(m.References) != 2 {
				t.Errorf("References = %q", m.References)
			}
		}},
		{"gmail-html-quote.eml", func(t *testing.T, m *Message) {
			wantEq(t, "NewText", m.NewText, `It happened again at 10:40. The log says "peer not responding".`)
			wantNotContains(t, "NewHTML", m.NewHTML, "Hi Rafael")
			wantContains(t, "HTML", m.HTML, "Hi Rafael")
		}},
		{"applemail-blockquote-cite.eml", func(t *testing.T, m *Message) {
			wantEq(t, "NewText", m.NewText, "Consegui entrar agora, obrigada!")
			wantNotContains(t, "NewHTML", m.NewHTML, "redefinimos")
		}},
		{"thunderbird-moz-cite.eml", func(t *testing.T, m *Message) {
			wantNotContains(t, "NewText", m.NewText, "disk quota")
			wantNotContains(t, "NewText", m.NewText, "Klaus Weber")
			wantNotContains(t, "NewHTML", m.NewHTML, "schrieb")
		}},
		{"lotus-notes-qp-html.eml", func(t *testing.T, m *Message) {
			wantContains(t, "Text", m.Text, "Ribeirão Preto apresentará")
			wantEq(t, "From.Name", m.From.Name, "José Antônio Guimarães")
		}},
		{"iso-2022-jp.eml", func(t *testing.T, m *Message) {
			wantEq(t, "Subject", m.Subject, "【至急】会議室のプロジェクターが映りません")
			wantContains(t, "Text", m.Text, "会議室Aのプロジェクター")
			wantEq(t, "From.Name", m.From.Name, "田中 花子")
		}},
		{"windows-1252-labelled-iso-8859-1.eml", func(t *testing.T, m *Message) {
			wantContains(t, "Text", m.Text, "“projeto Alfa”")
			wantContains(t, "Text", m.Text, "€")
			wantContains(t, "Text", m.Text, "ontem…")
		}},
		{"utf8-headers-raw-8bit.eml", func(t *testing.T, m *Message) {
			wantEq(t, "Subject", m.Subject, "Não consigo acessar o e-mail no celular")
			wantEq(t, "From.Name", m.From.Name, "Conceição Araújo")
			wantEq(t, "X-Origem", m.Header.Get("X-Origem"), "Filial São José")
		}},
		{"rfc2231-filename.eml", func(t *testing.T, m *Message) {
			wantAttachment(t, m, "relatório de manutenção.pdf", "application/pdf")
			wantAttachment(t, m, "peças e serviços.csv", "text/csv")
		}},
		{"encoded-word-filename.eml", func(t *testing.T, m *Message) {
			wantAttachment(t, m, "captura de tela – erro.png", "image/png")
		}},
		{"inline-image-cid.eml", func(t *testing.T, m *Message) {
			a := wantAttachment(t, m, "attachment.png", "image/png")
			if a != nil && (!a.Inline || a.ContentID != "Erro001@grafica-rocha.example") {
				t.Errorf("inline image = %+v", *a)
			}
		}},
		{"inline-image-missing-cid.eml", func(t *testing.T, m *Message) {
			if a := wantAttachment(t, m, "image001.png", "image/png"); a != nil && (!a.Inline || a.ContentID != "image001.png@01DA8012.3C4D5E60") {
				t.Errorf("cid not matched by filename: %+v", *a)
			}
			if a := wantAttachment(t, m, "foto-local.png", "image/png"); a != nil && a.Inline {
				t.Error("unreferenced Content-ID part marked inline: it would be hidden")
			}
		}},
		{"forwarded-rfc822.eml", func(t *testing.T, m *Message) {
			wantContains(t, "Text", m.Text, "Forwarded message")
			wantContains(t, "Text", m.Text, "timeout ao conectar no servidor SEFAZ")
			wantAttachment(t, m, "Falha no sistema de faturamento.eml", "message/rfc822")
		}},
		{"missing-message-id.eml", func(t *testing.T, m *Message) {
			wantEq(t, "MessageID", m.MessageID, "")
			if m.Date.IsZero() {
				t.Error("date without weekday not parsed")
			}
		}},
		{"bare-lf.eml", func(t *testing.T, m *Message) {
			wantContains(t, "Text", m.Text, "luz vermelha")
			wantContains(t, "HTML", m.HTML, "<p>A sala 12")
		}},
		{"missing-closing-boundary.eml", func(t *testing.T, m *Message) {
			wantWarning(t, m, "missing closing boundary")
			wantAttachment(t, m, "preview.png", "image/png")
		}},
		{"html-only-script-xss.eml", func(t *testing.T, m *Message) {
			for _, bad := range []string{"<script", "onerror", "onload", "javascript:", "<iframe", "<form", "<object", "<style", " src=\"https://"} {
				wantNotContains(t, "HTML", m.HTML, bad)
			}
			if !m.HasRemoteImages {
				t.Error("HasRemoteImages = false")
			}
			wantContains(t, "HTML", m.HTML, `data-remote-src="https://tracker.newsletter-spam.example/open.gif?u=suporte"`)
			wantNotContains(t, "Text", m.Text, "document.cookie")
			wantContains(t, "Text", m.Text, "- Item & um")
		}},
		{"plain-ptbr-signature.eml", func(t *testing.T, m *Message) {
			wantEq(t, "NewText", m.NewText, "Pode vir buscar o notebook amanhã de manhã, a secretaria abre às 7h30. O carregador está junto.")
		}},
		{"octet-stream-pdf-misdeclared.eml", func(t *testing.T, m *Message) {
			wantAttachment(t, m, "NF-000123", "application/pdf")
			wantAttachment(t, m, "planilha.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
		}},
		{"invalid-base64-text.eml", func(t *testing.T, m *Message) {
			wantContains(t, "Text", m.Text, "Este texto não está em base64")
			wantWarning(t, m, "base64")
			wantWarning(t, m, "quoted-printable")
		}},
		{"header-line-without-colon.eml", func(t *testing.T, m *Message) {
			wantEq(t, "Subject", m.Subject, "Impressora sem papel")
			wantContains(t, "Text", m.Text, "recepção")
			wantWarning(t, m, "without a field name")
		}},
		{"smime-signed-spanish-quote.eml", func(t *testing.T, m *Message) {
			wantEq(t, "NewText", m.NewText, "La impresora de etiquetas ya funciona, gracias.")
			if len(m.Attachments) != 0 {
				t.Errorf("signature kept as attachment: %+v", m.Attachments)
			}
		}},
		{"owa-divrplyfwdmsg-html-only.eml", func(t *testing.T, m *Message) {
			wantNotContains(t, "NewText", m.NewText, "aplicamos")
			wantContains(t, "NewText", m.NewText, "- Erro: 0x80070005")
			wantNotContains(t, "NewHTML", m.NewHTML, "aplicamos")
			if len(m.References) != 2 {
				t.Errorf("References = %q", m.References)
			}
		}},
		{"koi8r-body-unknown-charset-subject.eml", func(t *testing.T, m *Message) {
			wantEq(t, "From.Name", m.From.Name, "Иван Петров")
			wantContains(t, "Text", m.Text, "Принтер не печатает")
		}},
		{"yahoo-quoted-html.eml", func(t *testing.T, m *Message) {
			wantEq(t, "NewText", m.NewText, "Obrigada, consegui trocar a senha.")
			wantEq(t, "InReplyTo", strings.Join(m.InReplyTo, ","), "tkt-6300-a1@jcservicedesk.example")
			wantEq(t, "References", strings.Join(m.References, ","), "tkt-6300-a1@jcservicedesk.example")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			m, err := Parse(readCorpus(t, tt.file), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			checkUTF8(t, m)
			tt.check(t, m)
		})
	}
}

func TestAttachmentLimitAndOwnership(t *testing.T) {
	raw := largeAttachmentMessage(50 << 10)
	m, err := Parse(raw, Limits{MaxAttachmentBytes: 10 << 10})
	if err != nil {
		t.Fatal(err)
	}
	a := wantAttachment(t, m, "dump.bin", "application/octet-stream")
	if a == nil || !a.Omitted || a.Data != nil || a.Size != 50<<10 {
		t.Fatalf("large attachment = %+v", a)
	}
	// A 7bit attachment must not alias the input buffer.
	raw = []byte("From: a@x.example\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\nhi\n--b\nContent-Type: text/csv\nContent-Disposition: attachment; filename=a.csv\n\na;b\n--b--\n")
	m, err = Parse(raw, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range raw {
		raw[i] = 'Z'
	}
	if a := wantAttachment(t, m, "a.csv", "text/csv"); a != nil && string(a.Data) != "a;b" {
		t.Errorf("attachment data changed with the input: %q", a.Data)
	}
}

func TestHeaderForClassifier(t *testing.T) {
	raw := []byte("From: Bot <bot@x.example>\r\nAuto-Submitted: auto-replied\r\nPrecedence: bulk\r\nList-Id: <l.x.example>\r\nReceived: one\r\nReceived: two\r\nSubject: =?utf-8?Q?F=C3=A9rias?=\r\n\r\nbody")
	m, err := Parse(raw, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	wantEq(t, "Auto-Submitted", m.Header.Get("Auto-Submitted"), "auto-replied")
	wantEq(t, "List-Id", m.Header.Get("List-Id"), "<l.x.example>")
	wantEq(t, "Received", strings.Join(m.Header.Values("Received"), ","), "one,two")
	wantEq(t, "Subject", m.Subject, "Férias")
}

func TestParseStructures(t *testing.T) {
	tests := []struct {
		name, raw string
		check     func(t *testing.T, m *Message)
	}{
		{"report keeps human part", "From: mailer-daemon@x.example\nContent-Type: multipart/report; report-type=delivery-status; boundary=r\n\n--r\n\nCould not deliver.\n--r\nContent-Type: message/delivery-status\n\nAction: failed\n--r\nContent-Type: text/rfc822-headers\n\nSubject: old\n--r--\n", func(t *testing.T, m *Message) {
			wantEq(t, "Text", m.Text, "Could not deliver.")
			wantAttachment(t, m, "delivery-status.txt", "message/delivery-status")
			wantAttachment(t, m, "returned-headers.txt", "text/rfc822-headers")
		}},
		{"nested mixed alternative related", "From: a@x.example\nContent-Type: multipart/mixed; boundary=m\n\n--m\nContent-Type: multipart/alternative; boundary=a\n\n--a\nContent-Type: text/plain\n\nplain body\n--a\nContent-Type: multipart/related; boundary=rel\n\n--rel\nContent-Type: text/html\n\n<p>html body <img src=\"cid:i1\"></p>\n--rel\nContent-Type: image/gif\nContent-ID: <i1>\n\nGIF89a\n--rel--\n--a--\n--m\nContent-Type: application/pdf; name=x.pdf\n\n%PDF-1.4\n--m--\n", func(t *testing.T, m *Message) {
			wantEq(t, "Text", m.Text, "plain body")
			wantContains(t, "HTML", m.HTML, "html body")
			if len(m.Attachments) != 2 || !m.Attachments[0].Inline || m.Attachments[1].Filename != "x.pdf" {
				t.Errorf("attachments = %+v", m.Attachments)
			}
		}},
		{"no boundary param", "From: a@x.example\nContent-Type: multipart/mixed\n\nsome text\n", func(t *testing.T, m *Message) {
			wantContains(t, "Text", m.Text, "some text")
			wantWarning(t, m, "boundary")
		}},
		{"8bit latin1 without charset", "From: a@x.example\n\ncaf\xe9 com p\xe3o\n", func(t *testing.T, m *Message) {
			wantEq(t, "Text", m.Text, "café com pão")
		}},
		{"utf-7", "From: a@x.example\nContent-Type: text/plain; charset=utf-7\n\nHi Mom -+Jjo--!\n", func(t *testing.T, m *Message) {
			wantEq(t, "Text", m.Text, "Hi Mom -☺-!")
		}},
		{"shift_jis", "From: a@x.example\nContent-Type: text/plain; charset=shift_jis\n\n\x82\xb1\x82\xf1\x82\xc9\x82\xbf\x82\xcd\n", func(t *testing.T, m *Message) {
			wantEq(t, "Text", m.Text, "こんにちは")
		}},
		{"base64 with footer", "From: a@x.example\nContent-Transfer-Encoding: base64\n\nb2xhIG11bmRv\n\n_______________\nLista suporte\n", func(t *testing.T, m *Message) {
			wantEq(t, "Text", m.Text, "ola mundo")
			wantWarning(t, m, "base64")
		}},
		{"format flowed", "From: a@x.example\nContent-Type: text/plain; format=flowed\n\nline one \nline two\n", func(t *testing.T, m *Message) {
			wantEq(t, "Text", m.Text, "line one line two")
		}},
		{"mbox from line", "From someone@x Mon Jan  1 00:00:00 2024\nFrom: a@x.example\nSubject: s\n\nb", func(t *testing.T, m *Message) {
			wantEq(t, "Subject", m.Subject, "s")
		}},
		{"sender and reply-to", "From: a@x.example\nSender: b@x.example\nReply-To: c@x.example, d@x.example\nCc: e@x.example\n\nb", func(t *testing.T, m *Message) {
			if m.Sender == nil || m.Sender.Email != "b@x.example" || len(m.ReplyTo) != 2 || len(m.Cc) != 1 {
				t.Errorf("addresses = %+v %+v %+v", m.Sender, m.ReplyTo, m.Cc)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse([]byte(tt.raw), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			checkUTF8(t, m)
			tt.check(t, m)
		})
	}
}

// largeAttachmentMessage builds a realistic reply with an n-byte attachment.
func largeAttachmentMessage(n int) []byte {
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(i*7 + i/251)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: Carla <carla@x.example>\r\nTo: suporte@jcservicedesk.example\r\nSubject: Re: [#1] log\r\nDate: Tue, 12 Mar 2024 13:15:20 +0000\r\nMessage-ID: <big@x.example>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"XYZ\"\r\n\r\n")
	b.WriteString("--XYZ\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSegue o dump.\r\n\r\nOn Mon, 11 Mar 2024, Desk wrote:\r\n> send the dump\r\n")
	b.WriteString("--XYZ\r\nContent-Type: application/octet-stream; name=\"dump.bin\"\r\nContent-Disposition: attachment; filename=\"dump.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	enc := []byte(b64Lines(data))
	b.Write(enc)
	b.WriteString("\r\n--XYZ--\r\n")
	return b.Bytes()
}

func b64Lines(data []byte) string {
	s := base64Std(data)
	var sb strings.Builder
	for i := 0; i < len(s); i += 76 {
		sb.WriteString(s[i:min(i+76, len(s))])
		sb.WriteString("\r\n")
	}
	return sb.String()
}

// checkUTF8 checks that every text of m is valid UTF-8 without control
// characters.
func checkUTF8(t testing.TB, m *Message) {
	t.Helper()
	fields := map[string]string{"Subject": m.Subject, "Text": m.Text, "NewText": m.NewText, "HTML": m.HTML,
		"NewHTML": m.NewHTML, "From.Name": m.From.Name, "From.Email": m.From.Email, "MessageID": m.MessageID}
	for _, l := range [][]Address{m.To, m.Cc, m.ReplyTo} {
		for _, a := range l {
			fields["addr:"+a.Email] = a.Name + a.Email
		}
	}
	for _, a := range m.Attachments {
		fields["att:"+a.Filename] = a.Filename + a.ContentType + a.ContentID
	}
	for i, w := range m.Warnings {
		fields[fmt.Sprint("warning", i)] = w
	}
	for _, id := range append(append([]string{}, m.InReplyTo...), m.References...) {
		fields["id:"+id] = id
	}
	if m.Sender != nil {
		fields["Sender"] = m.Sender.Name + m.Sender.Email
	}
	for f := m.Header.Fields(); f.Next(); {
		fields[fmt.Sprint("header:", f.Key(), ":", f.Value())] = f.Value()
	}
	for k, v := range fields {
		if !utf8.ValidString(v) {
			t.Errorf("%s is not valid UTF-8: %q", k, v)
		}
		// No control character but TAB and LF (they poison storage).
		for i := 0; i < len(v); i++ {
			if c := v[i]; c < 0x20 && c != '\t' && c != '\n' || c == 0x7f {
				t.Errorf("%s has control character %#x: %q", k, c, v)
				break
			}
		}
	}
}

func wantEq(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

func wantContains(t *testing.T, what, got, sub string) {
	t.Helper()
	if !strings.Contains(got, sub) {
		t.Errorf("%s lacks %q:\n%s", what, sub, got)
	}
}

func wantNotContains(t *testing.T, what, got, sub string) {
	t.Helper()
	if strings.Contains(got, sub) {
		t.Errorf("%s contains %q:\n%s", what, sub, got)
	}
}

func wantWarning(t *testing.T, m *Message, sub string) {
	t.Helper()
	for _, w := range m.Warnings {
		if strings.Contains(w, sub) {
			return
		}
	}
	t.Errorf("no warning with %q in %q", sub, m.Warnings)
}

func wantAttachment(t *testing.T, m *Message, name, ctype string) *Attachment {
	t.Helper()
	for i := range m.Attachments {
		if a := &m.Attachments[i]; a.Filename == name {
			if a.ContentType != ctype {
				t.Errorf("attachment %q type = %q, want %q", name, a.ContentType, ctype)
			}
			return a
		}
	}
	t.Errorf("no attachment %q in %+v", name, m.Attachments)
	return nil
}

func base64Std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// Every corpus message comes out free of control characters, and the
// poison fixture says what it replaced.
func TestNoControlCharacters(t *testing.T) {
	for _, f := range corpusFiles(t) {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m, err := Parse(raw, Limits{})
		if err != nil {
			continue
		}
		checkUTF8(t, m)
	}
	raw := []byte("From: a@x.example\r\nSubject: =?utf-8?q?a=00b?= c\x01d\r\nX-Raw: \x1b[31mred\r\n\r\nline\x00one\r\n\x0cpage\r\n")
	m, err := Parse(raw, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	checkUTF8(t, m)
	wantEq(t, "Subject", m.Subject, "a\uFFFDb c\uFFFDd")
	wantEq(t, "Text", m.Text, "line\uFFFDone\n\uFFFDpage")
	wantEq(t, "X-Raw", m.Header.Get("X-Raw"), "\uFFFD[31mred")
	if !slices.Contains(m.Warnings, "text: control characters replaced") {
		t.Errorf("Warnings = %q, want the control character note", m.Warnings)
	}
}

// The part limit is explicit: what it cut is counted and named.
func TestPartLimit(t *testing.T) {
	raw := readCorpus(t, "part-limit-eight-attachments.eml")
	m, err := Parse(raw, Limits{MaxParts: 5})
	if err != nil {
		t.Fatal(err)
	}
	// The multipart itself, the text and three CSVs are read.
	if len(m.Attachments) != 3 || m.PartsOmitted != 5 {
		t.Fatalf("attachments %d, omitted %d; want 3 and 5", len(m.Attachments), m.PartsOmitted)
	}
	want := "mime: too many parts: 5 past the part limit of 5 not read, among them lote-4.csv, lote-5.csv, lote-6.csv, lote-7.csv, lote-8.csv"
	if !slices.Contains(m.Warnings, want) {
		t.Errorf("Warnings = %q, want %q", m.Warnings, want)
	}
	if m, _ := Parse(raw, Limits{}); len(m.Attachments) != 8 || m.PartsOmitted != 0 {
		t.Errorf("default limit: %d attachments, %d omitted", len(m.Attachments), m.PartsOmitted)
	}
	var b strings.Builder
	b.WriteString("From: a@x.example\nContent-Type: multipart/mixed; boundary=b\n\n")
	for i := 0; i < DefaultMaxParts+10; i++ {
		b.WriteString("--b\nContent-Type: application/octet-stream\n\nx\n")
	}
	b.WriteString("--b--\n")
	m, _ = Parse([]byte(b.String()), Limits{})
	if m.PartsOmitted != 11 || len(m.Attachments) != DefaultMaxParts-1 {
		t.Errorf("default: omitted %d, attachments %d", m.PartsOmitted, len(m.Attachments))
	}
}

// When From names no usable address, the sender comes from Reply-To, then
// Return-Path, and FromSource and a warning say so.
func TestFromFallback(t *testing.T) {
	tests := []struct {
		file, email, source string
	}{
		{"from-unusable-reply-to.eml", "atendimento@loja.example.com.br", FromReplyTo},
		{"from-missing-return-path.eml", "carla.nunes@clinica.example.com.br", FromReturnPath},
		{"plain-ptbr-signature.eml", "", FromHeader},
		{"dsn-courier-undeliverable.eml", "", ""},
	}
	for _, tt := range tests {
		m, err := Parse(readCorpus(t, tt.file), Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if m.FromSource != tt.source || tt.email != "" && m.From.Email != tt.email {
			t.Errorf("%s: From %q from %q, want %q from %q", tt.file, m.From.Email, m.FromSource, tt.email, tt.source)
		}
		warned := slices.Contains(m.Warnings, WarningFromFallback+tt.source)
		if warned != (tt.source == FromReplyTo || tt.source == FromReturnPath) {
			t.Errorf("%s: fallback warning %v in %q", tt.file, warned, m.Warnings)
		}
	}
	// A null or daemon Return-Path names nobody.
	for _, rp := range []string{"<>", "<MAILER-DAEMON@mx.example>"} {
		m, _ := Parse([]byte("Return-Path: "+rp+"\nSubject: x\n\nbody\n"), Limits{})
		if m.From.Email != "" || m.FromSource != "" {
			t.Errorf("Return-Path %s: From %+v from %q", rp, m.From, m.FromSource)
		}
	}
}

func TestInlineNamedTextAndNoBlankLine(t *testing.T) {
	m, _ := Parse(readCorpus(t, "inline-text-with-filename.eml"), Limits{})
	wantEq(t, "Text", m.Text, "Segue o log: o programa fecha ao exportar o relatório.")
	if len(m.Attachments) != 1 || m.Attachments[0].Filename != "mensagem.txt" {
		t.Errorf("the named part must stay an attachment: %+v", m.Attachments)
	}
	// With another body, the named part is only an attachment.
	m, _ = Parse([]byte("From: a@x.example\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\nbody\n--b\nContent-Type: text/plain; name=n.txt\n\nnamed\n--b--\n"), Limits{})
	wantEq(t, "Text", m.Text, "body")

	m, _ = Parse(readCorpus(t, "no-blank-line-before-body.eml"), Limits{})
	wantEq(t, "Text", m.Text, "Bom dia, a impressora do segundo andar aparece offline.\nJá reiniciei duas vezes.\nBeatriz")
	wantEq(t, "Message-ID", m.MessageID, "no-blank-0001@escritorio.example.com.br")
	// A stray line inside the header is still skipped.
	m, _ = Parse(readCorpus(t, "header-line-without-colon.eml"), Limits{})
	wantEq(t, "Subject", m.Subject, "Impressora sem papel")
}

// Classic Mac OS mail (bare CR line endings only) is read line by line.
func TestBareCRLineEndings(t *testing.T) {
	m, err := Parse([]byte("From: Ana <ana@x.example>\rSubject: Oi\r\rLinha um\rLinha dois\r"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	wantEq(t, "From", m.From.Email, "ana@x.example")
	wantEq(t, "Subject", m.Subject, "Oi")
	wantEq(t, "Text", m.Text, "Linha um\nLinha dois")
	if !slices.Contains(m.Warnings, "header: bare CR line endings read as line breaks") {
		t.Errorf("Warnings = %q", m.Warnings)
	}
}
