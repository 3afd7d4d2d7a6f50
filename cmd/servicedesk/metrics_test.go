package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jcservicedesk/servicedesk/configs"
	"github.com/jcservicedesk/servicedesk/mailbox/delivery"
	"github.com/jcservicedesk/servicedesk/mailbox/poller"
	"github.com/jcservicedesk/servicedesk/mailbox/sender"
)

type fakeOutbox map[string]int

func (f fakeOutbox) OutboxCounts(context.Context) (map[string]int, error) {
	out := map[string]int{}
	for k, v := range f {
		out[k] = v
	}
	return out, nil
}

type fakeQueue struct{ sender.Queue }

func (fakeQueue) Sent(context.Context, int64) error                     { return nil }
func (fakeQueue) Retry(context.Context, int64, time.Time, string) error { return nil }
func (fakeQueue) Failed(context.Context, int64, string) error           { return nil }

// exercised is a metrics whose every series has a value: one message of
// each fate, one send result of each kind, one HTTP request.
func exercised(t *testing.T) *metrics {
	t.Helper()
	m := newMetrics(fakeOutbox{"queued": 3, "failed": 1}, slog.New(slog.DiscardHandler))
	m.watchIMAP(func() []poller.Status {
		return []poller.Status{{Mailbox: "support", Connected: true, Failures: 2}}
	})
	ctx := context.Background()
	for _, fate := range []struct {
		action string
		err    error
	}{{"ticket", nil}, {"quarantine", nil}, {"", errors.New("database down")}, {"", &delivery.RejectError{Reason: "no"}}} {
		d := m.deliverer(delivery.DelivererFunc(func(context.Context, delivery.Envelope, []byte) (delivery.Outcome, error) {
			return delivery.Outcome{Action: fate.action}, fate.err
		}))
		_, _ = d.Deliver(ctx, delivery.Envelope{Source: delivery.SourceSMTP}, nil)
	}
	q := m.queue(fakeQueue{})
	_ = q.Sent(ctx, 1)
	_ = q.Retry(ctx, 2, time.Now(), "451")
	_ = q.Failed(ctx, 3, "550")
	_ = q.(sender.PartialRecorder).SentPartial(ctx, 4, "one refused")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /tickets/{n}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	m.instrument(mux).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/tickets/1042", nil))
	m.instrument(mux).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/nowhere", nil))
	return m
}

func scrape(h http.Handler, remote, auth string) (int, string) {
	r := httptest.NewRequest("GET", "/metrics", nil)
	r.RemoteAddr = remote
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code, w.Body.String()
}

// TestMetricsEndpoint: loopback (the default allowed network) gets the
// metrics; anyone else gets 403 unless they present the bearer token.
func TestMetricsEndpoint(t *testing.T) {
	m := exercised(t)
	const token = "0123456789abcdef-metrics"
	h := m.handler(configs.MetricsConfig{AllowedNetworks: configs.Defaults().Metrics.AllowedNetworks, Token: token})
	for _, remote := range []string{"127.0.0.1:4242", "[::1]:4242", "[::ffff:127.0.0.1]:4242"} {
		code, body := scrape(h, remote, "")
		if code != http.StatusOK {
			t.Fatalf("%s: %d", remote, code)
		}
		for _, want := range []string{
			`servicedesk_mail_received_total{channel="smtp"} 4`,
			`servicedesk_mail_committed_total{channel="smtp",outcome="ticket"} 1`,
			`servicedesk_mail_committed_total{channel="smtp",outcome="quarantine"} 1`,
			`servicedesk_mail_quarantined_total{channel="smtp"} 1`,
			`servicedesk_mail_failed_total{channel="smtp",kind="temporary"} 1`,
			`servicedesk_mail_failed_total{channel="smtp",kind="permanent"} 1`,
			`servicedesk_mail_commit_seconds_count{channel="smtp"} 2`,
			`servicedesk_outbox_messages{status="queued"} 3`,
			`servicedesk_outbox_messages{status="sending"} 0`,
			`servicedesk_outbox_send_total{result="sent"} 1`,
			`servicedesk_outbox_send_total{result="retry"} 1`,
			`servicedesk_outbox_send_total{result="failed"} 1`,
			`servicedesk_outbox_send_total{result="partial"} 1`,
			`servicedesk_imap_poll_errors_total{mailbox="support"} 2`,
			`servicedesk_imap_connected{mailbox="support"} 1`,
			`servicedesk_http_requests_total{code="418",route="GET /tickets/{n}"} 1`,
			`servicedesk_http_requests_total{code="404",route="unmatched"} 1`,
			"go_goroutines",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: no %s in\n%s", remote, want, body)
			}
		}
	}
	for _, auth := range []string{"", "Bearer wrong-token-wrong-token", "Basic " + token, "Bearer"} {
		if code, body := scrape(h, "203.0.113.9:5555", auth); code != http.StatusForbidden || strings.Contains(body, "servicedesk_") {
			t.Errorf("outsider with %q: %d %q", auth, code, body)
		}
	}
	if code, body := scrape(h, "203.0.113.9:5555", "Bearer "+token); code != http.StatusOK || !strings.Contains(body, "servicedesk_mail_received_total") {
		t.Errorf("outsider with the token: %d", code)
	}
	// No token configured: an empty bearer must not match it.
	noToken := m.handler(configs.MetricsConfig{AllowedNetworks: []string{"10.0.0.0/8"}})
	if code, _ := scrape(noToken, "203.0.113.9:5555", "Bearer "); code != http.StatusForbidden {
		t.Errorf("empty bearer without a token configured: %d", code)
	}
	if code, _ := scrape(noToken, "127.0.0.1:1", ""); code != http.StatusForbidden {
		t.Errorf("loopback outside the configured networks: %d", code)
	}
	if code, _ := scrape(noToken, "10.1.2.3:1", ""); code != http.StatusOK {
		t.Errorf("10.1.2.3 in 10.0.0.0/8: %d", code)
	}
}

// TestServeMountsMetrics: the daemon answers /metrics on its HTTP port,
// counting its own requests by route.
func TestServeMountsMetrics(t *testing.T) {
	c := newCLI(t, "sqlite")
	port := freePort(t)
	c.env = append(c.env, "SERVICEDESK_HTTP_ADDR=127.0.0.1:"+port, "SERVICEDESK_SMTP_ADDR=")
	cmd := exec.Command(binary, "serve")
	cmd.Dir, cmd.Env = c.dir, c.env
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	base := "http://127.0.0.1:" + port
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("serve did not come up: %s", errb.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`servicedesk_http_requests_total{code="200",route="GET /healthz"}`, `servicedesk_outbox_messages{status="queued"} 0`} {
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Fatalf("/metrics: %d, no %s in\n%s", resp.StatusCode, want, body)
		}
	}
}
