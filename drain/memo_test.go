package drain

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// memoLines is a stream that exercises every way a memo entry goes stale:
// lines that repeat (hits), lines that widen a template others already
// matched, lines of new templates, and (with the small bounds below)
// evicted clusters and partitions. The node's own samples and, when the
// shared data is there, the Loghub datasets are mixed in.
func memoLines(t *testing.T) (parts, lines []string) {
	add := func(p, l string) { parts, lines = append(parts, p), append(lines, l) }
	for _, name := range []string{"syslog.log", "syslog-rfc3339.log"} {
		f, err := os.Open(filepath.Join("..", "testdata", "samples", name))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for i := 0; sc.Scan(); i++ {
			add(fmt.Sprintf("%s/%d", name, i%3), sc.Text())
		}
		f.Close()
	}
	for i := range 6000 {
		p := fmt.Sprintf("gen/%d", i%5)
		switch i % 6 {
		case 0, 1:
			add(p, fmt.Sprintf("request %d served in %d ms", i, i%97))
		case 2:
			add(p, fmt.Sprintf("worker w%d state %s", i%4, []string{"idle", "busy", "idle", "stopping"}[i/6%4]))
		case 3:
			add(p, fmt.Sprintf("event kind%d from host-%d", i/60, i%7))
		case 4:
			add(p, fmt.Sprintf("user u%d did %s", i%3, []string{"login", "logout"}[i/600%2]))
		default:
			add(p, "static line, always the same")
		}
	}
	// Short lines of a small vocabulary of words and key=value pairs: clusters
	// of one leaf widen into each other's lines, which a stale entry would
	// send to the wrong cluster.
	// Capitalised words stay events of their own (no sibling merge), so
	// one leaf holds many templates, past a small MaxScored.
	names := []string{"Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel"}
	for i := range 3000 {
		w := names[(i*i/7+i/50)%len(names)]
		if i%40 == 39 {
			w = fmt.Sprintf("Zulu%c", 'a'+i/40%26)
		}
		add("w", "job state is "+w)
	}
	vocab := []string{"op", "op", "get", "k=a", "k=b", "v=1", "v=x", "id=7", "x", "y", "done", "<*>"}
	r := uint32(1)
	for i := range 20000 {
		n := 2 + i%4
		l := ""
		for k := range n {
			r = r*1664525 + 1013904223
			if k > 0 {
				l += " "
			}
			l += vocab[int(r>>8)%len(vocab)]
		}
		add(fmt.Sprintf("v/%d", i%2), l)
	}
	if _, err := os.Stat(filepath.Join(sharedDir, "loghub-2k")); err == nil {
		for _, name := range datasetNames {
			for _, l := range loadContents(t, name) {
				add(name, l)
			}
		}
	}
	return parts, lines
}

// TestMemoChangesNothing mines the same stream with and without the line
// memo, through Add and AddBatch, under tight and default bounds: every
// result and the final counters and snapshot must be equal, and the memo
// must have answered a good share of the lines.
func TestMemoChangesNothing(t *testing.T) {
	parts, lines := memoLines(t)
	for _, tc := range []struct {
		name string
		edit func(*Config)
	}{
		{"default bounds", nil},
		{"tight bounds", func(c *Config) { c.MaxClusters, c.MaxPartitions = 40, 4 }},
		// Leaves past MaxScored are scored through their hot list, which a
		// hit must keep as the tree step would.
		{"windowed leaves", func(c *Config) { c.MaxScored = 4 }},
		// Partitions that flood score their leaves through the small window
		// and stop flooding as their budget refills (a step of the clock
		// below per admission), with no line of theirs changing the tree.
		{"flooding", func(c *Config) { c.NewTemplateBurst, c.NewTemplateRate = 20, 30 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			edit := func(c *Config) {
				*c, _ = Preset("default")
				if tc.edit != nil {
					tc.edit(c)
				}
			}
			// Each miner's clock steps when asked (admissions), so that the
			// budgets refill alike whatever the test's speed.
			stepped := func(m *Miner) *Miner {
				var now time.Duration
				m.clock = func() time.Duration { now += 100 * time.Millisecond; return now }
				return m
			}
			on, off := stepped(newMiner(t, edit)), stepped(newMiner(t, edit))
			off.memo.tab = nil
			batch := make([]Result, len(lines))
			for i := range lines {
				a, b := on.Add(parts[i], lines[i]), off.Add(parts[i], lines[i])
				if !sameResult(a, b) {
					t.Fatalf("line %d %q: with the memo %+v, without %+v", i, lines[i], a, b)
				}
			}
			on2 := stepped(newMiner(t, edit))
			on2.AddBatch(parts, lines, batch)
			off2 := stepped(newMiner(t, edit))
			off2.memo.tab = nil
			for i := range lines {
				if b := off2.Add(parts[i], lines[i]); !sameResult(batch[i], b) {
					t.Fatalf("AddBatch line %d %q: with the memo %+v, without %+v", i, lines[i], batch[i], b)
				}
			}
			a, b := on.Stats(), off.Stats()
			if a.MemoHits != on.memoHits || b.MemoHits != 0 {
				t.Fatalf("Stats.MemoHits %d and %d, want %d and 0", a.MemoHits, b.MemoHits, on.memoHits)
			}
			// Lines the memo answers are never scored, through a window or not.
			if a.MemoHits, a.Scored, b.Scored, a.ScoreCapped, b.ScoreCapped = 0, 0, 0, 0, 0; a != b {
				t.Fatalf("stats with the memo %+v, without %+v", a, b)
			}
			if a, b := snapshotString(t, on), snapshotString(t, off); a != b {
				t.Fatal("snapshots differ with and without the memo")
			}
			// The hot lists are not in a snapshot, but decide what a leaf
			// past its bound is scored against.
			if a, b := hotLists(on), hotLists(off); a != b {
				t.Fatalf("hot lists differ with and without the memo:\n%s\nwithout:\n%s", a, b)
			}
			if on.memoHits < uint64(len(lines))/5 {
				t.Fatalf("the memo answered %d of %d lines; expected at least a fifth", on.memoHits, len(lines))
			}
			if off.memoHits != 0 {
				t.Fatalf("the memo is off but answered %d lines", off.memoHits)
			}
			t.Logf("%d lines, %d answered by the memo", len(lines), on.memoHits)
		})
	}
}

