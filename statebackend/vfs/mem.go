package vfs

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
)

// Mem is an in-memory FS for tests. Directories are implicit in MkdirAll
// and in file names; it is safe for concurrent use.
type Mem struct {
	mu    sync.Mutex
	files map[string][]byte
	dirs  map[string]bool
}

// NewMem returns an empty in-memory FS.
func NewMem() *Mem { return &Mem{files: map[string][]byte{}, dirs: map[string]bool{".": true}} }

func clean(name string) string { return path.Clean(strings.TrimPrefix(name, "/")) }

type memFile struct {
	m    *Mem
	name string
	buf  bytes.Buffer
}

func (f *memFile) Write(p []byte) (int, error) { return f.buf.Write(p) }
func (f *memFile) Sync() error                 { f.flush(); return nil }
func (f *memFile) Close() error                { f.flush(); return nil }
func (f *memFile) flush() {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	f.m.files[f.name] = bytes.Clone(f.buf.Bytes())
}

// Create implements FS.
func (m *Mem) Create(name string) (File, error) {
	name = clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.dirs[path.Dir(name)] {
		return nil, &fs.PathError{Op: "create", Path: name, Err: fs.ErrNotExist}
	}
	m.files[name] = nil
	return &memFile{m: m, name: name}, nil
}

// Open implements FS.
func (m *Mem) Open(name string) (io.ReadCloser, error) {
	b, err := m.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

// ReadFile implements FS.
func (m *Mem) ReadFile(name string) ([]byte, error) {
	name = clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.files[name]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return bytes.Clone(b), nil
}

// Rename implements FS.
func (m *Mem) Rename(oldname, newname string) error {
	oldname, newname = clean(oldname), clean(newname)
	m.mu.Lock()
	defer m.mu.Unlock()
	if b, ok := m.files[oldname]; ok {
		delete(m.files, oldname)
		m.files[newname] = b
		return nil
	}
	if !m.dirs[oldname] {
		return &fs.PathError{Op: "rename", Path: oldname, Err: fs.ErrNotExist}
	}
	if m.dirs[newname] {
		return &fs.PathError{Op: "rename", Path: newname, Err: fs.ErrExist}
	}
	m.moveTree(oldname, newname)
	return nil
}

func (m *Mem) moveTree(oldname, newname string) {
	for _, set := range []func(){
		func() {
			for f, b := range m.files {
				if rest, ok := under(f, oldname); ok {
					delete(m.files, f)
					m.files[path.Join(newname, rest)] = b
				}
			}
		},
		func() {
			for d := range m.dirs {
				if rest, ok := under(d, oldname); ok || d == oldname {
					delete(m.dirs, d)
					m.dirs[path.Join(newname, rest)] = true
				}
			}
		},
	} {
		set()
	}
}

func under(name, dir string) (string, bool) {
	if strings.HasPrefix(name, dir+"/") {
		return name[len(dir)+1:], true
	}
	return "", false
}

// Link implements FS by copying (contents are immutable once written).
func (m *Mem) Link(oldname, newname string) error {
	b, err := m.ReadFile(oldname)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.files[clean(newname)] = b
	return nil
}

// Remove implements FS.
func (m *Mem) Remove(name string) error {
	name = clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.files[name]; ok {
		delete(m.files, name)
		return nil
	}
	if m.dirs[name] {
		delete(m.dirs, name)
		return nil
	}
	return &fs.PathError{Op: "remove", Path: name, Err: fs.ErrNotExist}
}

// RemoveAll implements FS.
func (m *Mem) RemoveAll(name string) error {
	name = clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	for f := range m.files {
		if _, ok := under(f, name); ok || f == name {
			delete(m.files, f)
		}
	}
	for d := range m.dirs {
		if _, ok := under(d, name); ok || d == name {
			delete(m.dirs, d)
		}
	}
	return nil
}

// MkdirAll implements FS.
func (m *Mem) MkdirAll(dir string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for d := clean(dir); d != "." && d != "/"; d = path.Dir(d) {
		m.dirs[d] = true
	}
	return nil
}

// List implements FS.
func (m *Mem) List(dir string) ([]string, error) {
	dir = clean(dir)
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.dirs[dir] {
		return nil, &fs.PathError{Op: "list", Path: dir, Err: fs.ErrNotExist}
	}
	seen := map[string]bool{}
	add := func(p string) {
		rest := p
		if dir != "." {
			r, ok := under(p, dir)
			if !ok {
				return
			}
			rest = r
		}
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			rest = rest[:i]
		}
		if rest != "" && rest != "." {
			seen[rest] = true
		}
	}
	for f := range m.files {
		add(f)
	}
	for d := range m.dirs {
		add(d)
	}
	out := make([]string, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	slices.Sort(out)
	return out, nil
}

// Exists implements FS.
func (m *Mem) Exists(name string) (bool, error) {
	name = clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	_, f := m.files[name]
	return f || m.dirs[name], nil
}

// SyncDir implements FS.
func (m *Mem) SyncDir(string) error { return nil }

func (m *Mem) String() string { return fmt.Sprintf("vfs.Mem(%d files)", len(m.files)) }
