package configs

import "fmt"

// NotificationsConfig is how long the notification centre (the bell)
// keeps its rows; the retention job deletes older ones. 0 keeps forever.
type NotificationsConfig struct {
	// KeepReadDays: read notifications older than this are deleted.
	KeepReadDays int `mapstructure:"keep_read_days" json:"keep_read_days" yaml:"keep_read_days"`
	// KeepUnreadDays: unread ones too, after longer (nobody looked for a year).
	KeepUnreadDays int `mapstructure:"keep_unread_days" json:"keep_unread_days" yaml:"keep_unread_days"`
}

func defaultNotifications() NotificationsConfig {
	return NotificationsConfig{KeepReadDays: 90, KeepUnreadDays: 365}
}

func (c *Config) checkNotifications() *Error {
	n := c.Notifications
	for _, d := range []struct {
		key string
		v   int
	}{{"notifications.keep_read_days", n.KeepReadDays}, {"notifications.keep_unread_days", n.KeepUnreadDays}} {
		if d.v < 0 {
			return &Error{Key: d.key, Msg: fmt.Sprintf("%d is negative (want days, or 0 to keep forever)", d.v)}
		}
	}
	return nil
}
