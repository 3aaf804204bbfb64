package drain

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// floodLines returns n lines of 3 to 30 random lower-case words of 3 to 9
// letters, as a noisy or hostile workload writes: every line a pattern never
// seen before. The same seed gives the same lines.
func floodLines(seed uint64, n int) []string {
	r := rand.New(rand.NewPCG(seed, 17))
	out := make([]string, n)
	var b []byte
	for i := range out {
		b = b[:0]
		for w := 3 + r.IntN(28); w > 0; w-- {
			if len(b) > 0 {
				b = append(b, ' ')
			}
			for k := 3 + r.IntN(7); k > 0; k-- {
				b = append(b, byte('a'+r.IntN(26)))
			}
		}
		out[i] = string(b)
	}
	return out
}

// fakeClock replaces m's clock with one the test moves.
func fakeClock(m *Miner) *time.Duration {
	now := new(time.Duration)
	m.clock = func() time.Duration { return *now }
	return now
}

// maxWork is the most clusters one line may be scored against: its leaf's
// window and the cross-leaf search, and on a miss the sibling search
// (siblings.go) over the same two.
func maxWork(m *Miner) uint64 {
	if m.cross && m.cfg.SiblingValues > 0 {
		return uint64(2 * (m.cfg.MaxScored + maxCross))
	}
	if m.cross {
		return uint64(m.cfg.MaxScored + maxCross)
	}
	return uint64(m.cfg.MaxScored)
}

// TestFloodBoundedWork: a flood of never-seen lines in one partition, with
// the default budget and with the bucket off (leaves then grow to
// thousands of clusters), scores no line against more than
// MaxScored (+ maxCross) clusters, and the clusters stay within their bounds.
func TestFloodBoundedWork(t *testing.T) {
	lines := floodLines(1, 20000)
	for _, preset := range []string{"default", "drain3"} {
		for _, budget := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/budget=%v", preset, budget), func(t *testing.T) {
				cfg, _ := Preset(preset)
				cfg.MaxClusters = 8000
				if !budget {
					cfg.MaxScored = 64 // leaves of a few hundred: the window bites
					cfg.NewTemplateBurst = 0
					cfg.MaxPartitionClusters = 1 << 20 // evictions, not the cap, keep it to MaxClusters
				}
				m, _ := New(cfg)
				fakeClock(m)
				var worst, prev uint64
				for _, l := range lines {
					m.Add("flood", l)
					st := m.Stats()
					worst = max(worst, st.Scored-prev)
					prev = st.Scored
				}
				st := m.Stats()
				if worst > maxWork(m) {
					t.Errorf("a line was scored against %d clusters, bound %d", worst, maxWork(m))
				}
				if st.Clusters > cfg.MaxClusters {
					t.Errorf("%d clusters, Max_Clusters %d", st.Clusters, cfg.MaxClusters)
				}
				if budget {
					// The clock stands still: the bucket down to its reserve, never refilled.
					want := uint64(cfg.NewTemplateBurst - cfg.NewTemplateBurst/10)
					if st.Created != want || st.Throttled != st.Lines-st.Created-st.Known-st.Generalized || st.Floods != 1 {
						t.Errorf("created %d (want %d), throttled %d, floods %d (want 1): %+v", st.Created, want, st.Throttled, st.Floods, st)
					}
				} else if st.ScoreCapped == 0 || st.Throttled != 0 {
					t.Errorf("without the bucket: %d lines scored through a window (want some), %d throttled (want 0)", st.ScoreCapped, st.Throttled)
				}
				checkTree(t, m)
			})
		}
	}
}

// TestFloodNotice: the first throttled line of a partition is a Flood, the
// rest of the period Throttled; the next period's first is a Flood again,
// with the count of the lines throttled since. A Throttled line goes to no
// cluster.
func TestFloodNotice(t *testing.T) {
	cfg, _ := Preset("default")
	cfg.NewTemplateBurst, cfg.NewTemplateRate = 10, 0
	m, _ := New(cfg)
	now := fakeClock(m)
	lines := floodLines(2, 100)
	var kinds []Kind
	var sizes []uint64
	for i, l := range lines {
		if i == 50 {
			*now += floodPeriod
		}
		r := m.Add("p", l)
		if r.Kind == Flood || r.Kind == Throttled {
			if r.Partition != "p" || r.TemplateID != "" || r.Template != "" || r.ClusterID != 0 {
				t.Fatalf("line %d: throttled result names a cluster: %+v", i, r)
			}
		}
		if r.Kind == Flood {
			sizes = append(sizes, r.Size)
		}
		kinds = append(kinds, r.Kind)
	}
	// 9 created (the reserve of a bucket of 10 is 1), 41 throttled, then the
	// period turns over: 50 more throttled (the rate is 0).
	if kinds[8] != Created || kinds[9] != Flood || kinds[10] != Throttled || kinds[50] != Flood || kinds[51] != Throttled {
		t.Errorf("kinds %v", kinds)
	}
	if len(sizes) != 2 || sizes[0] != 1 || sizes[1] != 41 {
		t.Errorf("flood sizes %v, want [1 41]", sizes)
	}
	if st := m.Stats(); st.Floods != 2 || st.Throttled != 91 || st.Created != 9 {
		t.Errorf("stats %+v", st)
	}
}

