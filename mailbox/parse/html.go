package parse

import (
	"bytes"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/jcservicedesk/servicedesk/mailbox/thread"
)

// mailPolicy is bluemonday's UGC policy plus what mail needs: cid: and data:
// images and a few harmless inline styles. Built once, never changed;
// bluemonday policies are safe for concurrent use.
var mailPolicy = func() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.AllowURLSchemes("mailto", "http", "https", "cid", "tel")
	p.AllowDataURIImages()
	p.AllowStyles("color", "background-color", "text-align", "font-weight", "font-style", "text-decoration").Globally()
	p.AllowAttrs("align", "valign", "colspan", "rowspan", "width", "height", "border", "cellpadding", "cellspacing").OnElements("table", "td", "th", "tr")
	p.RequireNoReferrerOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	return p
}()

// SanitizeHTML makes mail HTML safe to show in the portal. Unless
// allowRemoteImages, image sources that are not cid: or data: move to a
// data-remote-src attribute so nothing loads (no tracking) until the
// reader asks for it.
func SanitizeHTML(s string, allowRemoteImages bool) string {
	out, _ := sanitize(s, allowRemoteImages)
	return out
}

func sanitize(s string, allowRemote bool) (string, bool) {
	s = strings.ToValidUTF8(s, "\uFFFD")
	clean := strings.TrimSpace(policySanitize(s))
	if allowRemote || !strings.Contains(clean, "<img") {
		return clean, false
	}
	remote := false
	out := rewriteImgs(clean, func(t *html.Token) {
		for i := range t.Attr {
			a := &t.Attr[i]
			if a.Namespace != "" || a.Key != "src" {
				continue
			}
			v := strings.ToLower(strings.TrimSpace(a.Val))
			if strings.HasPrefix(v, "cid:") || strings.HasPrefix(v, "data:image/") {
				continue
			}
			a.Key = "data-remote-src"
			remote = true
		}
	})
	return out, remote
}

// policySanitize is mailPolicy.Sanitize(s) writing into one buffer of
// about the right size.
func policySanitize(s string) string {
	if strings.TrimSpace(s) == "" {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + len(s)/8)
	if err := mailPolicy.SanitizeReaderToWriter(strings.NewReader(stripDeadStyles(s)), &b); err != nil {
		return ""
	}
	return b.String()
}

// allowedStyles are the CSS properties mailPolicy keeps.
var allowedStyles = []string{"color", "background-color", "text-align", "font-weight", "font-style", "text-decoration"}

// deadStyle reports whether mailPolicy is sure to drop a style attribute
// with value v. bluemonday parses the value into declarations and keeps
// those whose lower-cased property, minus vendor prefixes, is in
// allowedStyles; the property is a piece of v as written (declarations
// concatenate their raw tokens, escapes and comments included), so when
// the lower-cased v contains no allowed name, nothing is kept and the
// attribute is dropped ("color" also covers "background-color").
func deadStyle(v string) bool {
	if isASCII(v) {
		return !containsFoldASCII(v, "color") && !containsFoldASCII(v, "text-align") &&
			!containsFoldASCII(v, "font-weight") && !containsFoldASCII(v, "font-style") &&
			!containsFoldASCII(v, "text-decoration")
	}
	lv := strings.ToLower(v)
	for _, name := range allowedStyles {
		if strings.Contains(lv, name) {
			return false
		}
	}
	return true
}

