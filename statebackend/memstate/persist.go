package memstate

import (
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
// (table, key group); each section is a gob stream of key, namespace
// (omitted for Void) and value, so a restore at another parallelism reads
// only the key groups it owns. The section index travels in Handle.Meta.

const backendKind = "memstate"

type section struct {
	Off int64 `json:"off"`
	Len int64 `json:"len"`
}

type fileIndex struct {
	Version int                        `json:"version"`
	Tables  map[string]map[int]section `json:"tables"`
	Void    map[string]bool            `json:"void,omitempty"` // tables without namespaces
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
	var buf bytes.Buffer
	idx := fileIndex{Version: 1, Tables: map[string]map[int]section{}, Void: map[string]bool{}}
	for _, name := range s.names {
		v := s.views[name]
		secs := map[int]section{}
		for kg := s.r.Start; kg < s.r.End; kg++ {
			if v.Len(kg) == 0 {
				continue
			}
			start := int64(buf.Len())
			void, err := encodeGroup(&buf, v, kg)
			if err != nil {
				return h, fmt.Errorf("weir/memstate: encode table %q key group %d of %s: %w", name, kg, s.info.Operator, err)
			}
			idx.Void[name] = void
			secs[kg] = section{Off: start, Len: int64(buf.Len()) - start}
		}
		idx.Tables[name] = secs
	}
	meta, err := json.Marshal(idx)
	if err != nil {
		return h, err
	}
	name := dir + "/" + fileName(s.info)
	if err := vfs.WriteFile(fs, name, buf.Bytes()); err != nil {
		return h, err
	}
	h.Files, h.Bytes, h.Meta = []string{name}, int64(buf.Len()), meta
	return h, nil
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
		b.restored = map[string]map[int][]byte{}
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
	data, err := fs.ReadFile(h.Files[0])
	if err != nil {
		return fmt.Errorf("weir/memstate: read %s: %w", h.Files[0], err)
	}
	for name, secs := range idx.Tables {
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
// sections of table name, handed over once.
func (b *Backend) TakeRestored(name string) map[int][]byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	secs := b.restored[name]
	delete(b.restored, name)
	return secs
}
