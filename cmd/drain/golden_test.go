package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const sharedDir = "../../../shared/data"

// TestGoldenCLI runs drain mine as loghub_eval.py does, with each dataset's
// benchmark settings as flags, and checks every output line against Drain3's
// final template.
func TestGoldenCLI(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(sharedDir, "loghub-2k", "datasets.json"))
	if err != nil {
		t.Skipf("shared data not found at %s (clone the repository beside shared/): %v", sharedDir, err)
	}
	var ds map[string]struct {
		Regex []string `json:"regex"`
		St    float64  `json:"st"`
		Depth int      `json:"depth"`
	}
	if err := json.Unmarshal(raw, &ds); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"HDFS", "Linux", "OpenStack"} {
		t.Run(name, func(t *testing.T) {
			d := ds[name]
			args := []string{"mine", "--preset", "drain3", "--sim-th", strconv.FormatFloat(d.St, 'g', -1, 64), "--depth", strconv.Itoa(d.Depth)}
			for _, re := range d.Regex {
				args = append(args, "--mask", "*="+re)
			}
			var in strings.Builder
			for _, c := range contents(t, name) {
				in.WriteString(c + "\n")
			}
			var out, errb bytes.Buffer
			if code := run(args, strings.NewReader(in.String()), &out, &errb); code != 0 {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			want := finals(t, name)
			if len(got) != len(want) {
				t.Fatalf("%d output lines, want %d", len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("line %d: %q, want %q", i+1, got[i], want[i])
				}
			}
		})
	}
}

func contents(t *testing.T, name string) []string {
	f, err := os.Open(filepath.Join(sharedDir, "loghub-2k", name, name+"_2k.log_structured_corrected.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := -1
	for i, h := range recs[0] {
		if strings.TrimPrefix(h, "\ufeff") == "Content" {
			col = i
		}
	}
	if col < 0 {
		t.Fatalf("%s: no Content column", name)
	}
	var out []string
	for _, r := range recs[1:] {
		out = append(out, r[col])
	}
	return out
}

func finals(t *testing.T, name string) []string {
	f, err := os.Open(filepath.Join(sharedDir, "drain3-golden", "benchmark", name+".jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var g struct {
			Final string `json:"final"`
		}
		if err := json.Unmarshal(sc.Bytes(), &g); err != nil {
			t.Fatal(err)
		}
		out = append(out, g.Final)
	}
	return out
}
