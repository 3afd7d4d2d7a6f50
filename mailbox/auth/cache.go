package auth

import (
	"context"
	"errors"
	"net"
	"strings"
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
	// MaxEntries bounds memory (an answer kept is at most
	// maxCachedAnswer bytes); when full, expired entries go first, then
	// the whole cache.
	MaxEntries int
	// Timeout bounds a query that several callers wait for (each caller
	// also stops at its own deadline).
	Timeout time.Duration
}

// DefaultCacheConfig: 5 minutes for answers, 1 minute for NXDOMAIN,
// 5,000 names (at most 20 MB), a shared query given 15 s.
var DefaultCacheConfig = CacheConfig{TTL: 5 * time.Minute, NegativeTTL: time.Minute, MaxEntries: 5000, Timeout: 15 * time.Second}

// maxCachedAnswer: larger answers (the names are the sender's to choose)
// are passed on, not kept. SPF, DMARC and DKIM records are far smaller.
const maxCachedAnswer = 4096

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
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultCacheConfig.Timeout
	}
	return &cachingResolver{r: r, cfg: cfg, now: time.Now, m: map[string]cacheEntry{}}
}

// The answers returned are shared with the cache: callers only read them
// (go-msgauth and blitiri.com.ar/go/spf do).

func (c *cachingResolver) LookupTXT(ctx context.Context, name string) ([]string, error) {
	v, err := c.lookup(ctx, "txt", name, func(ctx context.Context) (any, int, error) {
		txt, err := c.r.LookupTXT(ctx, name)
		return txt, totalLen(txt), err
	})
	s, _ := v.([]string)
	return s, err
}

func (c *cachingResolver) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	v, err := c.lookup(ctx, "mx", name, func(ctx context.Context) (any, int, error) {
		mx, err := c.r.LookupMX(ctx, name)
		return mx, 64 * len(mx), err
	})
	s, _ := v.([]*net.MX)
	return s, err
}

func (c *cachingResolver) LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error) {
	v, err := c.lookup(ctx, "ip", host, func(ctx context.Context) (any, int, error) {
		ips, err := c.r.LookupIPAddr(ctx, host)
		return ips, 32 * len(ips), err
	})
	s, _ := v.([]net.IPAddr)
	return s, err
}

func (c *cachingResolver) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	v, err := c.lookup(ctx, "ptr", addr, func(ctx context.Context) (any, int, error) {
		names, err := c.r.LookupAddr(ctx, addr)
		return names, totalLen(names), err
	})
	s, _ := v.([]string)
	return s, err
}

func totalLen(ss []string) int {
	n := 0
	for _, s := range ss {
		n += len(s)
	}
	return n
}

// lookup returns the cached answer for name, or asks once, for every
// caller waiting, and keeps a definite answer. The query runs detached
// from the first caller's cancellation (its end must not fail the
// others) under Timeout; each caller waits at most until its own
// deadline, and then gets a timeout as the resolver reports one (SPF
// tells a temporary error from a permanent one by *net.DNSError).
func (c *cachingResolver) lookup(ctx context.Context, kind, name string, ask func(context.Context) (any, int, error)) (any, error) {
	key := kind + " " + strings.ToLower(strings.TrimSuffix(name, "."))
	now := c.now()
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.val, e.err
	}
	ch := c.group.DoChan(key, func() (any, error) {
		qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.Timeout)
		defer cancel()
		v, size, err := ask(qctx)
		if size <= maxCachedAnswer {
			c.keep(key, v, err)
		}
		return v, err
	})
	select {
	case r := <-ch:
		return r.Val, r.Err
	case <-ctx.Done():
		return nil, &net.DNSError{Err: ctx.Err().Error(), Name: name, IsTimeout: true, UnwrapErr: ctx.Err()}
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
		if len(c.m) > c.cfg.MaxEntries*3/4 { // so that full scans stay rare
			clear(c.m)
		}
	}
	c.m[key] = cacheEntry{val: v, err: err, expires: now.Add(ttl)}
}
