package archtest

import (
	"bufio"
	"errors"
	"fmt"
	"go/build/constraint"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// layer is one row of the layer table: packages matching any pattern sit at
// rank. See the package documentation for the pattern syntax.
type layer struct {
	rank     int
	patterns []string
}

// ban forbids packages under from to import packages under to, except those
// under one of except. Paths are relative to the module and match the
// package itself and its subpackages.
type ban struct {
	from, to string
	except   []string
	why      string
}

// rules is the whole architecture: layers, bans, and packages (again
// prefixes) that may import only the standard library.
type rules struct {
	layers     []layer
	bans       []ban
	stdlibOnly []string
}

// fileImports is what the checker needs from one Go file.
type fileImports struct {
	file    string // slash path relative to the module root
	pkg     string // slash directory relative to the module root; "" for the root
	imports []importSpec
}

// importSpec is one import of a file.
type importSpec struct {
	path string
	line int
}

// violation is a forbidden import edge, or a package the table does not place.
type violation struct {
	file, pkg, imp, reason string // imp is empty for an unplaced package
	line                   int
}

func (v violation) String() string {
	if v.imp == "" {
		return fmt.Sprintf("%s: package %s: %s", v.file, v.pkg, v.reason)
	}
	return fmt.Sprintf("%s:%d: package %s imports %s: %s", v.file, v.line, v.pkg, v.imp, v.reason)
}

// under reports whether the relative package p is prefix or inside it.
func under(p, prefix string) bool {
	return p == prefix || strings.HasPrefix(p, prefix+"/")
}

// place returns the unit and rank of the relative package p, using the
// longest matching pattern; ok is false if no pattern matches.
func (r *rules) place(p string) (unit string, rank int, ok bool) {
	best := -1
	for _, l := range r.layers {
		for _, pat := range l.patterns {
			if len(pat) <= best {
				continue
			}
			if base, wild := strings.CutSuffix(pat, "/*"); wild {
				rest, found := strings.CutPrefix(p, base+"/")
				if !found {
					continue
				}
				child, _, _ := strings.Cut(rest, "/")
				unit = base + "/" + child
			} else if under(p, pat) {
				unit = pat
			} else {
				continue
			}
			best, rank, ok = len(pat), l.rank, true
		}
	}
	return unit, rank, ok
}

// isStdlib reports whether an import path belongs to the standard library:
// its first element has no dot (and it is not cgo's "C").
func isStdlib(imp string) bool {
	first, _, _ := strings.Cut(imp, "/")
	return imp != "C" && !strings.Contains(first, ".")
}

// check returns every violation in files, a module whose path is modPath.
func (r *rules) check(modPath string, files []fileImports) []violation {
	var out []violation
	unplaced := map[string]bool{}
	for _, f := range files {
		full := path.Join(modPath, f.pkg)
		if _, _, ok := r.place(f.pkg); !ok && !unplaced[f.pkg] {
			unplaced[f.pkg] = true
			out = append(out, violation{file: f.file, pkg: full,
				reason: "package has no layer; add it to the layer table in internal/archtest/layers_test.go"})
		}
		for _, imp := range f.imports {
			if reason := r.edge(modPath, f.pkg, imp.path); reason != "" {
				out = append(out, violation{file: f.file, line: imp.line, pkg: full, imp: imp.path, reason: reason})
			}
		}
	}
	return out
}

// edge explains why package from (relative) may not import imp (a full
// import path), or returns "" if it may.
func (r *rules) edge(modPath, from, imp string) string {
	for _, p := range r.stdlibOnly {
		if under(from, p) && !isStdlib(imp) {
			return p + " may import only the standard library"
		}
	}
	var to string
	switch {
	case imp == modPath:
		to = ""
	case strings.HasPrefix(imp, modPath+"/"):
		to = imp[len(modPath)+1:]
	default:
		return "" // outside the module: only stdlibOnly applies
	}
	for _, b := range r.bans {
		if under(from, b.from) && under(to, b.to) &&
			!slices.ContainsFunc(b.except, func(e string) bool { return under(to, e) }) {
			return fmt.Sprintf("%s must not import %s: %s", b.from, b.to, b.why)
		}
	}
	fromUnit, fromRank, ok1 := r.place(from)
	toUnit, toRank, ok2 := r.place(to)
	switch {
	case !ok1 || !ok2 || fromUnit == toUnit || toRank < fromRank:
		return "" // unplaced packages are reported once, by check
	case toRank == fromRank:
		return fmt.Sprintf("%s and %s are siblings on layer %d and must not import each other", fromUnit, toUnit, fromRank)
	default:
		return fmt.Sprintf("%s (layer %d) must not import %s from the higher layer %d", fromUnit, fromRank, toUnit, toRank)
	}
}

// findModuleRoot walks up from dir to the nearest directory with a go.mod
// and returns it with the module path.
func findModuleRoot(dir string) (root, modPath string, err error) {
	for d := dir; ; {
		mod, err := readModulePath(filepath.Join(d, "go.mod"))
		if err == nil {
			return d, mod, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", "", err
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", "", fmt.Errorf("no go.mod in %s or any parent", dir)
		}
		d = parent
	}
}

// readModulePath returns the module path declared in a go.mod file.
func readModulePath(gomod string) (string, error) {
	f, err := os.Open(gomod)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "//")
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
			mod := strings.TrimSpace(rest)
			if unq, err := strconv.Unquote(mod); err == nil {
				mod = unq
			}
			return mod, nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	return "", fmt.Errorf("%s: no module line", gomod)
}

