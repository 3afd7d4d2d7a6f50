package smtpd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"

	"github.com/emersion/go-smtp"
)

// Stats is a snapshot of the receiver's state, for metrics and tests: what
// is in progress now, the limits it runs under, and what it refused since
// it started.
type Stats struct {
	// Now.
	Connections int64 // sessions open
	Uploads     int64 // messages being received now (in DATA)
	Spooled     int64 // of those, how many are held in a spool file
	MemoryBytes int64 // message bytes held in memory, of MemoryBudget
	SpoolBytes  int64 // message bytes held in spool files, of SpoolMaxBytes
	// ReceivedBytes counts what the uploads in progress have read so far.
	ReceivedBytes int64

	// Limits (the configuration, defaults applied).
	MaxConnections int64
	MemoryBudget   int64
	SpoolMaxBytes  int64 // 0: no limit

	// Since start.
	RefusedConnections int64 // 421 at connect: MaxConnections reached
	RefusedPerIP       int64 // 421 at connect: MaxConnsPerIP reached for the client's address
	TooManyCommands    int64 // sessions closed for MaxCommands
	IdleTimeouts       int64 // sessions closed waiting for a command past IdleTimeout
	UploadsCutShort    int64 // uploads that stalled past ReadTimeout or whose sender left
	SpoolFull          int64 // uploads refused with 451 4.3.1: SpoolMaxBytes reached
}

// InProgress is s with only what is happening now: zero once the receiver
// is idle.
func (s Stats) InProgress() Stats {
	return Stats{Connections: s.Connections, Uploads: s.Uploads, Spooled: s.Spooled,
		MemoryBytes: s.MemoryBytes, SpoolBytes: s.SpoolBytes, ReceivedBytes: s.ReceivedBytes}
}

type counters struct {
	uploads, spooled, memory, received atomic.Int64
	conns                              atomic.Int64 // the listener's cap counts these
	refusedMax, refusedPerIP           atomic.Int64
	tooManyCommands, idleTimeouts      atomic.Int64
	cutShort, spoolFull                atomic.Int64
	spoolBytes                         atomic.Int64
}

// Stats reports the receiver's state.
func (s *Server) Stats() Stats {
	c := &s.stats
	return Stats{
		Connections: c.conns.Load(), Uploads: c.uploads.Load(), Spooled: c.spooled.Load(),
		MemoryBytes: c.memory.Load(), SpoolBytes: c.spoolBytes.Load(), ReceivedBytes: c.received.Load(),
		MaxConnections: int64(s.cfg.MaxConnections), MemoryBudget: s.cfg.MemoryBudget, SpoolMaxBytes: s.cfg.SpoolMaxBytes,
		RefusedConnections: c.refusedMax.Load(), RefusedPerIP: c.refusedPerIP.Load(),
		TooManyCommands: c.tooManyCommands.Load(), IdleTimeouts: c.idleTimeouts.Load(),
		UploadsCutShort: c.cutShort.Load(), SpoolFull: c.spoolFull.Load(),
	}
}

const (
	readChunk    = 32 << 10
	minBufferCap = 4 << 10
)

var (
	errReadFailed = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 4, 2}, Message: "message not received whole, try again later"}
	errSpoolFull  = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 1}, Message: "insufficient system storage, try again later"}
	// errNoSpace: the spool is at SpoolMaxBytes.
	errNoSpace = errors.New("smtpd: spool full")
)

// upload is one message being received: in memory while the memory budget
// has room for it, else in a spool file (unlinked at once where the system
// allows), so slow senders cannot make the receiver hold their messages'
// worth of memory each.
type upload struct {
	srv  *Server
	buf  []byte
	held int64 // reserved from the budget
	file *os.File
	size int64
	// spooled: bytes written to file, counted against SpoolMaxBytes.
	spooled int64
	// unlinked: the spool file has no name left to remove.
	unlinked bool
}

