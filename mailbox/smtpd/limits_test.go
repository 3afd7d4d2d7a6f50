package smtpd

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// startUpload opens a session up to DATA's 354 and returns the connection to
// write the message on.
func startUpload(t testing.TB, addr string) *rawClient {
	t.Helper()
	c := dialRaw(t, addr)
	c.expect("EHLO client.test", 250)
	c.expect("MAIL FROM:<alice@customer.test>", 250)
	c.expect("RCPT TO:<support@example.com>", 250)
	c.expect("DATA", 354)
	return c
}

// body is a message of about n bytes, with a unique subject.
func body(subject string, n int) []byte {
	line := strings.Repeat("0123456789", 7) + "\r\n"
	return append(message(subject), bytes.Repeat([]byte(line), n/len(line)+1)...)
}

// finish writes the end of data (the message ends with CRLF) and returns
// the reply.
func (c *rawClient) finish() (int, string) {
	c.t.Helper()
	if _, err := c.conn.Write([]byte(".\r\n")); err != nil {
		c.t.Fatal(err)
	}
	return c.read()
}

// TestSlowSenderGets250: a steady upload of 2 MB at about 100 kB/s was cut
// off with 554 after about 1 MB, because the read deadline was set once
// per Read call and go-smtp's data reader fills all of a large buffer in
// one call. The deadline now follows each chunk the socket delivers.
func TestSlowSenderGets250(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 20 s: a slow sender at 100 kB/s")
	}
	t.Parallel()
	rec := &recorder{}
	_, addr := startServer(t, Config{ReadTimeout: time.Second, MaxMessageBytes: 4 << 20}, rec)
	c := startUpload(t, addr)
	c.conn.SetDeadline(time.Now().Add(2 * time.Minute))
	msg := body("slow sender", 2<<20)
	const chunk = 10 << 10 // 10 kB every 100 ms
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for off := 0; off < len(msg); off += chunk {
		<-tick.C
		if _, err := c.conn.Write(msg[off:min(off+chunk, len(msg))]); err != nil {
			t.Fatalf("write at %d: %v", off, err)
		}
	}
	if code, text := c.finish(); code != 250 {
		t.Fatalf("got %d %s, want 250", code, text)
	}
	if got := rec.delivered(); len(got) != 1 || !bytes.Equal(got[0].raw, msg) {
		t.Fatalf("delivered %d messages (byte-exact: %v)", len(got), len(got) == 1 && bytes.Equal(got[0].raw, msg))
	}
}

// TestStalledUploadIs451: a sender that stops mid-upload is cut off after
// ReadTimeout with a temporary failure (it may retry), not a permanent
// 554.
func TestStalledUploadIs451(t *testing.T) {
	rec := &recorder{}
	s, addr := startServer(t, Config{ReadTimeout: 200 * time.Millisecond}, rec)
	c := startUpload(t, addr)
	if _, err := c.conn.Write(body("stalled", 10<<10)); err != nil {
		t.Fatal(err)
	}
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if code, text := c.read(); code != 451 {
		t.Fatalf("got %d %s, want 451", code, text)
	}
	if n := len(rec.delivered()); n != 0 {
		t.Fatalf("delivered %d", n)
	}
	if st := s.Stats(); st.UploadsCutShort != 1 || st.IdleTimeouts != 0 {
		t.Errorf("stats %+v: want 1 upload cut short, no idle timeout", st)
	}
}

