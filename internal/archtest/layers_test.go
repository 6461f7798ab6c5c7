package archtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// weir is the architecture of the module (ARCHITECTURE.md, "Layers"). Ranks
// are the layer numbers times 100; a package may import its own unit and
// lower ranks only. Edit this table, not the checker, to change the rules.
var weir = rules{
	layers: []layer{
		{800, []string{"examples/*", "cmd/weir"}}, // nothing in the module imports them
		// the demo job is a library shared by examples/demo and `weir demo`
		{750, []string{"examples/demo/demojob"}},
		// the Nexmark queries: a library shared by examples and `weir nexmark`
		{750, []string{"nexmark"}},
		{700, []string{"jobmain"}},
		{600, []string{"testkit", "connectors/conntest"}},
		{500, []string{"sqlbridge"}},
		{400, []string{"stream", "runtime"}}, // siblings; runtime/jobgraph has its own row
		{300, []string{"runtime/jobgraph"}},
		{200, []string{"windowing"}},
		{100, []string{"connectors/*", "connectors"}}, // each connector is a unit; siblings don't import each other; the root is docs
		{50, []string{"operators"}},
		{40, []string{"internal"}}, // one unit: internal packages may import each other
		// memstate, pebblestate and statetest sit just above statebackend:
		// they import statebackend, never each other.
		{35, []string{"statebackend/*"}},
		{30, []string{"statebackend"}},
		{25, []string{"statebackend/vfs"}}, // checkpoint storage, below the state contract
		{0, []string{"timeapi"}},
	},
	bans: []ban{
		// runtime executes a jobgraph and never names a window, a connector,
		// the SQL planner or the user API. This covers runtime/jobgraph too.
		{from: "runtime", to: "windowing", why: "runtime never names a concrete window"},
		{from: "runtime", to: "connectors", why: "runtime never names a connector"},
		{from: "runtime", to: "sqlbridge", why: "runtime never names the SQL planner"},
		{from: "runtime", to: "stream", why: "stream builds, runtime runs; neither imports the other"},
		// sqlbridge lowers onto stream; the plain-data jobgraph below stream
		// stays allowed.
		{from: "sqlbridge", to: "runtime", except: []string{"runtime/jobgraph"}, why: "SQL lowers onto stream, never runtime"},
	},
	stdlibOnly: []string{"timeapi"},
}

func TestImportLayers(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root, modPath, err := findModuleRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	files, err := loadModule(root, modPath)
	if err != nil {
		t.Fatal(err)
	}
	pkgs := map[string]bool{}
	for _, f := range files {
		pkgs[f.pkg] = true
	}
	if !pkgs["internal/archtest"] {
		t.Fatalf("walked %d files of %s from %s but missed internal/archtest itself", len(files), modPath, root)
	}
	t.Logf("checked %d files in %d packages of %s", len(files), len(pkgs), modPath)
	for _, v := range weir.check(modPath, files) {
		t.Error(v)
	}
}

const mod = "github.com/weirstream/weir"

// m returns the import path of the module package at relative path p.
func m(p string) string { return mod + "/" + p }

// TestCheckerReportsForbiddenEdge feeds the checker a synthetic file in which
// runtime imports stream, so TestImportLayers is known to be able to fail.
func TestCheckerReportsForbiddenEdge(t *testing.T) {
	files := []fileImports{{
		file:    "runtime/run.go",
		pkg:     "runtime",
		imports: []importSpec{{path: "context", line: 3}, {path: mod + "/stream", line: 4}},
	}}
	vs := weir.check(mod, files)
	if len(vs) != 1 {
		t.Fatalf("got %d violations %v, want 1", len(vs), vs)
	}
	msg := vs[0].String()
	for _, want := range []string{"runtime/run.go:4", "package " + mod + "/runtime", "imports " + mod + "/stream"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q does not contain %q", msg, want)
		}
	}
}