// stripDeadStyles removes from s the style attributes mailPolicy would drop
// anyway (deadStyle), since its CSS parser is by far its slowest part.
// Only those start tags are rewritten, as the tokenizer's own Token.String,
// so tokenizing the result gives the same tokens minus those attributes
// (bluemonday handles each attribute on its own, so its output is the same).
// Tags with NUL bytes are left alone: the tokenizer's duplicate-attribute
// check sees them before NUL replacement.
func stripDeadStyles(s string) string {
	if !mayHaveStyleAttr(s) {
		return s
	}
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	pos, last := 0, 0 // s[:pos] tokenized; s[last:] not yet copied to b
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		raw := z.Raw()
		start := pos
		pos += len(raw)
		if pos > len(s) || s[start:pos] != string(raw) {
			return s // not where we think we are; leave it to bluemonday
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken ||
			!containsFoldASCII(string(raw), "style") || bytes.IndexByte(raw, 0) >= 0 {
			continue
		}
		t := z.Token()
		keep := t.Attr[:0]
		for _, a := range t.Attr {
			if a.Key == "style" && deadStyle(a.Val) {
				continue
			}
			keep = append(keep, a)
		}
		if len(keep) == len(t.Attr) {
			continue
		}
		t.Attr = keep
		if b.Len() == 0 {
			b.Grow(len(s))
		}
		b.WriteString(s[last:start])
		b.WriteString(t.String())
		last = pos
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// mayHaveStyleAttr reports whether s has "style" (any case) followed by
// optional blanks and "=": a style attribute with a value. One without a
// value is empty, which bluemonday drops cheaply.
func mayHaveStyleAttr(s string) bool {
	for i := 0; i+5 <= len(s); i++ {
		if s[i]|0x20 != 's' || !lowerEqualASCII(s[i:i+5], "style") {
			continue
		}
		j := i + 5
		for j < len(s) && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r' || s[j] == '\f') {
			j++
		}
		if j < len(s) && s[j] == '=' {
			return true
		}
	}
	return false
}

// containsFoldASCII reports whether s contains sub (lower-case ASCII) with
// ASCII letters in any case.
func containsFoldASCII(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if lowerEqualASCII(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

// rewriteImgs re-emits the HTML token by token, letting fn change <img> tags.
func rewriteImgs(s string, fn func(*html.Token)) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	b.Grow(len(s) + 64)
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return b.String()
		}
		if tt == html.StartTagToken || tt == html.SelfClosingTagToken {
			raw := z.Raw()
			if bytes.HasPrefix(raw, []byte("<img")) || bytes.HasPrefix(raw, []byte("<IMG")) {
				t := z.Token()
				if t.DataAtom == atom.Img {
					fn(&t)
					b.WriteString(t.String())
					continue
				}
				b.Write(raw)
				continue
			}
			b.Write(raw)
			continue
		}
		b.Write(z.Raw())
	}
}

// RewriteCIDs replaces cid: image sources with the URLs in urls, keyed by
// content id (without brackets, any case). Unknown ids are left alone.
func RewriteCIDs(s string, urls map[string]string) string {
	if len(urls) == 0 || !strings.Contains(strings.ToLower(s), "cid:") {
		return s
	}
	lower := make(map[string]string, len(urls))
	for k, v := range urls {
		lower[strings.ToLower(thread.FirstID(k))] = v
	}
	return rewriteImgs(s, func(t *html.Token) {
		for i := range t.Attr {
			a := &t.Attr[i]
			if a.Key != "src" || len(a.Val) < 4 || !strings.EqualFold(a.Val[:4], "cid:") {
				continue
			}
			id := a.Val[4:]
			if u, err := url.PathUnescape(id); err == nil {
				id = u
			}
			if v, ok := lower[strings.ToLower(strings.TrimSpace(id))]; ok {
				a.Val = v
			}
		}
	})
}

// removeQuoteContainers deletes the quoted history that mail clients wrap in
// known containers. Outlook's reply header starts everything that follows,
// so it is cut with all later content.
func removeQuoteContainers(s string) (string, bool) {
	if !mayHaveQuoteContainer(s) {
		return s, false
	}
	doc, err := html.Parse(strings.NewReader(s))
	if err != nil {
		return s, false
	}
	return cutQuoteContainers(doc, s)
}