// TestBudgetRefill: the bucket refills at NewTemplateRate a minute, up to
// NewTemplateBurst, and each partition has its own.
func TestBudgetRefill(t *testing.T) {
	cfg, _ := Preset("default")
	cfg.NewTemplateBurst, cfg.NewTemplateRate = 20, 60 // reserve 2
	m, _ := New(cfg)
	now := fakeClock(m)
	lines := floodLines(3, 400)
	next := 0
	add := func(part string, n int) (created int) {
		for range n {
			if m.Add(part, lines[next]).Kind == Created {
				created++
			}
			next++
		}
		return created
	}
	if got := add("a", 30); got != 18 {
		t.Errorf("first burst: %d created, want 18 (20 less the reserve of 2)", got)
	}
	if got := add("b", 5); got != 5 {
		t.Errorf("another partition: %d created, want 5", got)
	}
	*now += 5 * time.Second // 5 templates at 60 a minute
	if got := add("a", 30); got != 5 {
		t.Errorf("after 5 s: %d created, want 5", got)
	}
	*now += time.Hour // refilled to the burst, not beyond
	if got := add("a", 60); got != 18 {
		t.Errorf("after an hour: %d created, want 18", got)
	}
}

// TestFloodLearnsRecurringLines: in a flooding partition, a line whose
// masked token sequence comes back takes a reserved template (new values
// of its numbers and ids do not matter), and later lines of it are Known;
// never-repeating lines find the reserve closed.
func TestFloodLearnsRecurringLines(t *testing.T) {
	cfg, _ := Preset("default")
	cfg.NewTemplateBurst, cfg.NewTemplateRate = 100, 0 // reserve 10
	m, _ := New(cfg)
	fakeClock(m)
	flood := floodLines(4, 3000)
	for _, l := range flood[:1000] {
		m.Add("p", l)
	}
	if !m.flooding(m.parts["p"]) {
		t.Fatal("partition p is not flooding")
	}
	real := func(i int) string {
		return fmt.Sprintf("worker %d finished job %d in %d ms", i%7, 4400+i, 10+i%50)
	}
	var kinds []Kind
	for i := range 20 {
		for _, l := range flood[1000+100*i : 1100+100*i] {
			if k := m.Add("p", l).Kind; k != Throttled && k != Flood {
				t.Fatalf("flood line %q: %v, want throttled", l, k)
			}
		}
		kinds = append(kinds, m.Add("p", real(i)).Kind)
	}
	if kinds[0] != Throttled || kinds[1] != Created {
		t.Fatalf("the real line: %v, want throttled then created", kinds)
	}
	for i, k := range kinds[2:] {
		if k != Known {
			t.Errorf("real line %d: %v, want known", i+2, k)
		}
	}
	if st := m.Stats(); st.Created != 90+1 {
		t.Errorf("%d created, want the 90 of the flood's first lines and the real one", st.Created)
	}
}

// TestFloodSparesOtherPartitions: a partition mined beside a flood gets
// exactly the results it gets alone.
func TestFloodSparesOtherPartitions(t *testing.T) {
	var normal []string
	for i := range 3000 {
		switch i % 5 {
		case 0:
			normal = append(normal, fmt.Sprintf("Accepted password for user%d from 10.0.%d.%d port %d ssh2", i%13, i%256, i%91, 40000+i))
		case 1:
			normal = append(normal, fmt.Sprintf("GET /api/v1/orders/%d 200 %dms", i, i%300))
		case 2:
			normal = append(normal, fmt.Sprintf("pod shop-%x-%d restarted %d times", i*7919, i%5, i%9))
		case 3:
			normal = append(normal, fmt.Sprintf("Failed password for invalid user u%d from 192.168.1.%d", i%17, i%255))
		default:
			normal = append(normal, fmt.Sprintf("cache miss key=%d size=%d", i, i*3))
		}
	}
	flood := floodLines(5, 30000)
	for _, preset := range []string{"default", "drain3"} {
		cfg, _ := Preset(preset)
		alone, _ := New(cfg)
		mixed, _ := New(cfg)
		fakeClock(alone)
		fakeClock(mixed)
		for i, l := range normal {
			for _, f := range flood[10*i : 10*i+10] {
				mixed.Add("noisy", f)
			}
			a, b := alone.Add("ok", l), mixed.Add("ok", l)
			if !sameResult(a, b) {
				t.Fatalf("%s: line %d %q: alone %+v, beside the flood %+v", preset, i, l, a, b)
			}
		}
		if mixed.Stats().Throttled == 0 {
			t.Errorf("%s: the flood was never throttled", preset)
		}
	}
}

// TestMaxPartitionClusters: a partition holding MaxPartitionClusters
// clusters creates no more, even with the bucket off.
func TestMaxPartitionClusters(t *testing.T) {
	cfg, _ := Preset("drain3")
	cfg.NewTemplateBurst, cfg.MaxPartitionClusters = 0, 50
	m, _ := New(cfg)
	for _, l := range floodLines(6, 500) {
		m.Add("p", l)
	}
	m.Add("q", "another partition")
	if st := m.Stats(); st.Clusters != 51 || st.Throttled != 450 || st.Floods != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestBudgetSparesLoghub: the default bounds never bite on the 16 Loghub-2k
// sets, each in its partition or all in one, for either preset (their
// busiest leaf, 251 clusters, is scored through its window and still gives
// Drain3's results: TestDrain3Golden).
func TestBudgetSparesLoghub(t *testing.T) {
	needShared(t)
	for _, preset := range []string{"default", "drain3"} {
		cfg, _ := Preset(preset)
		each, _ := New(cfg)
		one, _ := New(cfg)
		for _, name := range allDatasets {
			for _, l := range loadContents(t, name) {
				each.Add(name, l)
				one.Add("all", l)
			}
		}
		for what, m := range map[string]*Miner{"a partition each": each, "one partition": one} {
			if st := m.Stats(); st.Throttled != 0 || st.Floods != 0 {
				t.Errorf("%s, %s: %d lines throttled, %d floods (of %d clusters)", preset, what, st.Throttled, st.Floods, st.Clusters)
			}
		}
	}
}
