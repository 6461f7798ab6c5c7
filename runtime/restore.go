package runtime

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/weirstream/weir/operators"
	"github.com/weirstream/weir/runtime/jobgraph"
	"github.com/weirstream/weir/statebackend"
	"github.com/weirstream/weir/statebackend/vfs"
)

// restoreState hands the state of a restored checkpoint to the subtasks of
// the new run, redistributing it when the parallelism changed: keyed state
// by key group, source positions by split, and operator state to every new
// subtask (like Flink's union list state: each keeps what it needs; an
// exactly-once sink commits every restored transaction, idempotently).
type restoreState struct {
	fs  vfs.FS
	m   *Manifest
	dir string
}

// check refuses a restore whose checkpoint holds state for an operator the
// job does not have (renamed, removed, or an auto-generated name that
// shifted): that state would be dropped silently, and with it, say, the
// pending transactions of a sink. allow skips the check (Flink's
// allowNonRestoredState).
func (r *restoreState) check(g *jobgraph.Graph, allow bool) error {
	if r == nil || allow {
		return nil
	}
	have := map[string]bool{}
	for _, v := range g.Vertices {
		have[v.Name] = true
	}
	var missing []string
	for name := range r.m.Vertices {
		if !have[name] {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	slices.Sort(missing)
	return fmt.Errorf("%w: checkpoint %s has state of operators the job lacks: %s (give operators stable names with Name, or allow it with runtime.AllowNonRestoredState)",
		ErrIncompatibleCheckpoint, r.dir, strings.Join(missing, ", "))
}

// ErrIncompatibleCheckpoint is returned when a checkpoint does not fit the
// job being restored.
var ErrIncompatibleCheckpoint = errors.New("weir/runtime: checkpoint does not match the job")

// positions merges the split positions of every old subtask of a source.
func (r *restoreState) positions(vertex string) map[string][]byte {
	if r == nil || r.m.Vertices[vertex] == nil {
		return nil
	}
	out := map[string][]byte{}
	for _, s := range r.m.Vertices[vertex].Subtasks {
		for id, p := range s.Positions {
			out[id] = p
		}
	}
	return out
}

// backend loads the keyed state of a restored operator into b; b keeps the
// key groups it owns.
func (r *restoreState) backend(vertex string, b statebackend.Backend) error {
	if r == nil || r.m.Vertices[vertex] == nil {
		return nil
	}
	var hs []statebackend.Handle
	for _, s := range r.m.Vertices[vertex].Subtasks {
		hs = append(hs, s.Handles...)
	}
	if len(hs) == 0 {
		return nil
	}
	rs, ok := b.(statebackend.Restorer)
	if !ok {
		return fmt.Errorf("weir/runtime: restore %s from %s: state backend %T cannot restore", vertex, r.dir, b)
	}
	if err := rs.Restore(r.fs, hs); err != nil {
		return fmt.Errorf("weir/runtime: restore %s from %s: %w", vertex, r.dir, err)
	}
	return nil
}

// operator restores an opened operator's own state.
func (r *restoreState) operator(vertex string, ctx *operators.Context, op operators.Operator) error {
	if r == nil || r.m.Vertices[vertex] == nil {
		return nil
	}
	subs := r.m.Vertices[vertex].Subtasks
	if ks, ok := op.(operators.KeyGroupSnapshotter); ok {
		for _, s := range subs {
			for kg, data := range s.KeyGroups {
				if ctx.KeyGroups.Contains(kg) {
					if err := ks.RestoreKeyGroup(kg, data); err != nil {
						return operators.Wrap(ctx, fmt.Errorf("restore key group %d from %s: %w", kg, r.dir, err))
					}
				}
			}
		}
	}
	if sn, ok := op.(operators.Snapshotter); ok {
		for _, s := range subs {
			if s.HasState {
				if err := sn.RestoreState(s.OpState); err != nil {
					return operators.Wrap(ctx, fmt.Errorf("restore from %s: %w", r.dir, err))
				}
			}
		}
	}
	return nil
}
