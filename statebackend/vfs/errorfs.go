package vfs

import (
	"fmt"
	"io"
	"sync/atomic"
)

// ErrorFS wraps an FS and fails the Nth write-side operation (Create,
// Write, Sync, Rename, Link, MkdirAll, SyncDir), counting from 1, with
// ErrInjected. N = 0 never fails. Reads are not counted.
type ErrorFS struct {
	FS
	failAt atomic.Int64
	count  atomic.Int64
}

// NewErrorFS wraps fs; the failAt-th write operation fails.
func NewErrorFS(fs FS, failAt int64) *ErrorFS {
	e := &ErrorFS{FS: fs}
	e.failAt.Store(failAt)
	return e
}

// FailAt re-arms the wrapper: the n-th write operation from now fails.
func (e *ErrorFS) FailAt(n int64) { e.count.Store(0); e.failAt.Store(n) }

// Ops is the number of write operations counted so far.
func (e *ErrorFS) Ops() int64 { return e.count.Load() }

func (e *ErrorFS) step(op, name string) error {
	n := e.count.Add(1)
	if f := e.failAt.Load(); f > 0 && n == f {
		return fmt.Errorf("%w: %s %s (operation %d)", ErrInjected, op, name, n)
	}
	return nil
}

type errorFile struct {
	File
	e    *ErrorFS
	name string
}

func (f *errorFile) Write(p []byte) (int, error) {
	if err := f.e.step("write", f.name); err != nil {
		return 0, err
	}
	return f.File.Write(p)
}

func (f *errorFile) Sync() error {
	if err := f.e.step("sync", f.name); err != nil {
		return err
	}
	return f.File.Sync()
}

// Create implements FS.
func (e *ErrorFS) Create(name string) (File, error) {
	if err := e.step("create", name); err != nil {
		return nil, err
	}
	f, err := e.FS.Create(name)
	if err != nil {
		return nil, err
	}
	return &errorFile{File: f, e: e, name: name}, nil
}

// Rename implements FS.
func (e *ErrorFS) Rename(o, n string) error {
	if err := e.step("rename", o); err != nil {
		return err
	}
	return e.FS.Rename(o, n)
}

// Link implements FS.
func (e *ErrorFS) Link(o, n string) error {
	if err := e.step("link", o); err != nil {
		return err
	}
	return e.FS.Link(o, n)
}

// MkdirAll implements FS.
func (e *ErrorFS) MkdirAll(d string) error {
	if err := e.step("mkdir", d); err != nil {
		return err
	}
	return e.FS.MkdirAll(d)
}

// SyncDir implements FS.
func (e *ErrorFS) SyncDir(d string) error {
	if err := e.step("syncdir", d); err != nil {
		return err
	}
	return e.FS.SyncDir(d)
}

// Open implements FS (not counted).
func (e *ErrorFS) Open(name string) (io.ReadCloser, error) { return e.FS.Open(name) }
