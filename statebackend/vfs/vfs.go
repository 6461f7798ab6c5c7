// Package vfs is the small file-system interface checkpoints are written
// through, with a local implementation, an in-memory one and a wrapper that
// injects faults, so storage failures can be tested (the shape of pebble's
// vfs and errorfs).
package vfs

import (
	"errors"
	"io"
)

// ErrInjected is the error returned by an injected fault.
var ErrInjected = errors.New("weir/vfs: injected fault")

// File is a file open for writing.
type File interface {
	io.Writer
	// Sync makes the written data durable.
	Sync() error
	Close() error
}

// FS is a file system rooted at some directory. Names are slash-separated
// and relative to the root.
type FS interface {
	// Create creates or truncates name for writing; its directory must exist.
	Create(name string) (File, error)
	// Open opens name for reading.
	Open(name string) (io.ReadCloser, error)
	// ReadFile returns the contents of name.
	ReadFile(name string) ([]byte, error)
	// Rename renames oldname to newname atomically, replacing newname if it
	// is a file; directories are renamed whole.
	Rename(oldname, newname string) error
	// Link makes newname refer to the same contents as oldname (a hard link
	// on a local file system).
	Link(oldname, newname string) error
	// Remove removes a file or an empty directory.
	Remove(name string) error
	// RemoveAll removes name and everything under it; a missing name is no error.
	RemoveAll(name string) error
	// MkdirAll creates a directory and its parents.
	MkdirAll(dir string) error
	// List returns the names of the entries of dir, sorted.
	List(dir string) ([]string, error)
	// Exists reports whether name exists.
	Exists(name string) (bool, error)
	// SyncDir makes the directory entries of dir (creations, renames) durable.
	SyncDir(dir string) error
}

// WriteFile writes data to name and syncs it before closing: when it
// returns nil the contents are durable (the directory entry needs SyncDir).
func WriteFile(fs FS, name string, data []byte) error {
	f, err := fs.Create(name)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
