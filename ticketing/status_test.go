package ticketing

import (
	"errors"
	"strings"
	"testing"
)

func TestTransitions(t *testing.T) {
	valid := map[[2]string]bool{
		{"new", "open"}: true, {"new", "pending"}: true,
		{"open", "pending"}: true, {"open", "resolved"}: true, {"open", "closed"}: true,
		{"pending", "open"}: true, {"pending", "resolved"}: true, {"pending", "closed"}: true,
		{"resolved", "closed"}: true, {"resolved", "reopened"}: true,
		{"closed", "reopened"}: true,
		{"reopened", "open"}:   true, {"reopened", "pending"}: true, {"reopened", "resolved"}: true,
		{"reopened", "closed"}: true,
	}
	for _, from := range Statuses {
		for _, to := range append(Statuses, "bogus") {
			err := CheckTransition(from, to)
			if valid[[2]string{from, to}] {
				if err != nil {
					t.Errorf("%s → %s: unexpected error %v", from, to, err)
				}
				continue
			}
			var te *TransitionError
			if !errors.As(err, &te) || !errors.Is(err, ErrInvalid) {
				t.Errorf("%s → %s: err = %v, want a TransitionError", from, to, err)
				continue
			}
			if te.Why == "" || !strings.Contains(err.Error(), from) || !strings.Contains(err.Error(), to) {
				t.Errorf("%s → %s: message %q does not say why", from, to, err)
			}
		}
	}
}

func TestTransitionReasons(t *testing.T) {
	for _, tc := range []struct{ from, to, want string }{
		{"new", "closed", "open it first"},
		{"closed", "open", "reopened first"},
		{"open", "open", "already open"},
		{"open", "reopened", "only a resolved or closed"},
		{"open", "new", "never goes back"},
		{"new", "resolved", "open the ticket"},
	} {
		err := CheckTransition(tc.from, tc.to)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s → %s: %v, want it to say %q", tc.from, tc.to, err, tc.want)
		}
	}
}
