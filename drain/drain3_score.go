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
		// sim <= c.fixed: skip a candidate that cannot win on score or tie.
		if c.fixed < maxSim || c.fixed == maxSim && len(c.tokens)-c.fixed <= maxPC {
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
