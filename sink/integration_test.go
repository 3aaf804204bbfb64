package sink

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/awoooi/fluent-bit-drain/internal/testutil"
)

// sharedConfig gives a test its own table and key prefix on the shared servers.
func sharedConfig(t testing.TB) (Config, *redis.Client) {
	t.Helper()
	rdb, prefix := testutil.RedisPrefix(t, testutil.SharedRedis, "sinkt")
	cfg := fast(Config{
		PGDSN:       testutil.SharedDSN,
		PGTable:     pgSchema(t, testutil.SharedDSN),
		RedisAddr:   testutil.SharedRedis,
		RedisPrefix: prefix,
		NewListMax:  1000,
		Flags:       Flags{Enabled: true, ShadowMode: true},
	})
	return cfg, rdb
}

func listEvents(t testing.TB, rdb *redis.Client, key string) []Event {
	t.Helper()
	vals, err := rdb.LRange(context.Background(), key, 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	out := make([]Event, len(vals))
	for i, v := range vals {
		if err := json.Unmarshal([]byte(v), &out[i]); err != nil {
			t.Fatalf("event %q: %v", v, err)
		}
	}
	return out
}

// TestEndToEnd: templates reach PostgreSQL and are announced on Redis once,
// hits are summed in both, generalization keeps its lineage, and the alert
// stream only gets events outside shadow mode.
func TestEndToEnd(t *testing.T) {
	cfg, rdb := sharedConfig(t)
	var lb testutil.Log
	s, err := New(cfg, &lb)
	if err != nil {
		t.Fatal(err)
	}
	a := tmpl("ns/api", "GET <*> 200", KindNew)
	g := tmpl("ns/api", "GET <*> <*>", KindGeneralized)
	g.ParentID = a.ID
	s.Template(a)
	for range 10 {
		s.Hit(a.ID, 2)
	}
	testutil.WaitFor(t, 10*time.Second, "first batch", func() bool { return s.Stats().Redis.Rows >= 2 })
	s.Template(g)
	s.Hit(g.ID, 5)
	closeSink(t, s)

	rows := testutil.PGQuery(t, testutil.SharedDSN, `SELECT template_id, partition, source, template, sample, hits, first_node, coalesce(parent_id, ''), shadow,
		first_seen_at <= last_seen_at FROM `+cfg.PGTable+` ORDER BY first_seen_at`)
	if len(rows) != 2 {
		t.Fatalf("rows = %v", rows)
	}
	want := [][]any{
		{a.ID, "ns/api", "k8s_pod", a.Template, a.Sample, int64(20), "node-a", "", true, true},
		{g.ID, "ns/api", "k8s_pod", g.Template, g.Sample, int64(5), "node-a", a.ID, true, true},
	}
	for i := range want {
		if !slices.Equal(rows[i], want[i]) {
			t.Errorf("row %d = %v, want %v", i, rows[i], want[i])
		}
	}
	evs := listEvents(t, rdb, cfg.RedisPrefix+":new")
	if len(evs) != 2 || evs[0].ClusterID != g.ID || evs[0].Kind != "generalized" || evs[0].ParentID != a.ID ||
		evs[1].ClusterID != a.ID || evs[1].Kind != "new" || !evs[1].ShadowMode || evs[1].Node != "node-a" {
		t.Errorf("events (newest first) = %+v", evs)
	}
	ctx := context.Background()
	if ttl := rdb.TTL(ctx, cfg.RedisPrefix+":new").Val(); ttl <= 0 || ttl > DefaultNewListTTL {
		t.Errorf("TTL of :new = %v", ttl)
	}
	h := rdb.HGetAll(ctx, cfg.RedisPrefix+":clusters:"+a.ID).Val()
	if h["size"] != "20" || h["last_seen_at"] == "" {
		t.Errorf("cluster hash = %v", h)
	}
	if n := rdb.XLen(ctx, cfg.RedisPrefix+":alerts").Val(); n != 0 {
		t.Errorf("alerts in shadow mode: %d", n)
	}
	st := s.Stats()
	if st.Created != 2 || st.Known != 0 || st.Announced != 2 || st.Pending != 0 || st.PendingTemplates != 0 || st.QueueDepth != 0 {
		t.Errorf("stats = %+v", st)
	}
}

// TestFlagsAndAlerts: the Redis flags hash overrides the static flags, and
// with shadow mode off a new pattern also goes to the alert stream.
func TestFlagsAndAlerts(t *testing.T) {
	cfg, rdb := sharedConfig(t)
	ctx := context.Background()
	rdb.HSet(ctx, cfg.RedisPrefix+":flags", "shadow_mode", "off", "enabled", "bogus")
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 5*time.Second, "flags polled", func() bool { return !s.Flags().ShadowMode })
	if !s.Flags().Enabled {
		t.Error("a bogus enabled value must keep the static value (on)")
	}
	a := tmpl("p", "alert me <*>", KindNew)
	s.Template(a)
	testutil.WaitFor(t, 10*time.Second, "alert", func() bool { return rdb.XLen(ctx, cfg.RedisPrefix+":alerts").Val() == 1 })
	rdb.HSet(ctx, cfg.RedisPrefix+":flags", "enabled", "off")
	testutil.WaitFor(t, 5*time.Second, "kill switch", func() bool { return !s.Flags().Enabled })
	rdb.Del(ctx, cfg.RedisPrefix+":flags")
	testutil.WaitFor(t, 5*time.Second, "back to static", func() bool { return s.Flags() == cfg.Flags })
	closeSink(t, s)
	msgs := rdb.XRange(ctx, cfg.RedisPrefix+":alerts", "-", "+").Val()
	var e Event
	if len(msgs) != 1 || json.Unmarshal([]byte(msgs[0].Values["event"].(string)), &e) != nil || e.ClusterID != a.ID || e.ShadowMode {
		t.Errorf("alert stream = %v", msgs)
	}
	if r := testutil.PGQuery(t, testutil.SharedDSN, `SELECT shadow FROM `+cfg.PGTable); len(r) != 1 || r[0][0] != false {
		t.Errorf("shadow column = %v, want false", r)
	}
}

