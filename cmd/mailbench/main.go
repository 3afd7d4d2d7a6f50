// Command mailbench is a load generator for the SMTP receiver of
// `servicedesk serve`. It sends -n realistic messages over -c concurrent
// SMTP connections (each reused for many messages, RSET between) and
// reports messages per second, the replies it got, and the latency from
// the end of DATA to the server's answer: the daemon answers 250 only
// after the message is durably committed, so that is DATA → commit.
//
// It can also be the DNS server the daemon's sender authentication asks
// (-dns, answering "no record" for every name), and read the daemon's CPU
// profile by stage of the mail path (-stages).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/emersion/go-smtp"
)

const usage = `mailbench: load-test the SMTP receiver of servicedesk.

Usage:
  go run ./cmd/mailbench -addr 127.0.0.1:2525 -n 5000 -c 16 [-to support@localhost] [-seed 1] [-json]

Sends -n messages over -c concurrent SMTP connections, each connection
reused for many messages (RSET between). The mix, deterministic from -seed:
~40% plain text, ~30% multipart/alternative with pt-BR HTML, ~15% with a
50 KB base64 PDF-like attachment, ~15% replies (In-Reply-To/References to
a message sent earlier in the run, "Re:" subject, quoted "Em … escreveu:").
Senders: 200 addresses at a few *.example domains.

-set thread sends conversations instead (half requests, half replies):
requests from 40 people at 4 customer domains (lojasilva.example,
construtora-ribeiro.example, contabil-souza.example, clinicavida.example:
create those companies with their domains first), a colleague and a vendor
often in Cc; replies to the newest message of a conversation from the
requester, from a colleague or a vendor who was in Cc, and from strangers
at desconhecido.example who were never on the thread. The result says
what a correct daemon makes of it ("expect"): one ticket per request, one
comment per reply from someone on the thread, and per stranger's reply a
new linked ticket (mail.unknown_sender create) or a quarantine entry.

-corpus PATH replays a message set of your own instead: PATH is a
directory, and every regular file under it (subdirectories too) whose name
matches -corpus-match (default *.eml) is a message, in lexical order of the
path; or PATH is an mbox file, split on its "From " lines, the body's
">From " lines unescaped (mboxrd, so mboxo too). The K messages are sent
round-robin until -n are sent. Each copy gets a new Message-ID (the
original replaced where it was, or one added before the first field),
<mbc.RUN.MSG.COPY@mailbench.example> (MSG the message's place in the
corpus, from 0), so that the daemon takes every copy as new mail; every other byte is the file's, but that every line ending
(CRLF, bare LF or bare CR) is sent as CRLF, and a last line without one
gets one. MAIL FROM is the address of the From header, or
corpus@mailbench.example when it has none that can be (counted in the
result). In-Reply-To and References are left as they are. -corpus
mailbox/testdata replays the project's real-world-shaped fixtures; RT5's
t/data/emails has no extension: -corpus-match '*'.

Message-IDs carry a run
tag (-run, default: derived from the clock) so that repeated runs against
the same database are not duplicates; the same -seed and -run reproduce
the same bytes (and so exercise the duplicate check).

Reports messages/s (250 replies per second of wall time), the count of
250 / 4xx / 5xx replies and other errors, and p50/p90/p99/max latency from
the end of DATA to the server's reply (DATA → commit). Exits 1 when any
message did not get a 250 (refused, failed, or not sent before -timeout).

The daemon under test, for example:
  SERVICEDESK_SMTP_ADDR=127.0.0.1:2525 \
  SERVICEDESK_HTTP_ADDR=127.0.0.1:4480 \
  SERVICEDESK_DATABASE_URL=sqlite:////tmp/bench.db \
  SERVICEDESK_MAIL_UNKNOWN_SENDER=create \
  SERVICEDESK_MAIL_RATE_LIMIT_PER_HOUR=0 \
  go run ./cmd/servicedesk serve
(or SERVICEDESK_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable&search_path=SCHEMA).
unknown_sender=create makes the senders users; a rate limit of 0 keeps the
per-sender loop limit from quarantining load-test mail. -to must be one of
the daemon's mail.addresses (default support@localhost).

Sender authentication (on by default in the daemon) needs DNS, and a
machine without any makes every lookup time out and every message get
451. -dns ADDR runs a DNS server on ADDR (UDP and TCP) for the length of
the run that answers NXDOMAIN ("no record") for every name; point the
daemon at it with SERVICEDESK_MAIL_DNS_RESOLVER=ADDR. With
-serve-dns-only it only serves DNS, until interrupted, so that it can be
started before the daemon.

-stages FILE reads a CPU profile of the daemon (serve --cpuprofile FILE,
written when serve stops on SIGINT) and prints the CPU per message of
each stage of the mail path, by the "stage" label the code sets: smtp (the
receiver, reading DATA included), parse, authenticate, commit (the
transaction and all that runs in it), outbox (composing and DKIM signing,
even inside the commit, and the sender loop), and other (unlabelled: the
garbage collector's workers, HTTP, timers), with other's top functions.
It divides by -stages-n (default -n) and sends nothing.

A measured run on SQLite, by stage (README.md, "Mail performance"):
  go build -o /tmp/mailbench ./cmd/mailbench && go build -o /tmp/servicedesk ./cmd/servicedesk
  /tmp/mailbench -dns 127.0.0.1:5354 -serve-dns-only & DNS=$!
  SERVICEDESK_SMTP_ADDR=127.0.0.1:2525 SERVICEDESK_HTTP_ADDR=127.0.0.1:4480 \
  SERVICEDESK_DATABASE_URL=sqlite:////tmp/bench.db \
  SERVICEDESK_MAIL_UNKNOWN_SENDER=create SERVICEDESK_MAIL_RATE_LIMIT_PER_HOUR=0 \
  SERVICEDESK_MAIL_DNS_RESOLVER=127.0.0.1:5354 \
  /tmp/servicedesk serve --cpuprofile /tmp/serve.pprof & SERVE=$!
  until curl -fs http://127.0.0.1:4480/readyz >/dev/null; do sleep 0.2; done
  /tmp/mailbench -c 4 -n 5000
  kill -INT $SERVE; wait $SERVE     # serve writes the profile as it stops
  /tmp/mailbench -stages /tmp/serve.pprof -stages-n 5000
  kill $DNS

Flags:
`

