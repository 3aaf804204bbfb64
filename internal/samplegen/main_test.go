package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// committed is the folder of the committed samples, from this package.
const committed = "../../testdata/samples"

// TestCommittedSamples regenerates the samples with the default seed and
// checks that every committed sample and truth file is byte for byte what
// the generator writes, and that the generator writes no file that is not
// committed.
func TestCommittedSamples(t *testing.T) {
	dir := t.TempDir()
	if err := run(dir, defaultSeed); err != nil {
		t.Fatal(err)
	}
	written, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(written) == 0 {
		t.Fatal("the generator wrote nothing")
	}
	for _, e := range written {
		t.Run(e.Name(), func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(filepath.Join(committed, e.Name()))
			if err != nil {
				t.Fatalf("%v: the generator writes %s but it is not committed", err, e.Name())
			}
			if !bytes.Equal(got, want) {
				line := 1 + bytes.Count(want[:commonPrefix(got, want)], []byte("\n"))
				t.Errorf("%s/%s differs from the generator's output from line %d on (%d bytes committed, %d generated): regenerate with go run ./internal/samplegen -out testdata/samples",
					committed, e.Name(), line, len(got), len(want))
			}
		})
	}
}

// TestSeedChangesOutput guards the comparison above against a generator that
// ignores its seed: another seed must give other samples.
func TestSeedChangesOutput(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	if err := run(a, defaultSeed); err != nil {
		t.Fatal(err)
	}
	if err := run(b, defaultSeed+1); err != nil {
		t.Fatal(err)
	}
	x, err := os.ReadFile(filepath.Join(a, "syslog.log"))
	if err != nil {
		t.Fatal(err)
	}
	y, err := os.ReadFile(filepath.Join(b, "syslog.log"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(x, y) {
		t.Errorf("seeds %d and %d wrote the same syslog.log", defaultSeed, defaultSeed+1)
	}
}

// commonPrefix is the length of the longest common prefix of a and b.
func commonPrefix(a, b []byte) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}
