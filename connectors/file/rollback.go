package file

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Rolling back. A job may be restored from a checkpoint older than the
// newest one whose transactions were committed (its manifest was damaged,
// or the user restored a savepoint). The records of those later
// transactions will be produced again by the replay, so Recover deletes the
// visible files of checkpoints after the restored one (its own subtask's,
// and subtask 0 also those of subtasks that no longer exist), keeping the
// output exactly once.

// restoredCheckpoint is the newest checkpoint id among the committed
// handles; ok is false for a fresh start (no handles).
func restoredCheckpoint(committed [][]byte) (id int64, ok bool, err error) {
	for _, b := range committed {
		h, err := decodeHandle(b)
		if err != nil {
			return 0, false, err
		}
		if !ok || h.Checkpoint > id {
			id, ok = h.Checkpoint, true
		}
	}
	return id, ok, nil
}

// finalOwner parses a visible file name of this sink:
// <prefix>-<subtask>-<checkpoint>-<seq><ext>.
func (n names) finalOwner(name string) (subtask int, checkpoint int64, ok bool) {
	if !strings.HasPrefix(name, n.prefix+"-") || !strings.HasSuffix(name, n.ext) {
		return 0, 0, false
	}
	f := strings.Split(name[len(n.prefix)+1:len(name)-len(n.ext)], "-")
	if len(f) != 3 || !decimal(f[0]) || !decimal(f[1]) || !decimal(f[2]) {
		return 0, 0, false
	}
	s, err1 := strconv.Atoi(f[0])
	c, err2 := strconv.ParseInt(f[1], 10, 64)
	return s, c, err1 == nil && err2 == nil
}

// rollback deletes the visible files of checkpoints after restored.
func rollback(dir string, n names, restored int64, mine func(subtask int) bool) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("weir/file: recover: %w", err)
	}
	removed := false
	for _, e := range entries {
		s, c, ok := n.finalOwner(e.Name())
		if !ok || c <= restored || !mine(s) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("weir/file: recover: roll back %s: %w", e.Name(), err)
		}
		removed = true
	}
	if removed {
		return syncDir(dir)
	}
	return nil
}