// cutQuoteContainers is removeQuoteContainers on doc, the parse of s. It
// changes doc when it cuts.
func cutQuoteContainers(doc *html.Node, s string) (string, bool) {
	var drop []*html.Node
	var cutAt *html.Node
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if cutAt != nil {
			return
		}
		if n.Type == html.ElementNode {
			switch n.DataAtom {
			case atom.Div:
				if id := attr(n, "id"); id == "divRplyFwdMsg" || id == "appendonsend" {
					cutAt = n
					return
				}
				if isOutlookHeaderDiv(n, attr(n, "style")) {
					cutAt = n
					return
				}
				if hasClass(attr(n, "class"), "gmail_quote", "gmail_quote_container", "moz-cite-prefix", "yahoo_quoted") {
					drop = append(drop, n)
					return
				}
			case atom.Blockquote:
				if strings.EqualFold(attr(n, "type"), "cite") {
					drop = append(drop, n)
					return
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if cutAt == nil && len(drop) == 0 {
		return s, false
	}
	for _, n := range drop {
		n.Parent.RemoveChild(n)
	}
	if cutAt != nil {
		cutFollowing(cutAt)
	}
	var b strings.Builder
	b.Grow(len(s))
	if err := html.Render(&b, doc); err != nil {
		return s, false
	}
	return b.String(), true
}

func mayHaveQuoteContainer(s string) bool {
	for _, k := range []string{"gmail_quote", "moz-cite-prefix", "yahoo_quoted", "divRplyFwdMsg", "appendonsend", "cite", "border-top"} {
		if strings.Contains(s, k) {
			return true
		}
	}
	return false
}

// isOutlookHeaderDiv spots desktop Outlook's reply header: a div with a top
// border holding "From:"/"De:" in bold.
func isOutlookHeaderDiv(n *html.Node, style string) bool {
	if style == "" {
		return false
	}
	st := strings.ToLower(strings.Join(strings.Fields(style), ""))
	if !strings.Contains(st, "border-top:solid#e1e1e1") && !strings.Contains(st, "border-top:solid#b5c4df") {
		return false
	}
	t := strings.TrimSpace(textOf(n, 200))
	return strings.HasPrefix(t, "From:") || strings.HasPrefix(t, "De:") || strings.HasPrefix(t, "Von:")
}

func textOf(n *html.Node, max int) string {
	var b strings.Builder
	var f func(*html.Node)
	f = func(n *html.Node) {
		if b.Len() > max {
			return
		}
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			f(c)
		}
	}
	f(n)
	return b.String()
}

// cutFollowing removes n, a horizontal rule just before it, and everything
// after it up to the body.
func cutFollowing(n *html.Node) {
	for p := n; p != nil && p.Parent != nil && p.DataAtom != atom.Body && p.DataAtom != atom.Html; p = p.Parent {
		for s := p.NextSibling; s != nil; {
			next := s.NextSibling
			p.Parent.RemoveChild(s)
			s = next
		}
	}
	prev := n.PrevSibling
	for prev != nil && prev.Type == html.TextNode && strings.TrimSpace(prev.Data) == "" {
		prev = prev.PrevSibling
	}
	if prev != nil && prev.DataAtom == atom.Hr {
		prev.Parent.RemoveChild(prev)
	}
	n.Parent.RemoveChild(n)
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasClass(class string, names ...string) bool {
	for _, c := range strings.Fields(class) {
		for _, n := range names {
			if c == n {
				return true
			}
		}
	}
	return false
}

// HTMLToText renders HTML as readable plain text: paragraphs and line
// breaks kept, list items bulleted, links as "text (url)", blockquotes
// prefixed with "> ", scripts, styles and tags dropped, entities decoded.
func HTMLToText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	doc, err := html.Parse(strings.NewReader(s))
	if err != nil {
		return ""
	}
	return docText(doc)
}

// docText is HTMLToText of a parsed document; it does not change doc.
func docText(doc *html.Node) string {
	t := &textWriter{}
	t.node(doc, 0)
	return t.result()
}

// textWriter accumulates text, collapsing white space outside <pre> and
// counting pending line breaks so blocks get one blank line between them.
type textWriter struct {
	b         strings.Builder
	nl        int // newlines owed before the next word
	space     bool
	pre       int
	listStack []int // -1 for ul, else next number of ol
	depth     int
}

func (t *textWriter) breakLines(n int) {
	if t.b.Len() == 0 {
		return
	}
	if n > t.nl {
		t.nl = n
	}
	t.space = false
}

func (t *textWriter) write(s string) {
	if s == "" {
		return
	}
	if t.nl > 0 {
		for i := 0; i < t.nl; i++ {
			t.b.WriteByte('\n')
		}
		t.nl = 0
		t.space = false
	} else if t.space && t.b.Len() > 0 {
		t.b.WriteByte(' ')
	}
	t.space = false
	t.b.WriteString(s)
}

func (t *textWriter) text(s string) {
	if t.pre > 0 {
		lines := strings.Split(s, "\n")
		for i, l := range lines {
			if i > 0 {
				t.breakLines(1)
				if l == "" {
					t.write("\u200b") // keep empty lines of <pre>; removed in result
				}
			}
			t.write(l)
		}
		return
	}
	s = strings.ReplaceAll(s, "\u00a0", " ")
	if s == "" {
		return
	}
	lead := isSpaceByte(s[0])
	trail := isSpaceByte(s[len(s)-1])
	// The words of s (as strings.Fields splits them) joined by one space.
	first := true
	for i := 0; i < len(s); {
		start, end := nextField(s, i)
		if start == end {
			break
		}
		if first {
			if lead {
				t.space = true
			}
			t.write(s[start:end])
			first = false
		} else {
			t.b.WriteByte(' ')
			t.b.WriteString(s[start:end])
		}
		i = end
	}
	if first {
		t.space = t.space || lead || trail
		return
	}
	t.space = trail
}

// nextField returns the bounds of the first word of s at or after i, split
// as strings.Fields does (Unicode white space); start == end when none.
func nextField(s string, i int) (start, end int) {
	for i < len(s) {
		sp, n := spaceAt(s, i)
		if !sp {
			break
		}
		i += n
	}
	start = i
	for i < len(s) {
		sp, n := spaceAt(s, i)
		if sp {
			break
		}
		i += n
	}
	return start, i
}

func spaceAt(s string, i int) (bool, int) {
	c := s[i]
	if c < utf8.RuneSelf {
		return asciiSpace[c], 1
	}
	r, n := utf8.DecodeRuneInString(s[i:])
	return unicode.IsSpace(r), n
}

var asciiSpace = [utf8.RuneSelf]bool{'\t': true, '\n': true, '\v': true, '\f': true, '\r': true, ' ': true}

func isSpaceByte(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

// blockBreak is the number of line breaks around a block element, 0 for
// inline ones.
func blockBreak(a atom.Atom) int {
	switch a {
	case atom.P, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6,
		atom.Ul, atom.Ol, atom.Table, atom.Pre, atom.Dl:
		return 2
	case atom.Div, atom.Tr, atom.Li, atom.Section, atom.Article, atom.Header,
		atom.Footer, atom.Address, atom.Center, atom.Dt, atom.Dd, atom.Form,
		atom.Figure, atom.Main, atom.Nav, atom.Aside, atom.Caption, atom.Hr:
		return 1
	}
	return 0
}

func (t *textWriter) node(n *html.Node, depth int) {
	if depth > 200 {
		return
	}
	switch n.Type {
	case html.TextNode:
		t.text(n.Data)
		return
	case html.ElementNode:
	case html.DocumentNode:
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			t.node(c, depth+1)
		}
		return
	default:
		return
	}
	switch n.DataAtom {
	case atom.Script, atom.Style, atom.Head, atom.Title, atom.Noscript, atom.Template,
		atom.Iframe, atom.Object, atom.Svg, atom.Math, atom.Select, atom.Textarea, atom.Button:
		return
	case atom.Br:
		if t.nl < 1 && t.b.Len() > 0 {
			t.nl++
		} else if t.b.Len() > 0 {
			t.nl++
		}
		if t.nl > 2 {
			t.nl = 2
		}
		t.space = false
		return
	case atom.Img:
		if alt := strings.TrimSpace(attr(n, "alt")); alt != "" {
			t.write("[image: " + strings.Join(strings.Fields(alt), " ") + "]")
		}
		return
	case atom.Blockquote:
		sub := &textWriter{pre: t.pre}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			sub.node(c, depth+1)
		}
		q := sub.result()
		t.breakLines(2)
		if q != "" {
			lines := strings.Split(q, "\n")
			for i, l := range lines {
				if i > 0 {
					t.breakLines(1)
				}
				if l == "" {
					t.write(">")
				} else if strings.HasPrefix(l, ">") {
					t.write(">" + l)
				} else {
					t.write("> " + l)
				}
			}
		}
		t.breakLines(2)
		return
	case atom.Td, atom.Th:
		if n.PrevSibling != nil {
			t.space = true
		}
	case atom.Li:
		t.breakLines(1)
		bullet := "- "
		if k := len(t.listStack); k > 0 && t.listStack[k-1] >= 0 {
			bullet = strconv.Itoa(t.listStack[k-1]) + ". "
			t.listStack[k-1]++
		}
		if k := len(t.listStack); k > 1 {
			bullet = strings.Repeat("  ", k-1) + bullet
		}
		t.write(strings.TrimRight(bullet, " "))
		t.space = true
	}
	if b := blockBreak(n.DataAtom); b > 0 && n.DataAtom != atom.Li {
		t.breakLines(b)
	}
	switch n.DataAtom {
	case atom.Ul:
		t.listStack = append(t.listStack, -1)
	case atom.Ol:
		t.listStack = append(t.listStack, 1)
	case atom.Pre:
		t.pre++
	}
	if n.DataAtom == atom.A {
		t.link(n, depth)
	} else {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			t.node(c, depth+1)
		}
	}
	switch n.DataAtom {
	case atom.Ul, atom.Ol:
		t.listStack = t.listStack[:len(t.listStack)-1]
	case atom.Pre:
		t.pre--
	}
	if b := blockBreak(n.DataAtom); b > 0 {
		t.breakLines(b)
	}
}