type options struct {
	addr, to, helo, run string
	set                 string // mix | thread
	n, c                int
	seed                uint64
	timeout             time.Duration
	json                bool
	dns                 string // run a NXDOMAIN DNS server here
	dnsOnly             bool   // ... and do nothing else
	stages              string // report a profile by stage instead of sending
	stagesN             int
	corpus, corpusMatch string  // -corpus: replay these files instead
	cp                  *corpus // -corpus, read
}

func main() {
	var o options
	fs := flag.NewFlagSet("mailbench", flag.ContinueOnError)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:2525", "SMTP address of the daemon (host:port)")
	fs.IntVar(&o.n, "n", 5000, "number of messages to send")
	fs.IntVar(&o.c, "c", 16, "concurrent SMTP connections")
	fs.StringVar(&o.to, "to", "support@localhost", "recipient: one of the daemon's mail.addresses")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the message mix")
	fs.StringVar(&o.run, "run", "", "run tag in Message-IDs and bodies (default: from the clock)")
	fs.StringVar(&o.helo, "helo", "mailbench.example", "EHLO name")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "give up after this long (messages not sent count as failures)")
	fs.BoolVar(&o.json, "json", false, "print the result as a JSON object instead of a paragraph")
	fs.StringVar(&o.set, "set", "mix", "message set: mix (load) or thread (conversations, see above)")
	fs.StringVar(&o.dns, "dns", "", "run a DNS server on this host:port (UDP and TCP) answering \"no record\" for every name, for mail.dns_resolver")
	fs.BoolVar(&o.dnsOnly, "serve-dns-only", false, "with -dns: only serve DNS, until interrupted")
	fs.StringVar(&o.stages, "stages", "", "print CPU per message by stage from this CPU profile of the daemon, and send nothing")
	fs.IntVar(&o.stagesN, "stages-n", 0, "with -stages: messages the profile covers (default -n)")
	fs.StringVar(&o.corpus, "corpus", "", "send the messages of this directory (files matching -corpus-match, subdirectories too) or mbox file, round-robin, instead of a generated set")
	fs.StringVar(&o.corpusMatch, "corpus-match", "*.eml", "with -corpus DIR: the file names to send (filepath.Match pattern)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		os.Exit(2)
	}
	if o.n <= 0 || o.c <= 0 || fs.NArg() > 0 || (o.set != "mix" && o.set != "thread") {
		fs.Usage()
		os.Exit(2)
	}
	if bad := badModes(o); bad != "" {
		fmt.Fprintln(os.Stderr, "mailbench: "+bad)
		os.Exit(2)
	}
	if o.stages != "" {
		n := o.n
		if o.stagesN > 0 {
			n = o.stagesN
		}
		if err := reportStages(os.Stdout, o.stages, n); err != nil {
			fmt.Fprintln(os.Stderr, "mailbench:", err)
			os.Exit(1)
		}
		return
	}
	if o.dns != "" {
		d, err := startNullDNS(o.dns)
		if err != nil {
			fmt.Fprintln(os.Stderr, "mailbench:", err)
			os.Exit(1)
		}
		defer d.close()
		fmt.Fprintf(os.Stderr, "mailbench: DNS on %s (UDP and TCP) answers NXDOMAIN for every name\n", d.Addr)
		if o.dnsOnly {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			<-ctx.Done()
			stop()
			return
		}
	}
	if o.run == "" {
		o.run = strconv.FormatInt(time.Now().UnixNano()/1e6, 36)
	}
	if o.corpus != "" {
		cp, err := loadCorpus(o.corpus, o.corpusMatch)
		if err != nil {
			fmt.Fprintln(os.Stderr, "mailbench: -corpus:", err)
			os.Exit(1)
		}
		o.cp = cp
	}
	res := run(o)
	if o.json {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		enc.Encode(res)
	} else {
		fmt.Println(res.summary())
	}
	if res.OK != o.n {
		os.Exit(1) // (the DNS server ends with the process)
	}
}

