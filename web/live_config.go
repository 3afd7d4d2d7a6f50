package web

import (
	"time"

	"github.com/jcservicedesk/servicedesk/configs"
)

// liveOptions fills what o (Deps.Live: tests, embedders) leaves zero
// from the live.* configuration.
func liveOptions(c configs.LiveConfig, o LiveOptions) LiveOptions {
	num := func(v *int, cfg int) {
		if *v == 0 {
			*v = cfg
		}
	}
	dur := func(v *time.Duration, cfg time.Duration) {
		if *v == 0 {
			*v = cfg
		}
	}
	num(&o.Hub.MaxPerUser, c.MaxStreamsPerUser)
	num(&o.Hub.MaxStreams, c.MaxStreams)
	num(&o.Hub.Buffer, c.StreamBuffer)
	num(&o.Hub.Workers, c.Workers)
	dur(&o.Hub.Heartbeat, c.Heartbeat)
	dur(&o.Hub.SessionCheck, c.SessionCheck)
	dur(&o.Hub.WriteTimeout, c.WriteTimeout)
	dur(&o.Hub.Retry, c.ReconnectDelay)
	dur(&o.Bus.Poll, c.EventPoll) // 0 stays the database's default
	dur(&o.Retention, c.ResumeWindow)
	return o
}
