package parse

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	htmlcharset "golang.org/x/net/html/charset"

	"github.com/jcservicedesk/servicedesk/mailbox/thread"
)

// Nesting and part-count bounds keep hostile input linear in its size.
const (
	maxDepth     = 30
	maxForwarded = 5 // message/rfc822 nesting parsed for text
)

// content is what one MIME entity contributes to the message.
type content struct {
	plain []string
	html  []string
	atts  []Attachment
	fwds  []*Message
	// namedText holds inline text/plain parts that have a file name (they
	// are attachments too), for a message with no other body.
	namedText []string
}

func (c *content) add(o content) {
	c.namedText = append(c.namedText, o.namedText...)
	c.plain = append(c.plain, o.plain...)
	c.html = append(c.html, o.html...)
	c.atts = append(c.atts, o.atts...)
	c.fwds = append(c.fwds, o.fwds...)
}

// walker carries the per-parse state through the MIME tree.
type walker struct {
	warn    func(string)
	parts   int
	fwDepth int
	hs      headerScratch
	// maxParts is Limits.MaxParts; omitted counts the parts past it, with
	// the first few file names.
	maxParts     int
	omitted      int
	omittedNames []string
}

// entity handles one MIME entity. asAttachment forces non-body treatment
// (multipart/report's machine-readable parts, related's non-root parts).
func (w *walker) entity(h fields, body []byte, depth int, defaultType string, asAttachment bool) content {
	w.parts++
	ct, params := mediaType(h.str("Content-Type"), defaultType)
	disp, dparams := parseParams(h.str("Content-Disposition"))
	if w.parts > w.maxParts {
		w.omitted++
		if name := attachmentName(dparams, params); name != "" && len(w.omittedNames) < 10 {
			w.omittedNames = append(w.omittedNames, name)
		}
		return content{}
	}
	cte := strings.ToLower(strings.TrimSpace(h.str("Content-Transfer-Encoding")))

	if strings.HasPrefix(ct, "multipart/") {
		if depth >= maxDepth {
			w.warn("mime: nesting too deep, part ignored")
			return content{}
		}
		return w.multipart(ct, params, body, depth)
	}
	if ct == "message/rfc822" || ct == "message/global" {
		return w.message(h, body, cte, asAttachment)
	}
	filename := attachmentName(dparams, params)
	if (ct == "text/plain" || ct == "text/html") && disp != "attachment" && filename == "" && !asAttachment {
		// The text is copied into a string below, so the decoded bytes
		// need not be a copy of body.
		data, _ := w.decodeTransferShared(body, cte)
		label := params["charset"]
		if ct == "text/html" {
			label = htmlLabel(data, label)
		}
		s, ok := decodeText(data, label, &w.hs.hints)
		if !ok {
			w.warn("charset: " + strconv.Quote(truncate(params["charset"], 40)) + " unknown or wrong, decoded by content")
		}
		if ct == "text/html" {
			return content{html: []string{s}}
		}
		if strings.EqualFold(params["format"], "flowed") {
			s = unflow(s, strings.EqualFold(params["delsp"], "yes"))
		}
		return content{plain: []string{s}}
	}
	data := w.decodeTransfer(body, cte)
	var named []string
	if ct == "text/plain" && disp != "attachment" && !asAttachment {
		s, _ := decodeText(data, params["charset"], &w.hs.hints)
		if strings.EqualFold(params["format"], "flowed") {
			s = unflow(s, strings.EqualFold(params["delsp"], "yes"))
		}
		named = []string{s}
	}
	a := Attachment{
		Filename:    filename,
		ContentType: sniffType(ct, filename, data),
		ContentID:   thread.FirstID(h.str("Content-Id")),
		Size:        int64(len(data)),
		Data:        data,
	}
	if a.Filename == "" {
		a.Filename = defaultName(a.ContentType)
	}
	return content{atts: []Attachment{a}, namedText: named}
}

