package fleet

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/awoooi/fluent-bit-drain/internal/testutil"
	"github.com/awoooi/fluent-bit-drain/sink"
)

func TestMain(m *testing.M) { os.Exit(testutil.Main(m)) }

// TestFleetShort is `make fleet` in small: 50 nodes for 20 s against a
// private PostgreSQL (max_connections 50) and Redis, with a burst and a
// rollout. Nothing may be lost or announced twice, no node may hold more
// than one connection, and every node must start and restart warm.
func TestFleetShort(t *testing.T) {
	pg := testutil.PrivatePG(t)
	pg.Start(t)
	rs := testutil.NewRedis(t, "")
	rs.Start(t)
	const nodes = 50
	o := Options{
		Nodes:       nodes,
		Duration:    20 * time.Second,
		Interval:    5 * time.Second,
		StartSpan:   3 * time.Second,
		BurstAt:     6 * time.Second,
		RolloutAt:   10 * time.Second,
		RolloutSpan: 4 * time.Second,
		PGDSN:       pg.DSN(testutil.PGPassword),
		RedisAddr:   rs.Addr(),
		Table:       testutil.Uniq("fleet"),
		Prefix:      testutil.Uniq("fleet"),
		Config: func(c *sink.Config) {
			c.PGHitsInterval = 5 * time.Second // several interval writes within the run
			c.LoadJitter = 2 * time.Second
		},
		Logf: t.Logf,
	}
	rep, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("templates %d created %d sent %d pg %d redis %d conns max %d lock waits max %d tmpl p50/p99 %v/%v burst→pg %v burst nodes p99 %v warm max %v",
		rep.Templates, rep.Created, rep.Sent, rep.PGHits, rep.RedisHits, rep.ConnsMax, rep.LockWaitsMax,
		rep.TmplP50, rep.TmplP99, rep.BurstToPG, rep.BurstNodesP99, rep.WarmMax)
	switch {
	case rep.Sent == 0 || rep.Templates == 0:
		t.Fatalf("nothing generated: %+v", rep)
	case rep.PGHits != rep.Sent || rep.PGMismatch != 0:
		t.Errorf("PostgreSQL holds %d hits, %d templates off; the generator sent %d", rep.PGHits, rep.PGMismatch, rep.Sent)
	case rep.RedisHits != rep.Sent || rep.RedisMismatch != 0:
		t.Errorf("Redis holds %d hits, %d templates off; the generator sent %d", rep.RedisHits, rep.RedisMismatch, rep.Sent)
	}
	if rep.Lost != 0 || rep.Dropped != 0 {
		t.Errorf("sinks lost %d, dropped %d entries", rep.Lost, rep.Dropped)
	}
	if rep.CreatedTwice != 0 || rep.Created != uint64(rep.Templates) {
		t.Errorf("%d rows created for %d templates (%d beyond the rows): a template announced again", rep.Created, rep.Templates, rep.CreatedTwice)
	}
	if rep.ConnsMax == 0 || rep.ConnsMax > nodes {
		t.Errorf("at most %d PostgreSQL connections seen, want 1..%d (one per node at most)", rep.ConnsMax, nodes)
	}
	if rep.BurstToPG == 0 || rep.BurstNodesP99 == 0 {
		t.Errorf("burst template never confirmed: to PostgreSQL %v, nodes p99 %v", rep.BurstToPG, rep.BurstNodesP99)
	}
	if rep.WarmMax == 0 || rep.WarmMax > 2*time.Minute {
		t.Errorf("slowest warm start %v, want one within 2 minutes", rep.WarmMax)
	}
	if last := rep.Intervals[len(rep.Intervals)-1]; last.Started != nodes || last.Restarted != nodes {
		t.Errorf("%d nodes started, %d restarted; want %d each", last.Started, last.Restarted, nodes)
	}
}
