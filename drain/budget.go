package drain

import "time"

// The new-template budget of a partition.
//
// Any pod can write anything, and every never-seen line makes a cluster,
// a row in PostgreSQL and an announcement. Each partition has a token
// bucket of Config.NewTemplateBurst templates, refilled at
// Config.NewTemplateRate a minute, and at most Config.MaxPartitionClusters
// live clusters. A line that would create a cluster past its budget is
// Throttled: its partition is flooding. Its lines still match and widen the
// templates it has; the first throttled line of each floodPeriod is reported
// as Flood, so the caller can say so once a period.
//
// The last tenth of the bucket is kept for lines that recur: a throttled
// line's token sequence is remembered (a fingerprint in a direct-mapped
// table of floodSeen slots), and when the same sequence comes again it may
// take one of the reserved templates. A flood of random lines never repeats
// a sequence and finds the reserve closed; a real event of a flooding pod,
// its variables masked, repeats its sequence and is still learned.

// floodPeriod is how often a flooding partition is reported (Flood).
const floodPeriod = time.Minute

// floodSeen is the size of a flooding partition's table of throttled
// sequences (4 bytes a slot): a line is learned if its sequence comes back
// before about floodSeen other throttled lines.
const floodSeen = 2048

// floodState is kept for a partition from its first throttled line.
type floodState struct {
	seen      [floodSeen]uint32 // fingerprints of throttled token sequences
	throttled uint64            // lines throttled since the last Flood
	reported  time.Duration     // clock of the last Flood
}

// floodState returns p's flood state, made at its first use (the first
// line that reached the reserve): partitions that never flood carry none.
func (p *partition) floodState() *floodState {
	if p.flood == nil {
		p.flood = &floodState{reported: -floodPeriod}
	}
	return p.flood
}

// admit decides whether the line tokenised in s, which found no cluster in
// p, may create one: Created if so (one template taken from the bucket),
// else Throttled, or Flood for the first throttled line of a period. On
// Flood, *n is the number of lines throttled since the previous one, this
// one included.
func (m *Miner) admit(p *partition, s *scratch, n *uint64) Kind {
	burst := float64(m.cfg.NewTemplateBurst)
	if burst == 0 && p.live < m.cfg.MaxPartitionClusters {
		return Created
	}
	now := m.clock()
	if p.live < m.cfg.MaxPartitionClusters {
		if d := now - p.refilled; d > 0 {
			was := m.flooding(p)
			p.budget = min(burst, p.budget+d.Minutes()*float64(m.cfg.NewTemplateRate))
			p.refilled = now
			if m.flooding(p) != was {
				// Its leaves are scored through a wider window now: what a
				// line of p matches may change (the line memo's entries).
				p.changed()
			}
		}
		reserve := float64(m.cfg.NewTemplateBurst / 10)
		if p.budget >= reserve+1 || m.recurs(p, s, p.budget >= 1) {
			p.budget--
			return Created
		}
	}
	return m.throttle(p, now, n)
}

// flooding reports whether p throttles its new lines now: its bucket is in
// the reserve, or it holds MaxPartitionClusters clusters.
func (m *Miner) flooding(p *partition) bool {
	return p.live >= m.cfg.MaxPartitionClusters ||
		m.cfg.NewTemplateBurst > 0 && p.budget < float64(m.cfg.NewTemplateBurst/10+1)
}

// throttle counts a throttled line of p and says whether to report it.
func (m *Miner) throttle(p *partition, now time.Duration, n *uint64) Kind {
	m.throttled++
	fs := p.floodState()
	fs.throttled++
	if now-fs.reported < floodPeriod {
		return Throttled
	}
	m.floods++
	*n, fs.throttled, fs.reported = fs.throttled, 0, now
	return Flood
}

// recurs reports whether p threw back the same token sequence before and
// the line may take a reserved template (take), and otherwise remembers it.
// A remembered sequence is forgotten when it is let through, or when
// another takes its slot.
func (m *Miner) recurs(p *partition, s *scratch, take bool) bool {
	h := fingerprint(s)
	slot := &p.floodState().seen[h%floodSeen]
	if *slot != h {
		*slot = h
		return false
	}
	if take {
		*slot = 0
	}
	return take
}

// fingerprint hashes the line's token sequence to 32 bits, never 0 (an
// empty slot), with 64-bit FNV-1a over each token and a space after it (the
// 32-bit FNV collided on short random lines). It reads the tokens, never
// the memo's key, so that a line's fingerprint does not depend on the memo.
// Only lines a flooding partition throws back are hashed.
func fingerprint(s *scratch) uint32 {
	h := uint64(14695981039346656037)
	for _, t := range s.tokList() {
		for i := 0; i < len(t); i++ {
			h = (h ^ uint64(t[i])) * 1099511628211
		}
		h = (h ^ ' ') * 1099511628211
	}
	return uint32(h>>32^h) | 1
}
