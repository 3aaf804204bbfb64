package drain

import "testing"

// TestLeafIndexExact: a miner whose leaves are indexed returns what one
// without the index does, line for line, on the varied corpus (twice, so
// leaves are indexed) and with a cluster bound that keeps evicting.
func TestLeafIndexExact(t *testing.T) {
	lines := variedRaw(t)
	for _, maxClusters := range []int{0, 300} {
		cfg, _ := Preset("drain3")
		if maxClusters > 0 {
			cfg.MaxClusters = maxClusters
		}
		a, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := New(cfg)
		b.indexed = false
		for pass := 0; pass < 2; pass++ {
			for i, l := range lines {
				ra, rb := a.Add("varied", l), b.Add("varied", l)
				if ra != rb {
					t.Fatalf("MaxClusters %d, pass %d, line %d %q:\nindexed %+v\nplain   %+v", maxClusters, pass, i, l, ra, rb)
				}
			}
		}
		if a.Stats().Scored != b.Stats().Scored {
			t.Errorf("MaxClusters %d: scored %d, plain %d", maxClusters, a.Stats().Scored, b.Stats().Scored)
		}
		built := 0
		for _, p := range a.parts {
			walkNodes(p, func(nd *node) {
				if nd.idx != nil {
					built++
				}
			})
		}
		t.Logf("MaxClusters %d: %d leaves indexed", maxClusters, built)
		if built == 0 {
			t.Error("no leaf indexed")
		}
	}
}

func walkNodes(p *partition, fn func(*node)) {
	var rec func(*node)
	rec = func(nd *node) {
		fn(nd)
		for _, ch := range nd.children {
			rec(ch)
		}
	}
	for _, nd := range p.byLen {
		if nd != nil {
			rec(nd)
		}
	}
}