func (w *walker) multipart(ct string, params map[string]string, body []byte, depth int) content {
	boundary := strings.TrimSpace(params["boundary"])
	parts, closed, found := splitMultipart(body, boundary)
	if !found {
		w.warn("mime: " + ct + " without usable boundary, body read as text")
		s, _ := decodeText(body, "", &w.hs.hints)
		if strings.TrimSpace(s) == "" {
			return content{}
		}
		return content{plain: []string{s}}
	}
	if !closed {
		w.warn("mime: missing closing boundary, kept what was read")
	}
	childType := "text/plain"
	if ct == "multipart/digest" {
		childType = "message/rfc822"
	}
	type child struct {
		h    fields
		body []byte
	}
	children := make([]child, 0, len(parts))
	for _, p := range parts {
		h, b := w.hs.readHeader(p, w.warn)
		children = append(children, child{h, b})
	}
	var out content
	switch ct {
	case "multipart/alternative":
		var cs []content
		for _, c := range children {
			cs = append(cs, w.entity(c.h, c.body, depth+1, childType, false))
		}
		plainIdx, htmlIdx := -1, -1
		for i, c := range cs {
			if len(c.html) > 0 {
				htmlIdx = i
			} else if len(c.plain) > 0 {
				plainIdx = i
			}
		}
		if plainIdx < 0 && htmlIdx < 0 {
			for _, c := range cs {
				out.add(c)
			}
			return out
		}
		for i, c := range cs {
			switch i {
			case plainIdx:
				out.plain = c.plain
				out.fwds = append(out.fwds, c.fwds...)
			case htmlIdx:
				out.html = c.html
				if plainIdx < 0 {
					out.plain = c.plain
				}
				out.fwds = append(out.fwds, c.fwds...)
			}
			out.atts = append(out.atts, c.atts...)
		}
	case "multipart/related":
		root := 0
		if start := thread.FirstID(params["start"]); start != "" {
			for i, c := range children {
				if thread.FirstID(c.h.str("Content-Id")) == start {
					root = i
				}
			}
		}
		for i, c := range children {
			out.add(w.entity(c.h, c.body, depth+1, childType, i != root))
		}
	case "multipart/signed":
		// The signature parts are not for people; the first part is the mail.
		out.add(w.entity(children[0].h, children[0].body, depth+1, childType, false))
	case "multipart/report":
		for i, c := range children {
			out.add(w.entity(c.h, c.body, depth+1, childType, i > 0))
		}
	default:
		for _, c := range children {
			out.add(w.entity(c.h, c.body, depth+1, childType, false))
		}
	}
	return out
}

// message turns a message/rfc822 part into an .eml attachment and, unless it
// is part of a report, a parsed message whose text may become the body.
func (w *walker) message(h fields, body []byte, cte string, asAttachment bool) content {
	data := w.decodeTransfer(body, cte)
	inner := &Message{}
	if w.fwDepth < maxForwarded {
		iw := &walker{warn: func(s string) { inner.Warnings = appendWarning(inner.Warnings, s) }, fwDepth: w.fwDepth + 1,
			maxParts: w.maxParts, omitted: w.omitted, omittedNames: w.omittedNames}
		iw.hs.hints = w.hs.hints // the whole message's, as computed so far
		iw.parts = w.parts
		inner = iw.message1(data, inner)
		w.parts, w.omitted, w.omittedNames = iw.parts, iw.omitted, iw.omittedNames
	}
	name := strings.TrimSpace(inner.Subject)
	if name == "" {
		name = "forwarded message"
	}
	a := Attachment{
		Filename:    safeFilename(name) + ".eml",
		ContentType: "message/rfc822",
		ContentID:   thread.FirstID(h.str("Content-Id")),
		Size:        int64(len(data)),
		Data:        data,
	}
	c := content{atts: []Attachment{a}}
	if !asAttachment && w.fwDepth < maxForwarded {
		c.fwds = []*Message{inner}
	}
	return c
}

// htmlLabel is the charset of an HTML part: its MIME label, else (when
// that is missing or unknown and the bytes are not UTF-8) a BOM or a
// <meta> charset in the first 1024 bytes.
func htmlLabel(data []byte, label string) string {
	if l := normLabel(label); l != "" && l != "us-ascii" && l != "x-unknown" && l != "unknown" {
		if enc, _ := lookupCharset(l); enc != nil || asciiLabel(l) {
			return label
		}
	}
	if utf8.Valid(data) {
		return label
	}
	if _, name, _ := htmlcharset.DetermineEncoding(data, "text/html"); name != "" && name != "windows-1252" {
		return name
	}
	return label
}

