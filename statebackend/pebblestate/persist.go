package pebblestate

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/weirstream/weir/statebackend"
	"github.com/weirstream/weir/statebackend/vfs"
)

// metaVersion is the version of the Meta of the handles this package
// writes; Restore refuses other versions.
const metaVersion = 1

// meta is what a handle's Meta holds (as JSON): enough to rebuild the
// checkpoint's database directory and to map its table ids to names.
type meta struct {
	Version        int         `json:"version"`
	DB             string      `json:"db"` // id of the backend that wrote it
	MaxParallelism int         `json:"max_parallelism"`
	Tables         []tableMeta `json:"tables"`
	Files          []fileMeta  `json:"files"`
}

// tableMeta is a table of the catalog.
type tableMeta struct {
	Name   string `json:"name"`
	ID     uint32 `json:"id"`
	Schema string `json:"schema"`
}

// fileMeta is a file of a checkpoint's database directory.
type fileMeta struct {
	Name string `json:"name"` // name in the database directory
	Path string `json:"path"` // where the checkpoint storage keeps it
	Size int64  `json:"size"`
	CRC  uint32 `json:"crc32c"`
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// sharable reports whether a file of a database directory is immutable and
// uniquely named within the database, so that checkpoints may share it:
// SSTs and blob files are, the MANIFEST, OPTIONS and marker files are not.
func sharable(name string) bool {
	return strings.HasSuffix(name, ".sst") || strings.HasSuffix(name, ".blob")
}

// Persist writes the view's checkpoint to fs and returns its handle. It
// may run on any goroutine, while the task goes on; Release and Close
// wait for it.
//
// Checkpoints are incremental: the SSTs go to shared/<backend id>/ in fs,
// named as in the database (SST numbers are never reused), and an SST that
// an earlier Persist of the backend stored there (or that the backend was
// restored from), and that still exists, is reused rather than written
// again. The other files (MANIFEST, OPTIONS, markers) go under dir. On a
// vfs.Local, SSTs are hard-linked into fs when it shares the device. Shared
// files are written under a temporary name and renamed, so that a file
// that exists is whole.
//
// Handle.Files lists every file the checkpoint needs, shared ones included;
// Handle.Bytes counts the bytes this call stored (every file it wrote or
// linked). Handle.Meta records each file's size and CRC-32C, which Restore
// checks. On error, some files may have been written; the shared ones are
// whole and a later Persist reuses them.
func (s *snapshot) Persist(fs vfs.FS, dir string) (statebackend.Handle, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	b := s.b
	if s.snap == nil {
		return statebackend.Handle{}, fmt.Errorf("weir/pebblestate: persist %s: %w", b.info.Operator, errReleased)
	}
	m, written, err := s.persistFiles(fs, dir)
	if err != nil {
		return statebackend.Handle{}, fmt.Errorf("weir/pebblestate: persist %s to %s: %w", b.info.Operator, dir, err)
	}
	data, err := json.Marshal(m)
	if err != nil {
		return statebackend.Handle{}, err
	}
	h := statebackend.Handle{
		Backend:   Kind,
		Operator:  b.info.Operator,
		Subtask:   b.info.Subtask,
		KeyGroups: s.r,
		Bytes:     written,
		Meta:      data,
	}
	for _, f := range m.Files {
		h.Files = append(h.Files, f.Path)
	}
	b.forgetShared(m.Files)
	return h, nil
}

// persistFiles stores every file of the local checkpoint and returns the
// meta and the number of bytes stored.
func (s *snapshot) persistFiles(fs vfs.FS, dir string) (meta, int64, error) {
	b := s.b
	m := meta{Version: metaVersion, DB: b.id, MaxParallelism: b.info.MaxParallelism, Tables: s.catalog}
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return m, 0, err
	}
	sharedDir := path.Join("shared", b.id)
	if err := fs.MkdirAll(sharedDir); err != nil {
		return m, 0, err
	}
	// The files of one DB go to their own subdirectory: the subtasks of an
	// operator persist into the same checkpoint directory, and every DB
	// has files named MANIFEST-000001 and the like.
	dir = path.Join(dir, b.id)
	if err := fs.MkdirAll(dir); err != nil {
		return m, 0, err
	}
	var written int64
	newShared := false
	for _, e := range ents {
		name := e.Name()
		local := filepath.Join(s.dir, name)
		var fm fileMeta
		var n int64
		if sharable(name) {
			fm, n, err = b.share(fs, local, name, sharedDir)
			newShared = newShared || n > 0
		} else {
			fm, err = store(fs, local, path.Join(dir, name))
			n = fm.Size
		}
		if err != nil {
			return m, written, err
		}
		fm.Name = name
		written += n
		m.Files = append(m.Files, fm)
	}
	if newShared {
		if err := fs.SyncDir(sharedDir); err != nil {
			return m, written, err
		}
	}
	return m, written, fs.SyncDir(dir)
}

