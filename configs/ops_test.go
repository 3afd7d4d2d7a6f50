package configs

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// opsCase is a bad value and the one-line error that names its key.
type opsCase struct {
	name string
	mod  func(*Config)
	key  string
	want string
}

func checkValidate(t *testing.T, tests []opsCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Defaults()
			tt.mod(c)
			err := c.Validate()
			var e *Error
			if !errors.As(err, &e) || e.Key != tt.key {
				t.Fatalf("err = %v, want key %q", err, tt.key)
			}
			if want := "config: " + tt.key + ": " + tt.want; err.Error() != want {
				t.Errorf("err = %q\nwant  %q", err, want)
			}
			assertOneLine(t, err)
		})
	}
}

func TestValidateSpoolMaxBytes(t *testing.T) {
	checkValidate(t, []opsCase{
		{"below a message", func(c *Config) { c.SMTP.SpoolMaxBytes = 1 << 20 }, "smtp.spool_max_bytes",
			"1048576 is below smtp.max_message_bytes 26214400 (want 0 for no limit, or at least one whole message, e.g. 2147483648)"},
		{"negative", func(c *Config) { c.SMTP.SpoolMaxBytes = -1 }, "smtp.spool_max_bytes",
			"-1 is below smtp.max_message_bytes 26214400 (want 0 for no limit, or at least one whole message, e.g. 2147483648)"},
	})
	if got := Defaults().SMTP.SpoolMaxBytes; got != 2<<30 {
		t.Errorf("default smtp.spool_max_bytes = %d, want 2 GiB", got)
	}
	// 0 is no limit, not "take the default".
	if c := mustLoad(t, nil, "SERVICEDESK_SMTP_SPOOL_MAX_BYTES=0"); c.SMTP.SpoolMaxBytes != 0 {
		t.Errorf("SERVICEDESK_SMTP_SPOOL_MAX_BYTES=0: got %d", c.SMTP.SpoolMaxBytes)
	}
	if c := mustLoad(t, map[string]string{"servicedesk.yaml": "smtp:\n  spool_max_bytes: 104857600\n"}); c.SMTP.SpoolMaxBytes != 100<<20 {
		t.Errorf("from the file: got %d", c.SMTP.SpoolMaxBytes)
	}
}

func TestValidateNotifications(t *testing.T) {
	checkValidate(t, []opsCase{
		{"read negative", func(c *Config) { c.Notifications.KeepReadDays = -1 }, "notifications.keep_read_days",
			"-1 is negative (want days, or 0 to keep forever)"},
		{"unread negative", func(c *Config) { c.Notifications.KeepUnreadDays = -5 }, "notifications.keep_unread_days",
			"-5 is negative (want days, or 0 to keep forever)"},
	})
	d := Defaults().Notifications
	if d.KeepReadDays != 90 || d.KeepUnreadDays != 365 {
		t.Errorf("defaults %+v, want 90 and 365", d)
	}
}

func TestValidateLive(t *testing.T) {
	checkValidate(t, []opsCase{
		{"per user zero", func(c *Config) { c.Live.MaxStreamsPerUser = 0 }, "live.max_streams_per_user",
			"0 is out of range (want 1 to 20000, at most live.max_streams, e.g. 16)"},
		{"per user above the total", func(c *Config) { c.Live.MaxStreams, c.Live.MaxStreamsPerUser = 10, 11 }, "live.max_streams_per_user",
			"11 is out of range (want 1 to 10, at most live.max_streams, e.g. 16)"},
		{"max streams", func(c *Config) { c.Live.MaxStreams = -1 }, "live.max_streams", "-1 is out of range (want 1 to 1000000, e.g. 20000)"},
		{"buffer", func(c *Config) { c.Live.StreamBuffer = 5000 }, "live.stream_buffer", "5000 is out of range (want 1 to 4096, e.g. 64)"},
		{"workers", func(c *Config) { c.Live.Workers = 0 }, "live.workers", "0 is out of range (want 1 to 1024, e.g. 32)"},
		{"heartbeat", func(c *Config) { c.Live.Heartbeat = 10 * time.Millisecond }, "live.heartbeat", "10ms is too short (want at least 1s, e.g. 20s)"},
		{"session check", func(c *Config) { c.Live.SessionCheck = 0 }, "live.session_check", "0s is too short (want at least 1s, e.g. 1m)"},
		{"write timeout", func(c *Config) { c.Live.WriteTimeout = -time.Second }, "live.write_timeout", "-1s is too short (want at least 100ms, e.g. 5s)"},
		{"reconnect", func(c *Config) { c.Live.ReconnectDelay = time.Millisecond }, "live.reconnect_delay", "1ms is too short (want at least 100ms, e.g. 3s)"},
		{"resume window", func(c *Config) { c.Live.ResumeWindow = time.Second }, "live.resume_window", "1s is too short (want at least 1m0s, e.g. 72h)"},
		{"event poll", func(c *Config) { c.Live.EventPoll = time.Millisecond }, "live.event_poll", "1ms is too short (want 0 for the database's default, or at least 10ms, e.g. 100ms)"},
	})
	// From the environment, as an operator sets it.
	if c := mustLoad(t, nil, "SERVICEDESK_LIVE_MAX_STREAMS_PER_USER=2", "SERVICEDESK_LIVE_HEARTBEAT=45s"); c.Live.MaxStreamsPerUser != 2 || c.Live.Heartbeat != 45*time.Second {
		t.Errorf("from the environment: %+v", c.Live)
	}
	if _, err := loadIn(t, nil, "SERVICEDESK_LIVE_MAX_STREAMS_PER_USER=0"); err == nil || !strings.Contains(err.Error(), "live.max_streams_per_user") {
		t.Errorf("a bad value: %v", err)
	}
}