// splitMultipart cuts body at "--boundary" lines. found is false when no
// delimiter line exists; closed is false when the final "--boundary--" is
// missing (the last part then runs to the end).
func splitMultipart(body []byte, boundary string) (parts [][]byte, closed, found bool) {
	if boundary == "" {
		return nil, false, false
	}
	delim := []byte("--" + boundary)
	partStart := -1
	off := 0
	for off < len(body) {
		i := bytes.Index(body[off:], delim)
		if i < 0 {
			break
		}
		at := off + i
		off = at + len(delim)
		if at > 0 && body[at-1] != '\n' {
			continue
		}
		rest := body[off:]
		isClose := bytes.HasPrefix(rest, []byte("--"))
		line, next := cutLine(rest)
		if !isClose && len(bytes.Trim(line, " \t")) != 0 {
			continue // a longer boundary sharing our prefix, or text
		}
		found = true
		if partStart >= 0 {
			end := at
			if end > 0 && body[end-1] == '\n' {
				end--
				if end > partStart && body[end-1] == '\r' {
					end--
				}
			}
			if end < partStart {
				end = partStart
			}
			parts = append(parts, body[partStart:end])
		}
		if isClose {
			return parts, true, true
		}
		partStart = len(body) - len(next)
		off = partStart
	}
	if partStart >= 0 && partStart <= len(body) {
		parts = append(parts, body[partStart:])
	}
	return parts, false, found
}

// decodeTransfer undoes the transfer encoding and always returns a fresh
// slice, so attachment data never aliases the raw message.
func (w *walker) decodeTransfer(b []byte, cte string) []byte {
	out, shared := w.decodeTransferShared(b, cte)
	if shared {
		return bytes.Clone(out)
	}
	return out
}

// decodeTransferShared is decodeTransfer, except that it returns b itself
// (shared true) when there is nothing to decode. Neither may be changed then.
func (w *walker) decodeTransferShared(b []byte, cte string) (out []byte, shared bool) {
	switch cte {
	case "base64":
		out, ok, partial := decodeBase64(b)
		if !ok {
			w.warn("base64: invalid data, kept raw")
			return b, true
		}
		if partial {
			w.warn("base64: text after the encoded data ignored")
		}
		return out, false
	case "quoted-printable":
		out, bad := decodeQP(b)
		if bad {
			w.warn("quoted-printable: invalid escapes kept as text")
		}
		return out, false
	case "", "7bit", "8bit", "binary", "7-bit", "8-bit":
		return b, true
	default:
		w.warn("mime: unknown transfer encoding " + strconv.Quote(truncate(cte, 30)) + ", kept raw")
		return b, true
	}
}

// decodeBase64 skips whitespace, decodes padded chunks one after another
// (some senders concatenate encodings) and stops at the first line that is
// not base64 (a footer a list server appended). ok is false when nothing
// before that line decodes.
func decodeBase64(b []byte) (out []byte, ok, partial bool) {
	clean := make([]byte, 0, len(b))
	for len(b) > 0 {
		line, rest := cutLine(b)
		line = bytes.Trim(line, " \t\r")
		valid := true
		for _, c := range line {
			if !isB64(c) && c != '=' {
				valid = false
				break
			}
		}
		if !valid {
			if len(clean) == 0 {
				return nil, false, false
			}
			partial = len(bytes.TrimSpace(b)) > 0
			break
		}
		clean = append(clean, line...)
		b = rest
	}
	out = make([]byte, 0, len(clean)*3/4+3)
	for len(clean) > 0 {
		i := bytes.IndexByte(clean, '=')
		chunk := clean
		if i >= 0 {
			chunk = clean[:i]
			j := i
			for j < len(clean) && clean[j] == '=' {
				j++
			}
			clean = clean[j:]
		} else {
			clean = nil
		}
		if len(chunk)%4 == 1 {
			chunk = chunk[:len(chunk)-1]
			partial = true
		}
		n := len(out)
		out = out[:n+base64.RawStdEncoding.DecodedLen(len(chunk))]
		m, err := base64.RawStdEncoding.Decode(out[n:], chunk)
		if err != nil {
			return nil, false, false
		}
		out = out[:n+m]
	}
	return out, true, partial
}

