package main

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// TestVersion: --version and `version` print what debug.ReadBuildInfo
// knows, the same values `go version -m` reads from the binary, and need
// no configuration or database.
func TestVersion(t *testing.T) {
	c := newCLI(t, "sqlite")
	c.env = append(c.env, "SERVICEDESK_TIMEZONE=Mars/Base") // a broken config must not matter
	flag := c.run("", "--version")
	cmd := c.run("", "version")
	if flag.code != 0 || cmd.code != 0 || flag.stdout != cmd.stdout || !strings.HasPrefix(flag.stdout, "servicedesk ") {
		t.Fatalf("--version %+v, version %+v", flag, cmd)
	}
	var v buildVersion
	r := c.run("", "version", "-o", "json")
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || r.code != 0 {
		t.Fatalf("version -o json: %+v %v", r, err)
	}
	out, err := exec.Command("go", "version", "-m", binary).Output()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 3 && f[0] == "mod":
			want["module"], want["version"] = f[1], f[2]
		case len(f) >= 2 && f[0] == "build" && strings.HasPrefix(f[1], "vcs.revision="):
			want["revision"] = strings.TrimPrefix(f[1], "vcs.revision=")
		}
	}
	if v.Module != want["module"] || v.Version != want["version"] || v.Revision != want["revision"] || v.Module == "" {
		t.Fatalf("version %+v, go version -m says %v", v, want)
	}
	if !strings.Contains(flag.stdout, v.Version) || (v.Revision != "" && !strings.Contains(flag.stdout, v.Revision)) {
		t.Fatalf("--version %q lacks %+v", flag.stdout, v)
	}
}
