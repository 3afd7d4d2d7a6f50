package poller

import (
	"context"
	"errors"
	"sync"
)

// Group runs several pollers; one failing mailbox never stops the others.
type Group struct {
	pollers []*Poller
}

// NewGroup groups pollers to run together.
func NewGroup(pollers ...*Poller) *Group {
	return &Group{pollers: pollers}
}

// Run runs every poller until ctx is done. A poller that stops early (bad
// configuration) does not stop the rest; its error is returned, joined with
// any others, once all have stopped.
func (g *Group) Run(ctx context.Context) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, p := range g.pollers {
		wg.Go(func() {
			if err := p.Run(ctx); err != nil {
				p.log.Error("poller stopped", "err", err)
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Statuses reports every poller's health, in the order given to NewGroup.
func (g *Group) Statuses() []Status {
	out := make([]Status, len(g.pollers))
	for i, p := range g.pollers {
		out[i] = p.Status()
	}
	return out
}
