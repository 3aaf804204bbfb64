package drain

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// TestLeafIndexExact: a miner whose leaves are indexed returns what one
// without the index does, line for line, on the varied corpus (twice, so
// leaves are indexed) and with a cluster bound that keeps evicting.
func TestLeafIndexExact(t *testing.T) {
	lines := variedRaw(t)
	for _, tc := range []struct {
		maxClusters int
		simTh       float64
	}{{0, 0.4}, {300, 0.4}, {0, 0}, {0, 0.7}, {0, 1}} {
		maxClusters := tc.maxClusters
		cfg, _ := Preset("drain3")
		cfg.SimTh = tc.simTh
		if maxClusters > 0 {
			cfg.MaxClusters = maxClusters
		}
		a, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := New(cfg)
		b.indexed = false
		// One clock for both: the new-template budget refills with time,
		// and two miners reading a real clock would throttle different lines.
		a.clock = func() time.Duration { return 0 }
		b.clock = a.clock
		for pass := 0; pass < 2; pass++ {
			for i, l := range lines {
				ra, rb := a.Add("varied", l), b.Add("varied", l)
				if !sameResult(ra, rb) {
					t.Fatalf("MaxClusters %d SimTh %v, pass %d, line %d %q:\nindexed %+v\nplain   %+v", maxClusters, tc.simTh, pass, i, l, ra, rb)
				}
			}
		}
		if a.Stats().Scored != b.Stats().Scored {
			t.Errorf("MaxClusters %d: scored %d, plain %d", maxClusters, a.Stats().Scored, b.Stats().Scored)
		}
		indexed := map[*node]bool{}
		for _, p := range a.parts {
			walk(p, func(c *cluster) {
				if c.leaf.idx != nil {
					indexed[c.leaf] = true
				}
			})
		}
		built := len(indexed)
		t.Logf("MaxClusters %d SimTh %v: %d leaves indexed", maxClusters, tc.simTh, built)
		if built == 0 && tc.simTh == 0.4 {
			t.Error("no leaf indexed")
		}
	}
}

func TestMinScore(t *testing.T) {
	for n := 1; n <= 300; n++ {
		for _, th := range []float64{0, 0.1, 0.3, 0.4, 0.5, 0.6, 2.0 / 3, 0.7, 0.9, 0.99, 1} {
			want := 0
			for want <= n && float64(want)/float64(n) < th {
				want++
			}
			if got := minScore(n, th); got != want {
				t.Fatalf("minScore(%d, %v) = %d, want %d", n, th, got, want)
			}
		}
	}
}

// TestLeafIndexRandom: indexedBest against drain3Scorer.best on random
// leaves, ties and thresholds (0 included) exercised; leaves of up to 64
// clusters are counted in bit planes (bestSmall), of up to 64*planeWords
// in a set of planes per word (bestWide), larger ones per cluster.
func TestLeafIndexRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	words := []string{"a", "b", "ab", "ba", "abcdefgh", "abcdefgi", "hbcdefga", "x1", "x2", "abcdefghijklmnopq", "abcdefghXjklmnopq", wildcard}
	for iter := 0; iter < 20000; iter++ {
		n := 1 + rng.IntN(8)
		nd := &node{}
		sizes := []int{idxMin + rng.IntN(10), 58 + rng.IntN(13), 120 + rng.IntN(80), 64*planeWords - 5 + rng.IntN(10)}
		for k := sizes[rng.IntN(len(sizes))]; k > 0; k-- {
			c := &cluster{tokens: make([]string, n)}
			for i := range c.tokens {
				c.tokens[i] = words[rng.IntN(len(words))]
				if c.tokens[i] != wildcard {
					c.fixed++
				}
			}
			nd.clusters = append(nd.clusters, c)
		}
		simTh := []float64{0, 0.25, 0.4, 0.5, 1.0 / 3, 0.7, 1}[rng.IntN(7)]
		m := &Miner{cfg: Config{SimTh: simTh}}
		nd.seenVer, nd.seenN = nd.ver+1, idxAfter-1
		for line := 0; line < 20; line++ {
			toks := make([]string, n)
			for i := range toks {
				toks[i] = string([]byte(words[rng.IntN(len(words))]))
			}
			wc, wok := drain3Scorer{}.best(nd.clusters, toks, simTh)
			gc, gok, ok := m.indexedBest(nd, toks, m.sigsOf(toks))
			if !ok || wc != gc || wok != gok {
				t.Fatalf("n=%d simTh=%v toks=%q: got %p,%v (ok %v), want %p,%v", n, simTh, toks, gc, gok, ok, wc, wok)
			}
		}
	}
}

