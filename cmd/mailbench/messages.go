package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"
	"unicode"
)

// kind is the shape of one generated message.
type kind int

const (
	kindPlain      kind = iota // ~40% text/plain
	kindHTML                   // ~30% multipart/alternative, text + HTML
	kindAttachment             // ~15% multipart/mixed with a 50 KB PDF-like file
	kindReply                  // ~15% a reply to a message sent earlier in this run
	numKinds
)

var kindNames = [numKinds]string{"plain", "html", "attachment", "reply"}

// replyGap is how far back a reply's parent is at least: with up to -c
// messages in flight, the parent has almost always been answered already
// (and the sender waits for it if not), so the reply threads onto its
// ticket instead of racing it.
const replyGap = 32

// meta is what is decided about a message before its body: enough for a
// later reply to point at it.
type meta struct {
	kind      kind
	sender    int
	subject   string // decoded, without "Re: "
	messageID string // with angle brackets
	parent    int    // index of the message replied to, or -1
	refs      []string
	date      time.Time
}

type sender struct {
	name, addr string
}

// generator builds the messages of one run. Everything is a function of
// the seed and the message's index, except the run tag in Message-IDs.
type generator struct {
	seed    uint64
	run     string
	to      string
	start   time.Time
	senders []sender
	metas   []meta
	// The thread set (-set thread, thread.go); nil for the mix.
	thread []threadMeta
	convs  []conv
}

var (
	firstNames = []string{"João", "Maria", "José", "Ana", "Antônio", "Francisca", "Luís", "Márcia", "Sérgio", "Fábio",
		"Conceição", "Raimundo", "Lúcia", "André", "Patrícia", "Vitória", "Cláudio", "Letícia", "Júlio", "Beatriz"}
	lastNames = []string{"Silva", "Araújo", "Gonçalves", "Conceição", "Ribeiro", "Magalhães", "Simões", "Brandão", "Assunção", "Pereira"}
	domains   = []string{"lojasilva.example", "construtora-ribeiro.example", "contabil-souza.example",
		"clinicavida.example", "padariasaojose.example", "correio.example"}
	subjects = []string{
		"Impressora não imprime", "Erro ao emitir nota fiscal", "Solicitação de acesso ao sistema",
		"Computador lento após atualização", "Não consigo acessar o e-mail", "Troca de senha do usuário",
		"Backup não concluído", "VPN desconecta a cada 5 minutos", "Orçamento para novos notebooks",
		"Problema na conexão com a internet", "Certificado digital vencido", "Instalação do antivírus",
		"Sistema de ponto não sincroniza", "Dúvida sobre a fatura de março", "Câmera da recepção sem imagem",
	}
	sentences = []string{
		"Bom dia, estamos com um problema desde ontem à tarde.",
		"Já reiniciamos o computador duas vezes e o erro continua.",
		"A mensagem que aparece é \"acesso negado\" ao abrir o relatório.",
		"Poderiam verificar com urgência? O setor financeiro está parado.",
		"Segue em anexo o print da tela com a mensagem de erro.",
		"O problema acontece só na máquina da recepção, as outras funcionam.",
		"Não sei se tem relação, mas houve queda de energia na sexta-feira.",
		"Precisamos disso resolvido até o fechamento do mês.",
		"Agradeço desde já a atenção e fico no aguardo do retorno.",
		"Se preferirem, podem ligar no ramal 2034 depois das 14h.",
		"A senha foi trocada na semana passada, conforme orientação de vocês.",
		"O técnico que esteve aqui disse que seria necessário trocar a peça.",
		"Também gostaria de saber o prazo para a instalação dos novos equipamentos.",
		"Ação necessária: liberar o acesso da funcionária Conceição ao módulo de estoque.",
		"Observação: o erro não ocorre quando acessamos pelo celular.",
	}
)