// waitStats polls the server's upload counters (a positive signal) until
// cond holds.
func waitStats(t testing.TB, s *Server, what string, cond func(Stats) bool) Stats {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		st := s.Stats()
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %+v", what, st)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestMemoryBudgetSpools: uploads beyond the memory budget go to a spool
// file, and every message still arrives byte-exact.
func TestMemoryBudgetSpools(t *testing.T) {
	rec := &recorder{}
	const budget, size, senders = 1 << 20, 600 << 10, 4
	s, addr := startServer(t, Config{MemoryBudget: budget, MaxMessageBytes: 700 << 10, SpoolDir: t.TempDir()}, rec)
	msgs := make([][]byte, senders)
	clients := make([]*rawClient, senders)
	for i := range senders {
		msgs[i] = body(fmt.Sprintf("budget %d", i), size)
		clients[i] = startUpload(t, addr)
		// All but the last few bytes: every upload is in flight at once.
		if _, err := clients[i].conn.Write(msgs[i][:size]); err != nil {
			t.Fatal(err)
		}
	}
	st := waitStats(t, s, "every upload received", func(st Stats) bool {
		// go-smtp's data reader hands over whole chunks only.
		return st.Uploads == senders && st.ReceivedBytes >= senders*(size-readChunk)
	})
	if st.Spooled < 2 || st.MemoryBytes > budget {
		t.Errorf("stats %+v: want at least 2 spooled and at most %d bytes in memory", st, budget)
	}
	// The senders finish independently: a spooled message is read back
	// for delivery once the memory of another is given back.
	var wg sync.WaitGroup
	codes := make([]int, senders)
	for i, c := range clients {
		wg.Go(func() {
			if _, err := c.conn.Write(msgs[i][size:]); err != nil {
				return
			}
			codes[i], _ = c.finish()
		})
	}
	wg.Wait()
	for i, code := range codes {
		if code != 250 {
			t.Errorf("sender %d: %d, want 250", i, code)
		}
	}
	got := map[string]bool{}
	for _, d := range rec.delivered() {
		got[string(d.raw)] = true
	}
	for i, m := range msgs {
		if !got[string(m)] {
			t.Errorf("message %d not delivered byte-exact", i)
		}
	}
	if st := s.Stats().InProgress(); st != (Stats{Connections: st.Connections}) {
		t.Errorf("after: %+v, want all zero (budget given back, spool files gone)", st)
	}
}

// TestManySlowSendersFitTheMemoryBound: 200 slow senders with 1.5 MB each
// in flight (300 MB of messages) took that much memory; with the default
// budget the heap stays under 200 MB.
func TestManySlowSendersFitTheMemoryBound(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("a memory measurement: not under -short or -race (the race detector's own memory)")
	}
	const senders, size = 200, 3 << 19 // 1.5 MiB
	rec := &recorder{}
	// All from 127.0.0.1 here, so the per-address limit is raised.
	s, addr := startServer(t, Config{MaxConnsPerIP: senders, SpoolDir: t.TempDir()}, rec)
	line := append(bytes.Repeat([]byte("0123456789"), 100), "\r\n"...)
	var wg sync.WaitGroup
	release := make(chan struct{})
	errs := make(chan error, senders)
	for i := range senders {
		wg.Go(func() {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(3 * time.Minute))
			fmt.Fprintf(c, "EHLO c%d.test\r\nMAIL FROM:<a%d@customer.test>\r\nRCPT TO:<support@example.com>\r\nDATA\r\n", i, i)
			if err := readUntil(c, 354); err != nil {
				errs <- fmt.Errorf("sender %d: %w", i, err)
				return
			}
			fmt.Fprintf(c, "Subject: slow %d\r\n\r\n", i)
			for sent := 0; sent < size; sent += len(line) {
				if _, err := c.Write(line); err != nil {
					errs <- fmt.Errorf("sender %d at %d: %w", i, sent, err)
					return
				}
			}
			<-release // slow: the rest comes later
			c.Write([]byte("\r\n.\r\n"))
			if err := readUntil(c, 250); err != nil {
				errs <- fmt.Errorf("sender %d: %w", i, err)
			}
		})
	}
	waitStats(t, s, "200 uploads in flight", func(st Stats) bool {
		select {
		case err := <-errs:
			t.Fatalf("a sender failed: %v", err)
		default:
		}
		return st.Uploads == senders && st.ReceivedBytes >= senders*(size-readChunk)
	})
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	st := s.Stats()
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	t.Logf("%d uploads of %d bytes: heap in use %d MB, %d spooled, %d MB in memory", senders, size, ms.HeapInuse>>20, st.Spooled, st.MemoryBytes>>20)
	if ms.HeapInuse > 200<<20 {
		t.Errorf("heap in use %d MB with %d slow senders, want under 200 MB", ms.HeapInuse>>20, senders)
	}
	if n := len(rec.delivered()); n != senders {
		t.Errorf("delivered %d, want %d", n, senders)
	}
}

// readUntil reads replies until a final line with code want, and fails on
// a final line with a 4xx or 5xx code first.
func readUntil(c net.Conn, want int) error {
	var buf []byte
	tmp := make([]byte, 512)
	for {
		for _, l := range strings.Split(string(buf), "\r\n") {
			if len(l) >= 4 && l[3] == ' ' {
				if strings.HasPrefix(l, fmt.Sprint(want)) {
					return nil
				}
				if l[0] == '4' || l[0] == '5' {
					return fmt.Errorf("reply %q, want %d", l, want)
				}
			}
		}
		k, err := c.Read(tmp)
		if err != nil {
			return fmt.Errorf("after %q: %w", buf, err)
		}
		buf = append(buf, tmp[:k]...)
	}
}

