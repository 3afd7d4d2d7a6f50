package web

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// liveWorld is a ticket world whose hub runs behind a real HTTP server.
type liveWorld struct {
	*ticketWorld
	url string
}

func newLiveWorld(t *testing.T, st *store.Store) *liveWorld {
	t.Helper()
	w := &liveWorld{ticketWorld: newTicketWorld(t, st)}
	w.srv.live.Bus.Poll = 20 * time.Millisecond
	w.srv.live.GrantTTL = -1 // every delivery asks the policy
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

// sseClient is one open /notify/stream.
type sseClient struct {
	t      *testing.T
	status int
	frames chan sseFrame
}

type sseFrame struct {
	ID   int64
	Name string
	Data map[string]any
	Raw  string
}

func (w *liveWorld) stream(t *testing.T, c *http.Cookie, topics string, last int64) *sseClient {
	t.Helper()
	req, _ := http.NewRequest("GET", w.url+"/notify/stream?topics="+url.QueryEscape(topics), nil)
	req.AddCookie(c)
	req.Header.Set("Accept-Encoding", "gzip") // the stream must not be compressed anyway
	if last > 0 {
		req.Header.Set("Last-Event-ID", strconv.FormatInt(last, 10))
	}
	tr := &http.Transport{DisableCompression: true}
	res, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	sc := &sseClient{t: t, status: res.StatusCode, frames: make(chan sseFrame, 100)}
	done := make(chan struct{})
	t.Cleanup(func() { res.Body.Close(); <-done; tr.CloseIdleConnections() })
	if res.StatusCode != 200 {
		close(done)
		return sc
	}
	if res.Header.Get("Content-Encoding") != "" || res.Header.Get("X-Accel-Buffering") != "no" || res.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("stream headers %v", res.Header)
	}
	go func() {
		defer close(done)
		defer close(sc.frames)
		rd := bufio.NewScanner(res.Body)
		var f sseFrame
		for rd.Scan() {
			line := rd.Text()
			switch {
			case line == "" && f.Name != "":
				_ = json.Unmarshal([]byte(f.Raw), &f.Data)
				sc.frames <- f
				f = sseFrame{}
			case strings.HasPrefix(line, "id: "):
				f.ID, _ = strconv.ParseInt(line[4:], 10, 64)
			case strings.HasPrefix(line, "event: "):
				f.Name = line[7:]
			case strings.HasPrefix(line, "data: "):
				f.Raw += line[6:]
			}
		}
	}()
	return sc
}

// next is the next event of the stream (within 5 s).
func (sc *sseClient) next() sseFrame {
	sc.t.Helper()
	select {
	case f, ok := <-sc.frames:
		if !ok {
			sc.t.Fatal("stream ended")
		}
		return f
	case <-time.After(5 * time.Second):
		sc.t.Fatal("no event within 5 s")
	}
	return sseFrame{}
}

