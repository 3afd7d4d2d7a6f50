package web

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/jcservicedesk/servicedesk/store"
	"github.com/jcservicedesk/servicedesk/store/storetest"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// TestDashboardPerRole: staff get the four cards with their counts and
// links to the queue; a requester gets none of them and sees no ticket of
// anyone through the dashboard; only an admin gets the quarantine card.
func TestDashboardPerRole(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		mk := func(subject string) *store.Ticket {
			t.Helper()
			tk, err := w.svc.Create(ctx, w.client, ticketing.CreateInput{Requester: w.client, Subject: subject, Body: "x"})
			if err != nil {
				t.Fatal(err)
			}
			return tk
		}
		mine := mk("Impressora <b>quebrada</b>")
		mk("VPN caiu")
		if _, err := w.svc.Assign(ctx, w.admin, mine.Number, w.tech); err != nil {
			t.Fatal(err)
		}
		tech := w.get("/dashboard", w.signIn(w.tech))
		if tech.StatusCode != 200 {
			t.Fatalf("tech dashboard: %d", tech.StatusCode)
		}
		for _, want := range []string{`href="/tickets/?tab=mine"`, `href="/tickets/?tab=unassigned"`, `href="/tickets/?tab=active&amp;sort=due"`,
			`href="/tickets/?tab=active&amp;sort=updated"`, `id="dash-mine"`, "Impressora &lt;b&gt;quebrada&lt;/b&gt;", "VPN caiu",
			`<span class="dash-count">1</span>`, `<span class="dash-count">2</span>`} {
			if !strings.Contains(tech.Body, want) {
				t.Errorf("tech dashboard lacks %s", want)
			}
		}
		if strings.Contains(tech.Body, "/admin/quarantine") {
			t.Error("a tech gets the quarantine card")
		}
		if admin := w.get("/dashboard", w.signIn(w.admin)); !strings.Contains(admin.Body, `href="/admin/quarantine"`) {
			t.Error("the admin lacks the quarantine card")
		}
		// The requester accepts the privacy policy first, as the portal asks.
		maria := w.signIn(w.client)
		res := w.get("/lgpd?next=%2Fdashboard", maria)
		tok, rev := formToken(t, res.Body), regexpFind(t, res.Body, `name="revision" value="(\d+)"`)
		if res := w.post("/lgpd", url.Values{"csrf_token": {tok}, "revision": {rev}, "next": {"/dashboard"}}, maria); res.StatusCode != 303 {
			t.Fatalf("accept: %d", res.StatusCode)
		}
		client := w.get("/dashboard", maria)
		if client.StatusCode != 200 {
			t.Fatalf("client dashboard: %d %s", client.StatusCode, client.Header.Get("Location"))
		}
		for _, bad := range []string{"dash-", "tab=", "VPN caiu", "/admin/quarantine"} {
			if strings.Contains(client.Body, bad) {
				t.Errorf("client dashboard shows %s", bad)
			}
		}
	})
}
