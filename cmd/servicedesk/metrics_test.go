package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strconv"
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

// metricValue is the value of one series line in an exposition, or -1.
func metricValue(body, series string) float64 {
	for _, line := range strings.Split(body, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err == nil {
				return v
			}
		}
	}
	return -1
}

func scrapeURL(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %d %s", url, resp.StatusCode, body)
	}
	return string(body)
}

// TestServeExportsSMTPStats: the daemon's /metrics carries the SMTP
// receiver's state, and real SMTP sessions move it: an open session, one
// refused for the per-address cap, one closed idle, a delivered message.
func TestServeExportsSMTPStats(t *testing.T) {
	c := newCLI(t, "sqlite")
	c.env = append(c.env, "SERVICEDESK_SMTP_MAX_CONNS_PER_IP=1", "SERVICEDESK_SMTP_IDLE_TIMEOUT=1s",
		"SERVICEDESK_SMTP_SPOOL_MAX_BYTES=104857600")
	smtpAddr, base, _ := startServe(t, c)
	series := func(body string) map[string]float64 {
		out := map[string]float64{}
		for _, s := range []string{
			"servicedesk_smtp_connections", "servicedesk_smtp_connections_max", "servicedesk_smtp_uploads",
			"servicedesk_smtp_uploads_spooled", "servicedesk_smtp_memory_bytes", "servicedesk_smtp_memory_budget_bytes",
			"servicedesk_smtp_upload_received_bytes", "servicedesk_smtp_uploads_cut_short_total",
			"servicedesk_smtp_spool_bytes", "servicedesk_smtp_spool_max_bytes", "servicedesk_smtp_spool_full_total",
			`servicedesk_smtp_connections_refused_total{reason="max_per_ip"}`,
			`servicedesk_smtp_connections_refused_total{reason="max_connections"}`,
			`servicedesk_smtp_sessions_closed_total{reason="idle_timeout"}`,
			`servicedesk_smtp_sessions_closed_total{reason="too_many_commands"}`,
			`servicedesk_mail_received_total{channel="smtp"}`,
		} {
			out[s] = metricValue(body, s)
		}
		return out
	}
	// The probe startServe made may still be counted as open: wait until it is not.
	var before map[string]float64
	for deadline := time.Now().Add(30 * time.Second); ; {
		before = series(scrapeURL(t, base+"/metrics"))
		if before["servicedesk_smtp_connections"] == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for s, v := range before {
		want := 0.0
		switch s {
		case "servicedesk_smtp_connections_max":
			want = 200
		case "servicedesk_smtp_memory_budget_bytes":
			want = 64 << 20
		case "servicedesk_smtp_spool_max_bytes":
			want = 100 << 20 // smtp.spool_max_bytes reached the receiver
		case `servicedesk_mail_received_total{channel="smtp"}`:
			want = -1 // no series before the first message
		}
		if v != want {
			t.Errorf("before: %s = %v, want %v", s, v, want)
		}
	}

	first, err := net.DialTimeout("tcp", smtpAddr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	first.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(first)
	if line, _ := r.ReadString('\n'); !strings.HasPrefix(line, "220") {
		t.Fatalf("greeting: %q", line)
	}
	if v := series(scrapeURL(t, base+"/metrics"))["servicedesk_smtp_connections"]; v != 1 {
		t.Errorf("one session open: connections = %v", v)
	}
	// A second connection from the same address is over the cap of 1.
	second, err := net.DialTimeout("tcp", smtpAddr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	second.SetDeadline(time.Now().Add(30 * time.Second))
	line, _ := bufio.NewReader(second).ReadString('\n')
	second.Close()
	if !strings.HasPrefix(line, "421") {
		t.Fatalf("second connection: %q, want 421", line)
	}
	// The first says nothing more: closed after smtp.idle_timeout.
	if line, _ := r.ReadString('\n'); !strings.HasPrefix(line, "421") {
		t.Fatalf("idle session: %q, want 421", line)
	}
	first.Close()
	waitClosed := func() map[string]float64 {
		for deadline := time.Now().Add(30 * time.Second); ; {
			got := series(scrapeURL(t, base+"/metrics"))
			if got["servicedesk_smtp_connections"] == 0 || time.Now().After(deadline) {
				return got
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitClosed() // the cap of 1 would refuse the next one until then
	if err := sendSMTP(smtpAddr, "alice@customer.test", "support@localhost", "metrics", "hello", "<metrics-1@customer.test>"); err != nil {
		t.Fatal(err)
	}
	after := waitClosed()
	for s, want := range map[string]float64{
		"servicedesk_smtp_connections":                                    0,
		`servicedesk_smtp_connections_refused_total{reason="max_per_ip"}`: 1,
		`servicedesk_smtp_sessions_closed_total{reason="idle_timeout"}`:   1,
		`servicedesk_mail_received_total{channel="smtp"}`:                 1,
		"servicedesk_smtp_uploads":                                        0,
	} {
		if after[s] != want {
			t.Errorf("after: %s = %v, want %v", s, after[s], want)
		}
	}
}
