package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/jcservicedesk/servicedesk/mailbox/intake"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
)

const newID = "<mbc.t.0.0@mailbench.example>"

func TestRewriteMessageID(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"present",
			"From: a@x.example\r\nMessage-ID: <old@x.example>\r\nSubject: s\r\n\r\nbody\r\n",
			"From: a@x.example\r\nMessage-ID: " + newID + "\r\nSubject: s\r\n\r\nbody\r\n"},
		{"absent: before the first field",
			"From: a@x.example\r\nSubject: s\r\n\r\nbody\r\n",
			"Message-ID: " + newID + "\r\nFrom: a@x.example\r\nSubject: s\r\n\r\nbody\r\n"},
		{"folded",
			"From: a@x.example\r\nMessage-ID:\r\n\t<old.very.long@x.example>\r\nSubject: s\r\n\r\nbody\r\n",
			"From: a@x.example\r\nMessage-ID: " + newID + "\r\nSubject: s\r\n\r\nbody\r\n"},
		{"folded, the last field",
			"From: a@x.example\r\nMessage-ID: <old@x.example>\r\n (comment)\r\n\r\nbody\r\n",
			"From: a@x.example\r\nMessage-ID: " + newID + "\r\n\r\nbody\r\n"},
		{"lowercase",
			"from: a@x.example\r\nmessage-id: <old@x.example>\r\n\r\nbody\r\n",
			"from: a@x.example\r\nMessage-ID: " + newID + "\r\n\r\nbody\r\n"},
		{"blanks before the colon (obsolete syntax)",
			"From: a@x.example\r\nMessage-Id : <old@x.example>\r\n\r\nbody\r\n",
			"From: a@x.example\r\nMessage-ID: " + newID + "\r\n\r\nbody\r\n"},
		{"LF only",
			"From: a@x.example\nMessage-ID: <old@x.example>\nSubject: s\n\nline 1\n.line 2\n",
			"From: a@x.example\r\nMessage-ID: " + newID + "\r\nSubject: s\r\n\r\nline 1\r\n.line 2\r\n"},
		{"CR only",
			"From: a@x.example\rMessage-ID: <old@x.example>\r\rbody\r",
			"From: a@x.example\r\nMessage-ID: " + newID + "\r\n\r\nbody\r\n"},
		{"mixed endings, no final newline",
			"From: a@x.example\r\nSubject: s\n\r\nbody\rmore",
			"Message-ID: " + newID + "\r\nFrom: a@x.example\r\nSubject: s\r\n\r\nbody\r\nmore\r\n"},
		{"two Message-IDs: one left, where the first was",
			"Message-ID: <a@x>\r\nFrom: a@x.example\r\nMessage-ID: <b@x>\r\n\r\nbody\r\n",
			"Message-ID: " + newID + "\r\nFrom: a@x.example\r\n\r\nbody\r\n"},
		{"one in the body is the body's",
			"From: a@x.example\r\n\r\nMessage-ID: <quoted@x>\r\n",
			"Message-ID: " + newID + "\r\nFrom: a@x.example\r\n\r\nMessage-ID: <quoted@x>\r\n"},
		{"after a line without a colon",
			"From: a@x.example\nno colon here\nMessage-ID: <old@x>\n\nbody\n",
			"From: a@x.example\r\nno colon here\r\nMessage-ID: " + newID + "\r\n\r\nbody\r\n"},
		{"no blank line before the body",
			"From: a@x.example\r\nMessage-ID: <old@x>\r\nBom dia.\r\n",
			"From: a@x.example\r\nMessage-ID: " + newID + "\r\nBom dia.\r\n"},
		{"a leading mbox From line stays first",
			"From MAILER-DAEMON Mon Nov 30 09:15:34 2026\r\n\r\nbody\r\n",
			"From MAILER-DAEMON Mon Nov 30 09:15:34 2026\r\nMessage-ID: " + newID + "\r\n\r\nbody\r\n"},
		{"no field, a continuation first: at the end of the header",
			" orphan\r\n\r\nbody\r\n",
			" orphan\r\nMessage-ID: " + newID + "\r\n\r\nbody\r\n"},
		{"empty", "", "Message-ID: " + newID + "\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(rewriteMessageID([]byte(tc.in), newID)); got != tc.want {
				t.Errorf("rewriteMessageID(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestSplitMbox(t *testing.T) {
	mbox := "From a@x.example Mon Nov 30 09:15:34 2026\n" +
		"From: a@x.example\nSubject: one\n\nhello\n>From the start\n>>From twice\n> From not escaped\nFrom: is no separator\n\n" +
		"From b@x.example Mon Nov 30 09:16:00 2026\r\n" +
		"From: b@x.example\r\n\r\nsecond\r\n\r\n" +
		"From c@x.example Mon Nov 30 09:17:00 2026\n" +
		"From: c@x.example\n\nno separator line at the end"
	got, err := splitMbox([]byte(mbox))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"From: a@x.example\nSubject: one\n\nhello\nFrom the start\n>From twice\n> From not escaped\nFrom: is no separator\n",
		"From: b@x.example\r\n\r\nsecond\r\n",
		"From: c@x.example\n\nno separator line at the end",
	}
	var gs []string
	for _, m := range got {
		gs = append(gs, string(m))
	}
	if fmt.Sprintf("%q", gs) != fmt.Sprintf("%q", want) {
		t.Errorf("splitMbox:\n got %q\nwant %q", gs, want)
	}
	if _, err := splitMbox([]byte("From: a@x.example\n\nnot an mbox\n")); err == nil {
		t.Error("a file that does not begin with a From line was taken for an mbox")
	}
}

