package compose

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jcservicedesk/servicedesk/mailbox/thread"
)

// legacyValidID is compose's former id check, frozen for the differential
// below; compose now asks thread.WritableID.
func legacyValidID(id string) bool {
	if len(id) > 250 || !strings.Contains(id, "@") {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c >= 0x7f || c == '<' || c == '>' {
			return false
		}
	}
	return true
}

var idField = regexp.MustCompile(`(?im)^(message-id|in-reply-to|references)[ \t]*:(.*(?:\n[ \t].*)*)`)

// TestWritableIDDifferential: over every id of the corpus, the one grammar
// writes the same ids as compose's own check did. The one decided change,
// shown by the crafted cases: ids with specials ( ) " , are no longer
// written (a receiver's References parser would split or drop them).
func TestWritableIDDifferential(t *testing.T) {
	files, _ := filepath.Glob("../testdata/*.eml")
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range idField.FindAllStringSubmatch(strings.ReplaceAll(string(b), "\r\n", "\n"), -1) {
			for _, id := range thread.IDs(m[2]) {
				n++
				if legacyValidID(id) != thread.WritableID(id) {
					t.Errorf("%s: %q: old %v, new %v", filepath.Base(f), id, legacyValidID(id), thread.WritableID(id))
				}
			}
		}
	}
	if n < 30 {
		t.Fatalf("only %d ids in the corpus: the walk is broken", n)
	}
	for _, id := range []string{`a(b)@c`, `a"b"@c`, `a,b@c`} {
		if !legacyValidID(id) || thread.WritableID(id) {
			t.Errorf("%q: old %v, new %v; want the decided change (true, false)", id, legacyValidID(id), thread.WritableID(id))
		}
	}
}
