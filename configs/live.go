package configs

import (
	"fmt"
	"time"
)

// LiveConfig holds the limits of the live pages (the SSE streams of
// /notify/stream and /chat/stream, the hub behind them, the event log
// they resume from). The defaults are web/sse's and the store's own.
type LiveConfig struct {
	// MaxStreamsPerUser bounds one user's open streams (a tab each); more
	// get 429 and the page falls back to polling.
	MaxStreamsPerUser int `mapstructure:"max_streams_per_user" json:"max_streams_per_user" yaml:"max_streams_per_user"`
	// MaxStreams bounds the streams of one process; more get 503.
	MaxStreams int `mapstructure:"max_streams" json:"max_streams" yaml:"max_streams"`
	// StreamBuffer is how many events wait for one slow client before its
	// stream is dropped (it reconnects and resumes).
	StreamBuffer int `mapstructure:"stream_buffer" json:"stream_buffer" yaml:"stream_buffer"`
	// Heartbeat is the interval of ": ping" comments that keep proxies from
	// closing an idle stream.
	Heartbeat time.Duration `mapstructure:"heartbeat" json:"heartbeat" yaml:"heartbeat"`
	// SessionCheck is how often a stream re-checks its session (logout,
	// expiry, a disabled user end it).
	SessionCheck time.Duration `mapstructure:"session_check" json:"session_check" yaml:"session_check"`
	// WriteTimeout bounds one write to a client; one that far behind is dropped.
	WriteTimeout time.Duration `mapstructure:"write_timeout" json:"write_timeout" yaml:"write_timeout"`
	// ReconnectDelay is the retry delay suggested to browsers.
	ReconnectDelay time.Duration `mapstructure:"reconnect_delay" json:"reconnect_delay" yaml:"reconnect_delay"`
	// Workers write to the idle streams taken over from net/http.
	Workers int `mapstructure:"workers" json:"workers" yaml:"workers"`
	// EventPoll is how often the event log is read without a wake-up
	// (SQLite: always; PostgreSQL: in case a NOTIFY was lost). 0 is the
	// database's default: 100 ms on SQLite, 10 s on PostgreSQL.
	EventPoll time.Duration `mapstructure:"event_poll" json:"event_poll" yaml:"event_poll"`
	// ResumeWindow is how long the event log keeps what a reconnecting
	// stream can resume from; older gaps reload the page.
	ResumeWindow time.Duration `mapstructure:"resume_window" json:"resume_window" yaml:"resume_window"`
}

func defaultLive() LiveConfig {
	return LiveConfig{MaxStreamsPerUser: 16, MaxStreams: 20000, StreamBuffer: 64, Heartbeat: 20 * time.Second,
		SessionCheck: time.Minute, WriteTimeout: 5 * time.Second, ReconnectDelay: 3 * time.Second, Workers: 32,
		ResumeWindow: 72 * time.Hour}
}

func (c *Config) checkLive() *Error {
	l := c.Live
	ints := []struct {
		key       string
		v, lo, hi int
		hint      string
	}{
		{"live.max_streams", l.MaxStreams, 1, 1_000_000, "e.g. 20000"},
		{"live.max_streams_per_user", l.MaxStreamsPerUser, 1, l.MaxStreams, "at most live.max_streams, e.g. 16"},
		{"live.stream_buffer", l.StreamBuffer, 1, 4096, "e.g. 64"},
		{"live.workers", l.Workers, 1, 1024, "e.g. 32"},
	}
	for _, n := range ints {
		if n.v < n.lo || n.v > n.hi {
			return &Error{Key: n.key, Msg: fmt.Sprintf("%d is out of range (want %d to %d, %s)", n.v, n.lo, n.hi, n.hint)}
		}
	}
	durs := []struct {
		key     string
		v, min  time.Duration
		example string
	}{
		{"live.heartbeat", l.Heartbeat, time.Second, "20s"},
		{"live.session_check", l.SessionCheck, time.Second, "1m"},
		{"live.write_timeout", l.WriteTimeout, 100 * time.Millisecond, "5s"},
		{"live.reconnect_delay", l.ReconnectDelay, 100 * time.Millisecond, "3s"},
		{"live.resume_window", l.ResumeWindow, time.Minute, "72h"},
	}
	for _, d := range durs {
		if d.v < d.min {
			return &Error{Key: d.key, Msg: fmt.Sprintf("%s is too short (want at least %s, e.g. %s)", d.v, d.min, d.example)}
		}
	}
	if l.EventPoll != 0 && l.EventPoll < 10*time.Millisecond {
		return &Error{Key: "live.event_poll", Msg: fmt.Sprintf("%s is too short (want 0 for the database's default, or at least 10ms, e.g. 100ms)", l.EventPoll)}
	}
	return nil
}
