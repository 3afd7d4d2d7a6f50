package poller

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/jcservicedesk/servicedesk/mailbox/delivery"
)

// retryable is a failure outside IMAP (a temporary delivery error, the
// State store): the connection is fine, so keep it and retry the round.
type retryable struct{ err error }

func (e *retryable) Error() string { return e.err.Error() }
func (e *retryable) Unwrap() error { return e.err }

// conn is one logged-in IMAP connection with the folder selected.
type conn struct {
	c           *imapclient.Client
	raw         net.Conn // for deadlines: imapclient has no command timeouts
	uidValidity uint32
	newMail     chan struct{} // signalled on EXISTS
}

// deadline bounds the next exchange with the server.
func (p *Poller) deadline(cn *conn, d time.Duration) {
	cn.raw.SetDeadline(time.Now().Add(d))
}

// session runs one connection: rounds of fetch and deliver, then waiting
// for new mail, until an IMAP error or ctx ends it.
func (p *Poller) session(ctx context.Context) error {
	cn, err := p.connect(ctx)
	if err != nil {
		return err
	}
	defer cn.c.Close()
	// Closing the client unblocks any command in flight when ctx ends.
	stop := context.AfterFunc(ctx, func() { cn.c.Close() })
	defer stop()

	p.setConnected(true)
	p.log.Info("imap connected", "uidvalidity", cn.uidValidity)
	for {
		select {
		case <-cn.newMail: // this round will see it
		default:
		}
		more, err := p.round(ctx, cn)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var r *retryable
		if errors.As(err, &r) {
			p.retryLater(ctx, err)
			continue
		}
		if err != nil {
			return err
		}
		p.succeeded()
		if more {
			continue
		}
		if err := p.waitForMail(ctx, cn); err != nil {
			return err
		}
	}
}

// connect dials, logs in and selects the folder.
func (p *Poller) connect(ctx context.Context) (*conn, error) {
	mb := p.mb
	addr := net.JoinHostPort(mb.Host, strconv.Itoa(mb.Port))
	dialer := net.Dialer{Timeout: 30 * time.Second}
	raw, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	raw.SetDeadline(time.Now().Add(p.commandTimeout))

	cn := &conn{raw: raw, newMail: make(chan struct{}, 1)}
	var tlsCfg *tls.Config
	if mb.TLSConfig != nil {
		tlsCfg = mb.TLSConfig.Clone()
	} else {
		tlsCfg = &tls.Config{}
	}
	if tlsCfg.ServerName == "" {
		tlsCfg.ServerName = mb.Host
	}
	opts := &imapclient.Options{
		TLSConfig: tlsCfg,
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(data *imapclient.UnilateralDataMailbox) {
				if data.NumMessages != nil {
					select {
					case cn.newMail <- struct{}{}:
					default:
					}
				}
			},
		},
	}
	switch mb.Security {
	case "tls":
		tc := tls.Client(raw, tlsCfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, fmt.Errorf("tls handshake with %s: %w", addr, err)
		}
		cn.c = imapclient.New(tc, opts)
	case "starttls":
		if cn.c, err = imapclient.NewStartTLS(raw, opts); err != nil {
			raw.Close()
			return nil, fmt.Errorf("starttls with %s: %w", addr, err)
		}
	default:
		cn.c = imapclient.New(raw, opts)
	}
	fail := func(err error) (*conn, error) {
		cn.c.Close()
		return nil, err
	}
	if err := cn.c.WaitGreeting(); err != nil {
		return fail(fmt.Errorf("greeting from %s: %w", addr, err))
	}
	if err := cn.c.Login(mb.Username, mb.Password).Wait(); err != nil {
		return fail(fmt.Errorf("login as %q: %w", mb.Username, err))
	}
	sel, err := cn.c.Select(mb.Folder, nil).Wait()
	if err != nil {
		return fail(fmt.Errorf("select %q: %w", mb.Folder, err))
	}
	cn.uidValidity = sel.UIDValidity
	return cn, nil
}

