package intake_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/jcservicedesk/servicedesk/internal/cpustage"
	"github.com/jcservicedesk/servicedesk/mailbox/auth/authtest"
	"github.com/jcservicedesk/servicedesk/mailbox/delivery"
	"github.com/jcservicedesk/servicedesk/mailbox/intake"
	"github.com/jcservicedesk/servicedesk/mailbox/smtpd"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
)

// benchClients is how many SMTP connections (or Deliver callers) run at
// once: b.SetParallelism(benchClients/GOMAXPROCS), at least one each.
const benchClients = 16

// benchMails makes distinct plain messages from 200 senders: every one has
// its own Message-ID and body, so none is a duplicate of another (nor of
// one from an earlier run of the benchmark function).
type benchMails struct {
	run string
	n   atomic.Int64
}

func newBenchMails() *benchMails {
	var b [4]byte
	rand.Read(b[:])
	return &benchMails{run: hex.EncodeToString(b[:])}
}

// next returns the MAIL FROM address and the message.
func (g *benchMails) next() (string, []byte) {
	i := g.n.Add(1)
	from := fmt.Sprintf("cliente%03d@empresa%d.example", i%200, i%5)
	raw := mail("Cliente <"+from+">", fmt.Sprintf("Impressora não imprime (%d)", i),
		fmt.Sprintf("Bom dia,\n\nA impressora da recepção não imprime desde ontem.\nJá reiniciamos e nada.\n\nProtocolo %s-%d.\n\nObrigado,\nCliente\n", g.run, i),
		fmt.Sprintf("Message-ID: <bench.%s.%d@empresa.example>", g.run, i))
	return from, []byte(raw)
}

func benchConfig(c *intake.Config) {
	c.RateLimitPerHour = 0
	c.UnknownSender = intake.UnknownCreate
}

// benchAuth turns sender authentication on, as the daemon runs it by
// default, against a DNS server of the benchmark's own that knows no
// names: every SPF, DKIM and DMARC lookup is answered "no record" (the
// senders' domains publish nothing), so each message pays for its lookups
// and none is held.
func benchAuth(b *testing.B) func(*intake.Config) {
	var dns *authtest.Server
	// Its goroutines inherit the label: the server's CPU is not the
	// daemon's (in production DNS is another process).
	pprof.Do(context.Background(), pprof.Labels(cpustage.Label, "dns"), func(context.Context) { dns = authtest.Start(b) })
	return withAuth(dns, "flag")
}

// minProfiled is the least b.N whose run is profiled by stage: below it
// (the first, calibrating runs) a profile holds too few samples to say.
const minProfiled = 200

// profileStages profiles the timed part of a benchmark and, at stop,
// reports CPU per message by stage (internal/cpustage) and the whole
// process's. It does nothing for short runs, or when a profile is
// already running (go test -cpuprofile).
func profileStages(b *testing.B) (stop func()) {
	if b.N < minProfiled {
		return func() {}
	}
	p, err := cpustage.Start()
	if err != nil {
		return func() {}
	}
	return func() {
		s, process, err := p.Stop()
		if err != nil {
			b.Fatal(err)
		}
		for _, name := range s.Names() {
			b.ReportMetric(s.PerMessage(name, b.N), name+"-cpu-ms/msg")
		}
		if process > 0 {
			// The whole process: the SMTP clients and the DNS server too
			// (the "client" and "dns" stages), not a PostgreSQL
			// server's own CPU.
			b.ReportMetric(float64(process)/1e6/float64(b.N), "cpu-ms/msg")
		}
		// The stages are metrics; what "other" is, in one line (a
		// benchmark's log is cut after a few lines).
		var top []string
		for _, f := range s.OtherTop {
			top = append(top, fmt.Sprintf("%s %.0f ms", f.Name, float64(f.CPU)/1e6))
		}
		b.Logf("other (%.0f ms in all): %s", float64(s.ByStage[cpustage.Other])/1e6, strings.Join(top, ", "))
	}
}

// clientStage labels the benchmark's own SMTP clients, so that their CPU
// is not counted as the server's "other".
var clientStage = pprof.Labels(cpustage.Label, "client")

// checked wraps the intake so that any message not placed as a new ticket
// (a duplicate, a quarantine) fails the benchmark.
func checked(b *testing.B, in *intake.Intake) delivery.Deliverer {
	return delivery.DelivererFunc(func(ctx context.Context, env delivery.Envelope, raw []byte) (delivery.Outcome, error) {
		out, err := in.Deliver(ctx, env, raw)
		if err == nil && out.Action != store.MailTicket {
			b.Errorf("message placed as %q (%s), want ticket", out.Action, out.Reason)
		}
		return out, err
	})
}

