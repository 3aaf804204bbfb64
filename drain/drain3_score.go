package drain

// The "drain3" preset's scorer: Drain3's fast_match and create_template.

// drain3Scorer is Drain3's fast_match / get_seq_distance / create_template.
type drain3Scorer struct{}

// best compares integer counts: all candidates share one length n, so
// sim/n > max/n exactly when sim > max, and the threshold check divides once,
// in float64 as Drain3 does (cur_sim = float(sim) / len).
func (drain3Scorer) best(cands []*cluster, toks []string, simTh float64) (*cluster, bool) {
	var bestC *cluster
	maxSim, maxPC := -1, -1
	for _, c := range cands {
		if outclassed(c, maxSim, maxPC) {
			continue
		}
		tmpl := c.tokens
		line := toks[:len(tmpl)]
		sim, pc := 0, 0
		for i, t := range tmpl {
			if t == wildcard {
				pc++
			} else if t == line[i] {
				sim++
			}
		}
		if sim > maxSim || sim == maxSim && pc > maxPC {
			maxSim, maxPC, bestC = sim, pc, c
		}
	}
	if bestC != nil && float64(maxSim)/float64(len(toks)) >= simTh {
		// Every non-wildcard token equal: merging would change nothing.
		return bestC, maxSim+maxPC == len(toks)
	}
	return nil, false
}

// bestSigs is drain3Scorer.best for a line whose tokens' sigs are known:
// a template token counts as a match when its sig is the line token's and,
// from 8 bytes on (where sig is not injective), the strings are equal, so
// that most compares are of two words, not a call to compare the bytes.
// The wildcard, whose template tokens count apart (pc, from c.fixed), is
// no match even against a line token "<*>".
func bestSigs(cands []*cluster, toks []string, sigs []uint64, simTh float64) (*cluster, bool) {
	bestC, maxSim, maxPC := (*cluster)(nil), -1, -1
	for _, c := range cands {
		tmpl := c.tokens
		if outclassed(c, maxSim, maxPC) {
			continue
		}
		line, hs, cs := toks[:len(tmpl)], sigs[:len(tmpl)], c.sigs[:len(tmpl)]
		sim := 0
		for i, h := range cs {
			if h == hs[i] && h != wildSig && (len(tmpl[i]) < 8 || sameLong(tmpl[i], line[i])) {
				sim++
			}
		}
		if pc := len(tmpl) - c.fixed; sim > maxSim || sim == maxSim && pc > maxPC {
			maxSim, maxPC, bestC = sim, pc, c
		}
	}
	if bestC != nil && float64(maxSim)/float64(len(toks)) >= simTh {
		return bestC, maxSim+maxPC == len(toks)
	}
	return nil, false
}

// outclassed reports whether c can neither beat nor tie the best so far
// (maxSim matches, maxPC wildcards): its matches are at most c.fixed.
func outclassed(c *cluster, maxSim, maxPC int) bool {
	return c.fixed < maxSim || c.fixed == maxSim && len(c.tokens)-c.fixed <= maxPC
}

// wildSig is sig(wildcard).
var wildSig = sig(wildcard)

func (drain3Scorer) merge(tmpl, toks []string) bool {
	changed := false
	for i, t := range tmpl {
		if t != toks[i] && t != wildcard {
			tmpl[i] = wildcard
			changed = true
		}
	}
	return changed
}