func TestEnvelopeFromHeader(t *testing.T) {
	for _, tc := range []struct{ from, want string }{
		{"From: \"Roberto Dias\" <roberto@dias.example>\r\n", "roberto@dias.example"},
		{"from: plain@x.example\r\n", "plain@x.example"},
		{"From: =?x-unknown?Q?Jo=E3o?= <joao@x.example>\r\n", "joao@x.example"},
		{"From: Jo\xe3o Silva <joao@x.example>\r\n", "joao@x.example"},
		{"From: Folded Name\r\n <folded@x.example>\r\n", "folded@x.example"},
		{"From: a@x.example (comment), b@x.example\r\n", "a@x.example"},
		{"From: undisclosed\r\n", corpusFallbackFrom},
		{"From: <>\r\n", corpusFallbackFrom},
		{"From: Jos\xc3\xa9 <jos\xc3\xa9@x.example>\r\n", corpusFallbackFrom}, // would need SMTPUTF8
		{"Sender: s@x.example\r\n", corpusFallbackFrom},
		{"Subject: s\r\n\r\nFrom: body@x.example\r\n", corpusFallbackFrom},
	} {
		got, ok := envelopeFromHeader([]byte(tc.from + "\r\nbody\r\n"))
		if got != tc.want || ok != (tc.want != corpusFallbackFrom) {
			t.Errorf("envelopeFromHeader(%q) = %q, %v; want %q", tc.from, got, ok, tc.want)
		}
	}
}

