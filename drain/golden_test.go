package drain

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sharedDir is the shared data folder beside the repository (CI clones the
// repository next to it).
const sharedDir = "../../shared/data"

var datasetNames = []string{"Apache", "BGL", "HDFS", "HPC", "Hadoop", "Linux", "OpenStack", "Spark"}

// allDatasets are the 16 Loghub-2k sets with Drain3's golden outputs; the
// Drain3-exactness test runs on all of them, the default preset's tuned
// tests on datasetNames.
var allDatasets = []string{"Android", "Apache", "BGL", "HDFS", "HPC", "Hadoop", "HealthApp", "Linux",
	"Mac", "OpenSSH", "OpenStack", "Proxifier", "Spark", "Thunderbird", "Windows", "Zookeeper"}

func needShared(tb testing.TB) {
	tb.Helper()
	if _, err := os.Stat(filepath.Join(sharedDir, "drain3-golden")); err != nil {
		tb.Skipf("shared data not found at %s (clone the repository beside shared/): %v", sharedDir, err)
	}
}

// loadContents returns the Content column of a dataset's corrected CSV.
func loadContents(tb testing.TB, name string) []string {
	tb.Helper()
	f, err := os.Open(filepath.Join(sharedDir, "loghub-2k", name, name+"_2k.log_structured_corrected.csv"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReader(f))
	head, err := r.Read()
	if err != nil {
		tb.Fatal(err)
	}
	col := -1
	for i, h := range head {
		if strings.TrimPrefix(h, "\ufeff") == "Content" {
			col = i
		}
	}
	if col < 0 {
		tb.Fatalf("%s: no Content column in %v", name, head)
	}
	var out []string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, rec[col])
	}
	return out
}

type goldenLine struct {
	Line     int    `json:"line"`
	Change   string `json:"change"`
	Cluster  uint64 `json:"cluster"`
	Template string `json:"template"`
	Final    string `json:"final"`
}

func loadGolden(tb testing.TB, folder, name string) []goldenLine {
	tb.Helper()
	f, err := os.Open(filepath.Join(sharedDir, "drain3-golden", folder, name+".jsonl"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []goldenLine
	dec := json.NewDecoder(f)
	for {
		var g goldenLine
		if err := dec.Decode(&g); err == io.EOF {
			break
		} else if err != nil {
			tb.Fatal(err)
		}
		out = append(out, g)
	}
	return out
}

// benchmarkConfig is the Drain benchmark's settings of a dataset as Drain3
// masking instructions (mask "*"), its st and depth.
func benchmarkConfig(tb testing.TB, name string) Config {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(sharedDir, "loghub-2k", "datasets.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var ds map[string]struct {
		Regex []string `json:"regex"`
		St    float64  `json:"st"`
		Depth int      `json:"depth"`
	}
	if err := json.Unmarshal(b, &ds); err != nil {
		tb.Fatal(err)
	}
	d, ok := ds[name]
	if !ok {
		tb.Fatalf("datasets.json has no %s", name)
	}
	cfg, _ := Preset("drain3")
	cfg.SimTh, cfg.Depth = d.St, d.Depth
	for _, re := range d.Regex {
		cfg.Masks = append(cfg.Masks, Mask{Name: "*", Pattern: re})
	}
	return cfg
}

var changeKind = map[string]Kind{"cluster_created": Created, "cluster_template_changed": Generalized, "none": Known}

// TestDrain3Golden checks every line of every dataset against Drain3's own
// output: change type, cluster id, template after the line, final template.
func TestDrain3Golden(t *testing.T) {
	needShared(t)
	for _, folder := range []string{"seed", "benchmark"} {
		for _, name := range allDatasets {
			t.Run(folder+"/"+name, func(t *testing.T) {
				cfg, _ := Preset("drain3")
				if folder == "benchmark" {
					cfg = benchmarkConfig(t, name)
				}
				lines := loadContents(t, name)
				golden := loadGolden(t, folder, name)
				if len(lines) != len(golden) {
					t.Fatalf("%d lines but %d golden records", len(lines), len(golden))
				}
				m, err := New(cfg)
				if err != nil {
					t.Fatal(err)
				}
				ids := make([]uint64, len(lines))
				bad := 0
				for i, line := range lines {
					r := m.Add(name, line)
					g := golden[i]
					ids[i] = r.ClusterID
					if r.Kind != changeKind[g.Change] || r.ClusterID != g.Cluster || r.Template != g.Template {
						if bad++; bad <= 5 {
							t.Errorf("line %d %q:\n got  %s %d %q\n want %s %d %q", g.Line, line, r.Kind, r.ClusterID, r.Template, g.Change, g.Cluster, g.Template)
						}
					}
				}
				final := finalTemplates(m, name)
				for i, g := range golden {
					if got := final[ids[i]]; got != g.Final {
						if bad++; bad <= 10 {
							t.Errorf("line %d: final template %q, want %q", g.Line, got, g.Final)
						}
					}
				}
				if bad > 0 {
					t.Errorf("%d mismatches", bad)
				}
			})
		}
	}
}

// finalTemplates maps cluster id → template for one partition.
func finalTemplates(m *Miner, partition string) map[uint64]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[uint64]string{}
	if p := m.parts[partition]; p != nil {
		walk(p, func(c *cluster) { out[c.id] = c.template })
	}
	return out
}

func ExampleMiner_Add() {
	cfg, _ := Preset("drain3")
	m, _ := New(cfg)
	for _, line := range []string{
		"Connection from 10.0.0.1 closed after 12 ms",
		"Connection from 10.0.0.2 closed after 7 ms",
		"Connection from 10.0.0.2 closed after 9 ms",
	} {
		r := m.Add("app", line)
		fmt.Println(r.Kind, r.ClusterID, r.Template)
	}
	// Output:
	// new 1 Connection from 10.0.0.1 closed after 12 ms
	// generalized 1 Connection from <*> closed after <*> ms
	// known 1 Connection from <*> closed after <*> ms
}
