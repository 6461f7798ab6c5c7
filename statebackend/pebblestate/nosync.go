package pebblestate

import (
	"github.com/cockroachdb/pebble/v2/vfs"
)

// noSyncFS is Pebble's default file system with every sync turned into a
// no-op. Without Options.Sync a backend's database is scratch space: it is
// removed by Close and never reopened after a crash (state comes back from
// a checkpoint), so the fsyncs Pebble makes on flushes, compactions and
// checkpoints buy nothing but latency, several milliseconds each, in the
// synchronous part of Snapshot too. Persist syncs what it writes to the
// checkpoint storage.
type noSyncFS struct{ vfs.FS }

// noSyncFile is a file of noSyncFS.
type noSyncFile struct{ vfs.File }

func (noSyncFile) Sync() error                             { return nil }
func (noSyncFile) SyncData() error                         { return nil }
func (noSyncFile) SyncTo(int64) (fullSync bool, err error) { return false, nil }

func wrap(f vfs.File, err error) (vfs.File, error) {
	if err != nil {
		return nil, err
	}
	return noSyncFile{f}, nil
}

func (fs noSyncFS) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	return wrap(fs.FS.Create(name, c))
}

func (fs noSyncFS) Open(name string, opts ...vfs.OpenOption) (vfs.File, error) {
	return wrap(fs.FS.Open(name, opts...))
}

func (fs noSyncFS) OpenReadWrite(name string, c vfs.DiskWriteCategory, opts ...vfs.OpenOption) (vfs.File, error) {
	return wrap(fs.FS.OpenReadWrite(name, c, opts...))
}

func (fs noSyncFS) OpenDir(name string) (vfs.File, error) { return wrap(fs.FS.OpenDir(name)) }

func (fs noSyncFS) ReuseForWrite(oldname, newname string, c vfs.DiskWriteCategory) (vfs.File, error) {
	return wrap(fs.FS.ReuseForWrite(oldname, newname, c))
}