// TestLoadCorpus reads a directory (subdirectories, the name pattern, the
// order) and an mbox.
func TestLoadCorpus(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"b.eml":        "From: b@x.example\n\nb\n",
		"a.eml":        "From: a@x.example\n\na\n",
		"sub/c.eml":    "From: c@x.example\n\nc\n",
		"sub/notes":    "From: n@x.example\n\nnot matched\n",
		"mbox/all.txt": "From x Mon Nov 30 09:15:34 2026\nFrom: m1@x.example\n\n>From one\n\nFrom x Mon Nov 30 09:15:35 2026\nSubject: no from\n\ntwo\n",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	froms := func(cp *corpus) string {
		var s []string
		for _, m := range cp.msgs {
			s = append(s, m.from)
		}
		return strings.Join(s, " ")
	}
	cp, err := loadCorpus(dir, "*.eml")
	if err != nil {
		t.Fatal(err)
	}
	if got := froms(cp); got != "a@x.example b@x.example c@x.example" {
		t.Errorf("*.eml: %s", got)
	}
	if cp, err = loadCorpus(filepath.Join(dir, "sub"), "*"); err != nil || froms(cp) != "c@x.example n@x.example" {
		t.Errorf("sub, *: %v %v", cp, err)
	}
	cp, err = loadCorpus(filepath.Join(dir, "mbox", "all.txt"), "*.eml")
	if err != nil {
		t.Fatal(err)
	}
	if got := froms(cp); got != "m1@x.example "+corpusFallbackFrom || cp.fallbacks() != 1 {
		t.Errorf("mbox: %s, %d without From", got, cp.fallbacks())
	}
	if raw, _ := cp.message("r", 2); string(raw) != "Message-ID: <mbc.r.0.1@mailbench.example>\r\nFrom: m1@x.example\r\n\r\nFrom one\r\n" {
		t.Errorf("mbox message 0, copy 1: %q", raw)
	}
	if _, err := loadCorpus(filepath.Join(dir, "sub"), "*.mbox"); err == nil {
		t.Error("a directory without a matching file is a corpus")
	}
	if _, err := loadCorpus(filepath.Join(dir, "a.eml"), "*.eml"); err == nil {
		t.Error("a file that is not an mbox is a corpus")
	}
}

// received is what the test server got in one transaction.
type corpusReceived struct {
	from string
	data []byte
}

// corpusServer is a real go-smtp server that keeps every message.
func corpusServer(t *testing.T) (addr string, got func() []corpusReceived) {
	var mu sync.Mutex
	var all []corpusReceived
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &corpusSession{keep: func(r corpusReceived) {
			mu.Lock()
			defer mu.Unlock()
			all = append(all, r)
		}}, nil
	}))
	srv.Domain = "mx.test"
	srv.MaxMessageBytes = 25 << 20
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String(), func() []corpusReceived {
		mu.Lock()
		defer mu.Unlock()
		return append([]corpusReceived(nil), all...)
	}
}

type corpusSession struct {
	keep func(corpusReceived)
	from string
}

func (s *corpusSession) Mail(from string, _ *smtp.MailOptions) error { s.from = from; return nil }
func (s *corpusSession) Rcpt(string, *smtp.RcptOptions) error        { return nil }
func (s *corpusSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.keep(corpusReceived{from: s.from, data: b})
	return nil
}
func (s *corpusSession) Reset()        { s.from = "" }
func (s *corpusSession) Logout() error { return nil }

var (
	headerMessageID = regexp.MustCompile(`(?im)^message-id[ \t]*:[^\n]*\n(?:[ \t][^\n]*\n)*`)
	sentMessageID   = regexp.MustCompile(`^<mbc\.t\.(\d+)\.(\d+)@mailbench\.example>$`)
)

