package drain

import (
	"bufio"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// The committed fixture is a small slice of Drain3's golden output (the first
// fixtureLines lines of a few Loghub-2k datasets, with the lines themselves),
// so that a clone without the shared data still checks that the drain3 preset
// reproduces Drain3 exactly. TestDrain3Golden checks every line of every
// dataset where the shared data is present.

// fixtureDir is the fixture's folder, from this package.
const fixtureDir = "../testdata/drain3-golden"

// fixtureLines is how many leading lines of a dataset the fixture keeps.
const fixtureLines = 60

// fixtureCases are the (settings, dataset) pairs the fixture holds: "seed" is
// the preset as it is, "benchmark" the Drain benchmark's masks, st and depth.
var fixtureCases = []struct{ folder, name string }{
	{"seed", "HDFS"}, {"seed", "OpenStack"}, {"seed", "Spark"}, {"seed", "OpenSSH"}, {"seed", "Mac"},
	{"benchmark", "HDFS"}, {"benchmark", "OpenSSH"}, {"benchmark", "Spark"},
}

var updateFixture = flag.Bool("update-fixture", false, "rewrite "+fixtureDir+" from the shared data")

// fixtureLine is one line of the fixture: the input line and Drain3's
// answer. Final is the cluster's template after the fixture's last line,
// not after the whole dataset.
type fixtureLine struct {
	Content string `json:"content"`
	goldenLine
}

// benchmarkSettings is a dataset's entry of the fixture's benchmark.json.
type benchmarkSettings struct {
	Regex []string `json:"regex"`
	St    float64  `json:"st"`
	Depth int      `json:"depth"`
}

// deriveFixture cuts a case out of the shared data. Drain3 mines one line at
// a time, so its output on the first n lines is the first n records of its
// output on the file; only the final templates differ, and a cluster's
// template after line n is the template recorded at its last line up to n.
func deriveFixture(tb testing.TB, folder, name string) []fixtureLine {
	tb.Helper()
	lines := loadContents(tb, name)
	golden := loadGolden(tb, folder, name)
	if len(lines) < fixtureLines || len(golden) < fixtureLines {
		tb.Fatalf("%s/%s: %d lines, %d golden records; the fixture needs %d", folder, name, len(lines), len(golden), fixtureLines)
	}
	out := make([]fixtureLine, fixtureLines)
	last := map[uint64]string{}
	for i := range out {
		out[i] = fixtureLine{Content: lines[i], goldenLine: golden[i]}
		last[golden[i].Cluster] = golden[i].Template
	}
	for i := range out {
		out[i].Final = last[out[i].Cluster]
	}
	return out
}

func fixturePath(folder, name string) string {
	return filepath.Join(fixtureDir, folder, name+".jsonl")
}

func loadFixture(tb testing.TB, folder, name string) []fixtureLine {
	tb.Helper()
	f, err := os.Open(fixturePath(folder, name))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []fixtureLine
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l fixtureLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			tb.Fatalf("%s line %d: %v", fixturePath(folder, name), len(out)+1, err)
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

func loadFixtureSettings(tb testing.TB) map[string]benchmarkSettings {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, "benchmark.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var s map[string]benchmarkSettings
	if err := json.Unmarshal(b, &s); err != nil {
		tb.Fatalf("%s/benchmark.json: %v", fixtureDir, err)
	}
	return s
}

// TestDrain3Fixture runs the drain3 preset over the committed fixture and
// checks, for every line, Drain3's change type, cluster id, template after
// the line and final template. It needs nothing outside the repository.
func TestDrain3Fixture(t *testing.T) {
	settings := loadFixtureSettings(t)
	for _, c := range fixtureCases {
		t.Run(c.folder+"/"+c.name, func(t *testing.T) {
			cfg, _ := Preset("drain3")
			if c.folder == "benchmark" {
				s, ok := settings[c.name]
				if !ok {
					t.Fatalf("benchmark.json has no %s", c.name)
				}
				cfg.SimTh, cfg.Depth = s.St, s.Depth
				for _, re := range s.Regex {
					cfg.Masks = append(cfg.Masks, Mask{Name: "*", Pattern: re})
				}
			}
			fix := loadFixture(t, c.folder, c.name)
			if len(fix) != fixtureLines {
				t.Fatalf("%d fixture lines, want %d", len(fix), fixtureLines)
			}
			m, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			ids := make([]uint64, len(fix))
			for i, f := range fix {
				r := m.Add(c.name, f.Content)
				ids[i] = r.ClusterID
				if r.Kind != changeKind[f.Change] || r.ClusterID != f.Cluster || r.Template != f.Template {
					t.Errorf("line %d %q:\n got  %s %d %q\n want %s %d %q", f.Line, f.Content, r.Kind, r.ClusterID, r.Template, f.Change, f.Cluster, f.Template)
				}
			}
			final := finalTemplates(m, c.name)
			for i, f := range fix {
				if got := final[ids[i]]; got != f.Final {
					t.Errorf("line %d: final template %q, want %q", f.Line, got, f.Final)
				}
			}
		})
	}
}

// TestDrain3FixtureFromShared checks that the committed fixture is what
// deriveFixture cuts from the shared data (or rewrites it with
// -update-fixture). It skips without the shared data.
func TestDrain3FixtureFromShared(t *testing.T) {
	needShared(t)
	settings := map[string]benchmarkSettings{}
	for _, c := range fixtureCases {
		want := deriveFixture(t, c.folder, c.name)
		if c.folder == "benchmark" {
			cfg := benchmarkConfig(t, c.name)
			s := benchmarkSettings{St: cfg.SimTh, Depth: cfg.Depth}
			for _, m := range cfg.Masks {
				s.Regex = append(s.Regex, m.Pattern)
			}
			settings[c.name] = s
		}
		if *updateFixture {
			writeFixture(t, c.folder, c.name, want)
			continue
		}
		got := loadFixture(t, c.folder, c.name)
		if len(got) != len(want) {
			t.Errorf("%s/%s: %d lines, want %d (rerun with -update-fixture)", c.folder, c.name, len(got), len(want))
			continue
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%s/%s line %d: %+v, want %+v (rerun with -update-fixture)", c.folder, c.name, i+1, got[i], want[i])
				break
			}
		}
	}
	b, err := json.MarshalIndent(settings, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	path := filepath.Join(fixtureDir, "benchmark.json")
	if *updateFixture {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if old, err := os.ReadFile(path); err != nil || string(old) != string(b) {
		t.Errorf("%s differs from the shared datasets.json (%v): rerun with -update-fixture", path, err)
	}
}

func writeFixture(tb testing.TB, folder, name string, lines []fixtureLine) {
	tb.Helper()
	path := fixturePath(folder, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, l := range lines {
		if err := enc.Encode(l); err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}