// round delivers up to one batch of messages above the cursor. more says
// another batch is waiting.
func (p *Poller) round(ctx context.Context, cn *conn) (more bool, err error) {
	storedValidity, last, err := p.st.Cursor(ctx, p.mb.Name)
	if err != nil {
		return false, &retryable{fmt.Errorf("read cursor: %w", err)}
	}
	if storedValidity != cn.uidValidity {
		if storedValidity != 0 || last != 0 {
			// UIDs of the old folder mean nothing now. Start over; the
			// intake's dedupe drops what it already has.
			p.log.Warn("uidvalidity changed, fetching the folder again",
				"old", storedValidity, "new", cn.uidValidity)
		}
		last = 0
	}

	p.deadline(cn, p.commandTimeout)
	if err := cn.c.Noop().Wait(); err != nil {
		return false, fmt.Errorf("noop: %w", err)
	}
	uids, err := p.pending(cn, imap.UID(last))
	if err != nil {
		return false, err
	}
	if len(uids) == 0 {
		if storedValidity != cn.uidValidity {
			if err := p.st.SetCursor(ctx, p.mb.Name, cn.uidValidity, 0); err != nil {
				return false, &retryable{fmt.Errorf("write cursor: %w", err)}
			}
		}
		return false, nil
	}
	if len(uids) > p.batchSize {
		uids, more = uids[:p.batchSize], true
	}
	return more, p.batch(ctx, cn, uids, imap.UID(last))
}

// pending lists UIDs above last in ascending order. The cursor, not the
// \Seen flag, decides: a human may have opened a message in the mailbox.
func (p *Poller) pending(cn *conn, last imap.UID) ([]imap.UID, error) {
	crit := &imap.SearchCriteria{UID: []imap.UIDSet{{{Start: last + 1, Stop: 0}}}}
	data, err := cn.c.UIDSearch(crit, nil).Wait()
	if err != nil {
		return nil, fmt.Errorf("uid search: %w", err)
	}
	set, _ := data.All.(imap.UIDSet)
	all, ok := set.Nums()
	if !ok {
		return nil, errors.New("uid search: server returned a dynamic set")
	}
	// "n:*" also matches the highest UID when it is below n.
	uids := slices.DeleteFunc(all, func(u imap.UID) bool { return u <= last })
	slices.Sort(uids)
	return uids, nil
}

var bodySection = &imap.FetchItemBodySection{Peek: true} // BODY.PEEK[]: fetching must not set \Seen

// batch fetches and delivers uids (ascending), applies the after-action to
// those the intake took, and advances the cursor up to the first one it
// did not take.
func (p *Poller) batch(ctx context.Context, cn *conn, uids []imap.UID, last imap.UID) error {
	p.deadline(cn, p.commandTimeout)
	cmd := cn.c.Fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{
		UID:          true,
		InternalDate: true,
		BodySection:  []*imap.FetchItemBodySection{bodySection},
	})
	taken := make(map[imap.UID]bool, len(uids))
	var stopAt imap.UID // first UID not taken; 0 = none
	var stopErr error
	// Messages are delivered as they stream in, so only one is in memory.
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		if stopErr != nil || ctx.Err() != nil {
			continue // drain the rest of the fetch
		}
		buf, err := msg.Collect()
		if err != nil {
			stopErr = fmt.Errorf("fetch: %w", err) // not retryable: reconnect
			continue
		}
		uid := buf.UID
		if uid <= last {
			continue
		}
		raw := buf.FindBodySection(bodySection)
		if raw == nil {
			stopAt, stopErr = uid, &retryable{fmt.Errorf("fetch uid %d: server sent no body", uid)}
			continue
		}
		received := buf.InternalDate
		if received.IsZero() {
			received = time.Now()
		}
		env := delivery.Envelope{
			Source:      delivery.SourceIMAP,
			Mailbox:     p.mb.Name,
			UIDValidity: cn.uidValidity,
			UID:         uint32(uid),
			ReceivedAt:  received.UTC(),
		}
		if p.mb.Address != "" {
			env.Recipients = []string{p.mb.Address}
		}
		err = p.deliver(ctx, env, raw)
		p.deadline(cn, p.commandTimeout) // the fetch resumes after a possibly slow delivery
		switch {
		case err == nil:
			taken[uid] = true
			p.delivered(uint32(uid))
		case delivery.IsPermanent(err):
			// The intake quarantined or refused it for good: done with it.
			p.log.Info("message refused by intake", "uid", uid, "err", err)
			taken[uid] = true
			p.delivered(uint32(uid))
		default:
			// The intake counts its own failures and quarantines a message
			// that keeps failing, so the next pass gets past it; until
			// then Status reports the mailbox stuck at it.
			p.deliveryFailed(uint32(uid))
			stopAt, stopErr = uid, &retryable{fmt.Errorf("deliver uid %d: %w", uid, err)}
		}
	}
	if err := cmd.Close(); err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}

	// The cursor may pass a UID only when every UID below it was taken or
	// is gone from the folder (expunged meanwhile). An untaken message was
	// returned by the fetch, or would have been but for an early stop.
	cursor := last
	var done []imap.UID
	for _, u := range uids {
		if stopAt != 0 && u >= stopAt {
			break
		}
		if !taken[u] && stopErr != nil {
			break
		}
		cursor = u
	}
	for u := range taken {
		done = append(done, u)
	}
	if len(done) > 0 {
		slices.Sort(done)
		if err := p.afterAction(cn, done); err != nil {
			return err
		}
	}
	if cursor > last {
		if err := p.st.SetCursor(ctx, p.mb.Name, cn.uidValidity, uint32(cursor)); err != nil {
			return &retryable{fmt.Errorf("write cursor: %w", err)}
		}
	}
	return stopErr
}

