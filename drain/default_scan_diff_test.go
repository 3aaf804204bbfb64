package drain

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// scanVsOld scans line with the scanner and with its frozen reference
// (default_scan_old_test.go), as tokens does and with plainRun off, and
// fails on any difference in the output, the special flag or the token
// boundaries.
func scanVsOld(t *testing.T, line string) {
	t.Helper()
	var sc scanState
	var old scanStateOld
	for _, noRuns := range []bool{false, true} {
		for _, in := range []string{line, line[kernelStampEnd(line):]} {
			sc.reset(make([]byte, 0, 64))
			old.reset(make([]byte, 0, 64))
			sc.noRuns, old.noRuns = noRuns, noRuns
			special, specialOld := sc.scan(in), old.scan(in)
			if string(sc.dst) != string(old.dst) || special != specialOld || sc.spill != old.spill ||
				!slices.Equal(sc.spaces[:sc.nsp], old.spaces[:old.nsp]) {
				t.Fatalf("scan(%q), runs off %v:\n new %q special %v spaces %v spill %v\n old %q special %v spaces %v spill %v",
					in, noRuns, sc.dst, special, sc.spaces[:sc.nsp], sc.spill, old.dst, specialOld, old.spaces[:old.nsp], old.spill)
			}
		}
	}
}

// diffLines returns the raw lines of the 16 Loghub-2k sets (when present),
// and every line of the files under drain/testdata and the repository's
// testdata (the samples, the golden files, the fuzz corpora, also unquoted).
func diffLines(t *testing.T) []string {
	var lines []string
	if _, err := os.Stat(filepath.Join(sharedDir, "loghub-2k")); err == nil {
		lines = append(lines, variedRaw(t)...)
	}
	for _, dir := range []string{"testdata", filepath.Join("..", "testdata")} {
		err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for _, l := range strings.Split(string(data), "\n") {
				lines = append(lines, l)
				if s, ok := strings.CutPrefix(l, "string("); ok {
					if u, err := strconv.Unquote(strings.TrimSuffix(s, ")")); err == nil {
						lines = append(lines, u)
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return lines
}

// TestScanDifferential: the scanner writes what main's wrote, byte for byte,
// on every line of the corpora.
func TestScanDifferential(t *testing.T) {
	lines := diffLines(t)
	if len(lines) < 1000 {
		t.Fatalf("only %d lines", len(lines))
	}
	for _, l := range lines {
		scanVsOld(t, l)
	}
}

// FuzzScanDifferential: the same on arbitrary lines.
func FuzzScanDifferential(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	for _, s := range []string{
		"http://x:80/", "12:34:56.7 1.2.3.4:5 fe80::1 2016-01-02T15:04:05Z", "a1.b:8080 c_d:1 ::1 1:2", "Jan  2 15:04:05 x",
		"a_b://x a#b:1 1#2 x_1:80 deadbeef1. 9:07:00, ab12:cd:ef 12a:b 2016-01-02x", "blk_-42 job_1_2 1.2.3.4/24 a@b c@d.e",
		"", "()", "a () b", "10.0.0.1:80", "/x HTTP/1.1", "Fri Jun 17 07:07:00 2005",
		"password=", "Bearer", "eyJ..", "a@b.c", "2016-01-02T", "node-", "x.....1", "::", "\xff\x00",
		"[<0211476a>] f+0x1/0x2", "I1125 17:40:07.1 x", "2026/11/25 25/Nov/2026", "+0x1", "a+0x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		scanVsOld(t, line)
	})
}
