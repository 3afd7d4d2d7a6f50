package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"github.com/jcservicedesk/servicedesk/mailbox/intake/intaketest"
)

type imapLiteral struct{ *bytes.Reader }

// TestReadyzReportsStuckMailbox: a mailbox stuck at a message the intake
// keeps failing left /readyz at ok while nothing behind it arrived. With
// quarantine put far off (mail.max_attempts 1000), the daemon's /readyz
// answers 503 and names the mailbox and UID.
func TestReadyzReportsStuckMailbox(t *testing.T) {
	mem := imapmemserver.New()
	u := imapmemserver.NewUser("support", "s3cret")
	mem.AddUser(u)
	if err := u.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	raw := intaketest.Fixture(t, "poison-constraint.eml")
	if _, err := u.Append("INBOX", imapLiteral{bytes.NewReader(raw)}, &imap.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIdle: {}},
		InsecureAuth: true,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	c := newCLI(t, "sqlite")
	poisonCLI(t, c)
	port := ln.Addr().(*net.TCPAddr).Port
	c.env = append(c.env, "SERVICEDESK_MAIL_MAX_ATTEMPTS=1000", fmt.Sprintf(
		`SERVICEDESK_IMAP_MAILBOXES=[{"name":"support","host":"127.0.0.1","port":%d,"security":"plain","username":"support","password":"s3cret","poll_interval":"1s"}]`, port))
	_, base, _ := startServe(t, c)

	client := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := client.Get(base + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		var ready struct {
			OK   bool `json:"ok"`
			IMAP []struct {
				Mailbox  string `json:"mailbox"`
				Stuck    bool   `json:"stuck"`
				StuckUID uint32 `json:"stuck_uid"`
			} `json:"imap"`
		}
		err = json.NewDecoder(resp.Body).Decode(&ready)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(ready.IMAP) == 1 && ready.IMAP[0].Stuck {
			if resp.StatusCode != http.StatusServiceUnavailable || ready.OK || ready.IMAP[0].StuckUID != 1 {
				t.Fatalf("stuck mailbox: %d %+v", resp.StatusCode, ready)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailbox never reported stuck: %d %+v", resp.StatusCode, ready)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
