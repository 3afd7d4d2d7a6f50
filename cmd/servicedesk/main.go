// Command servicedesk is JC Service Desk: `servicedesk serve` runs the
// daemon; every other subcommand is the admin CLI.
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
