package main

import (
	"context"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/jcservicedesk/servicedesk/configs"
	"github.com/jcservicedesk/servicedesk/mailbox/delivery"
	"github.com/jcservicedesk/servicedesk/mailbox/poller"
	"github.com/jcservicedesk/servicedesk/mailbox/sender"
	"github.com/jcservicedesk/servicedesk/mailbox/smtpd"
	"github.com/jcservicedesk/servicedesk/store"
)

// What /metrics reads at scrape time, each through the one method it needs.
type (
	// outboxCounter is the store's outbox, counted by status.
	outboxCounter interface {
		OutboxCounts(ctx context.Context) (map[string]int, error)
	}
	// imapStatuses is the poller group's health.
	imapStatuses func() []poller.Status
	// smtpStats is the SMTP receiver's state.
	smtpStats func() smtpd.Stats
)

// storeOutbox reads the outbox counts on the store's read side.
type storeOutbox struct{ st *store.Store }

func (s storeOutbox) OutboxCounts(ctx context.Context) (map[string]int, error) {
	return s.st.R().OutboxCounts(ctx)
}

// metrics is serve's Prometheus registry: counters the daemon's parts
// update as they work, and values read when scraped. It has its own
// registry (no global state), so tests build as many as they like.
type metrics struct {
	reg *prometheus.Registry
	log *slog.Logger

	mailReceived    *prometheus.CounterVec
	mailCommitted   *prometheus.CounterVec
	mailQuarantined *prometheus.CounterVec
	mailFailed      *prometheus.CounterVec
	commitSeconds   *prometheus.HistogramVec
	sendResults     *prometheus.CounterVec
	httpRequests    *prometheus.CounterVec

	outbox outboxCounter
	mu     sync.Mutex
	imap   imapStatuses
	smtp   smtpStats
}

var (
	outboxDepthDesc = prometheus.NewDesc("servicedesk_outbox_messages", "Outbound mail in the outbox, by status.", []string{"status"}, nil)
	imapErrorsDesc  = prometheus.NewDesc("servicedesk_imap_poll_errors_total", "IMAP poll failures (connect, login, fetch, commit) since start, by mailbox.", []string{"mailbox"}, nil)
	imapUpDesc      = prometheus.NewDesc("servicedesk_imap_connected", "1 while the poller holds a connection to the mailbox.", []string{"mailbox"}, nil)
)

