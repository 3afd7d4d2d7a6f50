package auth

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// CacheConfig bounds the resolver's cache.
type CacheConfig struct {
	// TTL keeps an answer (records found) this long; NegativeTTL keeps
	// "no such name / no such record" (RFC 2308) this long. net.Resolver
	// does not report the records' own TTLs, so these are caps: short
	// enough that a changed SPF or DMARC record is seen within minutes.
	TTL, NegativeTTL time.Duration
	// MaxEntries bounds memory; when full, expired entries go first, then
	// the whole cache.
	MaxEntries int
}

// DefaultCacheConfig: 5 minutes for answers, 1 minute for NXDOMAIN,
// 10,000 names.
var DefaultCacheConfig = CacheConfig{TTL: 5 * time.Minute, NegativeTTL: time.Minute, MaxEntries: 10000}

// cachingResolver answers repeated lookups from memory. A helpdesk hears
// from the same few domains all day, and every message asks for their SPF
// and DMARC records (two or three round trips before the 250, each one a
// new UDP socket with Go's resolver); an MTA has a caching resolver in
// front of it for this. Temporary failures are never cached, so a DNS
// outage is retried, and concurrent lookups of one name share one query.
type cachingResolver struct {
	r   Resolver
	cfg CacheConfig
	now func() time.Time

	group singleflight.Group
	mu    sync.Mutex
	m     map[string]cacheEntry
}

type cacheEntry struct {
	val     any
	err     error
	expires time.Time
}

// NewCachingResolver wraps r with a cache.
func NewCachingResolver(r Resolver, cfg CacheConfig) Resolver {
	return &cachingResolver{r: r, cfg: cfg, now: time.Now, m: map[string]cacheEntry{}}
}

func (c *cachingResolver) LookupTXT(ctx context.Context, name string) ([]string, error) {
	v, err := c.lookup(ctx, "txt "+name, func(ctx context.Context) (any, error) { return c.r.LookupTXT(ctx, name) })
	s, _ := v.([]string)
	return s, err
}

func (c *cachingResolver) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	v, err := c.lookup(ctx, "mx "+name, func(ctx context.Context) (any, error) { return c.r.LookupMX(ctx, name) })
	s, _ := v.([]*net.MX)
	return s, err
}

func (c *cachingResolver) LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error) {
	v, err := c.lookup(ctx, "ip "+host, func(ctx context.Context) (any, error) { return c.r.LookupIPAddr(ctx, host) })
	s, _ := v.([]net.IPAddr)
	return s, err
}

func (c *cachingResolver) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	v, err := c.lookup(ctx, "ptr "+addr, func(ctx context.Context) (any, error) { return c.r.LookupAddr(ctx, addr) })
	s, _ := v.([]string)
	return s, err
}

// lookup returns the cached answer for key, or asks once and keeps a
// definite answer. Callers get the cached slices: they only read them.
func (c *cachingResolver) lookup(ctx context.Context, key string, ask func(context.Context) (any, error)) (any, error) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.val, e.err
	}
	ch := c.group.DoChan(key, func() (any, error) {
		// The first caller's deadline bounds the shared query; the
		// others wait for it or for their own.
		v, err := ask(ctx)
		c.keep(key, v, err)
		return v, err
	})
	select {
	case r := <-ch:
		return r.Val, r.Err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (c *cachingResolver) keep(key string, v any, err error) {
	ttl := c.cfg.TTL
	if err != nil {
		var de *net.DNSError
		if !errors.As(err, &de) || !de.IsNotFound {
			return // a timeout or SERVFAIL: ask again next time
		}
		ttl = c.cfg.NegativeTTL
	}
	if ttl <= 0 {
		return
	}
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cfg.MaxEntries > 0 && len(c.m) >= c.cfg.MaxEntries {
		for k, e := range c.m {
			if !now.Before(e.expires) {
				delete(c.m, k)
			}
		}
		if len(c.m) >= c.cfg.MaxEntries {
			clear(c.m)
		}
	}
	c.m[key] = cacheEntry{val: v, err: err, expires: now.Add(ttl)}
}