// waitStreams waits for n streams on the hub: subscribed before the
// change is made.
func (w *liveWorld) waitStreams(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for w.srv.hub.Streams() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d streams, want %d", w.srv.hub.Streams(), n)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestNotifyStream(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newLiveWorld(t, st)
		ctx := context.Background()
		tech, maria, joao, ze := w.signIn(w.tech), w.signIn(w.client), w.signIn(w.colleague), w.signIn(w.outsider)
		topic := ticketing.TicketTopic(w.t1.ID)
		// Who may follow what is the policy's: not another company's
		// ticket, not a colleague's unshared one, not the queue for a client.
		for _, c := range []struct {
			who    *http.Cookie
			topics string
		}{{ze, topic}, {joao, topic}, {maria, "queue"}} {
			if sc := w.stream(t, c.who, c.topics, 0); sc.status != http.StatusForbidden {
				t.Errorf("%s: %d, want 403", c.topics, sc.status)
			}
		}
		staff := w.stream(t, tech, topic+",queue", 0)
		req := w.stream(t, maria, topic, 0)
		w.waitStreams(t, 2)

		if _, err := w.svc.Comment(ctx, w.tech, w.t1.Number, ticketing.CommentInput{Body: "segredo " + secretNote, Internal: true}); err != nil {
			t.Fatal(err)
		}
		pub, err := w.svc.Comment(ctx, w.tech, w.t1.Number, ticketing.CommentInput{Body: "Já chegou a peça."})
		if err != nil {
			t.Fatal(err)
		}
		f := staff.next()
		if f.Name != "comment" || !strings.Contains(f.Raw, secretNote) || f.Data["topic"] != topic || f.ID == 0 {
			t.Fatalf("staff got %+v", f)
		}
		// The requester's first events: the public comment and its
		// notification, never the internal note.
		var gotComment, gotNotice bool
		for !gotComment || !gotNotice {
			f := req.next()
			if strings.Contains(f.Raw, secretNote) {
				t.Fatalf("internal note reached the requester: %s", f.Raw)
			}
			switch f.Name {
			case "comment":
				c, _ := f.Data["comment"].(map[string]any)
				if c["text"] != "Já chegou a peça." || c["id"] != float64(pub.ID) || c["internal"] != false {
					t.Fatalf("comment %s", f.Raw)
				}
				gotComment = true
			case "notification":
				n, _ := f.Data["notification"].(map[string]any)
				if n["link"] != "/tickets/"+strconv.FormatInt(w.t1.Number, 10) || n["unread"] == nil ||
					!strings.Contains(n["text"].(string), "Nova resposta") {
					t.Fatalf("notification %s", f.Raw)
				}
				gotNotice = true
			default:
				t.Fatalf("unexpected %+v", f)
			}
		}

		// Resume: a stream reopened after the internal note's id gets
		// the public comment again (for the requester, only it).
		again := w.stream(t, maria, topic, f.ID-1)
		if g := again.next(); g.Name != "comment" && g.Name != "notification" {
			t.Fatalf("resume got %+v", g)
		}
		// An id older than the log: resync.
		if _, err := st.PruneEvents(ctx, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if g := w.stream(t, maria, topic, 1).next(); g.Name != "resync" {
			t.Fatalf("expired gap got %+v", g)
		}
	})
}

