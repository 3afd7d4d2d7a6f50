package parse

import (
	"bytes"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
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
	clean := strings.TrimSpace(mailPolicy.Sanitize(s))
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
		lower[strings.ToLower(NormalizeMessageID(k))] = v
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
	var drop []*html.Node
	var cutAt *html.Node
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if cutAt != nil {
			return
		}
		if n.Type == html.ElementNode {
			id, class, typ, style := attr(n, "id"), attr(n, "class"), attr(n, "type"), attr(n, "style")
			switch {
			case n.DataAtom == atom.Div && (id == "divRplyFwdMsg" || id == "appendonsend"):
				cutAt = n
				return
			case n.DataAtom == atom.Div && isOutlookHeaderDiv(n, style):
				cutAt = n
				return
			case n.DataAtom == atom.Div && hasClass(class, "gmail_quote", "gmail_quote_container", "moz-cite-prefix", "yahoo_quoted"),
				n.DataAtom == atom.Blockquote && strings.EqualFold(typ, "cite"):
				drop = append(drop, n)
				return
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
	words := strings.Fields(s)
	if len(words) == 0 {
		t.space = t.space || lead || trail
		return
	}
	if lead {
		t.space = true
	}
	t.write(strings.Join(words, " "))
	t.space = trail
}

func isSpaceByte(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

var blockAtoms = map[atom.Atom]int{
	atom.P: 2, atom.H1: 2, atom.H2: 2, atom.H3: 2, atom.H4: 2, atom.H5: 2, atom.H6: 2,
	atom.Ul: 2, atom.Ol: 2, atom.Table: 2, atom.Pre: 2, atom.Dl: 2,
	atom.Div: 1, atom.Tr: 1, atom.Li: 1, atom.Section: 1, atom.Article: 1, atom.Header: 1,
	atom.Footer: 1, atom.Address: 1, atom.Center: 1, atom.Dt: 1, atom.Dd: 1, atom.Form: 1,
	atom.Figure: 1, atom.Main: 1, atom.Nav: 1, atom.Aside: 1, atom.Caption: 1, atom.Hr: 1,
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
	if b, ok := blockAtoms[n.DataAtom]; ok && n.DataAtom != atom.Li {
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
	if b, ok := blockAtoms[n.DataAtom]; ok {
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
	lines := strings.Split(s, "\n")
	out := lines[:0]
	blank := 0
	for _, l := range lines {
		l = strings.TrimRight(strings.ReplaceAll(l, "\u200b", ""), " \t")
		if l == "" {
			blank++
			if blank > 1 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	r := strings.TrimSpace(strings.Join(out, "\n"))
	if !utf8.ValidString(r) {
		r = strings.ToValidUTF8(r, "\uFFFD")
	}
	return r
}
