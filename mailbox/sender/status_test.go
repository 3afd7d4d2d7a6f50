package sender

import (
	"encoding/json"
	"testing"
	"time"
)

func TestStatusJSONSnakeCaseAndNullForNever(t *testing.T) {
	b, err := json.Marshal(Status{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"last_success":null,"last_error":"","last_error_at":null,"consecutive_failures":0}`; got != want {
		t.Errorf("fresh status:\n got %s\nwant %s", got, want)
	}
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	b, _ = json.Marshal(Status{LastSuccess: at, LastError: "relay down", LastErrorAt: at, ConsecutiveFailures: 2})
	if got, want := string(b), `{"last_success":"2026-12-01T10:00:00Z","last_error":"relay down","last_error_at":"2026-12-01T10:00:00Z","consecutive_failures":2}`; got != want {
		t.Errorf("status:\n got %s\nwant %s", got, want)
	}
}