// badModes says what is wrong with a combination of the mode flags, or "".
func badModes(o options) string {
	switch {
	case o.dnsOnly && o.dns == "":
		return "-serve-dns-only needs -dns ADDR"
	case o.stages != "" && o.dns != "":
		return "-stages reads a profile and sends nothing: no -dns with it"
	case o.stagesN < 0:
		return "-stages-n must be a positive count of messages"
	case o.stagesN > 0 && o.stages == "":
		return "-stages-n goes with -stages FILE"
	case o.corpus != "" && o.set != "mix":
		return "-corpus replaces the generated set: no -set with it"
	case o.corpus != "" && (o.stages != "" || o.dnsOnly):
		return "-corpus sends mail: not with -stages or -serve-dns-only"
	}
	return ""
}

// result is what one run measured.
type result struct {
	Addr        string         `json:"addr"`
	N           int            `json:"n"`
	Concurrency int            `json:"concurrency"`
	Seed        uint64         `json:"seed"`
	Run         string         `json:"run"`
	Mix         map[string]int `json:"mix,omitempty"` // the generated sets
	// -corpus: the path, its message count and how many of those had no
	// From address usable as MAIL FROM.
	Corpus         string         `json:"corpus,omitempty"`
	CorpusMessages int            `json:"corpus_messages,omitempty"`
	CorpusNoFrom   int            `json:"corpus_fallback_from,omitempty"`
	OK             int            `json:"replies_250"`
	Temp           int            `json:"replies_4xx"`
	Perm           int            `json:"replies_5xx"`
	Errors         int            `json:"other_errors"` // network or protocol failures
	NotSent        int            `json:"not_sent"`     // the timeout came first
	ErrorSample    map[string]int `json:"error_sample,omitempty"`
	Bytes          int64          `json:"bytes"`
	ElapsedS       float64        `json:"elapsed_s"`
	MsgsPerS       float64        `json:"msgs_per_s"`
	LatencyMS      latency        `json:"data_to_reply_ms"`
	TimedOut       bool           `json:"timed_out"`
	// Expect is what the thread set should become (-set thread).
	Expect *threadExpect `json:"expect,omitempty"`
}