// TestCorpusThroughSMTP sends the project's fixtures twice over through a
// real go-smtp server and checks that every copy arrived with a Message-ID
// of its own, and otherwise as the file is, line endings made CRLF.
func TestCorpusThroughSMTP(t *testing.T) {
	const dir = "../../mailbox/testdata"
	cp, err := loadCorpus(dir, "*.eml")
	if err != nil {
		t.Fatal(err)
	}
	k := len(cp.msgs)
	if k != 73 {
		t.Fatalf("%s has %d .eml files; the test expects 73", dir, k)
	}
	addr, got := corpusServer(t)
	res := run(options{addr: addr, to: "support@helpdesk.example", helo: "client.test", n: 2 * k, c: 4,
		run: "t", timeout: 5 * time.Minute, set: "mix", corpus: dir, cp: cp})
	if res.OK != 2*k {
		t.Fatalf("not every message was accepted: %s", res.summary())
	}
	if s := res.summary(); !strings.Contains(s, fmt.Sprintf("corpus=%s (%d messages)", dir, k)) || strings.Contains(s, "mix ") {
		t.Errorf("summary: %s", s)
	}
	js, _ := json.Marshal(res)
	var back map[string]any
	json.Unmarshal(js, &back)
	if back["corpus"] != dir || back["corpus_messages"] != float64(k) || back["mix"] != nil {
		t.Errorf("JSON: %s", js)
	}

	// What each file should arrive as, worked out apart from the code
	// under test: line endings CRLF, the header's Message-ID fields out.
	type want struct {
		name, from string
		body       []byte // without the Message-ID
		hadID      bool
	}
	wants := make([]want, k)
	for i, m := range cp.msgs {
		raw, err := os.ReadFile(m.name)
		if err != nil {
			t.Fatal(err)
		}
		s := strings.ReplaceAll(string(raw), "\r\n", "\n")
		s = strings.ReplaceAll(s, "\r", "\n")
		if !strings.HasSuffix(s, "\n") {
			s += "\n"
		}
		s = strings.ReplaceAll(s, "\n", "\r\n")
		head, body, _ := strings.Cut(s, "\r\n\r\n")
		head += "\r\n"
		nh := headerMessageID.ReplaceAllString(head, "")
		wants[i] = want{name: m.name, from: m.from, hadID: nh != head}
		if strings.Contains(s, "\r\n\r\n") {
			wants[i].body = []byte(nh + "\r\n" + body)
		} else {
			wants[i].body = []byte(strings.TrimSuffix(nh, "\r\n"))
		}
	}
	ids := map[string]bool{}
	copies := make([]int, k)
	var bytesIn int64
	for _, r := range got() {
		bytesIn += int64(len(r.data))
		head, _, _ := bytes.Cut(r.data, []byte("\r\n\r\n"))
		fields := headerMessageID.FindAll(append(head, '\r', '\n'), -1)
		if len(fields) != 1 {
			t.Errorf("a message arrived with %d Message-ID fields: %.200q", len(fields), r.data)
			continue
		}
		id := strings.TrimSpace(strings.TrimPrefix(string(fields[0]), "Message-ID:"))
		sm := sentMessageID.FindStringSubmatch(id)
		if sm == nil || ids[id] {
			t.Errorf("Message-ID %q: not mailbench's, or seen before", id)
			continue
		}
		ids[id] = true
		var n, c int
		fmt.Sscan(sm[1], &n)
		fmt.Sscan(sm[2], &c)
		copies[n]++
		w := wants[n]
		if rest := bytes.Replace(r.data, fields[0], nil, 1); !bytes.Equal(rest, w.body) {
			t.Errorf("%s, copy %d: not the file's bytes:\n got %.300q\nwant %.300q", w.name, c, rest, w.body)
		}
		if r.from != w.from {
			t.Errorf("%s: MAIL FROM %q, want %q", w.name, r.from, w.from)
		}
	}
	if len(ids) != 2*k {
		t.Errorf("%d distinct Message-IDs for %d sends", len(ids), 2*k)
	}
	for n, c := range copies {
		if c != 2 {
			t.Errorf("%s arrived %d times, want 2", wants[n].name, c)
		}
	}
	if bytesIn != res.Bytes {
		t.Errorf("the server got %d bytes, mailbench counted %d", bytesIn, res.Bytes)
	}
	var noID, fallback []string
	for _, w := range wants {
		if !w.hadID {
			noID = append(noID, filepath.Base(w.name))
		}
		if w.from == corpusFallbackFrom {
			fallback = append(fallback, filepath.Base(w.name))
		}
	}
	t.Logf("%d files, %d bytes sent; without a Message-ID: %v; MAIL FROM %s: %v", k, res.Bytes, noID, corpusFallbackFrom, fallback)
}