// TestConnectionsPerIP: one address cannot take every slot; another
// address still gets in.
func TestConnectionsPerIP(t *testing.T) {
	s, addr := startServer(t, Config{MaxConnsPerIP: 2}, &recorder{})
	dialRaw(t, addr)
	dialRaw(t, addr)
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 128)
	n, _ := c.Read(buf)
	if !strings.HasPrefix(string(buf[:n]), "421 4.7.0") {
		t.Fatalf("third connection from one address got %q, want 421", buf[:n])
	}
	if st := s.Stats(); st.RefusedPerIP != 1 || st.Connections != 2 || st.RefusedConnections != 0 {
		t.Errorf("stats %+v: want 1 refused per address, 2 open", st)
	}
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}, Timeout: 5 * time.Second}
	other, err := d.Dial("tcp", addr)
	if err != nil {
		t.Skipf("no second loopback address: %v", err)
	}
	defer other.Close()
	other.SetDeadline(time.Now().Add(5 * time.Second))
	n, _ = other.Read(buf)
	if !strings.HasPrefix(string(buf[:n]), "220") {
		t.Fatalf("another address got %q, want 220", buf[:n])
	}
}

// TestIdleSessionIsClosed: a client that says nothing more is let go.
func TestIdleSessionIsClosed(t *testing.T) {
	s, addr := startServer(t, Config{IdleTimeout: 200 * time.Millisecond}, &recorder{})
	c := dialRaw(t, addr)
	c.expect("EHLO client.test", 250)
	c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if code, msg := c.read(); code != 421 || !strings.Contains(msg, "Idle timeout") {
		t.Fatalf("got %d %s, want 421 idle timeout", code, msg)
	}
	if st := s.Stats(); st.IdleTimeouts != 1 {
		t.Errorf("stats %+v: want 1 idle timeout", st)
	}
}

// TestNOOPLoopIsCutOff: NOOP never reached the command budget (only MAIL,
// RCPT and DATA counted), so a NOOP loop held a connection slot forever.
// A delivered message resets the budget.
func TestNOOPLoopIsCutOff(t *testing.T) {
	s, addr := startServer(t, Config{MaxCommands: 30, MaxRecipients: 5}, &recorder{})
	c := dialRaw(t, addr)
	c.expect("EHLO client.test", 250)
	for range 20 {
		c.expect("NOOP", 250)
	}
	c.expect("MAIL FROM:<a@customer.test>", 250)
	c.expect("RCPT TO:<support@example.com>", 250)
	if code, msg := c.data(message("resets the budget")); code != 250 {
		t.Fatalf("data: %d %s", code, msg)
	}
	for i := 1; i <= 100; i++ {
		code, msg := c.cmd("NOOP")
		if code == 250 {
			continue
		}
		if code != 421 || !strings.Contains(msg, "too many commands") || i < 25 {
			t.Fatalf("NOOP %d: %d %s", i, code, msg)
		}
		if st := s.Stats(); st.TooManyCommands != 1 || st.IdleTimeouts != 0 {
			t.Errorf("stats %+v: want 1 session cut off for commands", st)
		}
		return
	}
	t.Fatal("100 NOOPs after a message, never cut off")
}

// TestPostmasterAccepted: RFC 5321 4.5.1 requires postmaster (and abuse@
// is where reports go); they were refused with 550.
func TestPostmasterAccepted(t *testing.T) {
	_, addr := startServer(t, Config{}, &recorder{})
	c := dialRaw(t, addr)
	c.expect("EHLO client.test", 250)
	c.expect("MAIL FROM:<reporter@isp.test>", 250)
	for _, rcpt := range []string{"postmaster@example.com", "Abuse@Example.com", "Postmaster"} {
		c.expect("RCPT TO:<"+rcpt+">", 250)
	}
	c.expect("RCPT TO:<postmaster@elsewhere.test>", 550)
	c.expect("RCPT TO:<hostmaster@example.com>", 550)
}