// TestCountPlanes: the bit-sliced counters against plain counts.
func TestCountPlanes(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for iter := 0; iter < 2000; iter++ {
		var cp countPlanes
		var want [64]int
		for range rng.IntN(255) {
			m := rng.Uint64() & rng.Uint64()
			cp.add(m)
			for k := range want {
				want[k] += int(m >> k & 1)
			}
		}
		v := rng.IntN(40)
		cs := rng.Uint64() | 1<<rng.IntN(64)
		top, most := cp.most(cs, 8)
		wantMost := 0
		for k := range want {
			if cs>>k&1 != 0 {
				wantMost = max(wantMost, want[k])
			}
		}
		if int(most) != wantMost {
			t.Fatalf("most %d, want %d", most, wantMost)
		}
		for k := range want {
			if got := top>>k&1 != 0; got != (cs>>k&1 != 0 && want[k] == wantMost) {
				t.Fatalf("cluster %d, count %d: in most %v", k, want[k], got)
			}
			if got := cp.count(k); int(got) != want[k] {
				t.Fatalf("cluster %d: count %d, want %d", k, got, want[k])
			}
			if got := cp.atLeast(v)>>k&1 != 0; got != (want[k] >= v) {
				t.Fatalf("cluster %d, count %d: atLeast(%d) says %v", k, want[k], v, got)
			}
		}
	}
}

// atLeast returns the clusters whose count is v or more (a reference for
// TestCountPlanes).
func (cp *countPlanes) atLeast(v int) uint64 {
	gt, eq := uint64(0), ^uint64(0)
	for p := len(cp) - 1; p >= 0; p-- {
		if v>>p&1 != 0 {
			eq &= cp[p]
		} else {
			gt |= eq & cp[p]
			eq &^= cp[p]
		}
	}
	return gt | eq
}

// count returns cluster k's count (a reference for TestCountPlanes).
func (cp *countPlanes) count(k int) int32 {
	var c int32
	for p := range cp {
		c |= int32(cp[p]>>k&1) << p
	}
	return c
}

// TestSameLong: sameLong against == on strings of 8 to 40 bytes that differ
// in one byte, anywhere, or in length.
func TestSameLong(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for range 20000 {
		b := make([]byte, 8+rng.IntN(33))
		for i := range b {
			b[i] = byte('a' + rng.IntN(3))
		}
		c := append([]byte(nil), b...)
		switch rng.IntN(3) {
		case 0:
			c[rng.IntN(len(c))] = byte('a' + rng.IntN(3))
		case 1:
			c = append(c, 'a')
		}
		x, y := string(b), string(c)
		if got := sameLong(x, y); got != (x == y) {
			t.Fatalf("sameLong(%q, %q) = %v", x, y, got)
		}
	}
}