func newGenerator(seed uint64, run, to string, n int, start time.Time) *generator {
	g := &generator{seed: seed, run: run, to: to, start: start}
	r := rand.New(rand.NewPCG(seed, 0))
	for i := 0; i < 200; i++ {
		f, l := firstNames[r.IntN(len(firstNames))], lastNames[r.IntN(len(lastNames))]
		local := strings.ToLower(ascii(f) + "." + ascii(l) + fmt.Sprint(i))
		g.senders = append(g.senders, sender{name: f + " " + l, addr: local + "@" + domains[r.IntN(len(domains))]})
	}
	g.metas = make([]meta, n)
	for i := range g.metas {
		g.metas[i] = g.meta(i)
	}
	return g
}

func (g *generator) rng(i int, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(g.seed, uint64(i+1)<<4|stream))
}

// meta decides message i's shape; replies need metas[0:i] filled in.
func (g *generator) meta(i int) meta {
	r := g.rng(i, 1)
	m := meta{parent: -1, date: g.start.Add(time.Duration(i) * time.Second)}
	m.messageID = fmt.Sprintf("<mb.%s.%d.%d@mailbench.example>", g.run, g.seed, i)
	switch p := r.IntN(100); {
	case p < 40:
		m.kind = kindPlain
	case p < 70:
		m.kind = kindHTML
	case p < 85:
		m.kind = kindAttachment
	default:
		m.kind = kindReply
	}
	if m.kind == kindReply && i < replyGap {
		m.kind = kindPlain // nothing old enough to reply to yet
	}
	if m.kind == kindReply {
		lo := max(0, i-400)
		m.parent = lo + r.IntN(i-replyGap-lo+1)
		p := g.metas[m.parent]
		m.sender, m.subject = p.sender, p.subject
		m.refs = append(append([]string(nil), p.refs...), p.messageID)
		if len(m.refs) > 10 {
			m.refs = m.refs[len(m.refs)-10:]
		}
		return m
	}
	m.sender = r.IntN(len(g.senders))
	m.subject = subjects[r.IntN(len(subjects))]
	return m
}

// text is message i's own words: a few sentences and a line that makes it
// unique.
func (g *generator) text(i int) string {
	r := g.rng(i, 2)
	var b strings.Builder
	for range 2 + r.IntN(5) {
		b.WriteString(sentences[r.IntN(len(sentences))])
		b.WriteString("\r\n")
	}
	fmt.Fprintf(&b, "\r\nProtocolo interno: MB-%s-%d\r\n\r\nAtenciosamente,\r\n%s\r\n", g.run, i, g.senders[g.metas[i].sender].name)
	return b.String()
}

