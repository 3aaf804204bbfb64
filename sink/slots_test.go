package sink

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/awoooi/fluent-bit-drain/internal/testutil"
)

// TestPGSlotsSharedBySinks: more sinks than PostgreSQL gives their role
// connections (the 40 nodes against 30 slots, scaled down). At
// first every slot is held by someone else: the sinks get "too many
// connections", keep their counts, and half of them are closed then,
// spilling to Buffer_Path. Once the slots are free, the rest write through
// them in turn (a connection is held only while a batch is written), the
// closed half restart and replay, and every hit of every sink lands, each
// exactly once.
func TestPGSlotsSharedBySinks(t *testing.T) {
	const (
		sinks = 12
		slots = 3
	)
	pg := testutil.PrivatePG(t)
	pg.Start(t)
	admin := pg.DSN(testutil.PGPassword)
	role, pw := uniq(), "slot-Pw-7731"
	testutil.PGQuery(t, admin, fmt.Sprintf(`CREATE ROLE %s LOGIN PASSWORD '%s' CONNECTION LIMIT %d`, role, pw, slots))
	testutil.PGQuery(t, admin, `CREATE SCHEMA `+role+` AUTHORIZATION `+role)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, admin); err == nil {
			c.Exec(ctx, `DROP SCHEMA `+role+` CASCADE`) //nolint:errcheck // cleanup
			c.Exec(ctx, `DROP ROLE `+role)              //nolint:errcheck // cleanup
			c.Close(ctx)
		}
	})
	dsn := fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/postgres?sslmode=disable", role, url.QueryEscape(pw), pg.Port())
	table := role + ".log_templates"

	// Someone else holds every slot.
	ctx := context.Background()
	var holders []*pgx.Conn
	for range slots {
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		holders = append(holders, c)
	}
	release := func() {
		for _, c := range holders {
			c.Close(ctx)
		}
		holders = nil
	}
	defer release()

	dir := t.TempDir()
	cfgOf := func(i int) Config {
		cfg := fast(Config{PGDSN: dsn, PGTable: table, NodeName: "slot-node-" + strconv.Itoa(i),
			BufferPath: filepath.Join(dir, "buf-"+strconv.Itoa(i))})
		cfg.PGHitsInterval = 200 * time.Millisecond
		return cfg
	}
	var all []Template
	for i := range 20 {
		all = append(all, tmpl("slots", "shared template <*> number "+strconv.Itoa(i), KindNew))
	}
	ss := make([]*Sink, sinks)
	sent := map[string]int64{}
	feed := func(i int, rounds int) {
		for r := range rounds {
			for k, tt := range all {
				if (k+i)%3 == 0 {
					continue // each node sees two thirds of the templates
				}
				if r == 0 {
					ss[i].Template(tt)
				}
				n := int64(1 + (k*7+i+r)%5)
				ss[i].Hit(tt.ID, n)
				sent[tt.ID] += n
			}
		}
	}
	for i := range ss {
		s, err := New(cfgOf(i), nil)
		if err != nil {
			t.Fatal(err)
		}
		ss[i] = s
		feed(i, 3)
	}
	testutil.WaitFor(t, 10*time.Second, "every sink refused a connection", func() bool {
		for _, s := range ss {
			if s.Stats().Postgres.Errors[CauseConnect] == 0 {
				return false
			}
		}
		return true
	})
	// Half of the nodes exit while they cannot write: their counts go to
	// the buffer file.
	for i := 0; i < sinks; i += 2 {
		cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		ss[i].Close(cctx) //nolint:errcheck // the buffer file is checked below
		cancel()
		if st := ss[i].Stats(); st.Buffered == 0 || st.Lost != 0 {
			t.Fatalf("sink %d closed without a connection: buffered %d, lost %d; want its counts in the buffer file", i, st.Buffered, st.Lost)
		}
	}
	release()
	for i := 0; i < sinks; i += 2 {
		s, err := New(cfgOf(i), nil)
		if err != nil {
			t.Fatal(err)
		}
		ss[i] = s
		feed(i, 2)
	}
	for i := 1; i < sinks; i += 2 {
		feed(i, 2)
	}
	// Connections in use by the role never exceed its limit (the server
	// enforces it); what matters is that nobody starves: every sink's
	// backlog gets written.
	testutil.WaitFor(t, 60*time.Second, "every sink's backlog written", func() bool {
		for _, s := range ss {
			if !settled(s) {
				return false
			}
		}
		return true
	})
	for i, s := range ss {
		if st := s.Stats(); st.Postgres.Batches == 0 || st.Lost != 0 || st.Dropped != 0 {
			t.Errorf("sink %d: %d batches, %d lost, %d dropped", i, st.Postgres.Batches, st.Lost, st.Dropped)
		}
		closeSink(t, s)
	}
	rows := testutil.PGQuery(t, admin, `SELECT template_id, hits FROM `+table)
	if len(rows) != len(all) {
		t.Errorf("%d rows, want %d", len(rows), len(all))
	}
	for _, r := range rows {
		if id, hits := r[0].(string), r[1].(int64); hits != sent[id] {
			t.Errorf("template %s: %d hits, want %d", id, hits, sent[id])
		}
	}
	// Idle sinks hold no connection.
	n := testutil.PGQuery(t, admin, `SELECT count(*) FROM pg_stat_activity WHERE usename = $1`, role)
	if n[0][0].(int64) != 0 {
		t.Errorf("%v connections of the role left after Close", n[0][0])
	}
}