func eachDriver(b *testing.B, fn func(b *testing.B, st *store.Store)) {
	for _, driver := range []string{store.SQLite, store.Postgres} {
		b.Run(driver, func(b *testing.B) { fn(b, storetest.Open(b, driver)) })
	}
}

func setParallelism(b *testing.B) {
	b.SetParallelism(max(1, benchClients/runtime.GOMAXPROCS(0)))
}

// BenchmarkSMTPIngest measures end-to-end ingest: a real SMTP receiver on
// loopback with the intake behind it, 16 client connections each sending
// MAIL, RCPT, DATA (RSET between) and waiting for the 250 that follows the
// durable commit. It reports msgs/s and the p99 time from the end of DATA
// to the 250, and (for b.N >= 200) the CPU per message of each stage of
// the server (smtp, parse, authenticate, commit, outbox, other) from a
// CPU profile of the timed part, and of the whole process (getrusage).
// Sender authentication is on, with DNS answering "no record".
func BenchmarkSMTPIngest(b *testing.B) {
	eachDriver(b, func(b *testing.B, st *store.Store) {
		r := newRig(b, st, benchConfig, benchAuth(b))
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		srv := smtpd.New(smtpd.Config{Addresses: r.cfg.Addresses, Hostname: "mx.bench.test"},
			checked(b, r.in), slog.New(slog.NewTextHandler(io.Discard, nil)))
		go srv.Serve(l)
		b.Cleanup(func() { // before the rig's cleanup stops the intake
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			srv.Shutdown(ctx)
		})
		addr, to := l.Addr().String(), r.cfg.Addresses[0]
		mails := newBenchMails()
		var (
			mu  sync.Mutex
			lat []time.Duration
		)
		setParallelism(b)
		stmts0 := st.Statements()
		b.ResetTimer()
		stopProfile := profileStages(b)
		b.RunParallel(func(pb *testing.PB) {
			pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(), clientStage))
			c, err := smtp.Dial(addr)
			if err != nil {
				b.Error(err)
				return
			}
			defer c.Close()
			if err := c.Hello("client.bench.test"); err != nil {
				b.Error(err)
				return
			}
			var mine []time.Duration
			defer func() {
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			}()
			for first := true; pb.Next(); first = false {
				if !first {
					if err := c.Reset(); err != nil {
						b.Error(err)
						return
					}
				}
				from, raw := mails.next()
				if err := c.Mail(from, nil); err != nil {
					b.Error(err)
					return
				}
				if err := c.Rcpt(to, nil); err != nil {
					b.Error(err)
					return
				}
				w, err := c.Data()
				if err != nil {
					b.Error(err)
					return
				}
				if _, err := w.Write(raw); err != nil {
					b.Error(err)
					return
				}
				t0 := time.Now()
				if err := w.Close(); err != nil {
					b.Error(err)
					return
				}
				mine = append(mine, time.Since(t0))
			}
			c.Quit()
		})
		b.StopTimer()
		stopProfile()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		b.ReportMetric(p99ms(lat), "p99-ms")
		b.ReportMetric(float64(st.Statements()-stmts0)/float64(b.N), "stmts/msg")
	})
}

// BenchmarkDeliver measures the intake alone: 16 goroutines calling
// Intake.Deliver with distinct plain messages, sender authentication on.
func BenchmarkDeliver(b *testing.B) {
	eachDriver(b, func(b *testing.B, st *store.Store) {
		r := newRig(b, st, benchConfig, benchAuth(b))
		d := checked(b, r.in)
		to := r.cfg.Addresses[0]
		mails := newBenchMails()
		var (
			mu  sync.Mutex
			lat []time.Duration
		)
		setParallelism(b)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			var mine []time.Duration
			for pb.Next() {
				from, raw := mails.next()
				t0 := time.Now()
				_, err := d.Deliver(context.Background(), delivery.Envelope{Source: delivery.SourceSMTP, MailFrom: from, Recipients: []string{to}}, raw)
				if err != nil {
					b.Error(err)
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		b.ReportMetric(p99ms(lat), "p99-ms")
	})
}

func p99ms(ds []time.Duration) float64 {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	k := (len(ds)*99+99)/100 - 1 // nearest rank
	return float64(ds[min(k, len(ds)-1)].Microseconds()) / 1000
}