// share returns where fs stores the shared file name, storing it there
// first unless an earlier call did (and it is still there). n is the
// number of bytes stored, 0 if the file was reused.
func (b *Backend) share(fs vfs.FS, local, name, sharedDir string) (fm fileMeta, n int64, err error) {
	b.upMu.Lock()
	fm, ok := b.shared[name]
	b.upMu.Unlock()
	if ok {
		exists, err := fs.Exists(fm.Path)
		if err != nil {
			return fm, 0, err
		}
		if exists {
			return fm, 0, nil
		}
	}
	dst := path.Join(sharedDir, name)
	tmp := fmt.Sprintf("%s.tmp-%016x", dst, rand.Uint64())
	if fm, err = link(fs, local, tmp); err != nil {
		fm, err = store(fs, local, tmp)
	}
	if err == nil {
		err = fs.Rename(tmp, dst)
	}
	if err != nil {
		_ = fs.Remove(tmp) // best effort; the name is unique
		return fm, 0, err
	}
	fm.Name, fm.Path = name, dst
	b.upMu.Lock()
	b.shared[name] = fm
	b.upMu.Unlock()
	return fm, fm.Size, nil
}

// forgetShared drops the shared files that the latest checkpoint does not
// use: the database has deleted them (compactions replace SSTs by new
// ones). A concurrent Persist of an older view that still needs one of them
// stores it again, which is correct, only slower.
func (b *Backend) forgetShared(files []fileMeta) {
	keep := make(map[string]bool, len(files))
	for _, f := range files {
		keep[f.Name] = true
	}
	b.upMu.Lock()
	defer b.upMu.Unlock()
	for name := range b.shared {
		if !keep[name] {
			delete(b.shared, name)
		}
	}
}

// link hard-links the local file into fs if fs is a vfs.Local on the same
// device, syncs it (the local database never does, see noSyncFS) and
// computes its size and checksum.
func link(fs vfs.FS, local, dst string) (fileMeta, error) {
	l, ok := fs.(*vfs.Local)
	if !ok {
		return fileMeta{}, errors.ErrUnsupported
	}
	if err := os.Link(local, l.Path(dst)); err != nil {
		return fileMeta{}, err
	}
	fm, err := checksum(local)
	if err != nil {
		return fileMeta{}, errors.Join(err, os.Remove(l.Path(dst)))
	}
	fm.Path = dst
	return fm, nil
}

// checksum syncs a local file and returns its size and checksum.
func checksum(name string) (fileMeta, error) {
	f, err := os.Open(name)
	if err != nil {
		return fileMeta{}, err
	}
	defer f.Close()
	h := crc32.New(castagnoli)
	n, err := io.Copy(h, f)
	if err == nil {
		err = f.Sync()
	}
	return fileMeta{Size: n, CRC: h.Sum32()}, err
}

// store copies the local file to dst in fs, synced, and computes its size
// and checksum.
func store(fs vfs.FS, local, dst string) (fileMeta, error) {
	src, err := os.Open(local)
	if err != nil {
		return fileMeta{}, err
	}
	defer src.Close()
	f, err := fs.Create(dst)
	if err != nil {
		return fileMeta{}, err
	}
	h := crc32.New(castagnoli)
	n, err := io.Copy(io.MultiWriter(f, h), src)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fileMeta{}, err
	}
	return fileMeta{Path: dst, Size: n, CRC: h.Sum32()}, nil
}
