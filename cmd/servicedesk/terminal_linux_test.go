package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair: the test holds the master side,
// the command gets the terminal.
func openPTY(t *testing.T) (master, tty *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skip("no pseudo-terminals here: " + err.Error())
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

// lockedBuffer collects a command's stderr while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// setPasswordOnTTY runs user set-password with a terminal as stdin and
// types the given lines, each once the command has asked for it with echo
// off.
func setPasswordOnTTY(t *testing.T, c *cli, email string, lines ...string) (result, string) {
	t.Helper()
	master, tty := openPTY(t)
	cmd := exec.Command(binary, "user", "set-password", "--email", email, "-o", "json")
	cmd.Dir, cmd.Env = c.dir, c.env
	var out bytes.Buffer
	var errb lockedBuffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	var echoed bytes.Buffer
	echoDone := make(chan struct{})
	go func() { defer close(echoDone); _, _ = echoed.ReadFrom(master) }()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i, line := range lines {
		// Positive signals: the i-th prompt is out and the terminal's
		// echo is off (the termios are shared by both ends).
		for {
			tio, err := unix.IoctlGetTermios(int(master.Fd()), unix.TCGETS)
			if err == nil && strings.Count(errb.String(), "password: ") > i && tio.Lflag&unix.ECHO == 0 {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("no prompt %d with echo off; stderr %q", i+1, errb.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
		if _, err := master.WriteString(line + "\n"); err != nil {
			t.Fatal(err)
		}
	}
	err := cmd.Wait()
	master.Close()
	<-echoDone
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}, echoed.String()
}

// TestSetPasswordOnTerminal: on a terminal the password is asked twice,
// never echoed, and a mismatch changes nothing; from a pipe one line
// still does (TestCLIAdminScript).
func TestSetPasswordOnTerminal(t *testing.T) {
	c := newCLI(t, "sqlite")
	c.env = append(c.env, "ADMIN_PASSWORD=first-admin-password")
	c.ok(nil, "user", "add", "--email", "ana@helpdesk.example", "--role", "tech")

	r, echoed := setPasswordOnTTY(t, c, "ana@helpdesk.example", "s3cret-one", "s3cret-two")
	if r.code != 1 || !strings.Contains(r.stderr, "do not match") {
		t.Fatalf("mismatch: %+v", r)
	}
	var u struct {
		HasPassword bool `json:"has_password"`
	}
	c.ok(&u, "user", "show", "ana@helpdesk.example")
	if u.HasPassword {
		t.Fatal("a mismatched password was set")
	}

	r, echoed2 := setPasswordOnTTY(t, c, "ana@helpdesk.example", "s3cret-same", "s3cret-same")
	if r.code != 0 || !strings.Contains(r.stdout, `"has_password": true`) {
		t.Fatalf("set: %+v", r)
	}
	if strings.Contains(echoed+echoed2+r.stdout+r.stderr, "s3cret") {
		t.Fatalf("the password was echoed: terminal %q, stderr %q", echoed+echoed2, r.stderr)
	}
}

// answerOnTTY runs args with a terminal as stdin and types answer once
// the command has asked (the prompt ends in "[y/N] " on stderr).
func answerOnTTY(t *testing.T, c *cli, answer string, args ...string) result {
	t.Helper()
	master, tty := openPTY(t)
	cmd := exec.Command(binary, args...)
	cmd.Dir, cmd.Env = c.dir, c.env
	var out bytes.Buffer
	var errb lockedBuffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	go func() { _, _ = io.Copy(io.Discard, master) }()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for !strings.Contains(errb.String(), "[y/N] ") {
		if ctx.Err() != nil {
			_ = cmd.Process.Kill()
			t.Fatalf("%v asked nothing on a terminal; stderr %q", args, errb.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := master.WriteString(answer + "\n"); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}
}

// TestDestructiveAsksOnTerminal: on a terminal, company remove and user
// disable ask first; "no" changes nothing, "yes" goes ahead, --yes skips
// the question.
func TestDestructiveAsksOnTerminal(t *testing.T) {
	c := newCLI(t, "sqlite")
	c.env = append(c.env, "ADMIN_PASSWORD=first-admin-password")
	c.ok(nil, "company", "add", "--name", "Gone")
	c.ok(nil, "user", "add", "--email", "t@helpdesk.example", "--role", "tech")

	if r := answerOnTTY(t, c, "n", "company", "remove", "Gone"); r.code != 1 || !strings.Contains(r.stderr, "nothing changed") {
		t.Fatalf("answered no: %+v", r)
	}
	c.ok(nil, "company", "show", "Gone")
	if r := answerOnTTY(t, c, "y", "company", "remove", "Gone"); r.code != 0 {
		t.Fatalf("answered yes: %+v", r)
	}
	c.fails(1, `unknown company "Gone"`, "company", "show", "Gone")

	if r := answerOnTTY(t, c, "", "user", "disable", "t@helpdesk.example"); r.code != 1 {
		t.Fatalf("user disable, answered nothing: %+v", r)
	}
	var u struct{ Disabled bool }
	c.ok(&u, "user", "show", "t@helpdesk.example")
	if u.Disabled {
		t.Fatal("disabled without a yes")
	}
	// --yes on a terminal: no question (stdin is never read).
	master, tty := openPTY(t)
	defer master.Close()
	cmd := exec.Command(binary, "user", "disable", "t@helpdesk.example", "--yes", "-o", "json")
	cmd.Dir, cmd.Env, cmd.Stdin = c.dir, c.env, tty
	out, err := cmd.Output()
	if err != nil || !strings.Contains(string(out), `"disabled": true`) {
		t.Fatalf("--yes on a terminal: %v %s", err, out)
	}
}
