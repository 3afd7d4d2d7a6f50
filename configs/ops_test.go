package configs

import (
	"errors"
	"testing"
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
