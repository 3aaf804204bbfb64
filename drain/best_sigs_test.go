package drain

import (
	"math/rand/v2"
	"testing"
)

// TestBestSigs: bestSigs picks what drain3Scorer.best picks, on random
// leaves whose tokens include the wildcard (in templates and lines) and long
// tokens that share their first and last eight bytes, at several thresholds.
func TestBestSigs(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	words := []string{wildcard, "a", "b", "ab", "12345678", "abcdefgh-1-abcdefgh", "abcdefgh-2-abcdefgh", "abcdefgh-22-abcdefgh", "zz"}
	p := &partition{name: "p", sigs: true}
	for round := 0; round < 20000; round++ {
		n := 1 + r.IntN(6)
		cands := make([]*cluster, 1+r.IntN(8))
		for k := range cands {
			toks := make([]string, n)
			for i := range toks {
				toks[i] = words[r.IntN(len(words))]
			}
			c := &cluster{part: p}
			c.setTemplate(toks)
			cands[k] = c
		}
		line := make([]string, n)
		for i := range line {
			line[i] = words[r.IntN(len(words))]
		}
		sigs := make([]uint64, n)
		for i, tok := range line {
			sigs[i] = sig(tok)
		}
		for _, th := range []float64{0, 0.4, 0.5, 1} {
			wc, wok := drain3Scorer{}.best(cands, line, th)
			gc, gok := bestSigs(cands, line, sigs, th)
			if gc != wc || gok != wok {
				t.Fatalf("line %q, threshold %v: bestSigs %p %v, best %p %v", line, th, gc, gok, wc, wok)
			}
		}
	}
}
