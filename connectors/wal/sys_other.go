//go:build !linux

package wal

import (
	"errors"
	"os"
	"runtime"
)

// datasync flushes f with fsync: fdatasync is Linux-only here.
func datasync(f *os.File) error { return f.Sync() }

// syncDir makes the creation and removal of files in dir durable where the
// system supports syncing a directory.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}

// lockDir does not lock outside Linux: the caller must make sure only one
// Log writes a directory.
func lockDir(string) (*os.File, error) { return nil, nil }
