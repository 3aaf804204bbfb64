package sink

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/awoooi/fluent-bit-drain/internal/testutil"
)

// Fault tests: private PostgreSQL / Redis instances that are stopped,
// killed or paused; the shared servers are never touched.

// settled reports whether nothing is pending anywhere.
func settled(s *Sink) bool {
	st := s.Stats()
	return st.Pending == 0 && st.QueueDepth == 0 && st.PendingTemplates == 0
}

func privateTable(testing.TB) string { return uniq() }

// TestPostgresDownAtStart (fault test 1): PostgreSQL is down when the sink
// starts and comes up 10 s later; every template and every count arrives.
func TestPostgresDownAtStart(t *testing.T) {
	pg := testutil.PrivatePG(t)
	rdb, prefix := testutil.RedisPrefix(t, testutil.SharedRedis, "sinkt")
	cfg := fast(Config{PGDSN: pg.DSN(testutil.PGPassword), PGTable: privateTable(t), RedisAddr: testutil.SharedRedis, RedisPrefix: prefix, NewListMax: 1000})
	var lb testutil.Log
	s, err := New(cfg, &lb)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.LoadKnown(context.Background(), nil, func(string, string) {}); err == nil {
		t.Error("LoadKnown with PostgreSQL down: want an error (the plugin runs degraded)")
	}
	down := 10 * time.Second
	if testing.Short() {
		down = 2 * time.Second
	}
	var ids []string
	start := time.Now()
	for i := 0; time.Since(start) < down; i++ {
		if i < 300 {
			tt := tmpl("down", "template <*> number "+strconv.Itoa(i), KindNew)
			s.Template(tt)
			ids = append(ids, tt.ID)
		}
		s.Hit(ids[i%len(ids)], 1)
		time.Sleep(5 * time.Millisecond) // pacing the stream, not waiting for a state
	}
	hits := int64(s.Stats().Hits)
	if st := s.Stats(); st.Postgres.Errors[CauseConnect] == 0 || st.Postgres.Retries == 0 || st.Created != 0 {
		t.Errorf("while down: %+v", st.Postgres)
	}
	pg.Start(t)
	testutil.WaitFor(t, 30*time.Second, "backlog written", func() bool { return settled(s) })
	closeSink(t, s)
	r := testutil.PGQuery(t, pg.DSN(testutil.PGPassword), `SELECT count(*), sum(hits)::bigint FROM `+cfg.PGTable)
	if r[0][0] != int64(len(ids)) || r[0][1] != hits {
		t.Errorf("rows, hits = %v, want %d, %d", r, len(ids), hits)
	}
	if n := len(listEvents(t, rdb, prefix+":new")); n != len(ids) {
		t.Errorf("%d events, want %d", n, len(ids))
	}
	if !strings.Contains(lb.String(), "postgres: writes succeed again") {
		t.Errorf("no recovery line in log:\n%s", lb.String())
	}
}

// TestRedisKilled (fault test 2): Redis is killed mid-stream and restarted;
// nothing is lost and no event is announced twice.
func TestRedisKilled(t *testing.T) {
	rs := testutil.NewRedis(t, "")
	rs.Start(t)
	cfg := fast(Config{RedisAddr: rs.Addr(), RedisPrefix: "killed", NewListMax: 10000})
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	done := make(chan []string)
	go func() {
		var ids []string
		for i := 0; !stop.Load(); i++ {
			tt := tmpl("kill", "stream <*> line "+strconv.Itoa(i), KindNew)
			s.Template(tt)
			ids = append(ids, tt.ID)
			for _, id := range ids[max(0, len(ids)-5):] {
				s.Hit(id, 1)
			}
			time.Sleep(2 * time.Millisecond) // pacing the stream
		}
		done <- ids
	}()
	// Kill Redis once events are flowing to it, start it again once the
	// sink has failed against it, and stop the stream once writes succeed
	// again: every phase is a state the sink reports, not a guessed time.
	testutil.WaitFor(t, 10*time.Second, "writes to Redis before the kill", func() bool { return s.Stats().Redis.Batches > 0 })
	rs.Kill()
	testutil.WaitFor(t, 10*time.Second, "a failed write while Redis is down", func() bool { return s.Stats().Redis.Retries > 0 })
	rs.Start(t)
	restarted := s.Stats().Redis.Batches
	testutil.WaitFor(t, 10*time.Second, "writes after the restart", func() bool { return s.Stats().Redis.Batches > restarted })
	stop.Store(true)
	ids := <-done
	testutil.WaitFor(t, 20*time.Second, "backlog written", func() bool { return settled(s) })
	hits := int64(s.Stats().Hits)
	closeSink(t, s)
	if st := s.Stats(); st.Redis.Retries == 0 {
		t.Error("no retry counted: Redis was not down while events flowed")
	}
	rdb := rs.Client()
	defer rdb.Close()
	evs := listEvents(t, rdb, "killed:new")
	count := map[string]int{}
	for _, e := range evs {
		count[e.ClusterID]++
	}
	var size int64
	for _, id := range ids {
		if count[id] != 1 {
			t.Errorf("template %s announced %d times", id, count[id])
		}
		v, _ := rdb.HGet(context.Background(), "killed:clusters:"+id, "size").Int64()
		size += v
	}
	if len(evs) != len(ids) || size != hits {
		t.Errorf("%d events for %d templates; sizes sum %d, want %d", len(evs), len(ids), size, hits)
	}
}

