package vfs

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// Local is an FS over a directory of the local file system.
type Local struct{ root string }

// NewLocal returns the local FS rooted at dir (created if missing).
func NewLocal(dir string) (*Local, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	return &Local{root: abs}, nil
}

// Root is the directory the FS is rooted at.
func (l *Local) Root() string { return l.root }

// Path returns the local path of name.
func (l *Local) Path(name string) string { return filepath.Join(l.root, filepath.FromSlash(name)) }

// Create implements FS.
func (l *Local) Create(name string) (File, error) {
	return os.OpenFile(l.Path(name), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
}

// Open implements FS.
func (l *Local) Open(name string) (io.ReadCloser, error) { return os.Open(l.Path(name)) }

// ReadFile implements FS.
func (l *Local) ReadFile(name string) ([]byte, error) { return os.ReadFile(l.Path(name)) }

// Rename implements FS.
func (l *Local) Rename(oldname, newname string) error {
	return os.Rename(l.Path(oldname), l.Path(newname))
}

// Link implements FS with a hard link.
func (l *Local) Link(oldname, newname string) error { return os.Link(l.Path(oldname), l.Path(newname)) }

// Remove implements FS.
func (l *Local) Remove(name string) error { return os.Remove(l.Path(name)) }

// RemoveAll implements FS.
func (l *Local) RemoveAll(name string) error { return os.RemoveAll(l.Path(name)) }

// MkdirAll implements FS.
func (l *Local) MkdirAll(dir string) error { return os.MkdirAll(l.Path(dir), 0o755) }

// List implements FS.
func (l *Local) List(dir string) ([]string, error) {
	ents, err := os.ReadDir(l.Path(dir))
	if err != nil {
		return nil, err
	}
	out := make([]string, len(ents))
	for i, e := range ents {
		out[i] = e.Name()
	}
	slices.Sort(out)
	return out, nil
}

// Exists implements FS.
func (l *Local) Exists(name string) (bool, error) {
	_, err := os.Stat(l.Path(name))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// SyncDir implements FS.
func (l *Local) SyncDir(dir string) error {
	d, err := os.Open(l.Path(dir))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
