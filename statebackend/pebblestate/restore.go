package pebblestate

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cockroachdb/pebble/v2"

	"github.com/weirstream/weir/statebackend"
	"github.com/weirstream/weir/statebackend/vfs"
)

// source is a handle to restore from, with its decoded meta and the key
// groups to take from it.
type source struct {
	h statebackend.Handle
	m meta
	r statebackend.KeyGroupRange // h.KeyGroups within the backend's
}

// Restore loads the key groups of the backend from persisted snapshots.
// It must be called once, before any table is opened. Handles that do not
// overlap the backend's key groups are ignored; the others must have been
// written by this package with the same MaxParallelism and must not
// overlap each other.
//
// When one handle covers all the backend's key groups (a restore at the
// same parallelism, or at a higher one), the backend's database becomes a
// copy of that checkpoint's files (SSTs hard-linked from a vfs.Local on the
// same device), clipped to the backend's key groups with range deletions;
// its shared SSTs are then reused by the backend's own checkpoints.
// Otherwise (a lower parallelism) each handle's checkpoint is copied into a
// temporary database, whose entries in the backend's key groups are copied
// into the backend's database (with the table ids mapped by name), and
// removed.
//
// Every file is checked against the size and CRC-32C recorded when it was
// persisted: a missing or corrupt file fails Restore with an error naming
// it. A table restored with one schema cannot be opened with another (see
// OpenKV). After an error the backend holds part of the state, or none:
// the task fails and the backend must be closed.
func (b *Backend) Restore(fs vfs.FS, handles []statebackend.Handle) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed.Load() {
		return b.errClosed("restore")
	}
	if b.restored || len(b.tables) > 0 || b.dirty || len(b.views) > 0 {
		return fmt.Errorf("weir/pebblestate: restore of %s: Restore must come once, before any table is opened or snapshot taken", b.info.Operator)
	}
	b.restored = true
	srcs, err := b.sources(handles)
	if err != nil {
		return err
	}
	own := b.info.KeyGroups
	switch {
	case len(srcs) == 0:
		return nil
	case len(srcs) == 1 && srcs[0].r == own:
		err = b.restoreBase(fs, srcs[0])
	default:
		for i, src := range srcs {
			if err = b.restoreMerge(fs, src, i); err != nil {
				break
			}
		}
	}
	if err != nil {
		return fmt.Errorf("weir/pebblestate: restore of %s: %w", b.info.Operator, err)
	}
	return nil
}

// sources decodes and checks the handles that overlap the backend's key
// groups, sorted by key group.
func (b *Backend) sources(handles []statebackend.Handle) ([]source, error) {
	own := b.info.KeyGroups
	var srcs []source
	for _, h := range handles {
		r := statebackend.KeyGroupRange{Start: max(h.KeyGroups.Start, own.Start), End: min(h.KeyGroups.End, own.End)}
		if r.Len() <= 0 {
			continue
		}
		if h.Backend != Kind {
			return nil, fmt.Errorf("weir/pebblestate: restore of %s: handle of subtask %d was written by backend %q, not %q",
				b.info.Operator, h.Subtask, h.Backend, Kind)
		}
		var m meta
		if err := json.Unmarshal(h.Meta, &m); err != nil {
			return nil, fmt.Errorf("weir/pebblestate: restore of %s: meta of subtask %d: %w", b.info.Operator, h.Subtask, err)
		}
		if m.Version != metaVersion {
			return nil, fmt.Errorf("weir/pebblestate: restore of %s: meta version %d of subtask %d, want %d", b.info.Operator, m.Version, h.Subtask, metaVersion)
		}
		if m.MaxParallelism != b.info.MaxParallelism {
			return nil, fmt.Errorf("weir/pebblestate: restore of %s: checkpoint has %d key groups, the backend %d",
				b.info.Operator, m.MaxParallelism, b.info.MaxParallelism)
		}
		for _, f := range m.Files {
			if f.Name == "" || f.Name != filepath.Base(f.Name) || strings.HasPrefix(f.Name, ".") {
				return nil, fmt.Errorf("weir/pebblestate: restore of %s: invalid file name %q in meta", b.info.Operator, f.Name)
			}
		}
		srcs = append(srcs, source{h: h, m: m, r: r})
	}
	slices.SortFunc(srcs, func(a, b source) int { return a.r.Start - b.r.Start })
	for i := 1; i < len(srcs); i++ {
		if srcs[i].r.Start < srcs[i-1].r.End {
			return nil, fmt.Errorf("weir/pebblestate: restore of %s: handles of key groups %v and %v overlap",
				b.info.Operator, srcs[i-1].h.KeyGroups, srcs[i].h.KeyGroups)
		}
	}
	return srcs, nil
}

