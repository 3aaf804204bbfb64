package fleet

import (
	"fmt"
	"time"
)

// Targets are issue 14's, for a fleet with default settings.
type Targets struct {
	MaxConns   int           // PostgreSQL connections at any moment (100)
	TmplDelay  time.Duration // p99 of a new template to PostgreSQL and Redis (5 s)
	HitLag     time.Duration // hit counts in PostgreSQL behind the generator (2 m)
	Rollout    time.Duration // a rollout of every node (60 s, plus the Close of the last)
	WarmStart  time.Duration // every warm start done (2 m)
	LockGrowth float64       // last interval's lock waits against the mean of the others
}

// DefaultTargets are the numbers.
var DefaultTargets = Targets{MaxConns: 100, TmplDelay: 5 * time.Second, HitLag: 2 * time.Minute,
	Rollout: 70 * time.Second, WarmStart: 2 * time.Minute, LockGrowth: 2}

// Check lists the targets the run missed; none means it met them all.
func (r *Report) Check(t Targets) []string {
	var miss []string
	f := func(format string, args ...any) { miss = append(miss, fmt.Sprintf(format, args...)) }
	if r.PGHits != r.Sent || r.PGMismatch != 0 {
		f("counts lost or doubled in PostgreSQL: %d hits for %d sent, %d templates off", r.PGHits, r.Sent, r.PGMismatch)
	}
	if r.Options.RedisAddr != "" && (r.RedisHits != r.Sent || r.RedisMismatch != 0) {
		f("counts lost or doubled in Redis: %d hits for %d sent, %d templates off", r.RedisHits, r.Sent, r.RedisMismatch)
	}
	if r.Lost != 0 || r.Dropped != 0 {
		f("sinks lost %d and dropped %d entries", r.Lost, r.Dropped)
	}
	if r.CreatedTwice > 0 {
		f("%d templates announced again", r.CreatedTwice)
	}
	if r.ConnsMax > t.MaxConns {
		f("%d PostgreSQL connections at once (target %d)", r.ConnsMax, t.MaxConns)
	}
	if r.TmplP99 > t.TmplDelay {
		f("new templates p99 %v to PostgreSQL (target %v)", r.TmplP99, t.TmplDelay)
	}
	if r.Options.RedisAddr != "" && r.RedisP99 > t.TmplDelay {
		f("new templates p99 %v to Redis (target %v)", r.RedisP99, t.TmplDelay)
	}
	if r.HitLagMax > t.HitLag {
		f("hit counts up to %v behind (target %v)", r.HitLagMax, t.HitLag)
	}
	if r.RolloutTook > t.Rollout {
		f("rollout took %v (target %v)", r.RolloutTook, t.Rollout)
	}
	if r.WarmMax > t.WarmStart || (r.RolloutTook > 0 && r.WarmMax == 0) {
		f("slowest warm start %v (target %v)", r.WarmMax, t.WarmStart)
	}
	if n := len(r.Intervals); n >= 3 {
		var sum float64
		for _, iv := range r.Intervals[:n-1] {
			sum += float64(iv.LockWaitsSum)
		}
		mean := sum / float64(n-1)
		if last := float64(r.Intervals[n-1].LockWaitsSum); last > t.LockGrowth*max(mean, 1) {
			f("lock waits growing: %v samples waiting in the last interval, %.1f on average before", last, mean)
		}
	}
	return miss
}
