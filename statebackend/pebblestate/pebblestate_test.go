package pebblestate_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/weirstream/weir/statebackend/pebblestate"
	"github.com/weirstream/weir/statebackend/statetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// small keeps the tests' databases small.
var small = pebblestate.Options{CacheSize: 1 << 20, MemTableSize: 256 << 10}

func TestConformance(t *testing.T) { statetest.Run(t, pebblestate.New(t.TempDir(), small)) }
