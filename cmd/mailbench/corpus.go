package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
)

// corpusFallbackFrom is MAIL FROM for a corpus message whose From header
// has no usable address.
const corpusFallbackFrom = "corpus@mailbench.example"

// corpus is a message set read from files (-corpus), sent round-robin.
type corpus struct {
	path string
	msgs []corpusMsg
}

// corpusMsg is one message of a corpus in its wire form (every line
// ending CRLF), cut where the Message-ID field goes: a copy is pre, the
// field, post.
type corpusMsg struct {
	name      string // the file, or the mbox and the message's number
	pre, post []byte
	from      string // MAIL FROM
	fallback  bool   // from is corpusFallbackFrom
}

// loadCorpus reads path: a directory is every regular file under it (its
// subdirectories too) whose name matches the pattern match (filepath.Match,
// "*.eml" by default), in lexical order of the path; a file is an mbox.
func loadCorpus(path, match string) (*corpus, error) {
	if _, err := filepath.Match(match, ""); err != nil {
		return nil, fmt.Errorf("-corpus-match %q: %w", match, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	cp := &corpus{path: path}
	add := func(name string, raw []byte) {
		wire := crlf(raw)
		pre, post := cutMessageID(wire)
		from, ok := envelopeFromHeader(wire)
		cp.msgs = append(cp.msgs, corpusMsg{name: name, pre: pre, post: post, from: from, fallback: !ok})
	}
	if !fi.IsDir() {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		msgs, err := splitMbox(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		for k, m := range msgs {
			add(fmt.Sprintf("%s#%d", path, k+1), m)
		}
		return cp, nil
	}
	// WalkDir visits in lexical order.
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if ok, _ := filepath.Match(match, d.Name()); !ok {
			return nil
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		add(p, raw)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(cp.msgs) == 0 {
		return nil, fmt.Errorf("%s: no file matches %q", path, match)
	}
	return cp, nil
}

// messageID is the Message-ID of send i: the run tag, the corpus message
// (k) and which copy of it this is.
func (cp *corpus) messageID(run string, i int) string {
	k := i % len(cp.msgs)
	return fmt.Sprintf("<mbc.%s.%d.%d@mailbench.example>", run, k, i/len(cp.msgs))
}

// message returns send i's bytes and MAIL FROM.
func (cp *corpus) message(run string, i int) ([]byte, string) {
	m := &cp.msgs[i%len(cp.msgs)]
	id := cp.messageID(run, i)
	b := make([]byte, 0, len(m.pre)+len(m.post)+len(id)+14)
	b = append(b, m.pre...)
	b = append(b, "Message-ID: "+id+"\r\n"...)
	b = append(b, m.post...)
	return b, m.from
}

// fallbacks counts the messages without a usable From address.
func (cp *corpus) fallbacks() int {
	n := 0
	for _, m := range cp.msgs {
		if m.fallback {
			n++
		}
	}
	return n
}

// splitMbox splits an mbox on its "From " lines (at the start of a line;
// the line itself is dropped, with the empty line that ends the message
// before it) and unescapes the body's ">From " lines (mboxrd: one '>' off
// any run of '>' before "From ", which is mboxo's ">From " too).
func splitMbox(data []byte) ([][]byte, error) {
	if !bytes.HasPrefix(data, []byte("From ")) {
		return nil, errors.New(`not an mbox: it does not begin with a "From " line`)
	}
	var msgs [][]byte
	var cur []byte
	for len(data) > 0 {
		var line []byte
		if j := bytes.IndexByte(data, '\n'); j >= 0 {
			line, data = data[:j+1], data[j+1:]
		} else {
			line, data = data, nil
		}
		if bytes.HasPrefix(line, []byte("From ")) {
			if cur != nil {
				msgs = append(msgs, trimMboxSeparator(cur))
			}
			cur = []byte{}
			continue
		}
		if q := bytes.TrimLeft(line, ">"); len(q) < len(line) && bytes.HasPrefix(q, []byte("From ")) {
			line = line[1:]
		}
		cur = append(cur, line...)
	}
	return append(msgs, trimMboxSeparator(cur)), nil
}

// trimMboxSeparator drops the empty line an mbox writer puts after a
// message.
func trimMboxSeparator(m []byte) []byte {
	switch {
	case bytes.HasSuffix(m, []byte("\n\r\n")):
		return m[:len(m)-2]
	case bytes.HasSuffix(m, []byte("\n\n")):
		return m[:len(m)-1]
	}
	return m
}

// crlf returns raw with every line ending (CRLF, a bare LF or a bare CR)
// CRLF, and a CRLF at the end if the last line had none: SMTP allows no
// other, and go-smtp's writer, which adds a CR before a bare LF, would
// double one before "\r\r\n".
func crlf(raw []byte) []byte {
	b := make([]byte, 0, len(raw)+len(raw)/16+2)
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case c == '\r' && i+1 < len(raw) && raw[i+1] == '\n':
			b = append(b, '\r', '\n')
			i++
		case c == '\r' || c == '\n':
			b = append(b, '\r', '\n')
		default:
			b = append(b, c)
		}
	}
	if len(b) > 0 && !bytes.HasSuffix(b, []byte("\r\n")) {
		b = append(b, '\r', '\n')
	}
	return b
}

// field is one header field of a wire-form message: its name and its
// bytes, continuation lines and the final CRLF included.
type field struct {
	name       string
	start, end int
}

// headerFields returns the fields of wire's header (CRLF lines), which
// ends at the first empty line. A line that is neither a field ("name:",
// the name printable ASCII without spaces, with optional blanks before
// the colon) nor a continuation of one (SP or HT first) belongs to no
// field: a leading mbox "From " line, or a line without a colon, which
// the daemon's parser skips too.
func headerFields(wire []byte) []field {
	var fs []field
	for pos := 0; pos < len(wire); {
		end := len(wire)
		if j := bytes.IndexByte(wire[pos:], '\n'); j >= 0 {
			end = pos + j + 1
		}
		line := wire[pos:end]
		switch {
		case bytes.Equal(line, []byte("\r\n")):
			return fs
		case line[0] == ' ' || line[0] == '\t':
			if n := len(fs); n > 0 && fs[n-1].end == pos {
				fs[n-1].end = end
			}
		default:
			if colon := bytes.IndexByte(line, ':'); colon > 0 {
				if name := bytes.TrimRight(line[:colon], " \t"); fieldName(name) {
					fs = append(fs, field{name: string(name), start: pos, end: end})
				}
			}
		}
		pos = end
	}
	return fs
}

func fieldName(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c <= ' ' || c > '~' || c == ':' {
			return false
		}
	}
	return true
}

// cutMessageID removes every Message-ID field from wire's header and
// returns the bytes before and after where the new one goes: where the
// first one was; else before the first field; else at the start of the
// header (after a leading "From " line) unless a continuation line is
// there, which would fold into the new field: then at the end of the
// header.
func cutMessageID(wire []byte) (pre, post []byte) {
	fs := headerFields(wire)
	at := -1
	var rest []byte
	last := 0
	for _, f := range fs {
		if !strings.EqualFold(f.name, "Message-ID") {
			continue
		}
		if at < 0 {
			at = f.start
		}
		rest = append(rest, wire[last:f.start]...)
		last = f.end
	}
	rest = append(rest, wire[last:]...)
	switch {
	case at >= 0:
	case len(fs) > 0:
		at = fs[0].start
	default:
		at = 0
		if bytes.HasPrefix(rest, []byte("From ")) {
			at = bytes.IndexByte(rest, '\n') + 1
		}
		if at < len(rest) && (rest[at] == ' ' || rest[at] == '\t') {
			at = headerEnd(rest)
		}
	}
	return rest[:at:at], rest[at:]
}

// headerEnd is the offset of the empty line that ends wire's header, or
// len(wire).
func headerEnd(wire []byte) int {
	for pos := 0; pos < len(wire); {
		if bytes.HasPrefix(wire[pos:], []byte("\r\n")) {
			return pos
		}
		j := bytes.IndexByte(wire[pos:], '\n')
		if j < 0 {
			break
		}
		pos += j + 1
	}
	return len(wire)
}

// rewriteMessageID returns raw in its wire form with id (angle brackets
// included) as its one Message-ID.
func rewriteMessageID(raw []byte, id string) []byte {
	pre, post := cutMessageID(crlf(raw))
	b := append(pre, "Message-ID: "+id+"\r\n"...)
	return append(b, post...)
}

// envelopeFromHeader returns the address of wire's first From field, if
// it has one that can be MAIL FROM (printable ASCII, no blanks), or
// corpusFallbackFrom and false.
func envelopeFromHeader(wire []byte) (string, bool) {
	for _, f := range headerFields(wire) {
		if !strings.EqualFold(f.name, "From") {
			continue
		}
		v := wire[f.start:f.end]
		v = v[bytes.IndexByte(v, ':')+1:]
		v = bytes.ReplaceAll(v, []byte("\r\n"), nil) // unfold
		addr := ""
		if as, err := mail.ParseAddressList(string(v)); err == nil && len(as) > 0 {
			addr = as[0].Address
		} else if i := bytes.LastIndexByte(v, '<'); i >= 0 { // undecodable display name
			if j := bytes.IndexByte(v[i:], '>'); j > 0 {
				addr = string(v[i+1 : i+j])
			}
		} else {
			addr = string(bytes.TrimSpace(v))
		}
		if mailboxAddr(addr) {
			return addr, true
		}
		break
	}
	return corpusFallbackFrom, false
}

func mailboxAddr(s string) bool {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c > '~' || c == '<' || c == '>' {
			return false
		}
	}
	return true
}
