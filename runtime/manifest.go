package runtime

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/weirstream/weir/statebackend"
	"github.com/weirstream/weir/statebackend/vfs"
)

// ManifestVersion is the version of the checkpoint manifest format.
const ManifestVersion = 1

// ErrNoCheckpoint is returned when a checkpoint directory holds no complete
// checkpoint to restore.
var ErrNoCheckpoint = errors.New("weir/runtime: no complete checkpoint")

// ErrCorruptCheckpoint marks a manifest that fails its checks.
var ErrCorruptCheckpoint = errors.New("weir/runtime: corrupt checkpoint")

const (
	manifestFile  = "MANIFEST"
	manifestMagic = "weir-checkpoint"
	chkPrefix     = "chk-"
	savepointPre  = "savepoint-"
	tmpPrefix     = ".tmp-"
)

// Manifest describes a complete checkpoint: what each subtask of each
// operator needs to resume.
type Manifest struct {
	Version        int                     `json:"version"`
	ID             int64                   `json:"id"`
	Job            string                  `json:"job"`
	Final          bool                    `json:"final"` // taken at the end of a bounded input
	Savepoint      bool                    `json:"savepoint"`
	Created        time.Time               `json:"created"`
	MaxParallelism int                     `json:"max_parallelism"`
	Vertices       map[string]*VertexState `json:"vertices"`
}

// VertexState is the state of one operator or source.
type VertexState struct {
	Parallelism int            `json:"parallelism"`
	Subtasks    []SubtaskState `json:"subtasks"`
}

// SubtaskState is the state of one subtask.
type SubtaskState struct {
	Subtask   int                   `json:"subtask"`
	Finished  bool                  `json:"finished,omitempty"`
	Handles   []statebackend.Handle `json:"handles,omitempty"`    // keyed state backend
	KeyGroups map[int][]byte        `json:"key_groups,omitempty"` // operator keyed state (timers)
	OpState   []byte                `json:"op_state,omitempty"`
	HasState  bool                  `json:"has_op_state,omitempty"`
	Positions map[string][]byte     `json:"positions,omitempty"` // source splits
}

// Bytes is the number of state bytes written for the checkpoint.
func (m *Manifest) Bytes() int64 {
	var n int64
	for _, v := range m.Vertices {
		for _, s := range v.Subtasks {
			for _, h := range s.Handles {
				n += h.Bytes
			}
			for _, b := range s.KeyGroups {
				n += int64(len(b))
			}
			n += int64(len(s.OpState))
		}
	}
	return n
}

// Files lists every file the checkpoint references (relative to the root).
func (m *Manifest) Files() []string {
	var out []string
	for _, v := range m.Vertices {
		for _, s := range v.Subtasks {
			for _, h := range s.Handles {
				out = append(out, h.Files...)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// encodeManifest writes a header line with the format version and the CRC32C
// of the JSON body that follows.
func encodeManifest(m *Manifest) ([]byte, error) {
	body, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return nil, err
	}
	head := fmt.Sprintf("%s v%d crc32c=%08x len=%d\n", manifestMagic, ManifestVersion, crc32.Checksum(body, castagnoli), len(body))
	return append([]byte(head), body...), nil
}

func decodeManifest(name string, data []byte) (*Manifest, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrCorruptCheckpoint, name, fmt.Sprintf(format, args...))
	}
	head, body, ok := bytes.Cut(data, []byte("\n"))
	if !ok {
		return nil, bad("no header")
	}
	var ver int
	var crc uint32
	var n int
	if _, err := fmt.Sscanf(string(head), manifestMagic+" v%d crc32c=%08x len=%d", &ver, &crc, &n); err != nil {
		return nil, bad("bad header %q", head)
	}
	if ver != ManifestVersion {
		return nil, bad("format version %d, want %d", ver, ManifestVersion)
	}
	if len(body) != n {
		return nil, bad("body has %d bytes, header says %d (truncated?)", len(body), n)
	}
	if got := crc32.Checksum(body, castagnoli); got != crc {
		return nil, bad("crc32c %08x, header says %08x", got, crc)
	}
	var m Manifest
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, bad("%v", err)
	}
	return &m, nil
}

// ReadManifest reads and checks the manifest of the checkpoint in dir.
func ReadManifest(fs vfs.FS, dir string) (*Manifest, error) {
	name := dir + "/" + manifestFile
	data, err := fs.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrCorruptCheckpoint, name, err)
	}
	return decodeManifest(name, data)
}

// CheckpointInfo names a checkpoint directory.
type CheckpointInfo struct {
	Dir       string // relative to the storage root
	ID        int64
	Savepoint bool
}

// ListCheckpoints returns the complete-looking checkpoint and savepoint
// directories under the root of fs, newest first (by id). It does not read
// manifests; temporary directories are skipped.
func ListCheckpoints(fs vfs.FS) ([]CheckpointInfo, error) {
	names, err := fs.List(".")
	if err != nil {
		return nil, err
	}
	var out []CheckpointInfo
	for _, n := range names {
		var rest string
		sp := false
		switch {
		case strings.HasPrefix(n, chkPrefix):
			rest = n[len(chkPrefix):]
		case strings.HasPrefix(n, savepointPre):
			rest, sp = n[len(savepointPre):], true
		default:
			continue
		}
		id, err := strconv.ParseInt(rest, 10, 64)
		if err != nil {
			continue
		}
		out = append(out, CheckpointInfo{Dir: n, ID: id, Savepoint: sp})
	}
	slices.SortFunc(out, func(a, b CheckpointInfo) int {
		if a.ID != b.ID {
			return int(b.ID - a.ID)
		}
		return strings.Compare(a.Dir, b.Dir)
	})
	return out, nil
}

// LatestManifest returns the newest checkpoint whose manifest passes its
// checks, skipping directories without a manifest (checkpoints that never
// completed) and reporting corrupt ones through skipped; savepoints are not
// considered.
func LatestManifest(fs vfs.FS) (m *Manifest, dir string, skipped []error, err error) {
	list, err := ListCheckpoints(fs)
	if err != nil {
		return nil, "", nil, err
	}
	for _, c := range list {
		if c.Savepoint {
			continue
		}
		if ok, err := fs.Exists(c.Dir + "/" + manifestFile); err == nil && !ok {
			continue // never completed
		}
		m, err := ReadManifest(fs, c.Dir)
		if err == nil {
			return m, c.Dir, skipped, nil
		}
		skipped = append(skipped, err)
	}
	return nil, "", skipped, ErrNoCheckpoint
}

func chkDir(id int64) string       { return chkPrefix + fmt.Sprintf("%08d", id) }
func savepointDir(id int64) string { return savepointPre + fmt.Sprintf("%08d", id) }
