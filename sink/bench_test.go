package sink

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/awoooi/fluent-bit-drain/internal/testutil"
)

func benchTemplates(n int) []Template {
	ts := make([]Template, n)
	for i := range ts {
		ts[i] = tmpl("bench", fmt.Sprintf("request <*> served in <*> ms by worker %d", i), KindNew)
	}
	return ts
}

// benchSinks: stores down (nothing listening) and, when reachable, up.
func benchSinks(b *testing.B) map[string]func() Config {
	return map[string]func() Config{
		"down": func() Config { return downConfig(b) },
		"up": func() Config {
			rdb, prefix := testutil.RedisPrefix(b, testutil.SharedRedis, "sinkt")
			_ = rdb
			return fast(Config{PGDSN: testutil.SharedDSN, PGTable: pgSchema(b, testutil.SharedDSN), RedisAddr: testutil.SharedRedis, RedisPrefix: prefix})
		},
	}
}

// benchSink starts a sink on the stores named in benchSinks and closes it
// when the benchmark ends, giving up after 200 ms (stores that are down
// keep it from flushing; the benchmarks measure only the caller's side).
func benchSink(b *testing.B, name string) *Sink {
	s, err := New(benchSinks(b)[name](), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		s.Close(ctx)
	})
	return s
}

// BenchmarkHit: the caller's cost of counting a line of a known template;
// must not allocate and must not depend on the stores being up.
func BenchmarkHit(b *testing.B) {
	for _, name := range []string{"down", "up"} {
		b.Run("stores="+name, func(b *testing.B) {
			s := benchSink(b, name)
			ids := make([]string, 1024)
			for i, t := range benchTemplates(len(ids)) {
				ids[i] = t.ID
				s.Hit(t.ID, 1)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				s.Hit(ids[i&1023], 1)
			}
		})
	}
}

// BenchmarkTemplate: the caller's cost of handing over a new template
// (cycling through 10 000 ids, so most coalesce with one still pending).
func BenchmarkTemplate(b *testing.B) {
	for _, name := range []string{"down", "up"} {
		b.Run("stores="+name, func(b *testing.B) {
			s := benchSink(b, name)
			ts := benchTemplates(10000)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				s.Template(ts[i%len(ts)])
			}
		})
	}
}

// BenchmarkPGUpsert: one batch of 1000 new templates plus 1000 hit counts
// in one transaction, on the shared server; reports rows/s.
func BenchmarkPGUpsert(b *testing.B) {
	w, err := newPGWriter(poolConfig(b, testutil.SharedDSN), pgSchema(b, testutil.SharedDSN), "", "bench")
	if err != nil {
		b.Fatal(err)
	}
	defer w.close()
	const n = 1000
	rows := 0
	start := time.Now()
	for i := 0; b.Loop(); i++ {
		bt := &batch{}
		for j := range n {
			t := tmpl("bench", "row <*> "+strconv.Itoa(i*n+j), KindNew)
			bt.items = append(bt.items, &item{t: t})
			bt.hitIDs = append(bt.hitIDs, t.ID)
			bt.hitN = append(bt.hitN, 3)
			bt.hitLast = append(bt.hitLast, time.Now().UnixMicro())
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := w.write(ctx, bt); err != nil {
			b.Fatal(err)
		}
		cancel()
		if len(bt.created) != n {
			b.Fatalf("created %d of %d", len(bt.created), n)
		}
		rows += n
	}
	b.ReportMetric(float64(rows)/time.Since(start).Seconds(), "rows/s")
}

// BenchmarkRedisPipeline: one MULTI of 1000 events plus 1000 counter
// updates on the shared server; reports events/s.
func BenchmarkRedisPipeline(b *testing.B) {
	_, prefix := testutil.RedisPrefix(b, testutil.SharedRedis, "sinkt")
	cfg := fast(Config{RedisAddr: testutil.SharedRedis, RedisPrefix: prefix})
	cfg.SetDefaults()
	w := newRedisWriter(&cfg, "", newTiedDialer(context.Background(), cfg.CallTimeout, nil))
	defer w.close()
	const n = 1000
	bt := &batch{}
	for _, t := range benchTemplates(n) {
		bt.items = append(bt.items, &item{t: t, shadow: true})
		bt.hitIDs = append(bt.hitIDs, t.ID)
		bt.hitN = append(bt.hitN, 1)
		bt.hitLast = append(bt.hitLast, time.Now().UnixMicro())
	}
	events := 0
	start := time.Now()
	for b.Loop() {
		bt.attempt = 1
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := w.write(ctx, bt); err != nil {
			b.Fatal(err)
		}
		cancel()
		events += n
	}
	b.ReportMetric(float64(events)/time.Since(start).Seconds(), "events/s")
}
