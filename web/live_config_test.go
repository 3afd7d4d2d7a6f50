package web

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jcservicedesk/servicedesk/configs"
	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/web/sse"
)

// newLiveWorldWith is newLiveWorld on a configuration edited by edit.
func newLiveWorldWith(t *testing.T, st *store.Store, edit func(*configs.Config)) *liveWorld {
	t.Helper()
	w := &liveWorld{ticketWorld: &ticketWorld{world: newWorld(t, st, edit)}}
	w.srv.live.Bus.Poll = 20 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { defer close(ran); _ = w.srv.RunLive(ctx) }()
	hs := httptest.NewServer(w.h)
	w.url = hs.URL
	t.Cleanup(func() {
		w.srv.CloseStreams()
		hs.Close()
		cancel()
		<-ran
	})
	return w
}

// TestLiveConfigLimits: live.max_streams_per_user 1 refuses a user's
// second stream (429) and not another user's first; live.reconnect_delay
// is the retry the stream suggests.
func TestLiveConfigLimits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newLiveWorldWith(t, st, func(c *configs.Config) {
			c.Live.MaxStreamsPerUser = 1
			c.Live.ReconnectDelay = 7 * time.Second
		})
		tech, admin := w.signIn(w.tech), w.signIn(w.admin)
		first := w.stream(t, tech, "", 0)
		if first.status != http.StatusOK {
			t.Fatalf("first stream: %d", first.status)
		}
		w.waitStreams(t, 1)
		if second := w.stream(t, tech, "", 0); second.status != http.StatusTooManyRequests {
			t.Errorf("second stream of one user: %d, want 429", second.status)
		}
		// Another user has a stream of their own; read its first lines raw.
		req, _ := http.NewRequest("GET", w.url+"/notify/stream", nil)
		req.AddCookie(admin)
		tr := &http.Transport{DisableCompression: true}
		res, err := (&http.Client{Transport: tr}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer tr.CloseIdleConnections()
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("another user's stream: %d", res.StatusCode)
		}
		sc := bufio.NewScanner(res.Body)
		found := false
		for i := 0; i < 5 && sc.Scan(); i++ {
			if strings.HasPrefix(sc.Text(), "retry: ") {
				if sc.Text() != "retry: 7000" {
					t.Errorf("retry line %q, want retry: 7000", sc.Text())
				}
				found = true
				break
			}
		}
		if !found {
			t.Error("no retry line at the start of the stream")
		}
	})
}

// TestLiveOptionsFromConfig: every live.* key reaches the hub's options;
// what Deps.Live sets wins; the defaults are the hub's own.
func TestLiveOptionsFromConfig(t *testing.T) {
	c := configs.LiveConfig{MaxStreamsPerUser: 3, MaxStreams: 50, StreamBuffer: 8, Heartbeat: 2 * time.Second,
		SessionCheck: 3 * time.Second, WriteTimeout: 4 * time.Second, ReconnectDelay: 5 * time.Second, Workers: 6,
		EventPoll: 70 * time.Millisecond, ResumeWindow: 9 * time.Hour}
	got := liveOptions(c, LiveOptions{})
	want := LiveOptions{Hub: sse.Options{MaxPerUser: 3, MaxStreams: 50, Buffer: 8, Heartbeat: 2 * time.Second,
		SessionCheck: 3 * time.Second, WriteTimeout: 4 * time.Second, Retry: 5 * time.Second, Workers: 6},
		Bus: store.EventBusOptions{Poll: 70 * time.Millisecond}, Retention: 9 * time.Hour}
	if got.Hub != want.Hub || got.Bus.Poll != want.Bus.Poll || got.Retention != want.Retention {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	if o := liveOptions(c, LiveOptions{Hub: sse.Options{MaxPerUser: 40}}); o.Hub.MaxPerUser != 40 || o.Hub.Buffer != 8 {
		t.Errorf("Deps.Live's own value lost: %+v", o.Hub)
	}
	d := liveOptions(configs.Defaults().Live, LiveOptions{})
	if d.Hub.MaxPerUser != 16 || d.Hub.MaxStreams != 20000 || d.Hub.Buffer != 64 || d.Hub.Heartbeat != 20*time.Second ||
		d.Hub.SessionCheck != time.Minute || d.Hub.WriteTimeout != 5*time.Second || d.Hub.Retry != 3*time.Second ||
		d.Hub.Workers != 32 || d.Bus.Poll != 0 || d.Retention != 72*time.Hour {
		t.Errorf("defaults changed: %+v", d)
	}
}