// TestRules pins down the table's meaning one edge at a time.
func TestRules(t *testing.T) {
	for _, tc := range []struct {
		from, imp string // from is relative to the module, imp a full import path
		ok        bool
	}{
		{"stream", m("runtime/jobgraph"), true},
		{"stream", m("runtime"), false},
		{"stream", m("runtime/exec"), false}, // runtime's other subpackages are runtime
		{"runtime", m("stream"), false},
		{"runtime", m("runtime/jobgraph"), true},
		{"runtime/exec", m("runtime"), true}, // same unit
		{"runtime", m("windowing"), false},   // lower layer, but banned
		{"runtime", m("connectors/kafka"), false},
		{"runtime/jobgraph", m("windowing"), false}, // the ban covers runtime/...
		{"runtime/jobgraph", m("operators"), true},
		{"runtime", m("internal/spsc"), true},
		{"runtime", m("statebackend/memstate"), true},
		{"runtime/jobgraph", m("stream"), false},
		{"sqlbridge", m("stream"), true},
		{"sqlbridge", m("runtime"), false},
		{"sqlbridge", m("runtime/exec"), false},
		{"sqlbridge", m("runtime/jobgraph"), true},
		{"sqlbridge", m("windowing"), true},
		{"testkit", m("runtime"), true},
		{"testkit", m("stream"), true},
		{"testkit", m("connectors/conntest"), false}, // siblings
		{"connectors/conntest", m("connectors/kafka"), true},
		{"connectors/kafka", m("connectors/conntest"), false},
		{"connectors/kafka", m("connectors/clickhouse"), false}, // siblings
		{"connectors/kafka/internal/wire", m("connectors/kafka"), true},
		{"connectors/kafka", m("operators"), true},
		{"connectors/kafka", m("windowing"), false},
		{"windowing", m("operators"), true},
		{"jobmain", m("runtime"), true},
		{"jobmain", m("examples/wordcount"), false},
		{"cmd/weir", m("jobmain"), true},
		{"examples/wordcount", m("cmd/weir"), false},
		{"examples/wordcount", m("examples/nexmark"), false},
		{"nexmark", m("connectors/nexmark"), true},
		{"nexmark", m("stream"), true},
		{"nexmark", m("examples/demo/demojob"), false}, // siblings
		{"cmd/weir", m("nexmark"), true},
		{"connectors/nexmark", m("nexmark"), false},
		{"connectors/nexmark", m("stream"), false},
		{"operators", m("internal/spsc"), true},
		{"operators", m("windowing"), false},
		{"internal/spsc", m("internal/affinity"), true},
		{"internal/spsc", m("statebackend"), true},
		{"internal/spsc", m("timeapi"), true},
		{"internal/spsc", m("operators"), false},
		{"internal/spsc", "golang.org/x/sys/unix", true},
		{"statebackend", m("internal/spsc"), false},
		{"statebackend", m("statebackend/memstate"), false},
		{"statebackend/memstate", m("statebackend"), true},
		{"statebackend/statetest", m("statebackend"), true},
		{"statebackend/statetest", m("statebackend/memstate"), false},
		{"statebackend/pebblestate", "github.com/cockroachdb/pebble", true},
		{"statebackend", m("timeapi"), true},
		{"timeapi", "time", true},
		{"timeapi", m("statebackend"), false},
		{"timeapi", m("internal/spsc"), false},
		{"timeapi/internal/x", "github.com/cespare/xxhash/v2", false},
		{"timeapi", "C", false},
	} {
		vs := weir.check(mod, []fileImports{{file: tc.from + "/x.go", pkg: tc.from, imports: []importSpec{{path: tc.imp, line: 1}}}})
		if got := len(vs) == 0; got != tc.ok {
			t.Errorf("%s -> %s: allowed = %v, want %v (%v)", tc.from, tc.imp, got, tc.ok, vs)
		}
	}
}

func TestUnplacedPackageIsReported(t *testing.T) {
	files := []fileImports{
		{file: "bench/a.go", pkg: "bench"},
		{file: "bench/b.go", pkg: "bench", imports: []importSpec{{path: mod + "/stream", line: 3}}},
		{file: "stream/s.go", pkg: "stream", imports: []importSpec{{path: mod + "/bench", line: 5}}},
		{file: "doc.go", pkg: ""},
	}
	vs := weir.check(mod, files)
	if len(vs) != 2 || !strings.Contains(vs[0].String(), "bench/a.go: package "+mod+"/bench: package has no layer") ||
		!strings.Contains(vs[1].String(), "doc.go: package "+mod+": package has no layer") {
		t.Fatalf("got %v, want bench and the module root reported once each", vs)
	}
}

// TestLoadModule builds a small module on disk with a forbidden edge in
// every place the walker must and must not look, and checks what is found.
func TestLoadModule(t *testing.T) {
	root := t.TempDir()
	bad := "package p\n\nimport (\n\t\"fmt\"\n\t\"example.com/m/stream\"\n)\n"
	write := func(rel, content string) {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/m // the module\n\ngo 1.27\n")
	write("runtime/run.go", bad)                            // checked
	write("runtime/linux.go", "//go:build linux\n\n"+bad)   // checked: build tags other than ignore count
	write("runtime/run_test.go", bad)                       // test file
	write("runtime/gen.go", "//go:build ignore\n\n"+bad)    // generator
	write("runtime/testdata/x.go", bad)                     // testdata
	write("runtime/.hidden/x.go", bad)                      // hidden
	write("runtime/_old/x.go", bad)                         // underscore
	write("runtime/vendor/x.go", bad)                       // vendor
	write("other/go.mod", "module example.com/elsewhere\n") // unrelated nested module
	write("other/x.go", bad)                                //
	write("connectors/big/go.mod", "module example.com/m/connectors/big\n")
	write("connectors/big/big.go", "package big\n\nimport \"example.com/m/runtime\"\n") // nested module, checked
	write("stream/stream.go", "package stream\n")

	sub := filepath.Join(root, "runtime", "testdata")
	gotRoot, modPath, err := findModuleRoot(sub)
	if err != nil || gotRoot != root || modPath != "example.com/m" {
		t.Fatalf("findModuleRoot(%s) = %s, %q, %v; want %s, example.com/m", sub, gotRoot, modPath, err, root)
	}
	files, err := loadModule(root, modPath)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range weir.check(modPath, files) {
		got = append(got, v.String())
	}
	want := []string{
		"connectors/big/big.go:3: package example.com/m/connectors/big imports example.com/m/runtime: connectors/big (layer 100) must not import runtime from the higher layer 400",
		"runtime/linux.go:7: package example.com/m/runtime imports example.com/m/stream: runtime must not import stream: stream builds, runtime runs; neither imports the other",
		"runtime/run.go:5: package example.com/m/runtime imports example.com/m/stream: runtime must not import stream: stream builds, runtime runs; neither imports the other",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("violations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
