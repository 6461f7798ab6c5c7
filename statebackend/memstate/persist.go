package memstate

import (
	"bufio"
	"bytes"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"strings"

	"github.com/weirstream/weir/statebackend"
	"github.com/weirstream/weir/statebackend/vfs"
)

// Persisted snapshots: one file per snapshot holding a section per
// (table, key group), so a restore at another parallelism reads only the
// key groups it owns. The section index travels in Handle.Meta.
//
// Version 2 writes a table's sections in the plain encoding
// (statebackend.SectionEncoder) when its types have one, and names it in
// Schemas; other tables, and every table of a version 1 file, are gob
// streams of key, namespace (omitted for Void) and value. The file is
// written as it is encoded, through a buffer, not built whole in memory.

const backendKind = "memstate"

// fileVersion is the version Persist writes; Restore reads 1 and 2.
const fileVersion = 2

type section struct {
	Off int64 `json:"off"`
	Len int64 `json:"len"`
}

type fileIndex struct {
	Version int                        `json:"version"`
	Tables  map[string]map[int]section `json:"tables"`
	Void    map[string]bool            `json:"void,omitempty"`    // gob tables without namespaces
	Schemas map[string]string          `json:"schemas,omitempty"` // tables of plain sections: their SectionSchema
	_       struct{}                   `json:"-"`
}

var (
	_ statebackend.Persister = (*snapshot)(nil)
	_ statebackend.Restorer  = (*Backend)(nil)
)

// fileName is a file-system-safe, unique name for a subtask's state.
func fileName(info statebackend.TaskInfo) string {
	safe := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, info.Operator)
	return fmt.Sprintf("%s-%d-%08x.mem", safe, info.Subtask, crc32.ChecksumIEEE([]byte(info.Operator)))
}

// Persist writes the view to dir/<operator>-<subtask>-<hash>.mem.
func (s *snapshot) Persist(fs vfs.FS, dir string) (statebackend.Handle, error) {
	h := statebackend.Handle{Backend: backendKind, Operator: s.info.Operator, Subtask: s.info.Subtask, KeyGroups: s.r}
	name := dir + "/" + fileName(s.info)
	f, err := fs.Create(name)
	if err != nil {
		return h, err
	}
	idx, n, err := s.write(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return h, fmt.Errorf("weir/memstate: write %s: %w", name, err)
	}
	meta, err := json.Marshal(idx)
	if err != nil {
		return h, err
	}
	h.Files, h.Bytes, h.Meta = []string{name}, n, meta
	return h, nil
}

// write writes the sections of every table to f and returns their index
// and the bytes written.
func (s *snapshot) write(f io.Writer) (idx fileIndex, n int64, err error) {
	idx = fileIndex{Version: fileVersion, Tables: map[string]map[int]section{}, Void: map[string]bool{}, Schemas: map[string]string{}}
	w := bufio.NewWriterSize(f, 1<<20)
	var buf []byte
	var gb bytes.Buffer
	for _, name := range s.names {
		v := s.views[name]
		enc, _ := v.(statebackend.SectionEncoder)
		schema := ""
		if enc != nil {
			schema = enc.SectionSchema()
		}
		secs := map[int]section{}
		for kg := s.r.Start; kg < s.r.End; kg++ {
			if v.Len(kg) == 0 {
				continue
			}
			if schema != "" {
				buf, err = enc.AppendSection(buf[:0], kg)
			} else {
				gb.Reset()
				idx.Void[name], err = encodeGroup(&gb, v, kg)
				buf = gb.Bytes()
			}
			if err != nil {
				return idx, n, fmt.Errorf("encode table %q key group %d of %s: %w", name, kg, s.info.Operator, err)
			}
			if _, err := w.Write(buf); err != nil {
				return idx, n, err
			}
			secs[kg] = section{Off: n, Len: int64(len(buf))}
			n += int64(len(buf))
		}
		idx.Tables[name] = secs
		if schema != "" {
			idx.Schemas[name] = schema
		}
	}
	return idx, n, w.Flush()
}

func encodeGroup(buf *bytes.Buffer, v statebackend.TableView, kg int) (void bool, err error) {
	enc := gob.NewEncoder(buf)
	v.ForEach(kg, func(key, ns, value any) bool {
		if err = enc.Encode(key); err != nil {
			return false
		}
		_, void = ns.(statebackend.Void)
		if !void {
			if err = enc.Encode(ns); err != nil {
				return false
			}
		}
		err = enc.Encode(value)
		return err == nil
	})
	return void, err
}

// Restore reads the sections of the key groups this backend owns from the
// handles; tables receive them when they are opened.
func (b *Backend) Restore(fs vfs.FS, handles []statebackend.Handle) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.restored == nil {
		b.restored, b.schemas = map[string]map[int][]byte{}, map[string]string{}
	}
	for _, h := range handles {
		if h.Backend != backendKind {
			return fmt.Errorf("weir/memstate: cannot restore %s state of %s", h.Backend, h.Operator)
		}
		if err := b.restoreHandle(fs, h); err != nil {
			return err
		}
	}
	return nil
}

func (b *Backend) restoreHandle(fs vfs.FS, h statebackend.Handle) error {
	var idx fileIndex
	if err := json.Unmarshal(h.Meta, &idx); err != nil || len(h.Files) != 1 {
		return fmt.Errorf("weir/memstate: bad state handle of %s#%d", h.Operator, h.Subtask)
	}
	if idx.Version < 1 || idx.Version > fileVersion {
		return fmt.Errorf("weir/memstate: state of %s#%d is of version %d; this build reads 1 to %d", h.Operator, h.Subtask, idx.Version, fileVersion)
	}
	data, err := fs.ReadFile(h.Files[0])
	if err != nil {
		return fmt.Errorf("weir/memstate: read %s: %w", h.Files[0], err)
	}
	for name, secs := range idx.Tables {
		schema := idx.Schemas[name]
		if had, ok := b.schemas[name]; ok && had != schema {
			return fmt.Errorf("weir/memstate: %s: table %q written as %q, and as %q in another subtask's state", h.Files[0], name, schema, had)
		}
		b.schemas[name] = schema
		for kg, sec := range secs {
			if !b.info.KeyGroups.Contains(kg) {
				continue
			}
			if sec.Off < 0 || sec.Len < 0 || sec.Off+sec.Len > int64(len(data)) {
				return fmt.Errorf("weir/memstate: %s: section of table %q key group %d outside the file (%d bytes)", h.Files[0], name, kg, len(data))
			}
			if b.restored[name] == nil {
				b.restored[name] = map[int][]byte{}
			}
			b.restored[name][kg] = data[sec.Off : sec.Off+sec.Len]
		}
	}
	return nil
}

// TakeRestored implements statebackend.RestoredTables: the restored
// sections of table name and their schema, handed over once.
func (b *Backend) TakeRestored(name string) (map[int][]byte, string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	secs, schema := b.restored[name], b.schemas[name]
	delete(b.restored, name)
	delete(b.schemas, name)
	return secs, schema
}
