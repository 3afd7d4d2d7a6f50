package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// exampleCommands finds the servicedesk commands named in the shipped cron
// and systemd examples: after ExecStart=…/servicedesk or "&& servicedesk",
// the words up to the first non-word, global flags and their values
// skipped.
func exampleCommands(t *testing.T) map[string][]string {
	t.Helper()
	files, err := filepath.Glob("../../configs/servicedesk*")
	if err != nil {
		t.Fatal(err)
	}
	word := regexp.MustCompile(`^[a-z][a-z-]*$`)
	valued := map[string]bool{"--config": true, "--database": true, "--as": true, "-o": true, "--output": true}
	found := map[string][]string{}
	for _, f := range files {
		if strings.HasSuffix(f, ".yaml") || strings.HasSuffix(f, ".timer") {
			continue
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(raw), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "#") {
				continue
			}
			toks := strings.Fields(line)
			for i, tok := range toks {
				exec := strings.HasPrefix(tok, "ExecStart=") && strings.HasSuffix(tok, "/servicedesk")
				piped := tok == "servicedesk" && i > 0 && toks[i-1] == "&&"
				if !exec && !piped {
					continue
				}
				var words []string
				for j := i + 1; j < len(toks); j++ {
					if valued[toks[j]] {
						j++
						continue
					}
					if !word.MatchString(toks[j]) {
						break
					}
					words = append(words, toks[j])
				}
				found[filepath.Base(f)+": "+strings.Join(words, " ")] = words
			}
		}
	}
	return found
}

// TestExampleCommandsExist: every command the cron and systemd examples
// run is a real command of this binary (a renamed command breaks the
// test, not the admin's night).
func TestExampleCommandsExist(t *testing.T) {
	found := exampleCommands(t)
	for _, want := range []string{"servicedesk.cron.example: sla check", "servicedesk.cron.example: retention run",
		"servicedesk-sla-check.service: sla check", "servicedesk-retention.service: retention run",
		"servicedesk.service.example: serve"} {
		if _, ok := found[want]; !ok {
			t.Errorf("%q not found in the examples (found %v)", want, found)
		}
	}
	c := &cli{t: t, dir: t.TempDir(), env: []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}}
	for where, words := range found {
		r := c.run("", append(append([]string{}, words...), "--help")...)
		usage := "servicedesk " + strings.Join(words, " ") + " [flags]"
		if r.code != 0 || !strings.Contains(r.stdout, usage) {
			t.Errorf("%s: `servicedesk %s --help` exit %d, no %q in:\n%s", where, strings.Join(words, " "), r.code, usage, r.stdout)
		}
	}
}