// TestTwoNodes (fault test 4): two sinks announce the same template at the
// same moment: one row, one event, the other node counts it as known.
func TestTwoNodes(t *testing.T) {
	cfg, rdb := sharedConfig(t)
	cfgB := cfg
	cfgB.NodeName = "node-b"
	a, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(cfgB, nil)
	if err != nil {
		t.Fatal(err)
	}
	var ts []Template
	for i := range 50 {
		ts = append(ts, tmpl("shared", "both nodes see <*> number "+strconv.Itoa(i), KindNew))
	}
	var wg sync.WaitGroup
	for _, s := range []*Sink{a, b} {
		wg.Go(func() {
			for _, tt := range ts {
				s.Template(tt)
				s.Hit(tt.ID, 1)
			}
		})
	}
	wg.Wait()
	closeSink(t, a)
	closeSink(t, b)
	if r := testutil.PGQuery(t, testutil.SharedDSN, `SELECT count(*), sum(hits)::bigint, count(DISTINCT first_node) FROM `+cfg.PGTable); r[0][0] != int64(50) || r[0][1] != int64(100) {
		t.Errorf("rows, hits, nodes = %v, want 50, 100", r)
	}
	evs := listEvents(t, rdb, cfg.RedisPrefix+":new")
	seen := map[string]int{}
	for _, e := range evs {
		seen[e.ClusterID]++
	}
	for _, tt := range ts {
		if seen[tt.ID] != 1 {
			t.Errorf("template %s announced %d times", tt.ID, seen[tt.ID])
		}
	}
	sa, sb := a.Stats(), b.Stats()
	if sa.Created+sb.Created != 50 || sa.Known+sb.Known != 50 || sa.Announced+sb.Announced != 50 {
		t.Errorf("created %d+%d, known %d+%d, announced %d+%d", sa.Created, sb.Created, sa.Known, sb.Known, sa.Announced, sb.Announced)
	}
}

// TestWarmStart (fault test 5): after a restart, LoadKnown returns what was
// learnt, and templates learnt before are not announced again.
func TestWarmStart(t *testing.T) {
	cfg, rdb := sharedConfig(t)
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range 30 {
		part := "p" + strconv.Itoa(i%3)
		tt := tmpl(part, "learnt <*> "+strconv.Itoa(i), KindNew)
		s.Template(tt)
		if part != "p2" {
			want = append(want, part+"|"+tt.Template)
		}
	}
	closeSink(t, s)

	cfg.LoadPageSize = 7 // several pages
	s2, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := s2.LoadKnown(context.Background(), []string{"p0", "p1"}, func(p, tt string) { got = append(got, p+"|"+tt) }); err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("LoadKnown = %d templates, want %d", len(got), len(want))
	}
	var all int
	if err := s2.LoadKnown(context.Background(), nil, func(string, string) { all++ }); err != nil || all != 30 {
		t.Errorf("LoadKnown(all) = %d, %v", all, err)
	}
	// A miner that was not seeded would report them as new again: still known.
	for i := range 30 {
		s2.Template(tmpl("p"+strconv.Itoa(i%3), "learnt <*> "+strconv.Itoa(i), KindNew))
	}
	closeSink(t, s2)
	if st := s2.Stats(); st.Known != 30 || st.Created != 0 || st.Announced != 0 {
		t.Errorf("after restart: %+v", st)
	}
	if n := len(listEvents(t, rdb, cfg.RedisPrefix+":new")); n != 30 {
		t.Errorf("%d events, want the 30 of the first run only", n)
	}
}

