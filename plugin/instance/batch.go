package instance

import (
	"time"

	"github.com/awoooi/fluent-bit-drain/drain"
)

// pendMax is how many records Flush collects before mining them with one
// Miner.AddBatch call. Decoding and mining take turns, and each turn
// begins with the branch predictors and caches trained on the other one:
// 512 records a turn instead of 64 took the flush benchmark from 245 to
// 236 ns a record (256: 240; 1024: no better). The batch's arrays take
// about 75 KB per concurrent flush.
const pendMax = 512

// pending holds the records of a chunk not mined yet: their partitions and
// lines alias the chunk and scratch.part, so they are mined before either
// changes.
type pending struct {
	n     int
	used  int // the most entries any batch of this chunk filled
	parts [pendMax]string
	lines [pendMax]string
	sec   [pendMax]int64
	nsec  [pendMax]uint32
	res   [pendMax]drain.Result
}

// push adds a record and reports whether the batch is full.
func (p *pending) push(part, line string, sec int64, nsec uint32) bool {
	p.parts[p.n], p.lines[p.n], p.sec[p.n], p.nsec[p.n] = part, line, sec, nsec
	p.n++
	return p.n == pendMax
}

// mine mines the pending records in order, counts their hits and hands
// new or widened templates to the sink.
func (in *Instance) mine(s *scratch) {
	p := &s.pend
	if p.n == 0 {
		return
	}
	n := in.miner.AddBatch(p.parts[:p.n], p.lines[:p.n], p.res[:p.n])
	for i := 0; i < n; i++ {
		res := &p.res[i]
		if res.Kind == drain.Known {
			s.hits.add(res.TemplateID)
			continue
		}
		if s.now.IsZero() {
			s.now = time.Now()
		}
		switch res.Kind {
		case drain.Created, drain.Generalized:
			s.hits.add(res.TemplateID)
			in.template(*res, s.src, p.lines[i], eventTime(p.sec[i], p.nsec[i], s.now))
		case drain.Flood:
			in.flood(*res, s.src, p.lines[i], s.now)
		}
	}
	// The next batch overwrites these entries (AddBatch writes every
	// field of a Result): they are cleared once, at the end of the chunk.
	p.used = max(p.used, p.n)
	p.n = 0
}

// release drops the batch's references to the chunk and the miner's
// strings, so a pooled scratch retains neither.
func (p *pending) release() {
	clear(p.parts[:p.used])
	clear(p.lines[:p.used])
	clear(p.res[:p.used])
	p.used = 0
}
