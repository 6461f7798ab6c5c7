package memstate_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/weirstream/weir/statebackend"
	"github.com/weirstream/weir/statebackend/memstate"
	"github.com/weirstream/weir/statebackend/statetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestConformance(t *testing.T) { statetest.Run(t, memstate.New()) }

func TestNewBackendValidates(t *testing.T) {
	f := memstate.New()
	for _, info := range []statebackend.TaskInfo{
		{Operator: "neg", KeyGroups: statebackend.KeyGroupRange{Start: -1, End: 3}, MaxParallelism: 8},
		{Operator: "beyond", KeyGroups: statebackend.KeyGroupRange{Start: 4, End: 9}, MaxParallelism: 8},
		{Operator: "reversed", KeyGroups: statebackend.KeyGroupRange{Start: 5, End: 4}, MaxParallelism: 8},
		{Operator: "defaultmax", KeyGroups: statebackend.KeyGroupRange{Start: 0, End: 129}},
	} {
		if b, err := f.NewBackend(info); err == nil {
			b.Close()
			t.Errorf("NewBackend(%+v): no error", info)
		}
	}
	b, err := f.NewBackend(statebackend.TaskInfo{Operator: "ok", KeyGroups: statebackend.KeyGroupRange{Start: 0, End: 128}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if got := b.Info().MaxParallelism; got != statebackend.DefaultMaxParallelism {
		t.Errorf("MaxParallelism = %d, want the default %d", got, statebackend.DefaultMaxParallelism)
	}
}

// notSnapshotter is a table that cannot snapshot itself.
type notSnapshotter struct{}

func TestOpenTableNeedsSnapshotTable(t *testing.T) {
	b, err := memstate.New().NewBackend(statebackend.TaskInfo{Operator: "op", KeyGroups: statebackend.KeyGroupRange{Start: 0, End: 4}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	op := b.(statebackend.TableOpener)
	if _, err := op.OpenTable("x", func() any { return notSnapshotter{} }); err == nil {
		t.Fatal("OpenTable of a table without SnapshotRange: no error")
	}
}
