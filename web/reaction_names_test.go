package web

import (
	"testing"

	"github.com/jcservicedesk/servicedesk/ticketing"
)

// TestReactionNames: every offered emoji has a name in both languages, so
// a reaction button reads (and shows a tooltip) without an emoji font.
func TestReactionNames(t *testing.T) {
	keys := catalogKeys(t)
	for _, e := range ticketing.Emojis {
		k, ok := reactionNames[e]
		if !ok {
			t.Errorf("emoji %q (%+q) has no name", e, e)
			continue
		}
		for _, l := range languages {
			if !keys[l.String()][k] {
				t.Errorf("%s missing in %s", k, l)
			}
		}
	}
	if len(reactionNames) != len(ticketing.Emojis) {
		t.Errorf("%d names for %d emojis", len(reactionNames), len(ticketing.Emojis))
	}
}
