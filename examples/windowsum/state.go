package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/weirstream/weir/jobmain"
	"github.com/weirstream/weir/runtime"
	"github.com/weirstream/weir/statebackend/pebblestate"
)

// stateDirSuffix names the default directory of the pebble databases next
// to the checkpoint directory: <checkpoint-dir>.state.
const stateDirSuffix = ".state"

// StateOptions returns the runtime options of the state backend c asks
// for, given the parsed command line fs (for --checkpoint-dir), and a
// function to call once the run is over. Memstate needs none. Pebble keeps
// its databases under --state-dir; by default under <checkpoint-dir>.state,
// whose contents are scratch space cleared at start (the databases of
// killed runs: state survives in checkpoints, not there), or, without
// --checkpoint-dir, in a temporary directory removed at the end. A
// --state-dir of the user is never cleared; the databases of a killed run
// stay there.
func (c Config) StateOptions(fs *flag.FlagSet) ([]runtime.Option, func(), error) {
	if c.State != StatePebble {
		return nil, nil, nil
	}
	dir, done := c.StateDir, func() {}
	ckpt := ""
	if f := fs.Lookup(jobmain.FlagCheckpointDir); f != nil {
		ckpt = f.Value.String()
	}
	switch {
	case dir != "":
	case ckpt != "":
		dir = filepath.Clean(ckpt) + stateDirSuffix
		if err := os.RemoveAll(dir); err != nil {
			return nil, nil, fmt.Errorf("clearing the state directory: %w", err)
		}
	default:
		tmp, err := os.MkdirTemp("", "windowsum-state-")
		if err != nil {
			return nil, nil, fmt.Errorf("state directory: %w", err)
		}
		dir, done = tmp, func() { os.RemoveAll(tmp) }
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		done()
		return nil, nil, fmt.Errorf("state directory: %w", err)
	}
	return []runtime.Option{runtime.StateBackend(pebblestate.New(dir, pebblestate.Options{}))}, done, nil
}