type latency struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

func (r *result) summary() string {
	s := fmt.Sprintf("mailbench: %d messages to %s over %d connections in %.2fs: %.1f msgs/s; replies 250=%d 4xx=%d 5xx=%d, other errors %d, not sent %d; "+
		"DATA→reply p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms; %s, %.1f MB, %s.",
		r.N, r.Addr, r.Concurrency, r.ElapsedS, r.MsgsPerS, r.OK, r.Temp, r.Perm, r.Errors, r.NotSent,
		r.LatencyMS.P50, r.LatencyMS.P90, r.LatencyMS.P99, r.LatencyMS.Max,
		r.set(), float64(r.Bytes)/1e6, r.tag())
	if r.CorpusNoFrom > 0 {
		s += fmt.Sprintf(" %d of the corpus messages have no usable From address: MAIL FROM %s.", r.CorpusNoFrom, corpusFallbackFrom)
	}
	if e := r.Expect; e != nil {
		s += fmt.Sprintf(" Thread set: %d requests, replies %v; expect %d tickets and %d comments (unknown_sender create), or %d tickets and %d quarantined (quarantine).",
			e.Requests, e.Replies, e.TicketsCreate, e.Comments, e.TicketsQuarantine, e.Quarantined)
	}
	if r.TimedOut {
		s += " Stopped by -timeout."
	}
	if len(r.ErrorSample) > 0 {
		b, _ := json.Marshal(r.ErrorSample)
		s += " Failures: " + string(b) + "."
	}
	return s
}

// set says what was sent: the corpus or the mix.
func (r *result) set() string {
	if r.Corpus != "" {
		return fmt.Sprintf("corpus=%s (%d messages)", r.Corpus, r.CorpusMessages)
	}
	return fmt.Sprintf("mix plain=%d html=%d attachment=%d reply=%d", r.Mix["plain"], r.Mix["html"], r.Mix["attachment"], r.Mix["reply"])
}

// tag is what makes the run's messages what they are: the corpus's have
// no seed.
func (r *result) tag() string {
	if r.Corpus != "" {
		return "run " + r.Run
	}
	return fmt.Sprintf("seed %d run %s", r.Seed, r.Run)
}

// tally is the shared bookkeeping of the workers.
type tally struct {
	mu        sync.Mutex
	ok        int
	temp      int
	perm      int
	errs      int
	bytes     int64
	latencies []time.Duration
	samples   map[string]int
}

func (t *tally) fail(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var se *smtp.SMTPError
	key := err.Error()
	switch {
	case errors.As(err, &se) && se.Code >= 400 && se.Code < 500:
		t.temp++
		key = fmt.Sprintf("%d %s", se.Code, se.Message)
	case errors.As(err, &se) && se.Code >= 500:
		t.perm++
		key = fmt.Sprintf("%d %s", se.Code, se.Message)
	default:
		t.errs++
	}
	if len(t.samples) < 20 || t.samples[key] > 0 {
		t.samples[key]++
	}
}