// TestPGConnectionClosedWhenIdle: a sink holds its one PostgreSQL
// connection only while it writes; once the backlog is written it is
// closed, and LoadKnown does not leave one open either.
func TestPGConnectionClosedWhenIdle(t *testing.T) {
	table := pgSchema(t, testutil.SharedDSN)
	app := uniq()
	dsn := testutil.SharedDSN + "&application_name=" + app
	s, err := New(fast(Config{PGDSN: dsn, PGTable: table}), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer closeSink(t, s)
	open := func() int64 {
		r := testutil.PGQuery(t, testutil.SharedDSN, `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1`, app)
		return r[0][0].(int64)
	}
	tt := tmpl("idle", "idle template <*>", KindNew)
	s.Template(tt)
	s.Hit(tt.ID, 3)
	testutil.WaitFor(t, 10*time.Second, "written", func() bool { return settled(s) && s.Stats().Postgres.Rows >= 2 })
	testutil.WaitFor(t, 5*time.Second, "connection closed when idle", func() bool { return open() == 0 })
	n := 0
	if err := s.LoadKnown(context.Background(), nil, func(string, string) { n++ }); err != nil || n != 1 {
		t.Fatalf("LoadKnown: %d templates, %v", n, err)
	}
	testutil.WaitFor(t, 5*time.Second, "connection closed after LoadKnown", func() bool { return open() == 0 })
}

// TestHitsInterval: hit counts wait for their interval while new templates
// go at once; Close writes the counts that are not due yet.
func TestHitsInterval(t *testing.T) {
	table := pgSchema(t, testutil.SharedDSN)
	cfg := fast(Config{PGDSN: testutil.SharedDSN, PGTable: table})
	cfg.PGHitsInterval = time.Hour
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	pgs := s.hitStores[0]
	pgs.mu.Lock()
	pgs.hitsDue = time.Now().Add(time.Hour) // the first is due at a random point: not in this test
	pgs.mu.Unlock()
	tt := tmpl("interval", "interval template <*>", KindNew)
	s.Template(tt)
	s.Hit(tt.ID, 5)
	testutil.WaitFor(t, 10*time.Second, "template written", func() bool { return s.Stats().Created == 1 })
	// Several flush intervals later the count is still pending: its hour
	// has not come.
	time.Sleep(10 * cfg.FlushInterval) // letting flush intervals pass, not waiting for a state
	r := testutil.PGQuery(t, testutil.SharedDSN, `SELECT hits FROM `+table)
	if st := s.Stats(); r[0][0].(int64) != 0 || st.Postgres.Pending != 1 {
		t.Errorf("before its interval: %v hits written, %d entries pending for PostgreSQL; want 0 and 1", r[0][0], st.Postgres.Pending)
	}
	closeSink(t, s)
	if r := testutil.PGQuery(t, testutil.SharedDSN, `SELECT hits FROM `+table); r[0][0].(int64) != 5 {
		t.Errorf("after Close: %v hits, want 5", r[0][0])
	}
}
