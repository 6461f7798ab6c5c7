package operators_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/weirstream/weir/operators"
)

// logChannels records what an exchange writer sends.
type logChannels struct {
	n    int
	log  []string
	free [][]any
}

func (l *logChannels) Len() int { return l.n }
func (l *logChannels) Send(ch int, b any) {
	bb := b.(*operators.Batch[string])
	parts := make([]string, bb.Len())
	for i, v := range bb.Values {
		parts[i] = fmt.Sprintf("%s@%d", v, bb.Times[i])
		if bb.KeyGroups != nil {
			parts[i] += fmt.Sprintf("/kg%d", bb.KeyGroups[i])
		}
	}
	l.log = append(l.log, fmt.Sprintf("ch%d: batch %s", ch, strings.Join(parts, " ")))
	// the consumer hands the batch back right away: the writer reuses it
	l.free[ch] = append(l.free[ch], b)
}
func (l *logChannels) Recycle(ch int) any {
	if len(l.free[ch]) == 0 {
		return nil
	}
	b := l.free[ch][0]
	l.free[ch] = l.free[ch][1:]
	return b
}
func (l *logChannels) Watermark(wm int64) {
	l.log = append(l.log, fmt.Sprintf("all: watermark %d", wm))
}
func (l *logChannels) EndInput() { l.log = append(l.log, "all: end") }

// TestExchangeGolden drives the exchange writers with the commands of
// testdata/exchange: new-hash, new-pass, push, flush, watermark, end.
func TestExchangeGolden(t *testing.T) {
	var ch *logChannels
	var w operators.Output
	datadriven.RunTest(t, "testdata/exchange", func(t *testing.T, d *datadriven.TestData) string {
		arg := func(name string, def int) int {
			for _, a := range d.CmdArgs {
				if a.Key == name {
					v, err := strconv.Atoi(a.Vals[0])
					if err != nil {
						d.Fatalf(t, "bad %s: %v", name, err)
					}
					return v
				}
			}
			return def
		}
		switch d.Cmd {
		case "new-hash", "new-pass":
			n := arg("channels", 1)
			ch = &logChannels{n: n, free: make([][]any, n)}
			if d.Cmd == "new-hash" {
				w = operators.NewHashWriter[string, string](func(s string) string { return strings.TrimRight(s, "0123456789") },
					operators.HashFunc[string](), arg("maxp", 128), ch, arg("batch", 4))
			} else {
				mode := map[string]operators.Mode{"forward": operators.Forward, "rebalance": operators.Rebalance, "broadcast": operators.Broadcast}
				var m string
				d.ScanArgs(t, "mode", &m)
				w = operators.NewWriter[string](mode[m], ch, arg("batch", 4))
			}
			return "ok"
		case "push":
			b := operators.NewBatch[string](16)
			for i, f := range strings.Fields(d.Input) {
				b.Append(f, int64(i))
			}
			if err := w.Push(b); err != nil {
				return err.Error()
			}
		case "flush":
			w.Flush()
		case "watermark":
			w.Watermark(int64(arg("wm", 0)))
		case "end":
			w.EndInput()
		default:
			d.Fatalf(t, "unknown command %s", d.Cmd)
		}
		out := strings.Join(ch.log, "\n")
		ch.log = nil
		if out == "" {
			return "(nothing sent)"
		}
		return out
	})
}

func TestKeyGroupRanges(t *testing.T) {
	for _, maxP := range []int{1, 7, 128, 1000} {
		for p := 1; p <= min(maxP, 9); p++ {
			next := 0
			for s := range p {
				r := operators.KeyGroupRangeFor(s, maxP, p)
				if r.Start != next || r.End < r.Start {
					t.Fatalf("maxP=%d p=%d subtask %d: range %v does not continue at %d", maxP, p, s, r, next)
				}
				for kg := r.Start; kg < r.End; kg++ {
					if got := operators.SubtaskOf(kg, maxP, p); got != s {
						t.Fatalf("maxP=%d p=%d: kg %d in range of %d but owned by %d", maxP, p, kg, s, got)
					}
				}
				next = r.End
			}
			if next != maxP {
				t.Fatalf("maxP=%d p=%d: ranges end at %d", maxP, p, next)
			}
		}
	}
}

type pointKey struct {
	X, Y int32
	Name string
}

type myID int64