func run(o options) *result {
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	// A fixed Date base: with the same -seed and -run the bytes are the same.
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.FixedZone("-0300", -3*3600))
	res := &result{Addr: o.addr, N: o.n, Concurrency: o.c, Seed: o.seed, Run: o.run}
	var g *generator
	switch {
	case o.cp != nil:
		res.Corpus, res.CorpusMessages, res.CorpusNoFrom = o.cp.path, len(o.cp.msgs), o.cp.fallbacks()
	case o.set == "thread":
		g = newThreadGenerator(o.seed, o.run, o.to, o.n, start)
	default:
		g = newGenerator(o.seed, o.run, o.to, o.n, start)
	}
	if g != nil {
		res.Mix = map[string]int{}
		for _, m := range g.metas {
			res.Mix[kindNames[m.kind]]++
		}
	}
	if g != nil && g.thread != nil {
		e := g.expect()
		res.Expect = &e
	}
	done := make([]chan struct{}, o.n) // closed when message i has its answer
	for i := range done {
		done[i] = make(chan struct{})
	}
	t := &tally{samples: map[string]int{}}
	var next atomic.Int64
	var wg sync.WaitGroup
	began := time.Now()
	for range o.c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &worker{o: o, g: g, t: t}
			defer w.close()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= o.n {
					return
				}
				if g != nil && g.metas[i].parent >= 0 { // (a corpus has no order)
					p := g.metas[i].parent
					select { // a reply goes after its parent was answered
					case <-done[p]:
					case <-ctx.Done():
						return
					}
				}
				w.send(ctx, i)
				close(done[i])
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(began)

	res.OK, res.Temp, res.Perm, res.Errors, res.Bytes = t.ok, t.temp, t.perm, t.errs, t.bytes
	res.NotSent = o.n - t.ok - t.temp - t.perm - t.errs
	res.TimedOut = ctx.Err() != nil
	if len(t.samples) > 0 {
		res.ErrorSample = t.samples
	}
	res.ElapsedS = elapsed.Seconds()
	res.MsgsPerS = float64(t.ok) / elapsed.Seconds()
	res.LatencyMS = percentiles(t.latencies)
	return res
}

// worker is one SMTP connection, redialled after a failure.
type worker struct {
	o    options
	g    *generator
	t    *tally
	c    *smtp.Client
	stop func() bool // detaches the close-on-timeout hook
	used bool        // a transaction was attempted on c: RSET first
}

func (w *worker) close() {
	if w.c == nil {
		return
	}
	w.stop()
	w.c.Quit()
	w.c.Close()
	w.c = nil
}

func (w *worker) drop() {
	if w.c != nil {
		w.stop()
		w.c.Close()
		w.c = nil
	}
}

// send delivers message i and records the outcome.
func (w *worker) send(ctx context.Context, i int) {
	var raw []byte
	var from string
	if w.o.cp != nil {
		raw, from = w.o.cp.message(w.o.run, i)
	} else {
		raw, from = w.g.bytesOf(i), w.g.envelopeFrom(i)
	}
	d, err := w.transaction(ctx, from, raw)
	if err != nil {
		w.t.fail(err)
		var se *smtp.SMTPError
		if !errors.As(err, &se) || se.Code == 421 {
			w.drop() // the connection is not usable any more
		}
		return
	}
	w.t.mu.Lock()
	w.t.ok++
	w.t.bytes += int64(len(raw))
	w.t.latencies = append(w.t.latencies, d)
	w.t.mu.Unlock()
}

// transaction runs [RSET] MAIL RCPT DATA and returns the time from the
// end of the data to the reply.
func (w *worker) transaction(ctx context.Context, from string, raw []byte) (time.Duration, error) {
	if w.c == nil {
		c, err := smtp.Dial(w.o.addr)
		if err != nil {
			return 0, err
		}
		c.CommandTimeout = time.Minute
		c.SubmissionTimeout = 3 * time.Minute
		w.c, w.used = c, false
		w.stop = context.AfterFunc(ctx, func() { c.Close() })
		if err := c.Hello(w.o.helo); err != nil {
			return 0, err
		}
	}
	c := w.c
	if w.used {
		if err := c.Reset(); err != nil {
			return 0, err
		}
	}
	w.used = true
	if err := c.Mail(from, nil); err != nil {
		return 0, err
	}
	if err := c.Rcpt(w.o.to, nil); err != nil {
		return 0, err
	}
	wc, err := c.Data()
	if err != nil {
		return 0, err
	}
	if _, err := wc.Write(raw); err != nil {
		return 0, err
	}
	t0 := time.Now()
	err = wc.Close() // "." and wait for the reply
	return time.Since(t0), err
}

func percentiles(ds []time.Duration) latency {
	if len(ds) == 0 {
		return latency{}
	}
	slices.Sort(ds)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	at := func(p float64) float64 { // nearest rank
		k := int(p*float64(len(ds))+0.999999) - 1
		return ms(ds[min(max(k, 0), len(ds)-1)])
	}
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return latency{P50: at(0.50), P90: at(0.90), P99: at(0.99), Max: ms(ds[len(ds)-1]), Mean: ms(sum / time.Duration(len(ds)))}
}