// TestPostgresPaused (fault test 3): PostgreSQL frozen with SIGSTOP for 30 s;
// the caller's enqueue latency stays flat (p99 < 1 ms) because it never
// waits for I/O, and the backlog is written once it resumes.
func TestPostgresPaused(t *testing.T) {
	pg := testutil.PrivatePG(t)
	pg.Start(t)
	cfg := fast(Config{PGDSN: pg.DSN(testutil.PGPassword), PGTable: privateTable(t), QueueBudget: 100000})
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	seed := tmpl("pause", "before the pause", KindNew)
	s.Template(seed)
	testutil.WaitFor(t, 10*time.Second, "first write", func() bool { return s.Stats().Created == 1 })

	pause := 30 * time.Second
	if testing.Short() {
		pause = 5 * time.Second
	}
	pg.Pause()
	lat := make([]time.Duration, 0, 1<<20)
	ids := []string{seed.ID}
	start := time.Now()
	for i := 0; time.Since(start) < pause; i++ {
		var t0 time.Time
		if i%500 == 0 {
			tt := tmpl("pause", "during the pause <*> "+strconv.Itoa(i), KindNew)
			t0 = time.Now()
			s.Template(tt)
			ids = append(ids, tt.ID)
		} else {
			id := ids[i%len(ids)]
			t0 = time.Now()
			s.Hit(id, 1)
		}
		if len(lat) < cap(lat) {
			lat = append(lat, time.Since(t0))
		}
		if i%100 == 0 {
			time.Sleep(time.Millisecond) // pacing the stream
		}
	}
	st := s.Stats()
	pg.Resume()
	resumed := time.Now()
	slices.Sort(lat)
	p99, p999, maxL := lat[len(lat)*99/100], lat[len(lat)*999/1000], lat[len(lat)-1]
	t.Logf("%d calls while paused %v: p99 %v, p99.9 %v, max %v; postgres errors %v", len(lat), pause, p99, p999, maxL, st.Postgres.Errors)
	if p99 > time.Millisecond {
		t.Errorf("enqueue p99 = %v while PostgreSQL is paused, want < 1ms", p99)
	}
	if st.Postgres.Errors[CauseTimeout] == 0 {
		t.Error("no timeout counted while paused")
	}
	if st.Dropped != 0 {
		t.Errorf("%d entries dropped: the test outgrew its queue budget", st.Dropped)
	}
	hits := int64(s.Stats().Hits)
	testutil.WaitFor(t, 30*time.Second, "backlog written", func() bool { return settled(s) })
	t.Logf("backlog written %v after resuming", time.Since(resumed))
	closeSink(t, s)
	r := testutil.PGQuery(t, pg.DSN(testutil.PGPassword), `SELECT count(*), sum(hits)::bigint FROM `+cfg.PGTable)
	if r[0][0] != int64(len(ids)) || r[0][1] != hits {
		t.Errorf("rows, hits = %v, want %d, %d", r, len(ids), hits)
	}
}