// deliver calls the deliverer, turning a panic into a temporary error.
func (p *Poller) deliver(ctx context.Context, env delivery.Envelope, raw []byte) (err error) {
	ctx, cancel := context.WithTimeout(ctx, p.deliverTimeout)
	defer cancel()
	defer func() {
		if v := recover(); v != nil {
			p.log.Error("deliverer panicked", "uid", env.UID, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			err = fmt.Errorf("deliverer panicked: %v", v)
		}
	}()
	out, err := p.d.Deliver(ctx, env, raw)
	if err == nil {
		p.log.Debug("message delivered", "uid", env.UID, "bytes", len(raw), "action", out.Action, "ticket", out.TicketNum)
	}
	return err
}

// afterAction marks, moves or deletes delivered messages.
func (p *Poller) afterAction(cn *conn, uids []imap.UID) error {
	set := imap.UIDSetNum(uids...)
	p.deadline(cn, p.commandTimeout)
	switch after := p.mb.After; {
	case after == "seen":
		err := cn.c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen}}, nil).Close()
		if err != nil {
			return fmt.Errorf("store \\Seen: %w", err)
		}
	case after == "delete":
		err := cn.c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close()
		if err != nil {
			return fmt.Errorf("store \\Deleted: %w", err)
		}
		if err := p.expunge(cn, set); err != nil {
			return err
		}
	case strings.HasPrefix(after, "move:"):
		// imapclient falls back to COPY, STORE \Deleted and (UID) EXPUNGE
		// when the server lacks MOVE.
		if _, err := cn.c.Move(set, strings.TrimPrefix(after, "move:")).Wait(); err != nil {
			return fmt.Errorf("move to %q: %w", strings.TrimPrefix(after, "move:"), err)
		}
	}
	return nil
}

// expunge removes only our messages when the server has UIDPLUS; without
// it plain EXPUNGE is all there is.
func (p *Poller) expunge(cn *conn, set imap.UIDSet) error {
	var cmd *imapclient.ExpungeCommand
	if cn.c.Caps().Has(imap.CapUIDPlus) {
		cmd = cn.c.UIDExpunge(set)
	} else {
		cmd = cn.c.Expunge()
	}
	if err := cmd.Close(); err != nil {
		return fmt.Errorf("expunge: %w", err)
	}
	return nil
}

// waitForMail returns when new mail may have arrived: at once on EXISTS
// under IDLE, else after PollInterval, the safety net in both modes.
func (p *Poller) waitForMail(ctx context.Context, cn *conn) error {
	if !cn.c.Caps().Has(imap.CapIdle) {
		return p.waitPolling(ctx, cn)
	}
	// Re-issue IDLE well before servers' 29-minute inactivity logout.
	wait := min(p.mb.PollInterval, p.idleRestart)
	p.deadline(cn, wait+p.commandTimeout)
	idle, err := cn.c.Idle()
	if err != nil {
		return fmt.Errorf("idle: %w", err)
	}
	if p.idleEntered != nil {
		p.idleEntered()
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-cn.newMail:
		p.log.Debug("new mail announced")
	case <-t.C:
	case <-cn.c.Closed():
	}
	p.deadline(cn, p.commandTimeout)
	if err := idle.Close(); err != nil {
		return fmt.Errorf("idle: %w", err)
	}
	if err := idle.Wait(); err != nil {
		return fmt.Errorf("idle: %w", err)
	}
	return nil
}

// waitPolling sleeps PollInterval, with a NOOP now and then so the server
// does not log us out meanwhile.
func (p *Poller) waitPolling(ctx context.Context, cn *conn) error {
	end := time.Now().Add(p.mb.PollInterval)
	for {
		left := time.Until(end)
		if left <= 0 {
			return nil
		}
		step := min(left, p.idleRestart)
		p.deadline(cn, step+p.commandTimeout)
		t := time.NewTimer(step)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-cn.c.Closed():
			t.Stop()
			return errors.New("connection closed by server")
		case <-t.C:
		}
		if time.Until(end) > 0 {
			p.deadline(cn, p.commandTimeout)
			if err := cn.c.Noop().Wait(); err != nil {
				return fmt.Errorf("noop: %w", err)
			}
		}
	}
}
