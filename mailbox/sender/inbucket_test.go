package sender

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// inbucketBinary finds Inbucket (SERVICEDESK_TEST_INBUCKET, else PATH). CI
// installs it outside the module: GOBIN=DIR go install
// github.com/inbucket/inbucket/v3/cmd/inbucket@v3.2.0
func inbucketBinary(t *testing.T) string {
	t.Helper()
	path := os.Getenv("SERVICEDESK_TEST_INBUCKET")
	if path == "" {
		path, _ = exec.LookPath("inbucket")
	}
	if path != "" {
		if _, err := os.Stat(path); err == nil {
			return path
		}
	}
	if os.Getenv("SERVICEDESK_TEST_STRICT") == "1" {
		t.Fatal("inbucket not found (SERVICEDESK_TEST_INBUCKET or PATH) and SERVICEDESK_TEST_STRICT=1")
	}
	t.Skip("inbucket not found: set SERVICEDESK_TEST_INBUCKET to run this test")
	return ""
}

// TestInbucket delivers through the outbox to a real, independent SMTP
// server and reads the mail back from its REST API.
func TestInbucket(t *testing.T) {
	bin := inbucketBinary(t)
	smtpPort, webPort, popPort := freePort(t), freePort(t), freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	var logs bytes.Buffer
	cmd := exec.CommandContext(ctx, bin)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(),
		fmt.Sprintf("INBUCKET_SMTP_ADDR=127.0.0.1:%d", smtpPort),
		fmt.Sprintf("INBUCKET_WEB_ADDR=127.0.0.1:%d", webPort),
		fmt.Sprintf("INBUCKET_POP3_ADDR=127.0.0.1:%d", popPort),
		"INBUCKET_STORAGE_TYPE=memory", "INBUCKET_LOGLEVEL=warn")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
		if t.Failed() {
			t.Logf("inbucket output:\n%s", logs.String())
		}
	})
	api := fmt.Sprintf("http://127.0.0.1:%d/api/v1/mailbox/", webPort)
	client := &http.Client{Timeout: 5 * time.Second}
	get := func(path string) ([]byte, error) {
		resp, err := client.Get(api + path)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %s", path, resp.Status)
		}
		return body, err
	}
	waitFor(t, 20*time.Second, "inbucket API", func() bool { _, err := get("probe"); return err == nil })

	msgs := []Message{
		testMessage(1, "alice@customer.test", "bob@customer.test"),
		testMessage(2, "alice@customer.test"),
	}
	q := newMemQueue(msgs...)
	cfg := Config{Server: "127.0.0.1", Port: smtpPort, Helo: "sender.test", PollInterval: 20 * time.Millisecond, Timeout: 10 * time.Second}
	runSender(t, New(cfg, q, testLogger(t)))
	waitFor(t, 10*time.Second, "both sent", func() bool { return q.countState("sent") == len(msgs) })

	type header struct {
		ID   string `json:"id"`
		From string `json:"from"`
	}
	for _, box := range []struct {
		name string
		want []Message
	}{{"alice", msgs}, {"bob", msgs[:1]}} {
		var list []header
		waitFor(t, 5*time.Second, box.name+"'s mailbox", func() bool {
			body, err := get(box.name)
			list = nil
			return err == nil && json.Unmarshal(body, &list) == nil && len(list) >= len(box.want)
		})
		if len(list) != len(box.want) {
			t.Fatalf("%s has %d messages, want %d", box.name, len(list), len(box.want))
		}
		got := map[string]string{}
		for _, h := range list {
			src, err := get(box.name + "/" + h.ID + "/source")
			if err != nil {
				t.Fatal(err)
			}
			got[messageID(src)] = string(src)
		}
		for _, m := range box.want {
			src, ok := got[m.MessageID]
			if !ok {
				t.Errorf("%s lacks Message-ID %s (has %d others)", box.name, m.MessageID, len(got))
				continue
			}
			// Inbucket prepends Return-Path and Received and stores lines
			// with LF; apart from that our bytes must arrive intact.
			lf := func(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }
			if !strings.HasSuffix(lf(src), lf(string(m.Raw))) {
				t.Errorf("%s: source of %s does not end with the sent bytes:\n%s", box.name, m.MessageID, src)
			}
		}
	}
}
