package memstate

import (
	"bufio"
	"bytes"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"hash/crc32"
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
	_ statebackend.StepPersister = (*snapshot)(nil)
	_ statebackend.Restorer      = (*Backend)(nil)
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
	j, err := s.StartPersist(fs, dir)
	if err != nil {
		return statebackend.Handle{}, err
	}
	for {
		if h, done, err := j.Step(); done || err != nil {
			return h, err
		}
	}
}

// StartPersist creates the file Persist writes and returns the job that
// writes it a section (one table's key group) per step.
func (s *snapshot) StartPersist(fs vfs.FS, dir string) (statebackend.PersistJob, error) {
	name := dir + "/" + fileName(s.info)
	f, err := fs.Create(name)
	if err != nil {
		return nil, err
	}
	return &persistJob{s: s, name: name, f: f, w: bufio.NewWriterSize(f, 1<<20),
		idx: fileIndex{Version: fileVersion, Tables: map[string]map[int]section{}, Void: map[string]bool{}, Schemas: map[string]string{}}}, nil
}

// persistJob writes a snapshot's sections one per Step: table by table,
// key group by key group, through a buffer.
type persistJob struct {
	s    *snapshot
	name string
	f    vfs.File
	w    *bufio.Writer
	idx  fileIndex
	n    int64 // bytes written
	ti   int   // the table of the next section (index into s.names)
	kg   int   // its key group
	end  bool
	// the table being written (set when ti moves on): its view, its
	// section encoder and schema ("" for gob sections), its sections
	v      statebackend.TableView
	enc    statebackend.SectionEncoder
	schema string
	secs   map[int]section
	buf    []byte
	gb     bytes.Buffer
}

// table makes table ti the one being written.
func (j *persistJob) table() {
	j.v = j.s.views[j.s.names[j.ti]]
	j.enc, _ = j.v.(statebackend.SectionEncoder)
	j.schema = ""
	if j.enc != nil {
		j.schema = j.enc.SectionSchema()
	}
	j.kg, j.secs = j.s.r.Start, map[int]section{}
}

// Step writes the next non-empty section; after the last it syncs and
// closes the file and returns the handle. An error closes the file too.
func (j *persistJob) Step() (statebackend.Handle, bool, error) {
	s := j.s
	h := statebackend.Handle{Backend: backendKind, Operator: s.info.Operator, Subtask: s.info.Subtask, KeyGroups: s.r}
	if j.end {
		return h, true, fmt.Errorf("weir/memstate: write %s: step after the end", j.name)
	}
	for j.ti < len(s.names) {
		if j.v == nil {
			j.table()
		}
		name := s.names[j.ti]
		for ; j.kg < s.r.End; j.kg++ {
			kg := j.kg
			if j.v.Len(kg) == 0 {
				continue
			}
			var err error
			var buf []byte
			if j.schema != "" {
				j.buf, err = j.enc.AppendSection(j.buf[:0], kg)
				buf = j.buf
			} else {
				j.gb.Reset()
				j.idx.Void[name], err = encodeGroup(&j.gb, j.v, kg)
				buf = j.gb.Bytes()
			}
			if err != nil {
				return h, false, j.fail(fmt.Errorf("encode table %q key group %d of %s: %w", name, kg, s.info.Operator, err))
			}
			if _, err := j.w.Write(buf); err != nil {
				return h, false, j.fail(err)
			}
			j.secs[kg] = section{Off: j.n, Len: int64(len(buf))}
			j.n += int64(len(buf))
			j.kg++
			return h, false, nil
		}
		j.idx.Tables[name] = j.secs
		if j.schema != "" {
			j.idx.Schemas[name] = j.schema
		}
		j.ti, j.v = j.ti+1, nil
	}
	j.end = true
	err := j.w.Flush()
	if err == nil {
		err = j.f.Sync()
	}
	if cerr := j.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return h, true, fmt.Errorf("weir/memstate: write %s: %w", j.name, err)
	}
	meta, err := json.Marshal(j.idx)
	if err != nil {
		return h, true, err
	}
	h.Files, h.Bytes, h.Meta = []string{j.name}, j.n, meta
	return h, true, nil
}

// fail closes the file after err and returns err, naming the file.
func (j *persistJob) fail(err error) error {
	j.end = true
	j.f.Close()
	return fmt.Errorf("weir/memstate: write %s: %w", j.name, err)
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
