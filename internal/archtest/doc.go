// Package archtest holds tests that check the shape of the weir module
// rather than its behaviour. It has no API; run it with go test.
//
// TestImportLayers parses the imports of every non-test Go file in the
// module (go/parser with ImportsOnly, skipping testdata, vendor, hidden and
// underscore directories and //go:build ignore files) and checks each import
// edge against the layer table in layers_test.go:
//
//   - Every package of the module is placed by the longest matching pattern
//     in the table. A pattern "x" places x and all its subpackages in one
//     unit; "x/*" makes each child x/c (with its subpackages) a unit of its
//     own. A package that matches no pattern is reported, so a new top-level
//     package must be given a layer.
//   - A package may import packages of its own unit and packages at a lower
//     layer. Two units on the same layer are siblings and must not import
//     each other; nothing may import a package at a higher layer.
//   - Bans forbid particular edges the layering alone would allow (runtime
//     never imports windowing or connectors, sqlbridge never imports
//     runtime).
//   - Some packages may import only the standard library (timeapi).
//
// Test files are exempt: tests may import harnesses such as testkit from any
// layer. Packages listed in the table but not yet written simply match
// nothing. To change the architecture, edit the table, and ARCHITECTURE.md
// with it.
package archtest
