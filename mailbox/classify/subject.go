package classify

import (
	"fmt"
	"io"
	"mime"
	"strings"

	"golang.org/x/text/encoding/ianaindex"
)

// decodeHeader decodes RFC 2047 encoded words with a decoder of our own
// (no package-level charset registry), falling back to the raw text.
func decodeHeader(s string) string {
	if !strings.Contains(s, "=?") {
		return strings.ToValidUTF8(s, "\uFFFD")
	}
	d := mime.WordDecoder{CharsetReader: charsetReader}
	out, err := d.DecodeHeader(s)
	if err != nil {
		out = s
	}
	return strings.ToValidUTF8(out, "\uFFFD")
}

func charsetReader(charset string, input io.Reader) (io.Reader, error) {
	enc, err := ianaindex.MIME.Encoding(charset)
	if err != nil || enc == nil {
		return nil, fmt.Errorf("classify: unsupported charset %q: %w", charset, err)
	}
	return enc.NewDecoder().Reader(input), nil
}

// autoReplyPrefixes start the subjects of out-of-office and vacation
// replies in en, pt-BR, es, fr and de. Matched as prefixes, lower-cased:
// "Re: Out of office" is a person answering one, so it is not matched.
var autoReplyPrefixes = []string{
	"automatic reply:", "auto:", "autoreply", "auto-reply", "auto reply",
	"out of office", "out of the office", "resposta automática",
	"ausente do escritório", "fora do escritório", "respuesta automática",
	"fuera de la oficina", "réponse automatique", "absence du bureau",
	"abwesenheitsnotiz", "automatische antwort",
}

func autoReplySubject(subject string) string {
	s := strings.ToLower(strings.TrimSpace(subject))
	for _, p := range autoReplyPrefixes {
		if strings.HasPrefix(s, p) {
			return p
		}
	}
	return ""
}

// bounceSubjects appear in the subjects of non-DSN bounces (Postfix, Exim,
// sendmail, qmail, Exchange in several languages, Gmail, Brazilian ISPs).
// Matched anywhere, lower-cased, and only with a null or daemon sender.
var bounceSubjects = []string{
	"undelivered mail returned to sender",
	"mail delivery failed",
	"delivery status notification (failure)",
	"delivery status notification (delay)",
	"undeliverable:", "undeliverable mail", "undelivered mail",
	"returned mail:", "failure notice", "delivery failure",
	"mail delivery failure", "warning: could not send message", "message not delivered",
	"não foi possível entregar", "mensagem não entregue",
	"não é possível entregar", "no se puede entregar", "non remis",
	"unzustellbar", "nicht zustellbar",
}

func bounceSubject(subject string) string {
	s := strings.ToLower(subject)
	for _, p := range bounceSubjects {
		if strings.Contains(s, p) {
			return p
		}
	}
	return ""
}