// TestLeafIndexKept: a leaf's index outlives changes to other leaves of
// its partition (a new template elsewhere), and not one to its own.
func TestLeafIndexKept(t *testing.T) {
	lines := variedRaw(t)
	cfg, _ := Preset("drain3")
	m, _ := New(cfg)
	for pass := 0; pass < 2; pass++ {
		for _, l := range lines {
			m.Add("varied", l)
		}
	}
	p := m.parts["varied"]
	var leaves []*node
	walk(p, func(c *cluster) {
		if nd := c.leaf; nd.idx != nil && nd.idx.ver == nd.ver && (len(leaves) == 0 || leaves[len(leaves)-1] != nd) {
			leaves = append(leaves, nd)
		}
	})
	if len(leaves) == 0 {
		t.Fatal("no leaf indexed")
	}
	gen := p.gen
	if r := m.Add("varied", "a line of no template seen before in this corpus at all, none"); r.Kind != Created {
		t.Fatalf("%v, want a new template", r.Kind)
	}
	if p.gen == gen {
		t.Fatal("the partition's generation did not move")
	}
	for _, nd := range leaves {
		if nd.idx.ver != nd.ver {
			t.Errorf("leaf of %d clusters: index stale after a change elsewhere", len(nd.clusters))
		}
	}
	var c *cluster
	for _, nd := range leaves {
		for _, x := range nd.clusters {
			if c == nil && len(x.tokens) >= 5 && x.fixed >= 4 && x.tokens[len(x.tokens)-1] != wildcard {
				c = x
			}
		}
	}
	if c == nil {
		t.Fatal("no indexed template of 5 tokens or more, 4 of them constants, the last one too")
	}
	nd := c.leaf
	line := append([]string(nil), c.tokens...)
	line[len(line)-1] += "x" // a new value there: the template widens
	if r := m.Add("varied", strings.Join(line, " ")); r.Kind != Generalized || r.ClusterID != c.id {
		t.Fatalf("%+v, want cluster %d generalized", r, c.id)
	}
	if nd.idx.ver == nd.ver {
		t.Error("index still current after its leaf's template changed")
	}
}

// TestSigShortLong: a token of 8 bytes or more never shares a sig with a
// shorter one, so the tree, the index and bestSigs, which compare the
// strings only when the sigs are equal and the token is long, never take a
// crafted long token for a short constant. Each pair below had the same sig
// before bit 63 told them apart (found by solving w ^ rotl(w, 29) for the
// short token's word; that map is linear, so half of all words are
// reachable).
func TestSigShortLong(t *testing.T) {
	cfg, _ := Preset("drain3")
	for _, tc := range []struct{ short, long string }{
		{"07~", "YZ[)Kk+I"},
		{"0?|", "YZY)K++I"},
		{"0Sg", "YZB)KK(I"},
	} {
		if sig(tc.short) == sig(tc.long) {
			t.Errorf("sig(%q) == sig(%q)", tc.short, tc.long)
		}
		// Drain3 compares the tokens: one of six differs, so the line
		// joins the template and widens it. With a dozen other templates
		// in the leaf (a third of their tokens shared: apart) the leaf is
		// indexed (leafindex.go) and the index decides; both paths are
		// tried.
		for _, others := range []int{0, 12} {
			m, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			for i := range others {
				m.Add("p", fmt.Sprintf("alpha beta o%[1]d p%[1]d q%[1]d r%[1]d", i))
			}
			for range 10 {
				m.Add("p", "alpha beta c d e "+tc.short)
			}
			r := m.Add("p", "alpha beta c d e "+tc.long)
			if want := "alpha beta c d e <*>"; r.Kind != Generalized || r.Template != want {
				t.Errorf("%d other templates: %q after %q: %v %q, want generalized to %q", others, tc.long, tc.short, r.Kind, r.Template, want)
			}
		}
		// In the tree: a first token is a child's key, so the short one
		// takes a child of its own.
		m, _ := New(cfg)
		m.Add("p", tc.long+" beta c d e f")
		if r := m.Add("p", tc.short+" beta c d e f"); r.Kind != Created {
			t.Errorf("%q after %q first in the line: %v %q, want a new template", tc.short, tc.long, r.Kind, r.Template)
		}
	}
}
