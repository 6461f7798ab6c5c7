// Command weir is the weir command line.
//
//	weir demo [-events N] [-parallelism N]   run the demo job and print a summary
//	weir checkpoints list DIR                list the checkpoints in DIR
//	weir checkpoints inspect DIR/ID          show a checkpoint's manifest
//	weir version                             print the version
//	weir help [COMMAND]                      print help
//
// The SQL runner (weir sql), the Nexmark benchmark (weir nexmark) and the
// development Kafka broker (weir kafka-dev) are reserved names that are not
// implemented yet. Exit status: 0 on success, 1 when a command fails, 2 on
// a bad command line or an unimplemented command.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	goruntime "runtime"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/weirstream/weir/examples/demo/demojob"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// command is one subcommand: run gets the arguments after its name and
// returns the exit status.
type command struct {
	name, args, summary string
	run                 func(args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"demo", "[-events N] [-parallelism N]", "run the demo job (generator -> filter -> map -> keyBy -> reduce) and print a summary", runDemo},
		{"checkpoints", "list DIR | inspect [--json] DIR/ID", "list the checkpoints of a job, or show one checkpoint's manifest", runCheckpoints},
		{"version", "", "print the version of weir", runVersion},
		{"help", "[COMMAND]", "print this help, or a command's", runHelp},
		{"sql", "run [flags] FILE.sql", "run a SQL script (not implemented yet)", notImplemented("sql")},
		{"nexmark", "--query qN|all --events N [--parallelism N] [--rate R] [--paced] [--json] [--baseline] [--report FILE]", "run Nexmark queries and report throughput, latency and heap", runNexmark},
		{"kafka-dev", "[--listen ADDR]", "run a local Kafka-protocol broker (not implemented yet)", notImplemented("kafka-dev")},
	}
}

func lookup(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// run dispatches args (without the program name) to a subcommand and
// returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help":
		name = "help"
	case "-version", "--version":
		name = "version"
	}
	c, ok := lookup(name)
	if !ok {
		fmt.Fprintf(stderr, "weir: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	return c.run(args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	var b strings.Builder
	b.WriteString("weir is a stream processor for Go.\n\nUsage:\n\n")
	for _, c := range commands() {
		b.WriteString(strings.TrimRight(fmt.Sprintf("  weir %-10s %s", c.name, c.args), " ") + "\n")
		fmt.Fprintf(&b, "        %s\n", c.summary)
	}
	b.WriteString("\nRun 'weir help COMMAND' for a command's flags.\n")
	io.WriteString(w, b.String())
}

func runHelp(args []string, stdout, stderr io.Writer) int {
	switch len(args) {
	case 0:
		usage(stdout)
		return 0
	case 1:
	default:
		fmt.Fprintln(stderr, "usage: weir help [COMMAND]")
		return 2
	}
	c, ok := lookup(args[0])
	if !ok {
		fmt.Fprintf(stderr, "weir help: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	fmt.Fprintf(stdout, "usage: weir %s %s\n\n%s\n", c.name, c.args, c.summary)
	switch c.name {
	case "demo":
		fs, _ := demoFlags(stdout)
		fmt.Fprintln(stdout, "\nflags:")
		fs.PrintDefaults()
	case "checkpoints":
		fmt.Fprint(stdout, "\n"+checkpointsUsage)
	}
	return 0
}

func notImplemented(name string) func([]string, io.Writer, io.Writer) int {
	return func(_ []string, _, stderr io.Writer) int {
		fmt.Fprintf(stderr, "weir %s: not implemented yet (see issues)\n", name)
		return 2
	}
}

// version describes the binary from its build information: the module
// version ("(devel)" in a checkout), the VCS revision when known, and the
// Go version.
func version() string {
	v := "(devel)"
	var rev, dirty string
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value[:min(len(s.Value), 12)]
			case "vcs.modified":
				if s.Value == "true" {
					dirty = ", modified"
				}
			}
		}
	}
	out := "weir " + v
	if rev != "" {
		out += " (" + rev + dirty + ")"
	}
	return out + " " + goruntime.Version() + " " + goruntime.GOOS + "/" + goruntime.GOARCH
}

func runVersion(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintln(stderr, "usage: weir version")
		return 2
	}
	fmt.Fprintln(stdout, version())
	return 0
}

func demoFlags(out io.Writer) (*flag.FlagSet, *demojob.Options) {
	fs := flag.NewFlagSet("weir demo", flag.ContinueOnError)
	fs.SetOutput(out)
	o := &demojob.Options{}
	o.AddFlags(fs)
	return fs, o
}

func runDemo(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return demojob.Command(ctx, "weir demo", args, stdout, stderr)
}
