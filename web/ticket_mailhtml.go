package web

import (
	"bytes"
	"regexp"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// mailCSP is the policy inside a mail's sandboxed iframe, on top of the
// sandbox (no scripts, no same origin) and of the sanitizer at intake: no
// scripts, no frames, no forms, no fetches; images only as data: or from
// our own attachments; the mail's inline styles may apply.
const mailCSP = "default-src 'none'; img-src data: 'self'; style-src 'unsafe-inline'; font-src 'none'; form-action 'none'; base-uri 'none'"

// mailDocs wraps a comment's sanitized mail HTML as the srcdoc of the
// sandboxed iframe: doc without the quoted parts, full with them ("" when
// nothing was quoted). Both are "" for a comment without HTML.
func mailDocs(body string) (doc, full string) {
	if strings.TrimSpace(body) == "" {
		return "", ""
	}
	short, quoted := stripQuotedHTML(body)
	if quoted {
		return wrapMail(short), wrapMail(body)
	}
	return wrapMail(body), ""
}

func wrapMail(body string) string {
	return `<!doctype html><html><head><meta charset="utf-8">` +
		`<meta http-equiv="Content-Security-Policy" content="` + mailCSP + `">` +
		`<base target="_blank"><style>body{font:15px/1.5 system-ui,sans-serif;margin:0;overflow-wrap:anywhere}img{max-width:100%;height:auto}</style>` +
		`</head><body>` + body + `</body></html>`
}

// stripQuotedHTML removes the quoted history of a reply: <blockquote>s and
// the quote containers of the common mail clients.
func stripQuotedHTML(body string) (string, bool) {
	nodes, err := html.ParseFragment(strings.NewReader(body), &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body})
	if err != nil {
		return body, false
	}
	removed := false
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil; {
			next := c.NextSibling
			if isQuote(c) {
				n.RemoveChild(c)
				removed = true
			} else {
				walk(c)
			}
			c = next
		}
	}
	var buf bytes.Buffer
	for _, n := range nodes {
		if isQuote(n) {
			removed = true
			continue
		}
		walk(n)
		if err := html.Render(&buf, n); err != nil {
			return body, false
		}
	}
	if !removed {
		return body, false
	}
	return buf.String(), true
}

func isQuote(n *html.Node) bool {
	if n.Type != html.ElementNode {
		return false
	}
	if n.Data == "blockquote" {
		return true
	}
	for _, a := range n.Attr {
		switch a.Key {
		case "class":
			for _, c := range strings.Fields(a.Val) {
				switch c {
				case "gmail_quote", "moz-cite-prefix", "yahoo_quoted", "protonmail_quote":
					return true
				}
			}
		case "id":
			if a.Val == "divRplyFwdMsg" || a.Val == "appendonsend" {
				return true
			}
		}
	}
	return false
}

// quoteIntro is the line a client writes before the quoted message.
var quoteIntro = regexp.MustCompile(`(?i)^(em .+ escreveu:|on .+ wrote:|-{2,} ?(mensagem original|original message) ?-{2,}|de: .+|from: .+)\s*$`)

// splitQuoted splits a plain-text body at its quoted tail: from the first
// line quoting ("> …") or introducing the quote, when everything after it
// is quote or blank.
func splitQuoted(text string) (body, quoted string) {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		tl := strings.TrimSpace(l)
		if !strings.HasPrefix(tl, ">") && !quoteIntro.MatchString(tl) {
			continue
		}
		rest := lines[i+1:]
		allQuoted := strings.HasPrefix(tl, ">") || len(rest) > 0
		for _, r := range rest {
			r = strings.TrimSpace(r)
			if r != "" && !strings.HasPrefix(r, ">") {
				allQuoted = false
				break
			}
		}
		if allQuoted && i > 0 {
			return strings.TrimRight(strings.Join(lines[:i], "\n"), "\n "), strings.Join(lines[i:], "\n")
		}
	}
	return text, ""
}