// FuzzRewriteMessageID checks the header rewrite on any input: the result
// has CRLF line endings only and one Message-ID field, the new one, and
// without it is the input's wire form without its Message-IDs; rewriting
// it again changes only the Message-ID.
func FuzzRewriteMessageID(f *testing.F) {
	for _, s := range []string{
		"From: a@x.example\r\nMessage-ID: <old@x>\r\n\r\nbody\r\n",
		"From: a@x.example\nmessage-id:\n <old@x>\n\nbody",
		"From x Mon Nov 30 09:15:34 2026\r\n\r\nbody\r\n",
		" orphan\r\n\tmore\r\n",
		"Message-ID: <a>\rMessage-Id : <b>\r\r",
		"",
	} {
		f.Add([]byte(s))
	}
	if fs, _ := filepath.Glob("../../mailbox/testdata/*.eml"); len(fs) > 0 {
		for _, p := range fs[:min(len(fs), 20)] {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	const id2 = "<again@mailbench.example>"
	f.Fuzz(func(t *testing.T, raw []byte) {
		out := rewriteMessageID(raw, newID)
		for i, c := range out {
			if (c == '\r' && (i+1 == len(out) || out[i+1] != '\n')) || (c == '\n' && (i == 0 || out[i-1] != '\r')) {
				t.Fatalf("a bare CR or LF at %d: %q", i, out)
			}
		}
		var ids []field
		for _, fl := range headerFields(out) {
			if strings.EqualFold(fl.name, "Message-ID") {
				ids = append(ids, fl)
			}
		}
		if len(ids) != 1 || string(out[ids[0].start:ids[0].end]) != "Message-ID: "+newID+"\r\n" {
			t.Fatalf("Message-ID fields %v in %q", ids, out)
		}
		pre, post := cutMessageID(crlf(raw))
		without := append(append([]byte(nil), out[:ids[0].start]...), out[ids[0].end:]...)
		if !bytes.Equal(without, append(append([]byte(nil), pre...), post...)) {
			t.Fatalf("other bytes changed: %q -> %q", raw, out)
		}
		again := rewriteMessageID(out, id2)
		want := append(append(append([]byte(nil), out[:ids[0].start]...), "Message-ID: "+id2+"\r\n"...), out[ids[0].end:]...)
		if !bytes.Equal(again, want) {
			t.Fatalf("a second rewrite of %q:\n got %q\nwant %q", out, again, want)
		}
	})
}

// TestCorpusCopiesAreNewMail sends the fixtures twice over through the
// daemon's SMTP receiver into the intake: every copy must be new mail
// (its own mail row, or its own quarantine entry), none a duplicate of
// the other copy.
func TestCorpusCopiesAreNewMail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if err := st.InTx(ctx, func(q *store.Q) error {
			return q.CreateCompany(ctx, &store.Company{Name: "Default"})
		}); err != nil {
			t.Fatal(err)
		}
		const dir = "../../mailbox/testdata"
		cp, err := loadCorpus(dir, "*.eml")
		if err != nil {
			t.Fatal(err)
		}
		k := len(cp.msgs)
		const to = "support@helpdesk.example"
		addr := startDaemon(t, st, to, intake.UnknownCreate)
		res := run(options{addr: addr, to: to, helo: "client.test", n: 2 * k, c: 4,
			run: "t", timeout: 5 * time.Minute, set: "mix", corpus: dir, cp: cp})
		if res.OK != 2*k {
			t.Fatalf("not every message was accepted: %s", res.summary())
		}
		mails, err := st.R().MailPage(ctx, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		held, err := st.R().QuarantinePage(ctx, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		actions := map[string]int{}
		ids := map[string]bool{}
		for _, m := range mails {
			actions[m.Action]++
			ids[m.MessageID] = true
		}
		t.Logf("%d sends: %d mail rows %v (%d Message-IDs), %d held", 2*k, len(mails), actions, len(ids), len(held))
		if actions["duplicate"] > 0 || len(mails)+len(held) != 2*k || len(ids) != len(mails) {
			t.Errorf("%d sends: %d mail rows %v, %d held: not every copy is new mail", 2*k, len(mails), actions, len(held))
		}
	})
}
