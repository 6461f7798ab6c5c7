package file

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ReadCommitted returns the lines of the visible files in dir: regular
// files whose names do not start with "." or "_", so exactly the committed
// output of every sink writing there. Files are read in name order with
// runs of digits compared by value (part-0-2-0 before part-0-10-0), which
// for one sink is the order of subtask, checkpoint and part. The first line
// of every ".csv" file is its header and is skipped (CSV formats used with
// ReadCommitted must have a header). Lines are split at "\n", so a quoted
// CSV field holding a line break spans two lines. It is meant for tests,
// examples and tools.
func ReadCommitted(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("weir/file: %w", err)
	}
	var files []string
	for _, e := range entries {
		if e.Type().IsRegular() && !hidden(e.Name()) {
			files = append(files, e.Name())
		}
	}
	slices.SortFunc(files, naturalCompare)
	var lines []string
	for _, name := range files {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("weir/file: %w", err)
		}
		ls := strings.Split(string(data), "\n")
		if ls[len(ls)-1] == "" {
			ls = ls[:len(ls)-1]
		}
		if strings.HasSuffix(name, ".csv") && len(ls) > 0 {
			ls = ls[1:]
		}
		lines = append(lines, ls...)
	}
	return lines, nil
}

// naturalCompare orders strings with runs of ASCII digits compared by
// numeric value; equal values with different leading zeros, and everything
// else, compare bytewise.
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da == 0 || db == 0 {
			if a[0] != b[0] {
				return int(a[0]) - int(b[0])
			}
			a, b = a[1:], b[1:]
			continue
		}
		na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
		if c := len(na) - len(nb); c != 0 {
			return c
		}
		if c := strings.Compare(na, nb); c != 0 {
			return c
		}
		if c := strings.Compare(a[:da], b[:db]); c != 0 {
			return c
		}
		a, b = a[da:], b[db:]
	}
	return len(a) - len(b)
}

// digitRun is the length of the run of ASCII digits that starts s.
func digitRun(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}