func TestHashFuncStable(t *testing.T) {
	// Hashes decide key groups, which checkpoints store: they must never
	// change. These values pin them.
	cases := []struct {
		name string
		got  uint64
		want uint64
	}{
		{"int64 42", operators.HashFunc[int64]()(42), operators.HashFunc[myID]()(42)},
		{"int 42", operators.HashFunc[int]()(42), operators.HashFunc[int64]()(42)},
		{"int32 -1", operators.HashFunc[int32]()(-1), operators.HashFunc[int64]()(-1)},
		{"float -0", operators.HashFunc[float64]()(0), operators.HashFunc[float64]()(negZero())},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Fatalf("%s: %x != %x", c.name, c.got, c.want)
		}
	}
	golden := map[string]uint64{
		"int64":  operators.HashFunc[int64]()(123456789),
		"string": operators.HashFunc[string]()("weir"),
		"struct": operators.HashFunc[pointKey]()(pointKey{1, 2, "p"}),
	}
	want := map[string]uint64{"int64": 0xcb7c2941b198004d, "string": 0x25cb98be5b82688e}
	for k, v := range golden {
		if k == "struct" {
			if v != operators.HashFunc[pointKey]()(pointKey{1, 2, "p"}) || v == operators.HashFunc[pointKey]()(pointKey{2, 1, "p"}) {
				t.Fatalf("struct hash unstable or ignores field order")
			}
			continue
		}
		if v != want[k] {
			t.Errorf("%s hash %#x, want %#x", k, v, want[k])
		}
	}
	if err := operators.CheckKeyType[*int](); err == nil {
		t.Fatal("pointer key accepted")
	}
	if err := operators.CheckKeyType[pointKey](); err != nil {
		t.Fatal(err)
	}
}

func negZero() float64 { z := 0.0; return -z }

// recordOutput is an Output that records the key groups and values of the
// batches pushed to it, and the control calls.
type recordOutput struct {
	kgs   []uint16
	vals  []string
	first *string // the first value of the last batch, to tell copies apart
	log   []string
}

func (r *recordOutput) Push(batch any) error {
	b := batch.(*operators.Batch[string])
	if len(b.KeyGroups) != len(b.Values) {
		return fmt.Errorf("%d key groups for %d records", len(b.KeyGroups), len(b.Values))
	}
	r.kgs = append(r.kgs, b.KeyGroups...)
	r.vals = append(r.vals, b.Values...)
	r.first = &b.Values[0]
	return nil
}
func (r *recordOutput) Watermark(wm int64) error {
	r.log = append(r.log, fmt.Sprint("wm ", wm))
	return nil
}
func (r *recordOutput) Flush() error    { r.log = append(r.log, "flush"); return nil }
func (r *recordOutput) EndInput() error { r.log = append(r.log, "end"); return nil }

// TestKeyGroupWriter: the output of a hash exchange chained between single
// subtasks hands each batch on itself, with the key groups a hash writer
// gives the same records, and leaves the batch as it was.
func TestKeyGroupWriter(t *testing.T) {
	key := func(s string) string { return strings.TrimRight(s, "0123456789") }
	for _, maxP := range []int{128, 100} {
		ch := &logChannels{n: 1, free: make([][]any, 1)}
		hw := operators.NewHashWriter[string, string](key, operators.HashFunc[string](), maxP, ch, 1000)
		rec := &recordOutput{}
		kw := operators.NewKeyGroupWriter[string, string](key, operators.HashFunc[string](), maxP, rec)
		b := operators.NewBatch[string](300)
		for i := range 300 {
			b.Append(fmt.Sprintf("k%d-%d", i%37, i), int64(i))
		}
		if err := kw.Push(b); err != nil {
			t.Fatal(err)
		}
		if rec.first != &b.Values[0] {
			t.Errorf("maxp %d: the records were copied", maxP)
		}
		if b.KeyGroups != nil {
			t.Errorf("maxp %d: the producer's batch kept %d key groups", maxP, len(b.KeyGroups))
		}
		if err := hw.Push(b); err != nil {
			t.Fatal(err)
		}
		hw.Flush()
		want := ch.free[0][0].(*operators.Batch[string]) // the one batch sent
		if len(want.KeyGroups) != len(rec.kgs) {
			t.Fatalf("maxp %d: %d key groups, the hash writer gave %d", maxP, len(rec.kgs), len(want.KeyGroups))
		}
		distinct := map[uint16]bool{}
		for i, kg := range rec.kgs {
			if kg != want.KeyGroups[i] || rec.vals[i] != want.Values[i] {
				t.Fatalf("maxp %d: record %d %s in key group %d, the hash writer: %s in %d", maxP, i, rec.vals[i], kg, want.Values[i], want.KeyGroups[i])
			}
			if int(kg) >= maxP {
				t.Fatalf("maxp %d: key group %d", maxP, kg)
			}
			distinct[kg] = true
		}
		if len(distinct) < 20 {
			t.Errorf("maxp %d: 37 keys in only %d key groups", maxP, len(distinct))
		}
		kw.Watermark(7)
		kw.Flush()
		kw.EndInput()
		if got := strings.Join(rec.log, ", "); got != "wm 7, flush, end" {
			t.Errorf("maxp %d: passed on %q", maxP, got)
		}
	}
}