// message returns the bytes of message i, CRLF line endings.
func (g *generator) message(i int) []byte {
	m := g.metas[i]
	s := g.senders[m.sender]
	var b bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	h("From", (&mail.Address{Name: s.name, Address: s.addr}).String())
	h("To", (&mail.Address{Name: "Suporte", Address: g.to}).String())
	subj := mime.QEncoding.Encode("utf-8", m.subject)
	if m.kind == kindReply {
		subj = "Re: " + subj
	}
	h("Subject", subj)
	h("Date", m.date.Format(time.RFC1123Z))
	h("Message-ID", m.messageID)
	if m.kind == kindReply {
		h("In-Reply-To", g.metas[m.parent].messageID)
		h("References", strings.Join(m.refs, "\r\n "))
	}
	h("User-Agent", "mailbench")
	h("MIME-Version", "1.0")
	text := g.text(i)
	boundary := fmt.Sprintf("mb-%s-%d", g.run, i)
	switch m.kind {
	case kindPlain:
		if i%2 == 0 {
			h("Content-Type", "text/plain; charset=utf-8")
			h("Content-Transfer-Encoding", "8bit")
			b.WriteString("\r\n" + text)
		} else {
			h("Content-Type", "text/plain; charset=utf-8; format=flowed")
			h("Content-Transfer-Encoding", "quoted-printable")
			b.WriteString("\r\n" + qp(text))
		}
	case kindReply:
		p := g.metas[m.parent]
		h("Content-Type", "text/plain; charset=utf-8")
		h("Content-Transfer-Encoding", "quoted-printable")
		var body strings.Builder
		body.WriteString(text)
		fmt.Fprintf(&body, "\r\nEm %s, %s <%s> escreveu:\r\n", p.date.Format("02/01/2006 15:04"), g.senders[p.sender].name, g.senders[p.sender].addr)
		for _, l := range strings.Split(strings.TrimRight(g.text(m.parent), "\r\n"), "\r\n") {
			body.WriteString(strings.TrimRight("> "+l, " ") + "\r\n")
		}
		b.WriteString("\r\n" + qp(body.String()))
	case kindHTML:
		h("Content-Type", `multipart/alternative; boundary="`+boundary+`"`)
		b.WriteString("\r\n--" + boundary + "\r\n")
		b.WriteString("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
		b.WriteString(qp(text))
		b.WriteString("\r\n--" + boundary + "\r\n")
		b.WriteString("Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
		b.WriteString(qp(html(text)))
		b.WriteString("\r\n--" + boundary + "--\r\n")
	case kindAttachment:
		h("Content-Type", `multipart/mixed; boundary="`+boundary+`"`)
		b.WriteString("\r\n--" + boundary + "\r\n")
		b.WriteString("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
		b.WriteString(qp(text))
		b.WriteString("\r\n--" + boundary + "\r\n")
		name := fmt.Sprintf("relatorio-%d.pdf", i)
		fmt.Fprintf(&b, "Content-Type: application/pdf; name=%q\r\nContent-Disposition: attachment; filename=%q\r\nContent-Transfer-Encoding: base64\r\n\r\n", name, name)
		b.WriteString(base64Lines(pdfLike(g.rng(i, 3), i, 50<<10)))
		b.WriteString("--" + boundary + "--\r\n")
	}
	return b.Bytes()
}

func qp(s string) string {
	var b bytes.Buffer
	w := quotedprintable.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return strings.ReplaceAll(strings.ReplaceAll(b.String(), "\r\n", "\n"), "\n", "\r\n")
}

func html(text string) string {
	var b strings.Builder
	b.WriteString("<html><body>\r\n")
	for _, l := range strings.Split(strings.TrimRight(text, "\r\n"), "\r\n") {
		if l == "" {
			b.WriteString("<br>\r\n")
			continue
		}
		b.WriteString("<p style=\"font-family:Arial\">" + strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(l) + "</p>\r\n")
	}
	b.WriteString("</body></html>\r\n")
	return b.String()
}

// pdfLike is n bytes that start and end like a PDF, unique per message.
func pdfLike(r *rand.Rand, i, n int) []byte {
	head := fmt.Sprintf("%%PDF-1.4\n%%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Title (mailbench %d) >>\nendobj\nstream\n", i)
	tail := "\nendstream\n%%EOF\n"
	b := make([]byte, n)
	copy(b, head)
	for j := len(head); j < n-len(tail); j++ {
		b[j] = byte(r.Uint32())
	}
	copy(b[n-len(tail):], tail)
	return b
}

func base64Lines(data []byte) string {
	enc := base64.StdEncoding.EncodeToString(data)
	var b strings.Builder
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n")
	return b.String()
}

// ascii drops the accents of the names used here, for local parts.
func ascii(s string) string {
	plain := map[rune]rune{'á': 'a', 'à': 'a', 'â': 'a', 'ã': 'a', 'é': 'e', 'ê': 'e', 'í': 'i', 'ó': 'o', 'ô': 'o',
		'õ': 'o', 'ú': 'u', 'ü': 'u', 'ç': 'c'}
	return strings.Map(func(r rune) rune {
		r = unicode.ToLower(r)
		if p, ok := plain[r]; ok {
			return p
		}
		if r > unicode.MaxASCII {
			return -1
		}
		return r
	}, s)
}
