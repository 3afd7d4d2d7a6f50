package main

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// commandRE finds an invocation: servicedesk (or the README's sd
// function) as a word or at the end of a path, then the words that
// follow it up to the first flag or argument.
var commandRE = regexp.MustCompile("(?:^|[\\s/`(=])(?:servicedesk|sd) ([a-z][a-z-]*(?: [a-z][a-z-]*)*)(?:$|[\\s`;|)&>])")

// cronFields is the schedule and user of a cron.d line, which names the
// servicedesk user, not the command.
var cronFields = regexp.MustCompile(`^\s*\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+`)

// documentedCommands returns the command lines of the README's code
// (fenced blocks and inline code) and of every configs/*.example, each
// with where it was found.
func documentedCommands(t *testing.T) map[string]string {
	t.Helper()
	found := map[string]string{}
	scan := func(where, text string) {
		for _, m := range commandRE.FindAllStringSubmatch(text, -1) {
			if _, ok := found[m[1]]; !ok {
				found[m[1]] = where
			}
		}
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	inFence := false
	inline := regexp.MustCompile("`[^`]+`")
	for i, line := range strings.Split(string(readme), "\n") {
		where := "README.md:" + strconv.Itoa(i+1)
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			inFence = !inFence
			continue
		}
		if inFence {
			scan(where, line)
			continue
		}
		for _, span := range inline.FindAllString(line, -1) {
			scan(where, span)
		}
	}
	examples, err := filepath.Glob("../../configs/*.example")
	if err != nil || len(examples) == 0 {
		t.Fatalf("no configs/*.example: %v", err)
	}
	for _, f := range examples {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "#") {
				continue
			}
			if strings.Contains(f, "cron") {
				line = cronFields.ReplaceAllString(line, "")
			}
			scan(filepath.Base(f)+":"+strconv.Itoa(i+1), line)
		}
	}
	return found
}

// TestDocumentedCommandsExist: every command the README and the shipped
// examples tell an admin to run exists (the cron example called `sla
// check` and `retention run`, which do not): the words name a command,
// and `servicedesk <words> --help` exits 0.
func TestDocumentedCommandsExist(t *testing.T) {
	found := documentedCommands(t)
	if len(found) < 20 {
		t.Fatalf("found only %d documented commands: %v", len(found), found)
	}
	root := (&app{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard}).rootCommand()
	root.InitDefaultHelpCmd() // cobra adds these two when it executes
	root.InitDefaultCompletionCmd()
	paths := map[string]string{}
	for words, where := range found {
		args := strings.Fields(words)
		cmd, rest, err := root.Find(args)
		// Words past the command are arguments (`template show
		// commented`), which only a command without subcommands takes.
		if err != nil || cmd == root || (len(rest) > 0 && cmd.HasSubCommands()) {
			t.Errorf("%s: `servicedesk %s` is not a command", where, words)
			continue
		}
		paths[strings.TrimPrefix(cmd.CommandPath(), "servicedesk ")] = where
	}
	keys := make([]string, 0, len(paths))
	for p := range paths {
		keys = append(keys, p)
	}
	sort.Strings(keys)
	c := newCLI(t, "sqlite")
	for _, p := range keys {
		if r := c.run("", append(strings.Fields(p), "--help")...); r.code != 0 {
			t.Errorf("%s: servicedesk %s --help: exit %d: %s", paths[p], p, r.code, r.stderr)
		}
	}
	t.Logf("%d documented invocations, %d distinct commands", len(found), len(keys))
}
