package file

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrBadHandle is returned (wrapped) by Commit, Abort and Recover for a
// handle they cannot decode: not JSON, an unknown version, or a file name
// that is not a plain name of this sink's naming scheme.
var ErrBadHandle = errors.New("weir/file: bad transaction handle")

// ErrLost is returned (wrapped) by Commit when neither the pending file of a
// transaction nor its committed file exists: the prepared data is gone.
var ErrLost = errors.New("weir/file: pending file lost")

// handleVersion is the version of the handle format. Handles are stored in
// checkpoint manifests, so a change of layout needs a new version.
const handleVersion = 1

// handle names the files of one prepared transaction of one subtask. It is
// what PreCommit returns, encoded as JSON.
type handle struct {
	Version    int        `json:"version"`
	Subtask    int        `json:"subtask"`
	Checkpoint int64      `json:"checkpoint"`
	Files      []fileName `json:"files"`
}

// fileName is one part file of a transaction: its pending name and the
// name Commit gives it. Both are names inside the sink's directory.
type fileName struct {
	Pending string `json:"pending"`
	Final   string `json:"final"`
}

func decodeHandle(b []byte) (handle, error) {
	var h handle
	if err := json.Unmarshal(b, &h); err != nil {
		return h, fmt.Errorf("%w: %v", ErrBadHandle, err)
	}
	if h.Version != handleVersion {
		return h, fmt.Errorf("%w: version %d, want %d", ErrBadHandle, h.Version, handleVersion)
	}
	return h, checkFileNames(h.Files)
}

// checkFileNames rejects a handle's file names that could point outside
// its directory, or a pending name that is not hidden, or a committed one
// that is.
func checkFileNames(files []fileName) error {
	for _, f := range files {
		if !plainName(f.Pending) || !strings.HasPrefix(f.Pending, "_") {
			return fmt.Errorf("%w: pending file name %q", ErrBadHandle, f.Pending)
		}
		if !plainName(f.Final) || hidden(f.Final) {
			return fmt.Errorf("%w: committed file name %q", ErrBadHandle, f.Final)
		}
	}
	return nil
}

// plainName reports whether name is a file name without a directory part.
func plainName(name string) bool {
	return name != "" && name != "." && name != ".." &&
		!strings.ContainsAny(name, `/\`+"\x00") && filepath.Base(name) == name
}

// hidden reports whether readers skip the file: names starting with "." or
// "_" hold uncommitted data (the Hadoop and Flink convention).
func hidden(name string) bool {
	return strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")
}

// names is the naming scheme of one sink (see the package documentation).
type names struct {
	prefix string
	ext    string
}

func (n names) inProgress(subtask int, token string, seq int) string {
	return fmt.Sprintf(".%s-%d-%s-%d.inprogress", n.prefix, subtask, token, seq)
}

func (n names) pending(subtask int, checkpoint int64, seq int) string {
	return fmt.Sprintf("_%s-%d-%d-%d.pending", n.prefix, subtask, checkpoint, seq)
}

func (n names) final(subtask int, checkpoint int64, seq int) string {
	return fmt.Sprintf("%s-%d-%d-%d%s", n.prefix, subtask, checkpoint, seq, n.ext)
}

// owner returns the subtask of an in-progress or pending file of this sink.
// It parses strictly (exactly three fields after the prefix), so the files
// of a sink whose prefix extends this one ("part" and "part-1") are never
// taken for this sink's.
func (n names) owner(name string) (subtask int, ok bool) {
	var mid string
	var hexToken bool
	switch {
	case strings.HasPrefix(name, "."+n.prefix+"-") && strings.HasSuffix(name, ".inprogress"):
		mid = name[len(n.prefix)+2 : len(name)-len(".inprogress")]
		hexToken = true
	case strings.HasPrefix(name, "_"+n.prefix+"-") && strings.HasSuffix(name, ".pending"):
		mid = name[len(n.prefix)+2 : len(name)-len(".pending")]
	default:
		return 0, false
	}
	f := strings.Split(mid, "-")
	if len(f) != 3 || !decimal(f[0]) || !decimal(f[2]) {
		return 0, false
	}
	middle := decimal // a checkpoint id
	if hexToken {
		middle = isHexToken // a writer token
	}
	if !middle(f[1]) {
		return 0, false
	}
	s, err := strconv.Atoi(f[0])
	return s, err == nil
}

func decimal(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func isHexToken(s string) bool {
	if len(s) != tokenLen {
		return false
	}
	for _, c := range []byte(s) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// commit renames the pending files of h to their committed names. It is
// idempotent and safe to run concurrently for the same handle: a file whose
// pending name is gone but whose committed name exists was committed
// before. When both exist (a transaction prepared again after a restore
// from an older checkpoint), the new pending file replaces the committed
// one atomically.
func commit(dir string, h handle) error {
	renamed := false
	for _, f := range h.Files {
		err := os.Rename(filepath.Join(dir, f.Pending), filepath.Join(dir, f.Final))
		if err == nil {
			renamed = true
			continue
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("weir/file: commit %s: %w", f.Pending, err)
		}
		switch _, serr := os.Stat(filepath.Join(dir, f.Final)); {
		case serr == nil:
			// Committed before.
		case errors.Is(serr, fs.ErrNotExist):
			return fmt.Errorf("%w: checkpoint %d, subtask %d: neither %s nor %s exists in %s",
				ErrLost, h.Checkpoint, h.Subtask, f.Pending, f.Final, dir)
		default:
			return fmt.Errorf("weir/file: commit %s: %w", f.Final, serr)
		}
	}
	if renamed {
		return syncDir(dir)
	}
	return nil
}

// abort deletes the pending files of h; missing files are fine.
func abort(dir string, h handle) error {
	removed := false
	for _, f := range h.Files {
		err := os.Remove(filepath.Join(dir, f.Pending))
		switch {
		case err == nil:
			removed = true
		case !errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("weir/file: abort %s: %w", f.Pending, err)
		}
	}
	if removed {
		return syncDir(dir)
	}
	return nil
}

// cleanup deletes every in-progress and pending file of this sink in dir
// whose owner satisfies mine and whose name keep does not hold.
func cleanup(dir string, n names, keep map[string]bool, mine func(subtask int) bool) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("weir/file: recover: %w", err)
	}
	removed := false
	for _, e := range entries {
		name := e.Name()
		s, ok := n.owner(name)
		if !ok || keep[name] || !mine(s) {
			continue
		}
		err := os.Remove(filepath.Join(dir, name))
		switch {
		case err == nil:
			removed = true
		case !errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("weir/file: recover: %w", err)
		}
	}
	if removed {
		return syncDir(dir)
	}
	return nil
}

// syncDir makes the renames, creations and deletions in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("weir/file: sync dir: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("weir/file: sync dir %s: %w", dir, err)
	}
	return nil
}
