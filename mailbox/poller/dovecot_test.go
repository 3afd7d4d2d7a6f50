package poller

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/jcservicedesk/servicedesk/mailbox/delivery"
)

const (
	dovecotBin = "/usr/sbin/dovecot"
	doveadmBin = "/usr/bin/doveadm"
)

// startDovecot runs a throwaway Dovecot on 127.0.0.1 with its own config,
// users file and Maildir, and returns its port.
func startDovecot(t *testing.T) int {
	t.Helper()
	requireProgram(t, dovecotBin)
	requireProgram(t, doveadmBin)

	// As root Dovecot's processes run as the dovecot user, which cannot
	// enter t.TempDir (0700 under a 0700 parent); use a world-searchable dir.
	base, err := os.MkdirTemp("", "servicedesk-dovecot-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	runUser, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	if os.Getuid() == 0 {
		if runUser, err = user.Lookup("dovecot"); err != nil {
			t.Fatalf("dovecot user: %v", err)
		}
	}
	group, err := user.LookupGroupId(runUser.Gid)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(runUser.Uid)
	gid, _ := strconv.Atoi(runUser.Gid)
	for _, d := range []string{"run", "state", "log", "mail/" + testUser} {
		if err := os.MkdirAll(filepath.Join(base, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(filepath.Join(base, "mail"), uid, gid); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(filepath.Join(base, "mail", testUser), uid, gid); err != nil {
		t.Fatal(err)
	}
	users := fmt.Sprintf("%s:{PLAIN}%s:%d:%d::%s::\n", testUser, testPass, uid, gid, filepath.Join(base, "mail", testUser))
	if err := os.WriteFile(filepath.Join(base, "users"), []byte(users), 0o644); err != nil {
		t.Fatal(err)
	}

	port := freePort(t)
	tmpl, err := os.ReadFile("testdata/dovecot.conf.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	conf := strings.NewReplacer("@BASE@", base, "@PORT@", strconv.Itoa(port),
		"@RUNUSER@", runUser.Username, "@RUNGROUP@", group.Name, "@UID@", runUser.Uid).Replace(string(tmpl))
	confPath := filepath.Join(base, "dovecot.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// The daemon inherits stdout and stderr: give it a file, not a pipe,
	// or waiting for the command would wait for the daemon.
	outPath := filepath.Join(base, "log", "start.out")
	out, err := os.Create(outPath)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd := exec.CommandContext(ctx, dovecotBin, "-c", confPath)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = time.Second
	if err := cmd.Run(); err != nil {
		msg, _ := os.ReadFile(outPath)
		log, _ := os.ReadFile(filepath.Join(base, "log", "dovecot.log"))
		t.Fatalf("start dovecot: %v\n%s\n%s", err, msg, log)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, doveadmBin, "-c", confPath, "stop")
		cmd.WaitDelay = time.Second
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("stop dovecot: %v\n%s", err, out)
		}
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	waitFor(t, 10*time.Second, "dovecot listening", func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return port
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// imapAdmin is a plain imapclient session for setting up and checking.
func imapAdmin(t *testing.T, port int) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(fmt.Sprintf("127.0.0.1:%d", port), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login(testUser, testPass).Wait(); err != nil {
		t.Fatal(err)
	}
	return c
}

func numMessages(t *testing.T, c *imapclient.Client, folder string) uint32 {
	t.Helper()
	st, err := c.Status(folder, &imap.StatusOptions{NumMessages: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	return *st.NumMessages
}

// TestDovecotCrashAndResume kills the poller after the intake committed a
// message but before it was moved, restarts it with the same State, and
// checks that dedupe plus the cursor make every message land exactly once.
func TestDovecotCrashAndResume(t *testing.T) {
	port := startDovecot(t)
	admin := imapAdmin(t, port)
	if err := admin.Create("Processed", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	const total = 10
	for i := range total {
		raw := msg(fmt.Sprintf("d%02d", i), 2000)
		cmd := admin.Append("INBOX", int64(len(raw)), nil)
		cmd.Write(raw)
		cmd.Close()
		if _, err := cmd.Wait(); err != nil {
			t.Fatalf("append: %v", err)
		}
	}

	mb := Mailbox{
		Name: "dovecot", Host: "127.0.0.1", Port: port, Security: "plain",
		Username: testUser, Password: testPass, Folder: "INBOX", After: "move:Processed",
		PollInterval: 200 * time.Millisecond, Address: "support@example.com",
	}
	st := newMemState()
	intake := newRecorder() // commits once per Message-ID, like the real dedupe

	// First run: crash right after the intake commits d04, mid-batch.
	ctx, crash := context.WithCancel(context.Background())
	var crashOnce sync.Once
	crashing := delivery.DelivererFunc(func(c context.Context, env delivery.Envelope, raw []byte) (delivery.Outcome, error) {
		out, err := intake.Deliver(c, env, raw)
		if bytes.Contains(raw, []byte(msgID("d04"))) {
			crashOnce.Do(crash)
		}
		return out, err
	})
	p1 := newTestPoller(t, mb, crashing, st, nil)
	p1.batchSize = 3
	done := make(chan error, 1)
	go func() { done <- p1.Run(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("first run: %v", err)
		}
	case <-time.After(20 * time.Second):
		crash()
		t.Fatal("first run never reached d04")
	}
	_, cursor := st.get("dovecot")
	if cursor != 3 {
		t.Errorf("cursor after crash = %d, want 3 (the first batch)", cursor)
	}
	if n := numMessages(t, admin, "Processed"); n != 3 {
		t.Errorf("Processed has %d after crash, want 3", n)
	}
	if intake.count() != 5 {
		t.Errorf("committed %d before the crash, want 5 (d00-d04)", intake.count())
	}

	// Second run, a new process with the same database.
	p2 := newTestPoller(t, mb, intake, st, nil)
	p2.batchSize = 3
	stop := run(t, p2)
	waitFor(t, 20*time.Second, "cursor at the last UID", func() bool { _, u := st.get("dovecot"); return u == total })
	stop()

	for i := range total {
		id := msgID(fmt.Sprintf("d%02d", i))
		intake.mu.Lock()
		n := intake.committed[id]
		intake.mu.Unlock()
		if n != 1 {
			t.Errorf("%s committed %d times", id, n)
		}
	}
	if n := intake.callsFor(msgID("d04")); n != 2 {
		t.Errorf("d04 offered %d times, want 2 (once before the crash, once after)", n)
	}
	if n := numMessages(t, admin, "INBOX"); n != 0 {
		t.Errorf("INBOX has %d, want 0", n)
	}
	if n := numMessages(t, admin, "Processed"); n != total {
		t.Errorf("Processed has %d, want %d", n, total)
	}
	sel, err := admin.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if v, u := st.get("dovecot"); v != sel.UIDValidity || u != total {
		t.Errorf("cursor = (%d, %d), want (%d, %d)", v, u, sel.UIDValidity, total)
	}
}

// TestDovecotSeenAndIdle checks BODY.PEEK, \Seen marking and IDLE against a
// real server.
func TestDovecotSeenAndIdle(t *testing.T) {
	port := startDovecot(t)
	admin := imapAdmin(t, port)
	appendMsg := func(id string) {
		raw := msg(id, 500)
		cmd := admin.Append("INBOX", int64(len(raw)), nil)
		cmd.Write(raw)
		cmd.Close()
		if _, err := cmd.Wait(); err != nil {
			t.Fatalf("append: %v", err)
		}
	}
	appendMsg("s1")
	appendMsg("s2")
	mb := Mailbox{
		Name: "dovecot", Host: "127.0.0.1", Port: port, Security: "plain",
		Username: testUser, Password: testPass, After: "seen",
		PollInterval: time.Hour, Address: "support@example.com",
	}
	rec := newRecorder()
	p := newTestPoller(t, mb, rec, newMemState(), nil)
	idles := countIdle(p)
	run(t, p)
	waitFor(t, 10*time.Second, "s1, s2", func() bool { return rec.count() == 2 })
	waitFor(t, 10*time.Second, "IDLE entered", func() bool { return idles.Load() >= 1 })
	appendMsg("s3")
	waitFor(t, 5*time.Second, "s3 through IDLE", func() bool { return rec.count() == 3 })
	waitFor(t, 5*time.Second, "all seen", func() bool {
		st, err := admin.Status("INBOX", &imap.StatusOptions{NumUnseen: true}).Wait()
		return err == nil && *st.NumUnseen == 0
	})
}
