package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/uptrace/bun/driver/pgdriver"
)

// watchPresencePostgres listens on PresenceChannel through pgdriver's
// Listener, whose channel mode pings the connection and reconnects (and
// listens again) by itself.
func (s *Store) watchPresencePostgres(ctx context.Context, onError func(error), deliver func(string)) error {
	var scope string
	if err := s.write.NewRaw("SELECT current_schema()").Scan(ctx, &scope); err != nil {
		return fmt.Errorf("store: presence schema: %w", err)
	}
	ln := pgdriver.NewListener(s.write)
	defer ln.Close()
	// A failed first LISTEN is retried by the channel's reconnects: the
	// listener keeps the channel in its list.
	if err := ln.Listen(ctx, PresenceChannel); err != nil && onError != nil {
		onError(fmt.Errorf("store: listen %s: %w", PresenceChannel, err))
	}
	ch := ln.Channel(pgdriver.WithChannelSize(1024), pgdriver.WithChannelOverflowHandler(func(pgdriver.Notification) {
		if onError != nil {
			onError(fmt.Errorf("store: %s: a message was dropped (receiver too slow)", PresenceChannel))
		}
	}))
	for {
		select {
		case <-ctx.Done():
			return nil
		case n, ok := <-ch:
			if !ok {
				return nil
			}
			if n.Channel != PresenceChannel {
				continue
			}
			if sc, payload, ok := strings.Cut(n.Payload, " "); ok && sc == scope {
				deliver(payload)
			}
		}
	}
}
