package main

import (
	"log/slog"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/jcservicedesk/servicedesk/configs"
	"github.com/jcservicedesk/servicedesk/ticketing"
)

// actionWords say the policy's action names the way an admin would.
var actionWords = map[ticketing.Action]string{
	ticketing.ActView:              "see",
	ticketing.ActViewInternal:      "see the internal notes of",
	ticketing.ActComment:           "comment on",
	ticketing.ActCommentInternal:   "add internal notes to",
	ticketing.ActTake:              "take",
	ticketing.ActTransfer:          "transfer",
	ticketing.ActChangeStatus:      "change the status of",
	ticketing.ActResolve:           "resolve",
	ticketing.ActClose:             "close",
	ticketing.ActReopen:            "reopen",
	ticketing.ActRate:              "rate",
	ticketing.ActManageParticipant: "manage the participants of",
	ticketing.ActEdit:              "edit",
}

var (
	mayNotRE    = regexp.MustCompile(`may not ([a-z_]+) ticket`)
	storePrefix = regexp.MustCompile(`(^|: )store: `)
)

// cleanMessage is the one line the CLI prints for err: internal names
// (policy actions such as change_status, the store's "store:" prefix)
// become words, and a multi-line error becomes one line.
func cleanMessage(err error) string {
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	msg = mayNotRE.ReplaceAllStringFunc(msg, func(m string) string {
		act := mayNotRE.FindStringSubmatch(m)[1]
		if w, ok := actionWords[ticketing.Action(act)]; ok {
			return "may not " + w + " ticket"
		}
		return strings.ReplaceAll(m, "_", " ")
	})
	return storePrefix.ReplaceAllString(msg, "$1")
}

// cliFlags are the root flags that extendRoot adds.
type cliFlags struct {
	verbose bool
	// quiet: an admin command (not serve) is running without -v, so it
	// logs warnings and errors only; what it did is its output.
	quiet bool
}

func (f *cliFlags) register(root *cobra.Command) {
	root.PersistentFlags().BoolVarP(&f.verbose, "verbose", "v", false, "log what the command does (info and debug), not only warnings")
	pre := root.PersistentPreRunE
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		f.quiet = !f.verbose && cmd.Name() != "serve"
		if pre != nil {
			return pre(cmd, args)
		}
		return nil
	}
}

// logConfig is the configured logging adjusted for the running command:
// admin commands log WARN and above unless -v, which logs at least info.
func (f *cliFlags) logConfig(c configs.LogConfig) configs.LogConfig {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	switch {
	case f.verbose && level > slog.LevelInfo:
		level = slog.LevelInfo
	case f.quiet && level < slog.LevelWarn:
		level = slog.LevelWarn
	}
	c.Level = level.String()
	return c
}