// TestNotifyStreamRemovedParticipant: once removed, a participant's
// stream carries no more of the ticket.
func TestNotifyStreamRemovedParticipant(t *testing.T) {
	w := newLiveWorld(t, storetest.Open(t, store.SQLite))
	ctx := context.Background()
	if err := w.svc.AddParticipant(ctx, w.tech, w.t1.Number, w.colleague); err != nil {
		t.Fatal(err)
	}
	joao := w.signIn(w.colleague)
	sc := w.stream(t, joao, ticketing.TicketTopic(w.t1.ID), 0)
	w.waitStreams(t, 1)
	if _, err := w.svc.Comment(ctx, w.tech, w.t1.Number, ticketing.CommentInput{Body: "antes"}); err != nil {
		t.Fatal(err)
	}
	for f := sc.next(); f.Name != "comment"; f = sc.next() {
	}
	if err := w.svc.RemoveParticipant(ctx, w.tech, w.t1.Number, w.colleague); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Comment(ctx, w.tech, w.t1.Number, ticketing.CommentInput{Body: "depois"}); err != nil {
		t.Fatal(err)
	}
	// A change they are told of (their own notification) comes next.
	other, err := w.svc.Create(ctx, w.tech, ticketing.CreateInput{Requester: w.client, Subject: "Outro"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.svc.AddParticipant(ctx, w.tech, other.Number, w.colleague); err != nil {
		t.Fatal(err)
	}
	for {
		f := sc.next()
		if strings.Contains(f.Raw, "depois") {
			t.Fatalf("a removed participant got %s", f.Raw)
		}
		if f.Name == "notification" && strings.Contains(f.Raw, `"participant_added"`) {
			break
		}
	}
}

func TestNotifyPollReadAndBell(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newLiveWorld(t, st)
		ctx := context.Background()
		maria := w.signIn(w.client)
		topic := ticketing.TicketTopic(w.t1.ID)
		var start pollAnswer
		getJSON(t, w.get("/notify/poll?topics="+topic, maria), &start)
		if _, err := w.svc.Comment(ctx, w.tech, w.t1.Number, ticketing.CommentInput{Body: secretNote, Internal: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Comment(ctx, w.tech, w.t1.Number, ticketing.CommentInput{Body: "Resposta pública"}); err != nil {
			t.Fatal(err)
		}
		var got pollAnswer
		getJSON(t, w.get("/notify/poll?topics="+topic+"&after="+strconv.FormatInt(start.Last, 10), maria), &got)
		raw, _ := json.Marshal(got.Events)
		if got.Resync || got.Last <= start.Last || len(got.Events) != 2 || strings.Contains(string(raw), secretNote) ||
			!strings.Contains(string(raw), `"event":"comment"`) || !strings.Contains(string(raw), `"event":"notification"`) {
			t.Fatalf("poll %+v\n%s", got, raw)
		}
		if got.Unread < 1 {
			t.Fatalf("unread %d", got.Unread)
		}
		// The bell in the page header, from the database.
		page := w.get("/tickets", maria)
		if !strings.Contains(page.Body, `id="bell-count">`+strconv.Itoa(got.Unread)+`<`) || !strings.Contains(page.Body, "Nova resposta em #") {
			t.Fatalf("no bell with %d in\n%s", got.Unread, page.Body)
		}
		ns, _, err := w.svc.Notifications(ctx, w.client, 10)
		if err != nil || len(ns) == 0 {
			t.Fatal(err)
		}
		// Someone else's notification is not found; one's own is read.
		ana := w.signIn(w.admin)
		if res := w.postAs(ana, "/notify/read/"+itoaID(ns[0].ID), nil); res.StatusCode != http.StatusNotFound {
			t.Fatalf("another's notification: %d", res.StatusCode)
		}
		if res := w.post("/notify/read/"+itoaID(ns[0].ID), url.Values{}, maria); res.StatusCode != http.StatusForbidden {
			t.Fatalf("without CSRF: %d", res.StatusCode)
		}
		res := w.postAs(maria, "/notify/read/"+itoaID(ns[0].ID), url.Values{"next": {"/notify"}})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/notify" {
			t.Fatalf("read: %d %s", res.StatusCode, res.Header.Get("Location"))
		}
		if n, _ := w.svc.UnreadNotifications(ctx, w.client); n != got.Unread-1 {
			t.Fatalf("unread %d after reading one of %d", n, got.Unread)
		}
		list := w.get("/notify", maria)
		if list.StatusCode != 200 || !strings.Contains(list.Body, "Impressora parada") {
			t.Fatalf("list page %d\n%s", list.StatusCode, list.Body)
		}
		r := httptest.NewRequest("POST", "/notify/read_all", strings.NewReader(url.Values{"csrf_token": {w.csrf[maria.Value]}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Accept", "application/json")
		r.AddCookie(maria)
		var after map[string]int
		getJSON(t, w.do(r), &after)
		if after["unread"] != 0 {
			t.Fatalf("after read_all: %v", after)
		}
		// A gap older than the log: resync.
		if _, err := st.PruneEvents(ctx, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		var rs pollAnswer
		getJSON(t, w.get("/notify/poll?topics="+topic+"&after=1", maria), &rs)
		if !rs.Resync {
			t.Fatalf("no resync: %+v", rs)
		}
	})
}

func getJSON(t *testing.T, res resp, v any) {
	t.Helper()
	if res.StatusCode != 200 {
		t.Fatalf("status %d: %s", res.StatusCode, res.Body)
	}
	if err := json.Unmarshal([]byte(res.Body), v); err != nil {
		t.Fatalf("%v: %s", err, res.Body)
	}
}
