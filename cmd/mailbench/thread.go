package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"mime"
	"net/mail"
	"strings"
	"time"
)

// The thread set (-set thread): conversations as a helpdesk sees them.
// Requests come from 40 people at 4 customer domains, a colleague and a
// vendor often in Cc; replies come from the requester, from a colleague
// or a vendor who was in Cc (answering all), and from strangers who were
// never on the thread (a forward to someone new, a leaked Message-ID).
// Every reply answers the newest message of its conversation by
// In-Reply-To/References. The generator knows where each message should
// land, so a run can be checked (threadExpect).

// Customer domains of the thread set: the daemon must know them as the
// domains of customer companies (servicedesk company create --domain).
var threadDomains = []string{"lojasilva.example", "construtora-ribeiro.example", "contabil-souza.example", "clinicavida.example"}

// Vendors are outside every customer: their domains are nobody's.
var threadVendors = []sender{
	{"Ana Fornecedora", "ana@impressoras-brasil.example"}, {"Carlos Suporte", "carlos@redes-sul.example"},
	{"Bruna Técnica", "bruna@impressoras-brasil.example"}, {"Diego Campo", "diego@software-norte.example"},
}

// StrangerDomain is the domain of the strangers: unknown too, so that
// mail.unknown_sender quarantine holds them back.
const strangerDomain = "desconhecido.example"

// Who writes a reply.
const (
	fromRequester = iota
	fromColleague // a colleague of the requester who was in Cc
	fromVendor    // a vendor who was in Cc
	fromStranger  // someone never on the thread
	numFrom
)

var fromNames = [numFrom]string{"requester", "colleague", "vendor", "stranger"}

// conv is one conversation of the thread set.
type conv struct {
	requester, colleague int // indexes into senders; colleague -1 when none was in Cc
	vendor               int // index into threadVendors; -1 when none
	msgs                 []int
}

// threadMeta is the part of meta the thread set adds.
type threadMeta struct {
	conv     int    // the conversation
	from     int    // fromRequester … (replies); -1 for a request
	addr     string // the sender
	name     string
	cc       []string
	stranger bool
}

// threadExpect is what a correct daemon does with the set.
type threadExpect struct {
	Requests int            `json:"requests"`
	Replies  map[string]int `json:"replies"` // by who wrote them
	// Tickets with mail.unknown_sender create: every request, and one
	// (linked) ticket per stranger's reply; comments: the other replies.
	TicketsCreate int `json:"tickets_create"`
	Comments      int `json:"comments"`
	// With quarantine, the strangers are held and nothing else changes.
	TicketsQuarantine int `json:"tickets_quarantine"`
	Quarantined       int `json:"quarantined"`
}

// newThreadGenerator builds the thread set of n messages: half requests
// (the first replyGap all requests), half replies.
func newThreadGenerator(seed uint64, run, to string, n int, start time.Time) *generator {
	g := &generator{seed: seed, run: run, to: to, start: start}
	r := rand.New(rand.NewPCG(seed, 7))
	for i := 0; i < 40; i++ {
		f, l := firstNames[i%len(firstNames)], lastNames[(i/2+i)%len(lastNames)]
		local := strings.ToLower(ascii(f) + "." + ascii(l) + fmt.Sprint(i))
		g.senders = append(g.senders, sender{name: f + " " + l, addr: local + "@" + threadDomains[i%len(threadDomains)]})
	}
	g.metas = make([]meta, n)
	g.thread = make([]threadMeta, n)
	requests := (n + 1) / 2
	made := 0
	for i := range g.metas {
		m := meta{parent: -1, date: g.start.Add(time.Duration(i) * time.Second), kind: kindPlain}
		m.messageID = fmt.Sprintf("<mbt.%s.%d.%d@mailbench.example>", g.run, g.seed, i)
		request := i < replyGap || (made < requests && (i-replyGap)%2 == 1) || len(g.convs) == 0
		if made >= requests {
			request = false
		}
		if request {
			made++
			g.metas[i], g.thread[i] = g.threadRequest(r, i, m)
			continue
		}
		m.kind = kindReply
		g.metas[i], g.thread[i] = g.threadReply(r, i, m)
	}
	return g
}

func (g *generator) threadRequest(r *rand.Rand, i int, m meta) (meta, threadMeta) {
	c := conv{requester: r.IntN(len(g.senders)), colleague: -1, vendor: -1}
	tm := threadMeta{conv: len(g.convs), from: -1}
	if r.IntN(100) < 70 { // a colleague of the same company in Cc
		c.colleague = (c.requester + len(threadDomains)*(1+r.IntN(9))) % len(g.senders)
		tm.cc = append(tm.cc, g.senders[c.colleague].addr)
	}
	if r.IntN(100) < 50 { // a vendor in Cc
		c.vendor = r.IntN(len(threadVendors))
		tm.cc = append(tm.cc, threadVendors[c.vendor].addr)
	}
	c.msgs = []int{i}
	g.convs = append(g.convs, c)
	s := g.senders[c.requester]
	tm.addr, tm.name = s.addr, s.name
	m.sender = c.requester
	m.subject = subjects[r.IntN(len(subjects))]
	return m, tm
}