// loadModule parses the imports of every non-test Go file under root.
// Nested modules are included when their path is modPath/<their directory>,
// the layout for connectors split into their own modules, and skipped
// otherwise.
func loadModule(root, modPath string) ([]fileImports, error) {
	var files []fileImports
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			return enterDir(root, modPath, rel, d.Name())
		}
		name := d.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") ||
			strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
			return nil
		}
		fi, ok, err := parseImports(fset, p)
		if err != nil || !ok {
			return err
		}
		fi.file = rel
		if fi.pkg = path.Dir(rel); fi.pkg == "." {
			fi.pkg = ""
		}
		files = append(files, fi)
		return nil
	})
	return files, err
}

// enterDir decides whether WalkDir descends into the directory rel.
func enterDir(root, modPath, rel, name string) error {
	if rel == "." {
		return nil
	}
	if name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
		return filepath.SkipDir
	}
	nested, err := readModulePath(filepath.Join(root, filepath.FromSlash(rel), "go.mod"))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case nested != modPath+"/"+rel:
		return filepath.SkipDir
	}
	return nil
}

// parseImports reads the imports of one file; ok is false for files
// excluded with //go:build ignore.
func parseImports(fset *token.FileSet, file string) (fileImports, bool, error) {
	f, err := parser.ParseFile(fset, file, nil, parser.ImportsOnly|parser.ParseComments)
	if err != nil {
		return fileImports{}, false, err
	}
	for _, cg := range f.Comments {
		if cg.Pos() >= f.Package {
			break
		}
		for _, c := range cg.List {
			if !constraint.IsGoBuild(c.Text) {
				continue
			}
			if expr, err := constraint.Parse(c.Text); err == nil && expr.String() == "ignore" {
				return fileImports{}, false, nil
			}
		}
	}
	var fi fileImports
	for _, spec := range f.Imports {
		p, err := strconv.Unquote(spec.Path.Value)
		if err != nil {
			return fileImports{}, false, fmt.Errorf("%s: bad import %s", file, spec.Path.Value)
		}
		fi.imports = append(fi.imports, importSpec{path: p, line: fset.Position(spec.Pos()).Line})
	}
	return fi, true, nil
}