// readMessage reads the whole message, bounded by MaxMessageBytes. A read
// that fails (the client stalled past ReadTimeout, or left) is a temporary
// failure: nothing was acknowledged, the sender retries.
func (s *session) readMessage(r io.Reader) (*upload, error) {
	srv := s.srv
	limit := srv.cfg.MaxMessageBytes
	u := &upload{srv: srv}
	srv.stats.uploads.Add(1)
	lr := io.LimitReader(r, limit+1)
	chunk := srv.chunks.Get().(*[]byte)
	defer srv.chunks.Put(chunk)
	for {
		n, err := lr.Read(*chunk)
		if n > 0 {
			if werr := u.write((*chunk)[:n]); werr != nil {
				u.release()
				if errors.Is(werr, errNoSpace) {
					srv.stats.spoolFull.Add(1)
					srv.log.Warn("upload refused: spool full", "remote", s.conn.RemoteAddr().String(),
						"spool_max_bytes", srv.cfg.SpoolMaxBytes, "memory_budget", srv.cfg.MemoryBudget)
					return nil, errSpoolFull
				}
				srv.log.Error("spooling an upload failed", "err", werr)
				return nil, errTempFail
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			u.release()
			if errors.Is(err, smtp.ErrDataTooLarge) {
				return nil, errTooLarge
			}
			srv.stats.cutShort.Add(1)
			srv.log.Info("upload cut short", "remote", s.conn.RemoteAddr().String(), "bytes", u.size, "err", err)
			return nil, errReadFailed
		}
	}
	if u.size > limit {
		u.release()
		return nil, errTooLarge
	}
	return u, nil
}

func (u *upload) write(p []byte) error {
	u.size += int64(len(p))
	u.srv.stats.received.Add(int64(len(p)))
	if u.file != nil {
		return u.spoolWrite(p)
	}
	need := len(u.buf) + len(p)
	if need > cap(u.buf) {
		newCap := min(max(2*cap(u.buf), need, minBufferCap), int(u.srv.cfg.MaxMessageBytes)+1)
		grow := int64(newCap - cap(u.buf))
		if !u.srv.mem.TryAcquire(grow) {
			return u.spool(p)
		}
		u.held += grow
		u.srv.stats.memory.Add(grow)
		nb := make([]byte, len(u.buf), newCap)
		copy(nb, u.buf)
		u.buf = nb
	}
	u.buf = append(u.buf, p...)
	return nil
}

// reserve counts n more bytes against SpoolMaxBytes, or fails with
// errNoSpace (counting nothing) when they would exceed it.
func (u *upload) reserve(n int64) error {
	c := &u.srv.stats
	if max := u.srv.cfg.SpoolMaxBytes; max > 0 {
		if c.spoolBytes.Add(n) > max {
			c.spoolBytes.Add(-n)
			return errNoSpace
		}
	} else {
		c.spoolBytes.Add(n)
	}
	u.spooled += n
	return nil
}

func (u *upload) spoolWrite(p []byte) error {
	if err := u.reserve(int64(len(p))); err != nil {
		return err
	}
	_, err := u.file.Write(p)
	return err
}

// spool moves the upload to a file: the memory budget is spent. The spool
// must have room for what the upload has so far, or no file is made.
func (u *upload) spool(p []byte) error {
	if err := u.reserve(int64(len(u.buf))); err != nil {
		return err
	}
	f, err := os.CreateTemp(u.srv.cfg.SpoolDir, "servicedesk-smtp-*.eml")
	if err != nil {
		return fmt.Errorf("smtpd: spool: %w", err)
	}
	// Unlinked now, the file goes with the descriptor even after a crash
	// (where the system allows; elsewhere release removes it).
	u.unlinked = os.Remove(f.Name()) == nil
	u.file = f
	u.srv.stats.spooled.Add(1)
	if _, err := f.Write(u.buf); err != nil {
		return fmt.Errorf("smtpd: spool: %w", err)
	}
	u.giveBack()
	u.buf = nil
	return u.spoolWrite(p)
}

// giveBack returns the memory held to the budget.
func (u *upload) giveBack() {
	if u.held > 0 {
		u.srv.mem.Release(u.held)
		u.srv.stats.memory.Add(-u.held)
		u.held = 0
	}
}

// load returns the message bytes for delivery. A spooled message is read
// back once the budget has room for it (waiting until ctx ends: then the
// sender is asked to retry).
func (u *upload) load(ctx context.Context) ([]byte, error) {
	if u.file == nil {
		return u.buf, nil
	}
	if err := u.srv.mem.Acquire(ctx, u.size); err != nil {
		return nil, errTempFail
	}
	u.held = u.size
	u.srv.stats.memory.Add(u.size)
	raw := make([]byte, u.size)
	if _, err := u.file.ReadAt(raw, 0); err != nil {
		u.srv.log.Error("reading a spooled upload failed", "err", err)
		return nil, errTempFail
	}
	return raw, nil
}

// release ends the upload: memory back to the budget, spool file gone.
func (u *upload) release() {
	u.giveBack()
	u.buf = nil
	if u.file != nil {
		u.file.Close()
		if !u.unlinked {
			os.Remove(u.file.Name())
		}
		u.file = nil
		u.srv.stats.spooled.Add(-1)
	}
	u.srv.stats.spoolBytes.Add(-u.spooled)
	u.spooled = 0
	u.srv.stats.received.Add(-u.size)
	u.srv.stats.uploads.Add(-1)
}
