package ticketing_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

func TestSealedState(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		a := newAcct(t, st, ticketing.AccountConfig{})
		tok, err := a.svc.SealState("totp-setup", []byte("otpauth://secret=ABC"), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(tok, "ABC") {
			t.Fatal("sealed state shows its data")
		}
		if b, err := a.svc.OpenSealedState("totp-setup", tok); err != nil || string(b) != "otpauth://secret=ABC" {
			t.Fatalf("open: %q %v", b, err)
		}
		if _, err := a.svc.OpenSealedState("webauthn", tok); !errors.Is(err, ticketing.ErrBadToken) {
			t.Fatalf("another purpose: %v", err)
		}
		if _, err := a.svc.OpenSealedState("totp-setup", tok[:len(tok)-2]+"AA"); !errors.Is(err, ticketing.ErrBadToken) {
			t.Fatalf("tampered: %v", err)
		}
		a.tick(time.Minute)
		if _, err := a.svc.OpenSealedState("totp-setup", tok); !errors.Is(err, ticketing.ErrBadToken) {
			t.Fatalf("expired: %v", err)
		}
	})
}