// decodeQP is a lenient quoted-printable decoder: bad escapes stay literal.
func decodeQP(b []byte) (out []byte, bad bool) {
	out = make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '=' {
			out = append(out, c)
			continue
		}
		if i+2 < len(b)+0 && i+2 <= len(b)-1 && isHex(b[i+1]) && isHex(b[i+2]) {
			out = append(out, unhex(b[i+1])<<4|unhex(b[i+2]))
			i += 2
			continue
		}
		// Soft line break, allowing trailing white space before it.
		j := i + 1
		for j < len(b) && (b[j] == ' ' || b[j] == '\t') {
			j++
		}
		if j < len(b) && b[j] == '\r' {
			j++
		}
		if j < len(b) && b[j] == '\n' {
			i = j
			continue
		}
		if j == len(b) {
			break
		}
		bad = true
		out = append(out, c)
	}
	return out, bad
}

// mediaType returns the lower-case type with its parameters; missing or
// broken values give defaultType.
func mediaType(v, defaultType string) (string, map[string]string) {
	t, params := parseParams(v)
	if t == "" || !strings.Contains(t, "/") {
		t = defaultType
	}
	if t == "text" {
		t = "text/plain"
	}
	return t, params
}

// parseParams reads "value; k=v; k*=charset”pct; k*0*=...". It never
// fails: unquoted values with spaces, missing quotes and duplicate keys are
// accepted. RFC 2231 values win over plain ones and RFC 2047 words in plain
// values are decoded since many mailers use them in filenames.
func parseParams(v string) (string, map[string]string) {
	first, next := nextParam(v, 0)
	value := strings.ToLower(strings.TrimSpace(first))
	params := map[string]string{}
	type seg struct {
		n       int
		enc     bool
		content string
	}
	var ext map[string][]seg
	for next >= 0 {
		var it string
		it, next = nextParam(v, next)
		k, val, ok := strings.Cut(it, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		val = unquote(strings.TrimSpace(val))
		if k == "" {
			continue
		}
		if i := strings.IndexByte(k, '*'); i >= 0 {
			base, rest := k[:i], k[i+1:]
			s := seg{enc: strings.HasSuffix(rest, "*") || rest == "", content: val}
			rest = strings.TrimSuffix(rest, "*")
			if rest != "" {
				n, err := strconv.Atoi(rest)
				if err != nil || n < 0 || n > 1000 {
					continue
				}
				s.n = n
			}
			if ext == nil {
				ext = map[string][]seg{}
			}
			ext[base] = append(ext[base], s)
			continue
		}
		if _, dup := params[k]; !dup {
			params[k] = val
		}
	}
	for base, segs := range ext {
		sort.SliceStable(segs, func(i, j int) bool { return segs[i].n < segs[j].n })
		var raw []byte
		label := ""
		for i, s := range segs {
			c := s.content
			if s.enc {
				if i == 0 {
					if p := strings.SplitN(c, "'", 3); len(p) == 3 {
						label, c = p[0], p[2]
					}
				}
				raw = append(raw, pctDecode(c)...)
			} else {
				raw = append(raw, c...)
			}
		}
		d, _ := decodeCharset(raw, label)
		params[base] = d
	}
	for k, val := range params {
		if strings.Contains(val, "=?") {
			params[k] = decodeWords(val)
		}
	}
	return value, params
}

// nextParam returns the item of v starting at start up to the next ';'
// outside quotes, and where the following item starts (-1 after the last).
func nextParam(v string, start int) (item string, next int) {
	quoted := false
	for i := start; i < len(v); i++ {
		switch v[i] {
		case '\\':
			if quoted {
				i++
			}
		case '"':
			quoted = !quoted
		case ';':
			if !quoted {
				return v[start:i], i + 1
			}
		}
	}
	return v[start:], -1
}

func unquote(s string) string {
	if len(s) < 2 || s[0] != '"' {
		return strings.Trim(s, `"`)
	}
	s = s[1:]
	if strings.HasSuffix(s, `"`) {
		s = s[:len(s)-1]
	}
	if !strings.Contains(s, `\`) {
		return s
	}
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		sb.WriteByte(s[i])
	}
	return sb.String()
}

func pctDecode(s string) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			out = append(out, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		out = append(out, s[i])
	}
	return out
}

func attachmentName(dparams, params map[string]string) string {
	name := dparams["filename"]
	if strings.TrimSpace(name) == "" {
		name = params["name"]
	}
	return safeFilename(name)
}

// safeFilename keeps the last path element, drops control characters and
// bounds the length, so the name is safe to show and to store.
func safeFilename(s string) string {
	s = strings.ToValidUTF8(s, "")
	if i := strings.LastIndexAny(s, `/\`); i >= 0 {
		s = s[i+1:]
	}
	s = strings.Map(func(r rune) rune {
		if r < 32 || r == 127 {
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if s == "." || s == ".." {
		return ""
	}
	if len(s) > 200 {
		s = truncate(s, 200)
		s = strings.TrimSuffix(s, "…")
	}
	return s
}

var extTypes = map[string]string{
	".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
	".gif": "image/gif", ".txt": "text/plain", ".csv": "text/csv", ".zip": "application/zip",
	".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
	".doc":  "application/msword", ".xls": "application/vnd.ms-excel", ".eml": "message/rfc822",
	".dat": "application/ms-tnef",
}

// sniffType keeps a specific declared type and otherwise asks the content,
// then the file extension (sniffing cannot tell a .docx from a .zip).
func sniffType(declared, filename string, data []byte) string {
	if declared != "" && declared != "application/octet-stream" && declared != "application/unknown" &&
		declared != "application/x-unknown" && declared != "application/binary" && declared != "text/plain" {
		return declared
	}
	ext := strings.ToLower(path.Ext(filename))
	if declared == "text/plain" {
		// text/plain is the MIME default, so it says little for a named file.
		if t, ok := extTypes[ext]; ok && ext != ".txt" && ext != ".csv" {
			if s := detect(data); s != "text/plain" {
				return t
			}
		}
		return declared
	}
	s := detect(data)
	if s == "application/octet-stream" || s == "application/zip" || s == "text/plain" {
		if t, ok := extTypes[ext]; ok && (ext != ".dat" || strings.EqualFold(filename, "winmail.dat")) {
			return t
		}
	}
	return s
}

func detect(data []byte) string {
	t := http.DetectContentType(data)
	if i := strings.IndexByte(t, ';'); i >= 0 {
		t = t[:i]
	}
	return t
}

func defaultName(ct string) string {
	switch ct {
	case "message/delivery-status", "message/global-delivery-status":
		return "delivery-status.txt"
	case "text/rfc822-headers", "message/global-headers":
		return "returned-headers.txt"
	case "application/ms-tnef":
		return "winmail.dat"
	case "application/pkcs7-signature", "application/x-pkcs7-signature":
		return "smime.p7s"
	}
	for ext, t := range extTypes {
		if t == ct && ext != ".jpeg" && ext != ".dat" {
			return "attachment" + ext
		}
	}
	if strings.HasPrefix(ct, "text/") {
		return "attachment.txt"
	}
	return "attachment.bin"
}

func normalizeNewlines(s string) string {
	if !strings.Contains(s, "\r") {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

// unflow joins RFC 3676 soft line breaks and removes space stuffing.
func unflow(s string, delsp bool) string {
	out := make([]byte, 0, len(s))
	prevSoft, prevDepth := false, 0
	for i, l := range strings.Split(s, "\n") {
		depth := 0
		for depth < len(l) && l[depth] == '>' {
			depth++
		}
		body := strings.TrimPrefix(l[depth:], " ")
		if !(prevSoft && depth == prevDepth) {
			if i > 0 {
				out = append(out, '\n')
			}
			if depth > 0 {
				out = append(out, strings.Repeat(">", depth)+" "...)
			}
		}
		out = append(out, body...)
		prevSoft = strings.HasSuffix(l, " ") && l != "-- "
		prevDepth = depth
		if prevSoft && delsp && len(out) > 0 {
			out = out[:len(out)-1]
		}
	}
	return string(out)
}