// TestWrongPassword (fault test 6): refused credentials give a bounded retry
// rate, an error counter, a clear log line, and the secret is never printed.
func TestWrongPassword(t *testing.T) {
	pg := testutil.PrivatePG(t)
	pg.Start(t)
	rs := testutil.NewRedis(t, testutil.PGPassword)
	rs.Start(t)
	const wrong = "Wr0ng-s3cret-4711"
	dir := t.TempDir()
	dsnFile, pwFile := filepath.Join(dir, "dsn"), filepath.Join(dir, "pw")
	os.WriteFile(dsnFile, []byte(pg.DSN(wrong)+"\n"), 0o600)
	os.WriteFile(pwFile, []byte(wrong+"\n"), 0o600)
	cfg := fast(Config{PGDSNFile: dsnFile, PGTable: privateTable(t), RedisAddr: rs.Addr(), RedisPasswordFile: pwFile})
	var lb testutil.Log
	s, err := New(cfg, &lb)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.LoadKnown(context.Background(), nil, func(string, string) {}); err == nil || strings.Contains(err.Error(), wrong) {
		t.Errorf("LoadKnown error = %v", err)
	}
	s.Template(tmpl("pw", "never written <*>", KindNew))
	s.Hit(tmpl("pw", "never written <*>", KindNew).ID, 1)
	run := 3 * time.Second
	time.Sleep(run) // a measurement window: the retry rate is counted over run
	st := s.Stats()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	s.Close(ctx)

	// Backoff 50 ms doubling to 400 ms with jitter in [d/2, d): at most
	// about run/200ms + 4 attempts; allow slack for timing.
	bound := uint64(run/(200*time.Millisecond)) + 8
	for name, ss := range map[string]StoreStats{"postgres": st.Postgres, "redis": st.Redis} {
		if ss.Errors[CauseAuth] == 0 {
			t.Errorf("%s: no auth error counted: %v", name, ss.Errors)
		}
		if ss.Retries == 0 || ss.Retries > bound {
			t.Errorf("%s: %d retries in %v, want 1..%d", name, ss.Retries, run, bound)
		}
	}
	log := lb.String()
	t.Logf("log:\n%s", log)
	if strings.Contains(log, wrong) || strings.Contains(log, testutil.PGPassword) {
		t.Error("a password appears in the log")
	}
	for _, want := range []string{"[drain] sink: postgres 127.0.0.1:", "write failed (auth)", "[drain] sink: redis 127.0.0.1:"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	if n := strings.Count(log, "[drain] sink: postgres 127.0.0.1:"); n > 2 {
		t.Errorf("%d failure lines for one repeated cause: want rate-limited", n)
	}
}

// TestBudgetStoresDown (fault test 7): 100 000 distinct templates while both
// stores are down: memory stays within the budget, the overflow is counted,
// and everything within the budget is written once they return.
func TestBudgetStoresDown(t *testing.T) {
	pg := testutil.PrivatePG(t)
	rs := testutil.NewRedis(t, "")
	const budget, total = 20000, 100000
	cfg := fast(Config{PGDSN: pg.DSN(testutil.PGPassword), PGTable: privateTable(t), RedisAddr: rs.Addr(), RedisPrefix: "budget",
		NewListMax: budget + 1, QueueBudget: budget})
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	sample := strings.Repeat("x", 600) // cut to 500 bytes
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range total {
		tt := tmpl("budget", fmt.Sprintf("distinct template <*> %06d with some words", i), KindNew)
		tt.Sample = sample
		s.Template(tt)
	}
	// Redis is not tried yet: events wait for PostgreSQL to create the rows.
	testutil.WaitFor(t, 10*time.Second, "the queue handed to the writers, which fail", func() bool {
		st := s.Stats()
		return st.QueueDepth == 0 && st.Postgres.Retries > 0
	})
	runtime.GC()
	runtime.ReadMemStats(&after)
	st := s.Stats()
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("heap grew %d KiB for %d pending entries (%d B each); dropped %d", grown>>10, st.Pending, grown/max(st.Pending, 1), st.Dropped)
	if st.Pending > budget || st.Dropped != total-budget || st.Templates != budget {
		t.Errorf("pending %d, dropped %d, accepted %d; want ≤%d, %d, %d", st.Pending, st.Dropped, st.Templates, budget, total-budget, budget)
	}
	if limit := int64(budget) * 2048; grown > limit {
		t.Errorf("heap grew %d bytes, want < %d (2 KiB per budgeted entry)", grown, limit)
	}
	pg.Start(t)
	rs.Start(t)
	stop := make(chan struct{})
	go logProgress(t, s, stop)
	testutil.WaitFor(t, 60*time.Second, "backlog written", func() bool { return settled(s) })
	close(stop)
	closeSink(t, s)
	if r := testutil.PGQuery(t, pg.DSN(testutil.PGPassword), `SELECT count(*) FROM `+cfg.PGTable); r[0][0] != int64(budget) {
		t.Errorf("rows = %v, want %d", r[0][0], budget)
	}
	rdb := rs.Client()
	defer rdb.Close()
	if n := rdb.LLen(context.Background(), "budget:new").Val(); n != budget {
		t.Errorf("events = %d, want %d", n, budget)
	}
}

func logProgress(t testing.TB, s *Sink, stop <-chan struct{}) {
	start := time.Now()
	for {
		select {
		case <-stop:
			return
		case <-time.After(2 * time.Second):
		}
		st := s.Stats()
		t.Logf("%5.1fs pending %d pg rows %d batches %d retries %d redis rows %d retries %d", time.Since(start).Seconds(), st.Pending,
			st.Postgres.Rows, st.Postgres.Batches, st.Postgres.Retries, st.Redis.Rows, st.Redis.Retries)
	}
}
