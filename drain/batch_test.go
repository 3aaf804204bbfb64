package drain

import (
	"strings"
	"sync"
	"testing"
)

// batchLines is a mixed input: several partitions, repeats, widening
// templates, NUL and invalid UTF-8, an over-long line.
func batchLines() (parts, lines []string) {
	base := []string{
		"user 42 logged in from 10.0.0.1",
		"user root logged in from host-7",
		"Connection from 10.244.1.3 closed after 120 ms",
		"password=hunter2 rejected for admin",
		"worker 3 finished job 17 in 1.204s",
		"bad \xff byte and a NUL \x00 here",
		"GET /api/v1/items/42 HTTP/1.1 200 512",
		"",
		strings.Repeat("x=1 ", 300),
	}
	for i := 0; i < 200; i++ {
		l := base[i%len(base)]
		if i%3 == 0 {
			l += " " + letters(i)
		}
		parts = append(parts, []string{"a", "b", "a/c"}[i%3])
		lines = append(lines, l)
	}
	return parts, lines
}

// AddBatch gives what Add gives line by line, for any group size.
func TestAddBatch(t *testing.T) {
	parts, lines := batchLines()
	for _, preset := range []string{"drain3", "default"} {
		for _, size := range []int{1, 7, batchMax, batchMax + 1, len(lines)} {
			cfg, _ := Preset(preset)
			cfg.MaxLineBytes = 1000
			one, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			batch, _ := New(cfg)
			out := make([]Result, len(lines))
			for i := 0; i < len(lines); i += size {
				j := min(i+size, len(lines))
				if n := batch.AddBatch(parts[i:j], lines[i:j], out[i:j]); n != j-i {
					t.Fatalf("%s/%d: AddBatch mined %d lines, want %d", preset, size, n, j-i)
				}
			}
			for i, l := range lines {
				if want := one.Add(parts[i], l); !sameResult(out[i], want) {
					t.Fatalf("%s/%d: line %d %q: AddBatch %+v, Add %+v", preset, size, i, l, out[i], want)
				}
			}
			if a, b := one.Stats(), batch.Stats(); a != b {
				t.Errorf("%s/%d: stats differ: Add %+v, AddBatch %+v", preset, size, a, b)
			}
		}
	}
}

// AddBatch mines only as many lines as all three slices hold.
func TestAddBatchShortSlices(t *testing.T) {
	m := newMiner(t, nil)
	out := make([]Result, 1)
	if n := m.AddBatch([]string{"p", "p"}, []string{"a b", "c d"}, out); n != 1 {
		t.Fatalf("mined %d lines, want 1", n)
	}
	if n := m.AddBatch(nil, []string{"a b"}, out); n != 0 {
		t.Fatalf("mined %d lines, want 0", n)
	}
	if st := m.Stats(); st.Lines != 1 {
		t.Fatalf("Lines = %d, want 1", st.Lines)
	}
}

func TestAddBatchAllocs(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocation counts (not under -short or -race)")
	}
	for _, preset := range []string{"drain3", "default"} {
		cfg, _ := Preset(preset)
		m, _ := New(cfg)
		parts := make([]string, 40)
		lines := make([]string, 40)
		for i := range lines {
			parts[i] = "p"
			lines[i] = "user " + letters(i%3) + " logged in from 10.0.0.1"
		}
		out := make([]Result, len(lines))
		m.AddBatch(parts, lines, out)
		if n := testing.AllocsPerRun(50, func() { m.AddBatch(parts, lines, out) }); n != 0 {
			t.Errorf("%s: known lines: %v allocs per batch, want 0", preset, n)
		}
	}
}

// Concurrent AddBatch and Add calls count every line once (run with -race).
func TestAddBatchConcurrent(t *testing.T) {
	parts, lines := batchLines()
	m := newMiner(t, nil)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := make([]Result, len(lines))
			for r := 0; r < 5; r++ {
				if g%2 == 0 {
					m.AddBatch(parts, lines, out)
				} else {
					for i, l := range lines {
						m.Add(parts[i], l)
					}
				}
			}
		}()
	}
	wg.Wait()
	if st := m.Stats(); st.Lines != uint64(4*5*len(lines)) {
		t.Fatalf("Lines = %d, want %d", st.Lines, 4*5*len(lines))
	}
}