// restoreBase replaces the backend's empty database by the checkpoint of
// src, clipped to the backend's key groups.
func (b *Backend) restoreBase(fs vfs.FS, src source) error {
	dir := b.dbDir()
	err := b.db.Close()
	if err == nil {
		err = os.RemoveAll(dir)
	}
	if err == nil {
		err = fetch(fs, src.m.Files, dir)
	}
	if err == nil {
		b.db, err = b.open(dir, false)
	}
	if err != nil { // leave an empty database, for Close
		var rerr error
		if rerr = os.RemoveAll(dir); rerr == nil {
			b.db, rerr = b.open(dir, false)
		}
		return errors.Join(err, rerr)
	}
	own := b.info.KeyGroups
	if own.Start > 0 {
		err = b.db.DeleteRange(statebackend.AppendKVKeyGroup(nil, 0), statebackend.AppendKVKeyGroup(nil, own.Start), pebble.NoSync)
	}
	if err == nil {
		err = b.db.DeleteRange(statebackend.AppendKVKeyGroup(nil, own.End), []byte{0xff, 0xff}, pebble.NoSync)
	}
	if err != nil {
		return err
	}
	b.dirty = true
	for _, t := range src.m.Tables {
		b.tables[t.Name] = &tableEntry{id: t.ID, schema: t.Schema}
		b.nextID = max(b.nextID, t.ID+1)
	}
	b.upMu.Lock()
	for _, f := range src.m.Files {
		if sharable(f.Name) {
			b.shared[f.Name] = f
		}
	}
	b.upMu.Unlock()
	return nil
}

// restoreMerge copies the entries of the key groups src.r of src's
// checkpoint into the backend's database.
func (b *Backend) restoreMerge(fs vfs.FS, src source, i int) (err error) {
	ids := make(map[uint32]uint32, len(src.m.Tables)) // source id -> backend id
	for _, t := range src.m.Tables {
		e := b.tables[t.Name]
		if e == nil {
			e = &tableEntry{id: b.nextID, schema: t.Schema}
			b.nextID++
			b.tables[t.Name] = e
		} else if e.schema != t.Schema {
			return fmt.Errorf("table %q has schema %s in one handle, %s in another", t.Name, e.schema, t.Schema)
		}
		ids[t.ID] = e.id
	}
	dir := filepath.Join(b.path, fmt.Sprintf("restore-%d", i))
	defer func() { err = errors.Join(err, os.RemoveAll(dir)) }()
	if err := fetch(fs, src.m.Files, dir); err != nil {
		return err
	}
	sdb, err := b.open(dir, true)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, sdb.Close()) }()
	it, err := sdb.NewIter(&pebble.IterOptions{
		LowerBound: statebackend.AppendKVKeyGroup(nil, src.r.Start),
		UpperBound: statebackend.AppendKVKeyGroup(nil, src.r.End),
	})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, it.Close()) }()
	return b.copyEntries(it, ids)
}

// copyEntries writes the entries of it into the backend's database, with
// their table ids mapped through ids, in batches of a few MiB.
func (b *Backend) copyEntries(it *pebble.Iterator, ids map[uint32]uint32) error {
	const batchBytes = 4 << 20
	batch := b.db.NewBatch()
	defer batch.Close()
	var key []byte
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		kg, id, ok := statebackend.ParseKVHeader(k)
		nid, known := ids[id]
		if !ok || !known {
			return fmt.Errorf("entry %x of key group %d belongs to no table of the checkpoint", k, kg)
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		key = append(statebackend.AppendKVHeader(key[:0], kg, nid), k[statebackend.KVHeaderLen:]...)
		if err := batch.Set(key, v, nil); err != nil {
			return err
		}
		if batch.Len() >= batchBytes {
			if err := batch.Commit(pebble.NoSync); err != nil {
				return err
			}
			batch.Reset()
		}
	}
	if err := it.Error(); err != nil {
		return err
	}
	b.dirty = true
	return batch.Commit(pebble.NoSync)
}

// fetch copies the files of a checkpoint from fs into a new local
// directory dir, checking each against its recorded size and checksum.
// SSTs are hard-linked when fs is a vfs.Local on the same device.
func fetch(fs vfs.FS, files []fileMeta, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range files {
		local := filepath.Join(dir, f.Name)
		size, sum, err := fetchFile(fs, f, local)
		if err != nil {
			return fmt.Errorf("file %s: %w", f.Path, err)
		}
		if size != f.Size || sum != f.CRC {
			return fmt.Errorf("file %s is corrupt: %d bytes with crc32c %08x, the checkpoint recorded %d bytes with crc32c %08x",
				f.Path, size, sum, f.Size, f.CRC)
		}
	}
	return nil
}

// fetchFile copies (or links) one file and returns its size and checksum.
func fetchFile(fs vfs.FS, f fileMeta, local string) (int64, uint32, error) {
	if l, ok := fs.(*vfs.Local); ok && sharable(f.Name) {
		if err := os.Link(l.Path(f.Path), local); err == nil {
			fm, err := checksum(local) // its sync costs nothing: Persist synced it
			return fm.Size, fm.CRC, err
		}
	}
	h := crc32.New(castagnoli)
	rc, err := fs.Open(f.Path)
	if err != nil {
		return 0, 0, err
	}
	defer rc.Close()
	lf, err := os.Create(local)
	if err != nil {
		return 0, 0, err
	}
	n, err := io.Copy(io.MultiWriter(lf, h), rc)
	if cerr := lf.Close(); err == nil {
		err = cerr
	}
	return n, h.Sum32(), err
}