func newMetrics(outbox outboxCounter, log *slog.Logger) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(), log: log, outbox: outbox,
		mailReceived: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "servicedesk_mail_received_total", Help: "Inbound messages handed to the daemon's intake, by channel (smtp, imap; mail ingest runs in its own process).",
		}, []string{"channel"}),
		mailCommitted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "servicedesk_mail_committed_total", Help: "Inbound messages committed, by channel and outcome (ticket, comment, bounce, quarantine, duplicate, ignored).",
		}, []string{"channel", "outcome"}),
		mailQuarantined: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "servicedesk_mail_quarantined_total", Help: "Inbound messages kept in quarantine, by channel.",
		}, []string{"channel"}),
		mailFailed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "servicedesk_mail_failed_total", Help: "Inbound messages not committed, by channel and kind (temporary: the sender retries; permanent: refused).",
		}, []string{"channel", "kind"}),
		commitSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "servicedesk_mail_commit_seconds", Help: "Time from handing a message to the intake until it is durably committed, by channel.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"channel"}),
		sendResults: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "servicedesk_outbox_send_total", Help: "Outbound delivery attempts, by result (sent, partial, retry, failed).",
		}, []string{"result"}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "servicedesk_http_requests_total", Help: "HTTP requests, by route pattern and status code.",
		}, []string{"route", "code"}),
	}
	m.reg.MustRegister(m.mailReceived, m.mailCommitted, m.mailQuarantined, m.mailFailed, m.commitSeconds,
		m.sendResults, m.httpRequests, (*scraped)(m),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// watchIMAP makes the pollers' health part of every scrape.
func (m *metrics) watchIMAP(fn imapStatuses) {
	m.mu.Lock()
	m.imap = fn
	m.mu.Unlock()
}

// watchSMTP makes the SMTP receiver's state part of every scrape.
func (m *metrics) watchSMTP(fn smtpStats) {
	m.mu.Lock()
	m.smtp = fn
	m.mu.Unlock()
}

// smtpSeries are the receiver's Stats as metrics: each a description and
// the field it reads.
var smtpSeries = []struct {
	desc  *prometheus.Desc
	kind  prometheus.ValueType
	value func(smtpd.Stats) int64
}{
	{smtpDesc("connections", "SMTP sessions open."), prometheus.GaugeValue, func(s smtpd.Stats) int64 { return s.Connections }},
	{smtpDesc("connections_max", "SMTP sessions allowed at once; more get 421 at connect."), prometheus.GaugeValue, func(s smtpd.Stats) int64 { return s.MaxConnections }},
	{smtpDesc("uploads", "Messages being received now (in DATA)."), prometheus.GaugeValue, func(s smtpd.Stats) int64 { return s.Uploads }},
	{smtpDesc("uploads_spooled", "Messages being received now that are held in a spool file."), prometheus.GaugeValue, func(s smtpd.Stats) int64 { return s.Spooled }},
	{smtpDesc("upload_received_bytes", "Bytes the uploads in progress have read so far."), prometheus.GaugeValue, func(s smtpd.Stats) int64 { return s.ReceivedBytes }},
	{smtpDesc("memory_bytes", "Message bytes held in memory by the uploads in progress."), prometheus.GaugeValue, func(s smtpd.Stats) int64 { return s.MemoryBytes }},
	{smtpDesc("memory_budget_bytes", "Message bytes the uploads may hold in memory together (smtp.memory_budget); beyond it they spool to disk."), prometheus.GaugeValue, func(s smtpd.Stats) int64 { return s.MemoryBudget }},
	{smtpDesc("spool_bytes", "Message bytes held in spool files by the uploads in progress."), prometheus.GaugeValue, func(s smtpd.Stats) int64 { return s.SpoolBytes }},
	{smtpDesc("spool_max_bytes", "Message bytes the spool files may hold together (smtp.spool_max_bytes; 0: no limit)."), prometheus.GaugeValue, func(s smtpd.Stats) int64 { return s.SpoolMaxBytes }},
	{smtpDesc("spool_full_total", "Uploads refused with 451 4.3.1 because the spool was at smtp.spool_max_bytes."), prometheus.CounterValue, func(s smtpd.Stats) int64 { return s.SpoolFull }},
	{smtpDesc("uploads_cut_short_total", "Uploads that stalled past smtp.read_timeout or whose sender left, answered 451."), prometheus.CounterValue, func(s smtpd.Stats) int64 { return s.UploadsCutShort }},
}

var (
	smtpRefusedDesc = prometheus.NewDesc("servicedesk_smtp_connections_refused_total", "SMTP connections refused with 421 at connect, by reason (max_connections, max_per_ip).", []string{"reason"}, nil)
	smtpClosedDesc  = prometheus.NewDesc("servicedesk_smtp_sessions_closed_total", "SMTP sessions closed by a limit, by reason (idle_timeout, too_many_commands).", []string{"reason"}, nil)
)

func smtpDesc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc("servicedesk_smtp_"+name, help, nil, nil)
}

func collectSMTP(ch chan<- prometheus.Metric, st smtpd.Stats) {
	for _, s := range smtpSeries {
		ch <- prometheus.MustNewConstMetric(s.desc, s.kind, float64(s.value(st)))
	}
	ch <- prometheus.MustNewConstMetric(smtpRefusedDesc, prometheus.CounterValue, float64(st.RefusedConnections), "max_connections")
	ch <- prometheus.MustNewConstMetric(smtpRefusedDesc, prometheus.CounterValue, float64(st.RefusedPerIP), "max_per_ip")
	ch <- prometheus.MustNewConstMetric(smtpClosedDesc, prometheus.CounterValue, float64(st.IdleTimeouts), "idle_timeout")
	ch <- prometheus.MustNewConstMetric(smtpClosedDesc, prometheus.CounterValue, float64(st.TooManyCommands), "too_many_commands")
}

// scraped collects the values read at scrape time.
type scraped metrics

func (s *scraped) Describe(ch chan<- *prometheus.Desc) {
	ch <- outboxDepthDesc
	ch <- imapErrorsDesc
	ch <- imapUpDesc
	for _, s := range smtpSeries {
		ch <- s.desc
	}
	ch <- smtpRefusedDesc
	ch <- smtpClosedDesc
}

