package main

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/statebackend/vfs"
)

// timeLayout is how checkpoint times are printed (UTC, the file format of
// weir's timestamps).
const timeLayout = "2006-01-02 15:04:05.000"

const checkpointsUsage = `usage:
  weir checkpoints list DIR
        one line per checkpoint and savepoint in the checkpoint directory
        DIR, newest first; corrupt ones are marked with the reason
  weir checkpoints inspect [--json] DIR/ID
        the manifest of one checkpoint: per vertex its parallelism, per
        subtask its state handles, files and bytes, source positions per
        split (hex) and key-group state sizes; ID is a directory name
        (chk-00000012, savepoint-00000007) or a number
`

func runCheckpoints(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, checkpointsUsage)
		return 2
	}
	switch args[0] {
	case "list":
		return runList(args[1:], stdout, stderr)
	case "inspect":
		return runInspect(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, checkpointsUsage)
		return 0
	}
	fmt.Fprintf(stderr, "weir checkpoints: unknown subcommand %q\n\n%s", args[0], checkpointsUsage)
	return 2
}

// openDir opens an existing checkpoint directory (vfs.NewLocal would
// create a missing one).
func openDir(dir string) (*vfs.Local, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", dir)
	}
	return vfs.NewLocal(dir)
}

func runList(args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 || strings.HasPrefix(args[0], "-") {
		fmt.Fprint(stderr, checkpointsUsage)
		return 2
	}
	dir := args[0]
	fs, err := openDir(dir)
	if err != nil {
		fmt.Fprintf(stderr, "weir checkpoints list: %v\n", err)
		return 1
	}
	list, err := runtime.ListCheckpoints(fs)
	if err != nil {
		fmt.Fprintf(stderr, "weir checkpoints list: %s: %v\n", dir, err)
		return 1
	}
	if len(list) == 0 {
		fmt.Fprintf(stdout, "no checkpoints in %s\n", dir)
		return 0
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tFINAL\tCREATED (UTC)\tBYTES\tVERTICES\tDIR\tSTATUS")
	for _, c := range list {
		kind := "checkpoint"
		if c.Savepoint {
			kind = "savepoint"
		}
		m, err := runtime.ReadManifest(fs, c.Dir)
		if err != nil {
			fmt.Fprintf(tw, "%d\t%s\t-\t-\t-\t-\t%s\tcorrupt: %s\n", c.ID, kind, c.Dir, corruptReason(err))
			continue
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%s\tok\n", m.ID, kind, yesNo(m.Final),
			m.Created.UTC().Format(timeLayout), m.Bytes(), strings.Join(vertexNames(m), ","), c.Dir)
	}
	if err := tw.Flush(); err != nil {
		fmt.Fprintf(stderr, "weir checkpoints list: %v\n", err)
		return 1
	}
	return 0
}

// corruptReason is the message of a ReadManifest error without the
// sentinel's text.
func corruptReason(err error) string {
	return strings.TrimPrefix(err.Error(), runtime.ErrCorruptCheckpoint.Error()+": ")
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func vertexNames(m *runtime.Manifest) []string {
	names := make([]string, 0, len(m.Vertices))
	for n := range m.Vertices {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func runInspect(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("weir checkpoints inspect", flag.ContinueOnError)
	fl.SetOutput(io.Discard)
	asJSON := fl.Bool("json", false, "print the manifest as JSON")
	if err := fl.Parse(args); err != nil || fl.NArg() != 1 {
		if err != nil && !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, "weir checkpoints inspect: %v\n", err)
		}
		fmt.Fprint(stderr, checkpointsUsage)
		return 2
	}
	path, err := checkpointPath(fl.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "weir checkpoints inspect: %v\n", err)
		return 1
	}
	fs, err := openDir(filepath.Dir(path))
	if err != nil {
		fmt.Fprintf(stderr, "weir checkpoints inspect: %v\n", err)
		return 1
	}
	m, err := runtime.ReadManifest(fs, filepath.Base(path))
	if err != nil {
		fmt.Fprintf(stderr, "weir checkpoints inspect: %s: %v\n", path, err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(m); err != nil {
			fmt.Fprintf(stderr, "weir checkpoints inspect: %v\n", err)
			return 1
		}
		return 0
	}
	printManifest(stdout, filepath.Base(path), m)
	return 0
}

// checkpointPath resolves DIR/ID: a checkpoint directory, or DIR/N for
// the checkpoint (else the savepoint) with id N.
func checkpointPath(arg string) (string, error) {
	if _, err := os.Stat(arg); err == nil {
		return filepath.Clean(arg), nil
	}
	dir, base := filepath.Split(filepath.Clean(arg))
	id, err := strconv.ParseInt(base, 10, 64)
	if err != nil || id < 0 {
		_, err := os.Stat(arg)
		return "", err
	}
	for _, prefix := range []string{"chk-", "savepoint-"} {
		p := filepath.Join(dir, fmt.Sprintf("%s%08d", prefix, id))
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no checkpoint or savepoint with id %d in %s", id, filepath.Clean(dir))
}

func printManifest(w io.Writer, name string, m *runtime.Manifest) {
	kind := "checkpoint"
	if m.Savepoint {
		kind = "savepoint"
	}
	fmt.Fprintf(w, "%s %s (id %d) of job %q\n", kind, name, m.ID, m.Job)
	fmt.Fprintf(w, "  format version %d, final %s, created %s UTC\n", m.Version, yesNo(m.Final), m.Created.UTC().Format(timeLayout))
	fmt.Fprintf(w, "  max parallelism %d, %d vertices, %d files, %d bytes\n", m.MaxParallelism, len(m.Vertices), len(m.Files()), m.Bytes())
	for _, name := range vertexNames(m) {
		v := m.Vertices[name]
		fmt.Fprintf(w, "\nvertex %q: parallelism %d\n", name, v.Parallelism)
		for _, s := range v.Subtasks {
			printSubtask(w, s)
		}
	}
}

func printSubtask(w io.Writer, s runtime.SubtaskState) {
	var files int
	var bytes int64
	for _, h := range s.Handles {
		files += len(h.Files)
		bytes += h.Bytes
	}
	var kgBytes int64
	for _, b := range s.KeyGroups {
		kgBytes += int64(len(b))
	}
	bytes += kgBytes + int64(len(s.OpState))
	fin := ""
	if s.Finished {
		fin = " (finished)"
	}
	fmt.Fprintf(w, "  subtask %d%s: handles %d, files %d, bytes %d\n", s.Subtask, fin, len(s.Handles), files, bytes)
	for _, h := range s.Handles {
		fmt.Fprintf(w, "    handle %s key groups [%d,%d): %d bytes in %s\n", h.Backend, h.KeyGroups.Start, h.KeyGroups.End,
			h.Bytes, strings.Join(h.Files, " "))
	}
	if s.HasState || len(s.OpState) > 0 {
		fmt.Fprintf(w, "    operator state: %d bytes\n", len(s.OpState))
	}
	for _, id := range sortedKeys(s.Positions) {
		fmt.Fprintf(w, "    split %q at %s\n", id, hexOrNone(s.Positions[id]))
	}
	if len(s.KeyGroups) > 0 {
		fmt.Fprintf(w, "    key-group state: %d groups, %d bytes\n", len(s.KeyGroups), kgBytes)
		kgs := make([]int, 0, len(s.KeyGroups))
		for kg := range s.KeyGroups {
			kgs = append(kgs, kg)
		}
		slices.Sort(kgs)
		for i := 0; i < len(kgs); i += 8 {
			var b strings.Builder
			for _, kg := range kgs[i:min(i+8, len(kgs))] {
				fmt.Fprintf(&b, " %d:%d", kg, len(s.KeyGroups[kg]))
			}
			fmt.Fprintf(w, "     %s\n", b.String())
		}
	}
}

func hexOrNone(p []byte) string {
	if p == nil {
		return "(none: not replayable)"
	}
	return hex.EncodeToString(p)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
