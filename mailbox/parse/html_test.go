package parse

import (
	"strings"
	"testing"
)

func TestHTMLToText(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"paragraphs", "<p>One</p><p>Two</p>", "One\n\nTwo"},
		{"br", "a<br>b<br/>c", "a\nb\nc"},
		{"entities", "<p>caf&eacute; &amp; p&atilde;o&nbsp;quente</p>", "café & pão quente"},
		{"list", "<ul><li>first</li><li>second</li></ul>", "- first\n- second"},
		{"ordered list", "<ol><li>a</li><li>b</li></ol>", "1. a\n2. b"},
		{"link", `<a href="https://x.example/a">the page</a>`, "the page (https://x.example/a)"},
		{"link same as text", `<a href="https://x.example/">https://x.example/</a>`, "https://x.example/"},
		{"mailto", `<a href="mailto:a@x.example">a@x.example</a>`, "a@x.example"},
		{"javascript link", `<a href="javascript:alert(1)">click</a>`, "click"},
		{"script and style", "<style>p{color:red}</style><script>alert(1)</script><p>text</p>", "text"},
		{"blockquote", "<p>new</p><blockquote>old<br>older</blockquote>", "new\n\n> old\n> older"},
		{"whitespace", "<div>  many\n   spaces  here </div>", "many spaces here"},
		{"pre", "<pre>a  b\n\nc</pre>", "a  b\n\nc"},
		{"image alt", `<img src="cid:x" alt="logo">`, "[image: logo]"},
		{"table", "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", "a b\nc"},
		{"invalid utf8", "<p>\xff ok</p>", "\uFFFD ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := HTMLToText(tt.in); got != tt.want {
				t.Errorf("HTMLToText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestSanitizeHTML(t *testing.T) {
	in := `<p onclick="x()">hi</p><script>alert(1)</script><style>p{}</style>` +
		`<a href="javascript:alert(1)">j</a><a href="https://ok.example/">ok</a>` +
		`<img src="https://track.example/p.gif"><img src="//track.example/q.gif"><img src="cid:logo@x">` +
		`<img src="data:image/png;base64,iVBORw0KGgo="><iframe src="https://evil.example"></iframe>` +
		`<form action="/x"><input name="p"></form><object data="x.swf"></object><svg onload="a()"></svg>`
	got := SanitizeHTML(in, false)
	for _, bad := range []string{"<script", "alert", "<style", "onclick", "javascript:", "<iframe", "<form", "<input", "<object", "<svg", ` src="https://`, ` src="//`} {
		if strings.Contains(got, bad) {
			t.Errorf("sanitized HTML contains %q:\n%s", bad, got)
		}
	}
	for _, want := range []string{`data-remote-src="https://track.example/p.gif"`, `data-remote-src="//track.example/q.gif"`, `src="cid:logo@x"`, `src="data:image/png;base64,`, `href="https://ok.example/"`} {
		if !strings.Contains(got, want) {
			t.Errorf("sanitized HTML lacks %q:\n%s", want, got)
		}
	}
	allowed := SanitizeHTML(in, true)
	if !strings.Contains(allowed, `src="https://track.example/p.gif"`) {
		t.Errorf("allowRemoteImages dropped the remote source:\n%s", allowed)
	}
}

func TestRewriteCIDs(t *testing.T) {
	in := `<p>x</p><img src="cid:Logo@X.example" alt="a"><img src="cid:other@x"><img src="https://r.example/i.png">`
	got := RewriteCIDs(in, map[string]string{"<logo@x.example>": "/attachments/7"})
	if !strings.Contains(got, `src="/attachments/7"`) || !strings.Contains(got, `src="cid:other@x"`) || !strings.Contains(got, `alt="a"`) {
		t.Errorf("RewriteCIDs = %s", got)
	}
	if RewriteCIDs(in, nil) != in {
		t.Error("RewriteCIDs without urls changed the input")
	}
}

func TestRemoveQuoteContainers(t *testing.T) {
	tests := []struct {
		name, in, keep, gone string
	}{
		{"gmail", `<div>new</div><div class="gmail_quote"><div class="gmail_attr">On x wrote:</div><blockquote>old</blockquote></div>`, "new", "old"},
		{"apple", `<div>new</div><blockquote type="cite"><div>old</div></blockquote>`, "new", "old"},
		{"thunderbird", `<p>new</p><div class="moz-cite-prefix">On x wrote:</div><blockquote type="cite">old</blockquote>`, "new", "wrote"},
		{"owa", `<div>new</div><hr><div id="divRplyFwdMsg"><b>From:</b> x</div><div>old</div>`, "new", "old"},
		{"outlook desktop", `<div class="WordSection1"><p>new</p><div><div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm"><p><b>From:</b> x</p></div></div><p>old</p></div>`, "new", "old"},
		{"yahoo", `<div>new</div><div class="yahoo_quoted">old</div>`, "new", "old"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, cut := removeQuoteContainers(tt.in)
			if !cut || !strings.Contains(got, tt.keep) || strings.Contains(got, tt.gone) {
				t.Errorf("removeQuoteContainers = %v %s", cut, got)
			}
		})
	}
}
