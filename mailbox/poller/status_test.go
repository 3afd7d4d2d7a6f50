package poller

import (
	"encoding/json"
	"testing"
	"time"
)

func TestStatusJSONSnakeCaseAndNullForNever(t *testing.T) {
	b, err := json.Marshal(Status{Mailbox: "support"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"mailbox":"support","connected":false,"last_success":null,"last_error":"","consecutive_failures":0,"healthy":false,"stuck":false}`; got != want {
		t.Errorf("fresh status:\n got %s\nwant %s", got, want)
	}
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	b, _ = json.Marshal(Status{Mailbox: "support", Connected: true, LastSuccess: at, Healthy: true})
	if got, want := string(b), `{"mailbox":"support","connected":true,"last_success":"2026-12-01T10:00:00Z","last_error":"","consecutive_failures":0,"healthy":true,"stuck":false}`; got != want {
		t.Errorf("status:\n got %s\nwant %s", got, want)
	}
}