// TestLoadKnownNoTable: a first start (no table yet) knows nothing, no error.
func TestLoadKnownNoTable(t *testing.T) {
	cfg, _ := sharedConfig(t)
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer closeSink(t, s)
	if err := s.LoadKnown(context.Background(), nil, func(string, string) { t.Error("called") }); err != nil {
		t.Error(err)
	}
}

// TestBufferReplay: what Close cannot write goes to the buffer file and is
// written by the next sink; the file is removed afterwards.
func TestBufferReplay(t *testing.T) {
	cfg, rdb := sharedConfig(t)
	down := downConfig(t)
	down.BufferPath = filepath.Join(t.TempDir(), "drain.buf")
	down.PGTable, down.RedisPrefix, down.Flags = cfg.PGTable, cfg.RedisPrefix, cfg.Flags
	s, err := New(down, nil)
	if err != nil {
		t.Fatal(err)
	}
	var ts []Template
	for i := range 20 {
		tt := tmpl("buf", "buffered <*> "+strconv.Itoa(i), KindNew)
		ts = append(ts, tt)
		s.Template(tt)
		s.Hit(tt.ID, int64(i+1))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Buffered != 60 || st.Lost != 0 { // 20 templates, 20 hits × 2 stores
		t.Fatalf("buffered %d lost %d, want 60 and 0", st.Buffered, st.Lost)
	}
	cfg.BufferPath = down.BufferPath
	s2, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(cfg.BufferPath); !os.IsNotExist(err) {
		t.Errorf("buffer file still there after replay: %v", err)
	}
	closeSink(t, s2)
	if st := s2.Stats(); st.Replayed != 60 || st.Created != 20 {
		t.Errorf("replayed %d created %d", st.Replayed, st.Created)
	}
	if r := testutil.PGQuery(t, testutil.SharedDSN, `SELECT count(*), sum(hits)::bigint FROM `+cfg.PGTable); r[0][0] != int64(20) || r[0][1] != int64(210) {
		t.Errorf("rows, hits = %v, want 20, 210", r)
	}
	if n := len(listEvents(t, rdb, cfg.RedisPrefix+":new")); n != 20 {
		t.Errorf("%d events, want 20", n)
	}
	var size int64
	for _, tt := range ts {
		v, _ := rdb.HGet(context.Background(), cfg.RedisPrefix+":clusters:"+tt.ID, "size").Int64()
		size += v
	}
	if size != 210 {
		t.Errorf("Redis sizes sum to %d, want 210", size)
	}
}

// TestConcurrentInsertOneWinner: two writers insert the same templates at
// the same instant, many times: every template is created by exactly one.
func TestConcurrentInsertOneWinner(t *testing.T) {
	table := pgSchema(t, testutil.SharedDSN)
	var ws [2]*pgWriter
	for i := range ws {
		w, err := newPGWriter(poolConfig(t, testutil.SharedDSN), table, "", "node-"+strconv.Itoa(i))
		if err != nil {
			t.Fatal(err)
		}
		defer w.close()
		ws[i] = w
	}
	if err := ws[0].ensureSchema(context.Background()); err != nil {
		t.Fatal(err)
	}
	for round := range 20 {
		var ts []Template
		for j := range 20 {
			ts = append(ts, tmpl("race", "round "+strconv.Itoa(round)+" template <*> "+strconv.Itoa(j), KindNew))
		}
		var created [2]int
		var errs [2]error
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, w := range ws {
			b := &batch{}
			for _, tt := range ts {
				tt.SeenAt = tt.SeenAt.Add(time.Duration(i) * time.Microsecond)
				b.items = append(b.items, &item{t: tt})
			}
			wg.Go(func() {
				<-start
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				errs[i] = w.write(ctx, b)
				created[i] = len(b.created)
			})
		}
		close(start)
		wg.Wait()
		if errs[0] != nil || errs[1] != nil {
			t.Fatal(errs)
		}
		if created[0]+created[1] != len(ts) {
			t.Fatalf("round %d: created %d + %d, want %d in total", round, created[0], created[1], len(ts))
		}
	}
}

// TestLoadKnownSkipsSuperseded: a template widened since (the parent of
// another row) is not loaded, so a restarted miner holds the templates the
// node had, not the ones it outgrew.
func TestLoadKnownSkipsSuperseded(t *testing.T) {
	cfg, _ := sharedConfig(t)
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := tmpl("p", "user alice logged in", KindNew)
	b := tmpl("p", "user <*> logged in", KindGeneralized)
	b.ParentID = a.ID
	c := tmpl("p", "disk full", KindNew)
	s.Template(a)
	s.Template(b)
	s.Template(c)
	closeSink(t, s)
	s2, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer closeSink(t, s2)
	var got []string
	if err := s2.LoadKnown(context.Background(), nil, func(_, tt string) { got = append(got, tt) }); err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if want := []string{"disk full", "user <*> logged in"}; !slices.Equal(got, want) {
		t.Errorf("LoadKnown = %q, want %q", got, want)
	}
}