// TestMemoOffForDrain3: the drain3 preset keeps its tokens raw, so lines
// rarely repeat; it has no memo to pay for.
func TestMemoOffForDrain3(t *testing.T) {
	m := newMiner(t, func(c *Config) { *c, _ = Preset("drain3") })
	for range 3 {
		m.Add("p", "same line 1")
	}
	if m.memo.tab != nil || m.memoHits != 0 {
		t.Fatalf("drain3 preset: memo on (%v) or used (%d hits)", m.memo.tab != nil, m.memoHits)
	}
}

func snapshotString(t *testing.T, m *Miner) string {
	t.Helper()
	var b bytes.Buffer
	if err := m.Snapshot(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// hotLists lists the hot clusters of every leaf of m, in order, by id.
func hotLists(m *Miner) string {
	var rows []string
	for name, p := range m.parts {
		seen := map[*node]bool{}
		walk(p, func(c *cluster) {
			if nd := c.leaf; nd != nil && !seen[nd] && len(nd.hot) > 0 {
				seen[nd] = true
				row := fmt.Sprintf("%s/%d/%d:", name, len(c.tokens), nd.clusters[0].id)
				for _, h := range nd.hot {
					row += fmt.Sprintf(" %d", h.id)
				}
				rows = append(rows, row)
			}
		})
	}
	slices.Sort(rows)
	return strings.Join(rows, "\n")
}

// TestFloodEndStalesMemo: a partition's leaves are scored through a
// smaller window while it floods, so the refill that ends (or starts) a
// flood makes its memo entries stale, and one that changes neither keeps
// them.
func TestFloodEndStalesMemo(t *testing.T) {
	m := newMiner(t, func(c *Config) {
		*c, _ = Preset("default")
		c.NewTemplateBurst, c.NewTemplateRate = 20, 60
	})
	var now time.Duration
	m.clock = func() time.Duration { return now }
	p := m.partition("p")
	s, _ := m.tokens("a line", true)
	defer m.release(s)
	var n uint64
	for _, tc := range []struct {
		name   string
		budget float64
		step   time.Duration
		stale  bool
	}{
		{"flooding, refilled out of it", 0, time.Minute, true},
		{"flooding, still flooding", 0, time.Second, false},
		{"not flooding, still not", 10, time.Second, false},
	} {
		p.budget, p.refilled = tc.budget, now
		now += tc.step
		was := m.flooding(p)
		gen := p.gen
		m.admit(p, s, &n)
		if stale := p.gen != gen; stale != tc.stale {
			t.Errorf("%s: flooding %v, then %v after the admission; generation moved %v, want %v",
				tc.name, was, m.flooding(p), stale, tc.stale)
		}
	}
}

// TestMemoHash pins lineMemo.hash of lines of 8 bytes and more to its
// word-at-a-time definition at every length around the word boundaries:
// the slots, and so the hits, of a memo depend on it.
func TestMemoHash(t *testing.T) {
	ref := func(line string) uint64 {
		n := len(line)
		h := memoSeed ^ uint64(n)*0x9e3779b97f4a7c15
		for i := 0; i+8 <= n; i += 8 {
			h = (h ^ binary.LittleEndian.Uint64([]byte(line[i:]))) * 0x9e3779b97f4a7c15
			h ^= h >> 29
		}
		return mix(h ^ binary.LittleEndian.Uint64([]byte(line[n-8:])))
	}
	var lm lineMemo
	text := "GET <*> HTTP/1.1 <*> <*> from 10.0.0.1 user=admin session <*> took <*> ms and then some more words"
	for n := 8; n <= len(text); n++ {
		if got, want := lm.hash(text[:n]), ref(text[:n]); got != want {
			t.Errorf("hash of %d bytes %q: %#x, want %#x", n, text[:n], got, want)
		}
	}
}
