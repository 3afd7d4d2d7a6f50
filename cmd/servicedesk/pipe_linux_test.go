package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// shippedPipeCommand is the command line an example file gives the MTA.
func shippedPipeCommand(t *testing.T, file string, re *regexp.Regexp) []string {
	t.Helper()
	b, err := os.ReadFile("../../configs/" + file)
	if err != nil {
		t.Fatal(err)
	}
	m := re.FindSubmatch(b)
	if m == nil {
		t.Fatalf("%s: no pipe command", file)
	}
	return strings.Fields(string(m[1]))
}

// TestMailIngestAsMTAPipe runs the pipe commands of
// configs/postfix-master.cf.example and configs/aliases.example the way an
// MTA does: from a folder of its own that the user cannot write, as an
// unprivileged user, with an empty environment. With the shipped
// absolute --config the mail lands; the README's old line (no --config)
// deferred every mail with 75.
func TestMailIngestAsMTAPipe(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run the pipe as another user")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("no nobody user: " + err.Error())
	}
	uid, _ := strconv.Atoi(nobody.Uid)
	gid, _ := strconv.Atoi(nobody.Gid)

	// Everything under a folder the unprivileged user may traverse.
	root, err := os.MkdirTemp("", "servicedesk-pipe")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	mustChmod(t, root, 0o755)
	bin := filepath.Join(root, "bin", "servicedesk")
	copyFile(t, binary, bin, 0o755)
	mustChmod(t, filepath.Dir(bin), 0o755)
	etc := filepath.Join(root, "etc")
	data := filepath.Join(root, "var", "data")
	queue := filepath.Join(root, "spool") // the MTA's folder: not writable by the user
	for _, d := range []string{etc, data, queue} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		mustChmod(t, filepath.Dir(d), 0o755)
	}
	cfgFile := filepath.Join(etc, "servicedesk.yaml")
	cfg := fmt.Sprintf("data_dir: %s\ndatabase:\n  url: sqlite:///%s\nadmin:\n  password: a-long-admin-password\nmail:\n  addresses: [support@helpdesk.example]\n  unknown_sender: create\n",
		data, filepath.Join(data, "servicedesk.db"))
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	// The admin migrates once (as root here), then hands the data to the
	// pipe's user.
	admin := func(args ...string) result {
		t.Helper()
		cmd := exec.Command(bin, append(args, "--config", cfgFile)...)
		cmd.Dir, cmd.Env = queue, []string{"PATH=/usr/bin:/bin"}
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return result{out.String(), errb.String(), code}
	}
	if r := admin("migrate"); r.code != 0 {
		t.Fatalf("migrate: %+v", r)
	}
	if r := admin("company", "list"); r.code != 0 { // seeds the first admin
		t.Fatalf("company list: %+v", r)
	}
	if err := filepath.Walk(data, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Chown(p, uid, gid)
	}); err != nil {
		t.Fatal(err)
	}

	pipe := func(argv []string, subject string) result {
		t.Helper()
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Dir, cmd.Env = queue, []string{}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
		cmd.Stdin = strings.NewReader("From: Maria <maria@customer.example>\r\nTo: support@helpdesk.example\r\nSubject: " + subject +
			"\r\nMessage-ID: <" + strings.ReplaceAll(subject, " ", ".") + "@customer.example>\r\n\r\nA impressora parou.\r\n")
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return result{out.String(), errb.String(), code}
	}
	install := func(argv []string) []string {
		out := append([]string(nil), argv...)
		for i, a := range out {
			switch a {
			case "/usr/local/bin/servicedesk":
				out[i] = bin
			case "/etc/servicedesk/servicedesk.yaml":
				out[i] = cfgFile
			}
		}
		if out[0] != bin || !strings.Contains(strings.Join(out, " "), "--config "+cfgFile) {
			t.Fatalf("the shipped pipe command %v does not run /usr/local/bin/servicedesk with an absolute --config", argv)
		}
		return out
	}
	postfix := install(shippedPipeCommand(t, "postfix-master.cf.example", regexp.MustCompile(`(?m)^\s+flags=\S+ user=\S+ argv=(.+)$`)))
	aliases := install(shippedPipeCommand(t, "aliases.example", regexp.MustCompile(`(?m)^support: "\|(.+)"$`)))

	// The README's old line: no --config, so the defaults apply in the
	// MTA's folder (./data cannot be created) and every mail is deferred.
	if r := pipe([]string{bin, "mail", "ingest"}, "old line"); r.code != exTempFail {
		t.Fatalf("the old pipe line: exit %d, want 75 (%+v)", r.code, r)
	}
	for name, argv := range map[string][]string{"postfix": postfix, "aliases": aliases} {
		if r := pipe(argv, "via "+name); r.code != 0 || !strings.Contains(r.stdout, "ticket") {
			t.Fatalf("%s pipe %v: exit %d, stdout %q, stderr %q", name, argv, r.code, r.stdout, r.stderr)
		}
	}
	r := admin("ticket", "list", "-o", "json")
	var ts []ticketOut
	if err := json.Unmarshal([]byte(r.stdout), &ts); err != nil || r.code != 0 {
		t.Fatalf("ticket list: %+v %v", r, err)
	}
	got := map[string]bool{}
	for _, tk := range ts {
		got[tk.Subject] = tk.Requester == "maria@customer.example"
	}
	if len(ts) != 2 || !got["via postfix"] || !got["via aliases"] {
		t.Fatalf("tickets after the pipes: %+v", ts)
	}
}

func mustChmod(t *testing.T, p string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, mode); err != nil {
		t.Fatal(err)
	}
}
