// Package mbox reads mbox files (mboxo and mboxrd): messages separated by
// "From " lines, with ">From " quoting undone.
package mbox

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// maxMessage bounds one message so a file without separators cannot use
// all memory.
const maxMessage = 256 << 20

// ErrTooLarge is returned for a message over 256 MiB.
var ErrTooLarge = errors.New("mbox: message too large")

// Each calls fn with every message of the mbox read from r, in order. The
// bytes passed to fn are only valid during the call.
func Each(r io.Reader, fn func(msg []byte) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var msg bytes.Buffer
	started := false
	prevBlank := true
	flush := func() error {
		if !started {
			return nil
		}
		b := msg.Bytes()
		// The blank line before the next "From " belongs to the format.
		b = bytes.TrimSuffix(b, []byte("\n"))
		b = bytes.TrimSuffix(b, []byte("\r"))
		err := fn(b)
		msg.Reset()
		return err
	}
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A very long line: keep reading it whole.
			full := append([]byte(nil), line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
				full = append(full, line...)
			}
			line = full
		}
		if len(line) > 0 {
			if prevBlank && bytes.HasPrefix(line, []byte("From ")) {
				if err := flush(); err != nil {
					return err
				}
				started = true
			} else if started {
				if isQuotedFrom(line) {
					line = line[1:]
				}
				if msg.Len()+len(line) > maxMessage {
					return ErrTooLarge
				}
				msg.Write(line)
			} else if len(bytes.TrimSpace(line)) > 0 {
				return fmt.Errorf("mbox: does not start with a \"From \" line")
			}
			trimmed := bytes.TrimRight(line, "\r\n")
			prevBlank = len(trimmed) == 0
		}
		if err == io.EOF {
			return flush()
		}
		if err != nil {
			return fmt.Errorf("mbox: read: %w", err)
		}
	}
}

// isQuotedFrom reports a mboxrd-quoted line: one or more '>' then "From ".
func isQuotedFrom(line []byte) bool {
	i := 0
	for i < len(line) && line[i] == '>' {
		i++
	}
	return i > 0 && bytes.HasPrefix(line[i:], []byte("From "))
}

// TrimFromLine returns msg without leading blank lines and a leading mbox
// "From " separator line, which Procmail and Postfix pipe deliveries put
// before the header. The parser and the bounce reader skip it themselves;
// code that reads the raw bytes (DKIM verification, hashing) wants this.
func TrimFromLine(msg []byte) []byte {
	msg = bytes.TrimLeft(msg, "\r\n")
	if !bytes.HasPrefix(msg, []byte("From ")) {
		return msg
	}
	if i := bytes.IndexByte(msg, '\n'); i >= 0 {
		return msg[i+1:]
	}
	return nil
}