// link writes the anchor text followed by the URL when it adds something.
func (t *textWriter) link(n *html.Node, depth int) {
	before := t.b.Len()
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		t.node(c, depth+1)
	}
	href := strings.TrimSpace(attr(n, "href"))
	lh := strings.ToLower(href)
	if href == "" || strings.HasPrefix(lh, "#") || strings.HasPrefix(lh, "javascript:") ||
		strings.HasPrefix(lh, "vbscript:") || strings.HasPrefix(lh, "data:") || strings.HasPrefix(lh, "cid:") {
		return
	}
	if t.b.Len() == before {
		return // image-only or empty link: the URL alone is noise
	}
	label := strings.TrimSpace(t.b.String()[before:])
	shown := strings.TrimPrefix(strings.TrimPrefix(href, "mailto:"), "tel:")
	if label == href || label == shown || strings.TrimSuffix(label, "/") == strings.TrimSuffix(shown, "/") ||
		strings.TrimPrefix(strings.TrimPrefix(href, "https://"), "http://") == label {
		return
	}
	sp := t.space
	t.space = true
	t.write("(" + href + ")")
	t.space = sp
}

func (t *textWriter) result() string {
	s := t.b.String()
	// Line by line: drop the <pre> markers and trailing blanks, keep at
	// most one empty line in a row.
	var out strings.Builder
	out.Grow(len(s))
	blank, n := 0, 0
	for {
		i := strings.IndexByte(s, '\n')
		l := s
		if i >= 0 {
			l = s[:i]
		}
		if strings.Contains(l, "\u200b") {
			l = strings.ReplaceAll(l, "\u200b", "")
		}
		l = strings.TrimRight(l, " \t")
		skip := false
		if l == "" {
			blank++
			skip = blank > 1
		} else {
			blank = 0
		}
		if !skip {
			if n > 0 {
				out.WriteByte('\n')
			}
			out.WriteString(l)
			n++
		}
		if i < 0 {
			break
		}
		s = s[i+1:]
	}
	r := strings.TrimSpace(out.String())
	if !utf8.ValidString(r) {
		r = strings.ToValidUTF8(r, "\uFFFD")
	}
	return r
}