func (g *generator) threadReply(r *rand.Rand, i int, m meta) (meta, threadMeta) {
	// A recent conversation: people answer what is still open.
	lo := max(0, len(g.convs)-60)
	ci := lo + r.IntN(len(g.convs)-lo)
	c := &g.convs[ci]
	tm := threadMeta{conv: ci}
	switch p := r.IntN(100); {
	case p < 55:
		tm.from = fromRequester
	case p < 75:
		tm.from = fromColleague
	case p < 90:
		tm.from = fromVendor
	default:
		tm.from = fromStranger
	}
	if tm.from == fromColleague && c.colleague < 0 || tm.from == fromVendor && c.vendor < 0 {
		tm.from = fromRequester // nobody of that kind was in Cc
	}
	on := map[string]bool{} // who answers all: everyone on the thread but themselves
	add := func(a string) {
		if !on[a] {
			on[a] = true
			tm.cc = append(tm.cc, a)
		}
	}
	add(g.senders[c.requester].addr)
	if c.colleague >= 0 {
		add(g.senders[c.colleague].addr)
	}
	if c.vendor >= 0 {
		add(threadVendors[c.vendor].addr)
	}
	switch tm.from {
	case fromRequester:
		tm.addr, tm.name = g.senders[c.requester].addr, g.senders[c.requester].name
	case fromColleague:
		tm.addr, tm.name = g.senders[c.colleague].addr, g.senders[c.colleague].name
	case fromVendor:
		tm.addr, tm.name = threadVendors[c.vendor].addr, threadVendors[c.vendor].name
	case fromStranger:
		// A forward to someone new, or a leaked Message-ID: the stranger
		// answers the request alone.
		tm.stranger = true
		tm.addr, tm.name = fmt.Sprintf("pessoa%d@%s", i, strangerDomain), "Pessoa Desconhecida"
		tm.cc = nil
	}
	kept := tm.cc[:0]
	for _, a := range tm.cc {
		if a != tm.addr {
			kept = append(kept, a)
		}
	}
	tm.cc = kept
	m.sender = c.requester
	m.parent = c.msgs[len(c.msgs)-1]
	if tm.stranger {
		m.parent = c.msgs[0]
	}
	p := g.metas[m.parent]
	m.subject = p.subject
	m.refs = append(append([]string(nil), p.refs...), p.messageID)
	if len(m.refs) > 10 {
		m.refs = m.refs[len(m.refs)-10:]
	}
	if !tm.stranger {
		c.msgs = append(c.msgs, i)
	}
	return m, tm
}

// expect is what the set should become.
func (g *generator) expect() threadExpect {
	e := threadExpect{Replies: map[string]int{}}
	for i, tm := range g.thread {
		if g.metas[i].kind != kindReply {
			e.Requests++
			continue
		}
		e.Replies[fromNames[tm.from]]++
		if tm.stranger {
			e.Quarantined++
		} else {
			e.Comments++
		}
	}
	e.TicketsCreate = e.Requests + e.Quarantined
	e.TicketsQuarantine = e.Requests
	return e
}

// threadMessage returns the bytes of message i of the thread set.
func (g *generator) threadMessage(i int) []byte {
	m, tm := g.metas[i], g.thread[i]
	var b bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	h("From", (&mail.Address{Name: tm.name, Address: tm.addr}).String())
	h("To", (&mail.Address{Name: "Suporte", Address: g.to}).String())
	if len(tm.cc) > 0 {
		h("Cc", strings.Join(tm.cc, ", "))
	}
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
	h("Content-Type", "text/plain; charset=utf-8")
	h("Content-Transfer-Encoding", "quoted-printable")
	text := g.text(i)
	text = strings.Replace(text, g.senders[m.sender].name+"\r\n", tm.name+"\r\n", 1)
	b.WriteString("\r\n" + qp(text))
	return b.Bytes()
}

// envelopeFrom is message i's MAIL FROM.
func (g *generator) envelopeFrom(i int) string {
	if g.thread != nil {
		return g.thread[i].addr
	}
	return g.senders[g.metas[i].sender].addr
}

// bytesOf returns message i of whichever set g holds.
func (g *generator) bytesOf(i int) []byte {
	if g.thread != nil {
		return g.threadMessage(i)
	}
	return g.message(i)
}
