package affinity_test

import (
	"errors"
	"testing"

	"go.uber.org/goleak"

	"github.com/weirstream/weir/internal/affinity"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestCPUsSortedAndNonEmpty(t *testing.T) {
	cpus := affinity.CPUs()
	if len(cpus) == 0 {
		t.Fatal("CPUs() is empty")
	}
	for i := 1; i < len(cpus); i++ {
		if cpus[i] <= cpus[i-1] || cpus[i-1] < 0 {
			t.Fatalf("CPUs() = %v, want strictly increasing non-negative", cpus)
		}
	}
}

// TestPinContract checks the portable contract: nil or ErrUnsupported, and
// Unpin always balances Pin.
func TestPinContract(t *testing.T) {
	done := make(chan error)
	go func() {
		err := affinity.Pin(0)
		affinity.Unpin()
		done <- err
	}()
	if err := <-done; err != nil && !errors.Is(err, affinity.ErrUnsupported) {
		t.Fatalf("Pin(0) = %v, want nil or ErrUnsupported", err)
	}
}

func ExamplePin() {
	done := make(chan struct{})
	go func() { // a worker goroutine
		defer close(done)
		if err := affinity.Pin(3); err != nil {
			// errors.Is(err, affinity.ErrUnsupported): log at debug and run unpinned.
			_ = err
		}
		defer affinity.Unpin()
		// ... the worker's loop runs here, on one CPU when pinning worked ...
	}()
	<-done
	// Output:
}
