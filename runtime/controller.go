package runtime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/weirstream/weir/statebackend/vfs"
)

// ErrNotRunning is returned by a Controller whose job is not running, or
// has ended all its tasks and takes no more checkpoints.
var ErrNotRunning = errors.New("weir/runtime: job not running")

// Controller triggers checkpoints and savepoints of a running job by hand.
// Attach it with WithController; it is safe for concurrent use.
type Controller struct {
	mu   sync.Mutex
	ck   *checkpointer
	last Stats // of the last run, once it ended
}

// NewController returns a controller for one run at a time.
func NewController() *Controller { return &Controller{} }

func (c *Controller) attach(ck *checkpointer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ck == nil && c.ck != nil {
		c.last = c.ck.snapshotStats()
	}
	c.ck = ck
}

func (c *Controller) get() (*checkpointer, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ck == nil {
		return nil, ErrNotRunning
	}
	return c.ck, nil
}

// TriggerCheckpoint takes a checkpoint now and waits until it is complete.
func (c *Controller) TriggerCheckpoint(ctx context.Context) (int64, error) {
	return c.trigger(ctx, false)
}

// TriggerSavepoint takes a savepoint (a checkpoint kept until deleted, that
// a new version of the job can start from with RestoreFrom) and returns
// its directory name in the checkpoint storage.
func (c *Controller) TriggerSavepoint(ctx context.Context) (string, error) {
	id, err := c.trigger(ctx, true)
	if err != nil {
		return "", err
	}
	return savepointDir(id), nil
}

func (c *Controller) trigger(ctx context.Context, savepoint bool) (int64, error) {
	ck, err := c.get()
	if err != nil {
		return 0, err
	}
	done := make(chan error, 1)
	id, err := ck.trigger(savepoint, done)
	if err != nil {
		return id, err
	}
	select {
	case err := <-done:
		return id, err
	case <-ctx.Done():
		return id, ctx.Err()
	}
}

// Stats returns the checkpoint statistics of the current run, or of the
// last one once it ended.
func (c *Controller) Stats() Stats {
	ck, err := c.get()
	if err != nil {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.last
	}
	return ck.snapshotStats()
}

// setupCheckpoints prepares checkpointing and restore for a run: it finds
// the checkpoint to restore, cleans what a crashed run left half-written
// and returns the checkpointer (nil when checkpointing is off).
func setupCheckpoints(o *Options, job string) (*checkpointer, *restoreState, error) {
	if o.CheckpointFS != nil {
		if err := cleanPartial(o.CheckpointFS); err != nil {
			return nil, nil, fmt.Errorf("weir/runtime: clean checkpoint storage: %w", err)
		}
	}
	rs, err := findRestore(o)
	if err != nil {
		return nil, nil, err
	}
	if o.CheckpointFS == nil {
		return nil, rs, nil
	}
	fs := o.CheckpointFS
	var last int64
	if list, err := ListCheckpoints(fs); err == nil && len(list) > 0 {
		last = list[0].ID
	}
	if rs != nil {
		last = max(last, rs.m.ID)
	}
	return newCheckpointer(fs, o, job, last), rs, nil
}

func findRestore(o *Options) (*restoreState, error) {
	switch {
	case o.RestorePath != "":
		abs, err := filepath.Abs(o.RestorePath)
		if err != nil {
			return nil, err
		}
		if _, err := os.Stat(abs); err != nil {
			return nil, fmt.Errorf("weir/runtime: restore: %w", err)
		}
		fs, err := vfs.NewLocal(filepath.Dir(abs))
		if err != nil {
			return nil, err
		}
		m, err := ReadManifest(fs, filepath.Base(abs))
		if err != nil {
			return nil, fmt.Errorf("weir/runtime: restore from %s: %w", o.RestorePath, err)
		}
		return &restoreState{fs: fs, m: m, dir: o.RestorePath}, nil
	case o.CheckpointFS != nil && !o.NoRestore:
		m, dir, skipped, err := LatestManifest(o.CheckpointFS)
		for _, s := range skipped {
			o.Logger.Warn("skipping unusable checkpoint", zap.Error(s))
		}
		if errors.Is(err, ErrNoCheckpoint) {
			if len(skipped) > 0 {
				return nil, fmt.Errorf("weir/runtime: no usable checkpoint: %w", errors.Join(skipped...))
			}
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		o.Logger.Info("restoring checkpoint", zap.String("dir", dir), zap.Int64("id", m.ID))
		return &restoreState{fs: o.CheckpointFS, m: m, dir: dir}, nil
	}
	return nil, nil
}

// cleanPartial removes the checkpoint directories a previous run left
// without a manifest (checkpoints it had not completed). Directories with
// a damaged manifest stay for inspection; restore skips them.
func cleanPartial(fs vfs.FS) error {
	list, err := ListCheckpoints(fs)
	if err != nil {
		return err
	}
	for _, c := range list {
		ok, err := fs.Exists(c.Dir + "/" + manifestFile)
		if err != nil {
			return err
		}
		if !ok {
			if err := fs.RemoveAll(c.Dir); err != nil {
				return err
			}
		}
	}
	return nil
}

// periodic triggers checkpoints every interval until stop is closed.
func periodic(ck *checkpointer, interval time.Duration, stop <-chan struct{}) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if ck.inFlight() {
				continue // one checkpoint at a time: storage sets the pace
			}
			if _, err := ck.trigger(false, nil); err != nil {
				return
			}
		}
	}
}