// TestSpoolLimit: the spool files together stay under SpoolMaxBytes. An
// upload that would exceed it gets 451 4.3.1 (the sender retries) and
// nothing of it is kept; once a spooled message is delivered, its room is
// there for the next one.
func TestSpoolLimit(t *testing.T) {
	rec := &recorder{}
	// go-smtp's data reader hands over whole chunks (readChunk) only: the
	// sizes make each wait below see whole chunks.
	const maxMsg, spoolMax, size = 100 << 10, 48 << 10, 40 << 10
	dir := t.TempDir()
	s, addr := startServer(t, Config{MaxMessageBytes: maxMsg, MemoryBudget: maxMsg, SpoolMaxBytes: spoolMax, SpoolDir: dir}, rec)
	// hold starts an upload that takes the whole memory budget, so the
	// next ones spool.
	hold := func(name string) (*rawClient, []byte) {
		msg := body(name, 98<<10) // three chunks: a buffer of the whole budget
		c := startUpload(t, addr)
		if _, err := c.conn.Write(msg); err != nil {
			t.Fatal(err)
		}
		waitStats(t, s, name+" holding the memory budget", func(st Stats) bool { return st.MemoryBytes >= maxMsg })
		return c, msg
	}
	// spool starts an upload of size bytes and waits until the spool has
	// its first chunk.
	spool := func(name string, before int64) (*rawClient, []byte) {
		msg := body(name, size)
		c := startUpload(t, addr)
		if _, err := c.conn.Write(msg); err != nil {
			t.Fatal(err)
		}
		waitStats(t, s, name+" spooled", func(st Stats) bool { return st.SpoolBytes >= before+readChunk })
		return c, msg
	}
	finish := func(name string, c *rawClient, want int, enhanced string) {
		t.Helper()
		code, text := c.finish()
		if code != want || !strings.HasPrefix(text, enhanced) {
			t.Fatalf("%s: got %d %s, want %d %s", name, code, text, want, enhanced)
		}
	}

	a, aMsg := hold("a")
	b, bMsg := spool("b", 0)
	// c's first chunk is over the limit already.
	c := startUpload(t, addr)
	if _, err := c.conn.Write(body("c", size)); err != nil {
		t.Fatal(err)
	}
	finish("c over the spool limit", c, 451, "4.3.1")
	st := s.Stats()
	if st.SpoolFull != 1 || st.Spooled != 1 || st.SpoolBytes > int64(len(bMsg)) || st.SpoolMaxBytes != spoolMax {
		t.Errorf("after c: %+v, want 1 refused, only b spooled", st)
	}
	finish("a", a, 250, "2.0.0")
	finish("b", b, 250, "2.0.0")
	if st := s.Stats(); st.SpoolBytes != 0 || st.Spooled != 0 {
		t.Errorf("after b: %+v, want an empty spool", st)
	}

	// Its retry, spooled again while the memory is taken, now fits.
	a2, a2Msg := hold("a2")
	c2, cMsg := spool("c retried", 0)
	finish("a2", a2, 250, "2.0.0")
	finish("c retried", c2, 250, "2.0.0")

	got := map[string]bool{}
	for _, d := range rec.delivered() {
		got[string(d.raw)] = true
	}
	if len(got) != 4 || !got[string(aMsg)] || !got[string(bMsg)] || !got[string(a2Msg)] || !got[string(cMsg)] {
		t.Errorf("delivered %d messages, want a, b, a2 and the retried c byte-exact", len(got))
	}
	if st := s.Stats().InProgress(); st != (Stats{Connections: st.Connections}) {
		t.Errorf("at the end: %+v, want nothing in progress", st)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("spool files left: %v", left)
	}
}

// TestNoSpoolLimit: SpoolMaxBytes 0 spools without a limit.
func TestNoSpoolLimit(t *testing.T) {
	rec := &recorder{}
	s, addr := startServer(t, Config{MaxMessageBytes: 100 << 10, MemoryBudget: 100 << 10, SpoolDir: t.TempDir()}, rec)
	a := startUpload(t, addr)
	if _, err := a.conn.Write(body("a", 98<<10)); err != nil {
		t.Fatal(err)
	}
	waitStats(t, s, "a holding the memory budget", func(st Stats) bool { return st.MemoryBytes >= 100<<10 })
	var spooled []*rawClient
	for i := range 3 {
		c := startUpload(t, addr)
		if _, err := c.conn.Write(body(fmt.Sprintf("s%d", i), 60<<10)); err != nil {
			t.Fatal(err)
		}
		spooled = append(spooled, c)
	}
	waitStats(t, s, "three spooled", func(st Stats) bool { return st.Spooled == 3 && st.SpoolBytes >= 3*readChunk })
	for i, c := range append([]*rawClient{a}, spooled...) {
		if code, text := c.finish(); code != 250 {
			t.Errorf("upload %d: %d %s", i, code, text)
		}
	}
	if st := s.Stats(); st.SpoolFull != 0 {
		t.Errorf("%+v: refused with no limit", st)
	}
}