func (s *scraped) Collect(ch chan<- prometheus.Metric) {
	m := (*metrics)(s)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	counts, err := m.outbox.OutboxCounts(ctx)
	if err != nil {
		// The rest of the scrape is still worth having; the gap shows.
		m.log.Warn("metrics: outbox counts", "err", err)
	} else {
		for _, st := range []string{store.OutboxQueued, store.OutboxSending, store.OutboxSent, store.OutboxFailed} {
			if _, ok := counts[st]; !ok {
				counts[st] = 0
			}
		}
		for st, n := range counts {
			ch <- prometheus.MustNewConstMetric(outboxDepthDesc, prometheus.GaugeValue, float64(n), st)
		}
	}
	m.mu.Lock()
	imap, smtpFn := m.imap, m.smtp
	m.mu.Unlock()
	if smtpFn != nil {
		collectSMTP(ch, smtpFn())
	}
	if imap == nil {
		return
	}
	for _, st := range imap() {
		ch <- prometheus.MustNewConstMetric(imapErrorsDesc, prometheus.CounterValue, float64(st.Failures), st.Mailbox)
		up := 0.0
		if st.Connected {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(imapUpDesc, prometheus.GaugeValue, up, st.Mailbox)
	}
}

// deliverer counts what the intake does with each message.
func (m *metrics) deliverer(d delivery.Deliverer) delivery.Deliverer {
	return delivery.DelivererFunc(func(ctx context.Context, env delivery.Envelope, raw []byte) (delivery.Outcome, error) {
		ch := string(env.Source)
		m.mailReceived.WithLabelValues(ch).Inc()
		start := time.Now()
		out, err := d.Deliver(ctx, env, raw)
		switch {
		case err == nil:
			m.commitSeconds.WithLabelValues(ch).Observe(time.Since(start).Seconds())
			m.mailCommitted.WithLabelValues(ch, out.Action).Inc()
			if out.Action == store.MailQuarantine {
				m.mailQuarantined.WithLabelValues(ch).Inc()
			}
		case delivery.IsPermanent(err):
			m.mailFailed.WithLabelValues(ch, "permanent").Inc()
		default:
			m.mailFailed.WithLabelValues(ch, "temporary").Inc()
		}
		return out, err
	})
}

// queue counts the sender's verdicts on the outbox.
func (m *metrics) queue(q sender.Queue) sender.Queue { return &countingQueue{Queue: q, m: m} }

type countingQueue struct {
	sender.Queue
	m *metrics
}

func (q *countingQueue) count(result string, err error) error {
	if err == nil {
		q.m.sendResults.WithLabelValues(result).Inc()
	}
	return err
}

func (q *countingQueue) Sent(ctx context.Context, id int64) error {
	return q.count("sent", q.Queue.Sent(ctx, id))
}

func (q *countingQueue) Retry(ctx context.Context, id int64, next time.Time, reason string) error {
	return q.count("retry", q.Queue.Retry(ctx, id, next, reason))
}

func (q *countingQueue) Failed(ctx context.Context, id int64, reason string) error {
	return q.count("failed", q.Queue.Failed(ctx, id, reason))
}

// Render passes the rendering of unrendered rows through (sender.Renderer).
func (q *countingQueue) Render(ctx context.Context, m sender.Message) ([]byte, error) {
	if r, ok := q.Queue.(sender.Renderer); ok {
		return r.Render(ctx, m)
	}
	return nil, sender.Unrenderable(fmt.Errorf("outbox mail %d has no bytes and the queue renders none", m.ID))
}

// SentPartial keeps the refused recipients when the store can; otherwise
// the message counts as sent, as the sender itself would do.
func (q *countingQueue) SentPartial(ctx context.Context, id int64, reason string) error {
	if pr, ok := q.Queue.(sender.PartialRecorder); ok {
		return q.count("partial", pr.SentPartial(ctx, id, reason))
	}
	return q.count("partial", q.Queue.Sent(ctx, id))
}

// instrument counts every request by its route pattern (never the raw
// path, which would make a series per ticket) and status code.
func (m *metrics) instrument(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(sw, r)
		route := r.Pattern // set by the ServeMux on the request it routed
		if route == "" {
			route = "unmatched"
		}
		m.httpRequests.WithLabelValues(route, strconv.Itoa(sw.code)).Inc()
	})
}

type statusWriter struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.code, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// handler serves the registry to clients in cfg.AllowedNetworks, or
// presenting cfg.Token as a bearer token; anyone else gets 403. The peer
// address is the TCP one: a proxy in front must be in the allowed
// networks itself or pass the token on.
func (m *metrics) handler(cfg configs.MetricsConfig) http.Handler {
	allowed := cfg.Prefixes()
	token := []byte(cfg.Token)
	prom := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(m.log.Handler(), slog.LevelWarn)})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !peerAllowed(r.RemoteAddr, allowed) && !bearerMatches(r.Header.Get("Authorization"), token) {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		prom.ServeHTTP(w, r)
	})
}

func peerAllowed(remote string, allowed []netip.Prefix) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	addr = addr.Unmap().WithZone("")
	for _, p := range allowed {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// bearerMatches compares in constant time; no token configured never
// matches.
func bearerMatches(header string, token []byte) bool {
	if len(token) == 0 {
		return false
	}
	scheme, got, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), token) == 1
}
