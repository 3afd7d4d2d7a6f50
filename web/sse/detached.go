package sse

import (
	"errors"
	"net"
	"sync"
	"time"
)

// detach takes s's connection over from net/http: the handler returns,
// which frees its goroutine and net/http's buffers, and the hub's
// workers write s's events, heartbeats and its end. The response is
// already chunked (HTTP/1.1 without a length), so the workers go on
// writing chunks. False: the connection cannot be taken over; the
// handler serves the stream itself.
func (h *Hub) detach(s *stream, out *writer, rd Reader) bool {
	conn, brw, err := out.rc.Hijack()
	if err != nil {
		return false
	}
	if brw != nil && brw.Reader.Buffered() > 0 {
		// The client sent more than the request: not an EventSource.
		_ = conn.Close()
		h.remove(s)
		return true
	}
	now := time.Now()
	out.conn, out.w, out.rc = conn, nil, nil
	h.mu.Lock()
	s.rd, s.out, s.lastPing, s.lastCheck = rd, out, now, now
	select {
	case <-h.done:
		h.mu.Unlock()
		h.end(s, nil)
		return true
	default:
	}
	h.detached[s] = struct{}{}
	h.mu.Unlock()
	h.schedule(s) // whatever was queued while it was set up
	return true
}

// schedule puts s on the run queue unless it is there already; runq has
// room for every stream, so it never blocks.
func (h *Hub) schedule(s *stream) {
	if s.sched.CompareAndSwap(false, true) {
		h.runq <- s
	}
}

// startWorkers runs the workers and the sweep until the returned stop,
// which also ends every detached stream.
func (h *Hub) startWorkers() (stop func()) {
	var wg sync.WaitGroup
	quit := make(chan struct{})
	for range h.o.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-quit:
					return
				case s := <-h.runq:
					h.run(s)
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(min(h.o.Heartbeat/2, time.Second))
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				h.sweep()
			}
		}
	}()
	return func() {
		close(quit)
		wg.Wait()
		h.mu.Lock()
		ss := make([]*stream, 0, len(h.detached))
		for s := range h.detached {
			ss = append(ss, s)
		}
		h.mu.Unlock()
		for _, s := range ss {
			h.end(s, nil)
		}
	}
}

// sweep asks every detached stream to look at its clock (heartbeat,
// session check).
func (h *Hub) sweep() {
	h.mu.Lock()
	ss := make([]*stream, 0, len(h.detached))
	for s := range h.detached {
		ss = append(ss, s)
	}
	h.mu.Unlock()
	for _, s := range ss {
		s.tick.Store(true)
		h.schedule(s)
	}
}

// run does what s has pending: its queued events, a heartbeat, a session
// check, then one write. A failed write, a dropped queue or an ended
// session ends the stream.
func (h *Hub) run(s *stream) {
	for {
		if s.gone.Load() {
			return
		}
		select {
		case <-s.dropped:
			h.end(s, ErrSlow)
			return
		case <-h.done:
			h.end(s, nil)
			return
		default:
		}
		for more := true; more; {
			select {
			case e := <-s.ch:
				if err := h.deliver(h.ctx, s.out, s.rd, *e); err != nil {
					h.end(s, err)
					return
				}
			default:
				more = false
			}
		}
		if s.tick.Swap(false) {
			now := time.Now()
			if now.Sub(s.lastCheck) >= h.o.SessionCheck {
				if !s.rd.Alive(h.ctx) {
					h.end(s, nil)
					return
				}
				s.lastCheck = now
			}
			if now.Sub(s.lastPing) >= h.o.Heartbeat {
				s.out.comment(": ping")
				s.lastPing = now
			}
		}
		if err := s.out.flush(); err != nil {
			h.end(s, err)
			return
		}
		s.sched.Store(false)
		// Something queued after the drain, before the flag was cleared:
		// take it, unless another schedule already did.
		if len(s.ch) == 0 && !s.tick.Load() || !s.sched.CompareAndSwap(false, true) {
			return
		}
	}
}

// end closes a detached stream: the last chunk, then the connection.
func (h *Hub) end(s *stream, err error) {
	if s.gone.Swap(true) {
		return
	}
	h.mu.Lock()
	delete(h.detached, s)
	h.removeLocked(s)
	h.mu.Unlock()
	if err != nil && !errors.Is(err, net.ErrClosed) {
		h.log.Debug("sse: stream ended", "user", s.user, "err", err)
	}
	c := s.out.conn
	_ = c.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = c.Write([]byte("0\r\n\r\n"))
	_ = c.Close()
}
