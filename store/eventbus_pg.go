package store

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"
)

// watchPostgres listens on EventChannel through pgdriver's Listener. A
// receive error drops the connection (the Listener reconnects and
// listens again on the next call); once listening again, wake reads what
// was committed meanwhile.
func (s *Store) watchPostgres(ctx context.Context, o EventBusOptions, wake func()) error {
	ln := pgdriver.NewListener(s.write)
	// Closing the listener is what interrupts a receive in progress.
	stop := context.AfterFunc(ctx, func() { _ = ln.Close() })
	defer func() {
		if stop() {
			_ = ln.Close()
		}
	}()
	backoff := 100 * time.Millisecond
	// confirmed: a notification arrived since LISTEN was sent. pgdriver
	// writes LISTEN without waiting for its answer, so a NOTIFY that
	// commits before the server has read it is not delivered: until one
	// arrives, our own "listening" is sent again, from a quarter second
	// apart up to o.Poll, at most maxConfirm times (behind PgBouncer in
	// transaction mode none ever arrives: the poll alone serves then).
	const maxConfirm = 8
	listening, confirmed := false, false
	resends, resendEvery := 0, time.Duration(0)
	lastWake := time.Now()
	wakeNow := func() { lastWake = time.Now(); wake() }
	for ctx.Err() == nil {
		if !listening {
			if err := ln.Listen(ctx, EventChannel); err != nil {
				if ctx.Err() != nil {
					break
				}
				report(o, fmt.Errorf("store: listen %s: %w", EventChannel, err))
				if !sleepCtx(ctx, backoff) {
					break
				}
				backoff = min(backoff*2, 5*time.Second)
				continue
			}
			listening, confirmed, backoff = true, false, 100*time.Millisecond
			resends, resendEvery = 0, min(o.Poll, 250*time.Millisecond)
			// LISTEN is sent, not yet known to be in effect: a
			// notification of our own comes back once it is, and its
			// wake reads whatever committed while nobody listened.
			if err := pgdriver.Notify(ctx, s.write, EventChannel, "listening"); err != nil {
				wakeNow() // the periodic read covers the gap then
			}
		}
		timeout := o.Poll
		if !confirmed {
			timeout = resendEvery
		}
		_, _, err := ln.ReceiveTimeout(ctx, timeout)
		switch {
		case err == nil:
			confirmed = true
			wakeNow()
		case ctx.Err() != nil:
		case isTimeout(err) && !confirmed:
			if time.Since(lastWake) >= o.Poll {
				wakeNow() // the periodic read, whatever LISTEN does
			}
			if resends++; resends >= maxConfirm {
				confirmed = true // not really: polling from now on
				report(o, fmt.Errorf("store: no notification on %s came back after LISTEN; relying on the %s poll", EventChannel, o.Poll))
				break
			}
			resendEvery = min(resendEvery*2, o.Poll)
			if err := pgdriver.Notify(ctx, s.write, EventChannel, "listening"); err != nil && ctx.Err() == nil {
				wakeNow()
			}
		case isTimeout(err):
			wakeNow() // the periodic read, in case a notification was lost
		default:
			report(o, fmt.Errorf("store: receive %s: %w", EventChannel, err))
			listening = false
		}
	}
	return nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func report(o EventBusOptions, err error) {
	if o.OnError != nil {
		o.OnError(err)
	}
}

// sleepCtx waits d or until ctx ends; false when ctx ended.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
