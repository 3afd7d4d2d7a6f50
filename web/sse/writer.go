package sse

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"time"
)

// writer writes SSE frames to one response, or once detached to its
// connection as HTTP/1.1 chunks; a write error is kept and reported by
// the next flush.
type writer struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	conn    net.Conn // set once detached
	timeout time.Duration
	err     error
	buf     []byte
	floor   int64 // the newest log id sent (or skipped as not for this reader)
}

// comment writes a line starting with ':' (a heartbeat) or a field line
// such as retry, then a blank line.
func (w *writer) comment(line string) {
	w.buf = append(w.buf, line...)
	w.buf = append(w.buf, "\n\n"...)
}

// event writes one frame; id 0 is left out (ephemeral events). Data is
// JSON on one line; any newline still starts a new data line, as the
// format wants.
func (w *writer) event(id int64, name string, data []byte) {
	if id > 0 {
		w.buf = append(w.buf, "id: "...)
		w.buf = strconv.AppendInt(w.buf, id, 10)
		w.buf = append(w.buf, '\n')
	}
	w.buf = append(w.buf, "event: "...)
	w.buf = append(w.buf, name...)
	w.buf = append(w.buf, '\n')
	for {
		line, rest, more := bytes.Cut(data, []byte{'\n'})
		w.buf = append(w.buf, "data: "...)
		w.buf = append(w.buf, bytes.TrimSuffix(line, []byte{'\r'})...)
		w.buf = append(w.buf, '\n')
		if !more {
			break
		}
		data = rest
	}
	w.buf = append(w.buf, '\n')
}

// flush sends what is buffered, within the write timeout: a client that
// stops reading ends its stream instead of holding a goroutine forever.
func (w *writer) flush() error {
	if w.err != nil {
		return w.err
	}
	if len(w.buf) == 0 {
		return nil
	}
	if w.conn != nil {
		return w.flushChunk()
	}
	_ = w.rc.SetWriteDeadline(time.Now().Add(w.timeout)) // unsupported by a test recorder: no deadline then
	if _, err := w.w.Write(w.buf); err != nil {
		w.err = err
		return err
	}
	w.reset()
	if err := w.rc.Flush(); err != nil {
		w.err = err
		return err
	}
	return nil
}

func (w *writer) flushChunk() error {
	var head [18]byte
	h := strconv.AppendInt(head[:0], int64(len(w.buf)), 16)
	h = append(h, '\r', '\n')
	bufs := net.Buffers{h, w.buf, []byte("\r\n")}
	_ = w.conn.SetWriteDeadline(time.Now().Add(w.timeout))
	if _, err := bufs.WriteTo(w.conn); err != nil {
		w.err = err
		return err
	}
	w.reset()
	return nil
}

// reset empties the buffer; a burst's large buffer is not kept for the
// stream's life.
func (w *writer) reset() {
	if cap(w.buf) > 4096 {
		w.buf = nil
	} else {
		w.buf = w.buf[:0]
	}
}

func marshal(v any) ([]byte, error) {
	if b, ok := v.([]byte); ok {
		return b, nil
	}
	return json.Marshal(v)
}
