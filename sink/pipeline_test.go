package sink

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/awoooi/fluent-bit-drain/internal/testutil"
)

// Tests of the write as one round trip, the Redis set of stored templates
// and PG_Pooler (docs/stores.md, "Scale").

// TestPGWriteOneRoundTrip: once the schema is checked, a write of
// templates and hit counts is one pipelined batch, one implicit
// transaction: the server answers it with a single ReadyForQuery, and the
// ledger still applies a batch once per token. Without the deltas table
// the insert and the direct update are a transaction each.
func TestPGWriteOneRoundTrip(t *testing.T) {
	table := pgSchema(t, testutil.SharedDSN)
	cut := newCommitCutter(t, sharedPGAddr, false)
	w, err := newPGWriter(poolConfig(t, cut.dsn("postgres")), table, "", "node-a")
	if err != nil {
		t.Fatal(err)
	}
	defer w.close()
	w.serverTimeout = "2000"
	write := func(b *batch) int32 {
		t.Helper()
		before := cut.ready.Load()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := w.write(ctx, b); err != nil {
			t.Fatal(err)
		}
		return cut.ready.Load() - before
	}
	x, y := tmpl("rt", "one round trip <*> x", KindNew), tmpl("rt", "one round trip <*> y", KindNew)
	now := time.Now().UnixMicro()
	write(&batch{token: "1", items: []*item{{t: x}}}) // the schema check
	b := &batch{token: "2", items: []*item{{t: y}}, hitIDs: []string{x.ID, y.ID}, hitN: []int64{2, 3}, hitLast: []int64{now, now}}
	if n := write(b); n != 1 {
		t.Errorf("templates and hit counts took %d round trips, want 1", n)
	}
	if len(b.created) != 1 || b.applied || b.unguarded {
		t.Errorf("created %d applied %v unguarded %v, want 1 false false", len(b.created), b.applied, b.unguarded)
	}
	// The same batch again (its reply lost): not counted again, the row
	// it created reported again, still one round trip.
	b2 := &batch{token: "2", items: []*item{{t: y}}, hitIDs: b.hitIDs, hitN: b.hitN, hitLast: b.hitLast}
	if n := write(b2); n != 1 || !b2.applied || len(b2.created) != 1 {
		t.Errorf("retry: %d round trips, applied %v, created %d; want 1, true, 1", n, b2.applied, len(b2.created))
	}
	if hx, hy := hitsOf(t, table, x.ID), hitsOf(t, table, y.ID); hx != 2 || hy != 3 {
		t.Errorf("hits %d, %d, want 2, 3", hx, hy)
	}

	// Asking in the same round trip whether a merge is due (the deltas
	// are fresh: not with an age of an hour) and for the rows created
	// since a minute ago (x and y).
	b5 := &batch{token: "5", hitIDs: []string{x.ID}, hitN: []int64{1}, hitLast: []int64{now},
		mergeAge: time.Hour, refreshSince: time.Now().Add(-time.Minute), refreshPage: 100}
	if n := write(b5); n != 1 || b5.mergeDue || b5.refresh == nil || b5.refresh.rows != 2 || len(b5.refresh.current) != 2 || b5.refresh.more || b5.refresh.mark.IsZero() {
		t.Errorf("with merge check and refresh: %d round trips, merge due %v, refresh %+v; want 1, false, 2 rows", n, b5.mergeDue, b5.refresh)
	}
	b6 := &batch{token: "6", hitIDs: []string{x.ID}, hitN: []int64{1}, hitLast: []int64{now}, mergeAge: time.Nanosecond}
	if write(b6); !b6.mergeDue {
		t.Error("deltas older than the merge age: merge not due")
	}
	if _, _, err := w.merge(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	if hx := hitsOf(t, table, x.ID); hx != 4 {
		t.Errorf("hits %d after the merge, want 4", hx)
	}

	// Without the deltas table: two transactions, counts exact, a
	// retried batch applied once, a count without a row unmatched.
	w.deltasOK = side{ok: false, known: true}
	z := tmpl("rt", "one round trip <*> z", KindNew)
	b3 := &batch{token: "3", items: []*item{{t: z}}, hitIDs: []string{"00000000000000aa", x.ID, z.ID}, hitN: []int64{9, 1, 4}, hitLast: []int64{now, now, now}}
	if n := write(b3); n != 2 || b3.unmatched != 1 || len(b3.created) != 1 {
		t.Errorf("direct update: %d round trips, unmatched %d, created %d; want 2, 1, 1", n, b3.unmatched, len(b3.created))
	}
	b4 := &batch{token: "3", hitIDs: b3.hitIDs, hitN: b3.hitN, hitLast: b3.hitLast}
	if write(b4); !b4.applied || b4.unmatched != 0 {
		t.Errorf("direct update retried: applied %v unmatched %d, want true 0", b4.applied, b4.unmatched)
	}
	if hx, hz := hitsOf(t, table, x.ID), hitsOf(t, table, z.ID); hx != 5 || hz != 4 {
		t.Errorf("hits %d, %d, want 5, 4", hx, hz)
	}
}

// TestStoredSet: a template another node stored is known from the Redis
// set without a PostgreSQL write; without the set (lost) the node asks
// PostgreSQL as before; a template this node sent to PostgreSQL before is
// not taken from the set, so a row its lost reply created is still
// announced; an unreachable Redis leaves the writes to PostgreSQL.
func TestStoredSet(t *testing.T) {
	table := pgSchema(t, testutil.SharedDSN)
	rdb, prefix := testutil.RedisPrefix(t, testutil.SharedRedis, "sinkt")
	open := func(node string) *Sink {
		t.Helper()
		s, err := New(fast(Config{PGDSN: testutil.SharedDSN, PGTable: table, RedisAddr: testutil.SharedRedis, RedisPrefix: prefix, NodeName: node}), nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	var all []Template
	for i := range 5 {
		all = append(all, tmpl("stored", "stored set <*> number "+strconv.Itoa(i), KindNew))
	}
	a := open("node-a")
	for _, tt := range all {
		a.Template(tt)
	}
	testutil.WaitFor(t, 10*time.Second, "node-a's templates written", func() bool { return settled(a) })
	key := a.pg.stored.key
	closeSink(t, a)
	if st := a.Stats(); st.Created != 5 || st.KnownStored != 0 {
		t.Errorf("node-a: created %d, known from the set %d; want 5, 0", st.Created, st.KnownStored)
	}
	if n, err := rdb.SCard(context.Background(), key).Result(); err != nil || n != 5 {
		t.Fatalf("set %s holds %d ids (%v), want 5", key, n, err)
	}

	// offer runs a node that meets every template of all, until they are
	// settled.
	offer := func(node string) *Sink {
		t.Helper()
		s := open(node)
		for _, tt := range all {
			tt.SeenAt = time.Now()
			s.Template(tt)
		}
		testutil.WaitFor(t, 10*time.Second, node+"'s templates settled", func() bool { return settled(s) })
		closeSink(t, s)
		return s
	}
	b := offer("node-b")
	if st := b.Stats(); st.KnownStored != 5 || st.Known != 5 || st.Created != 0 || st.Postgres.Batches != 1 || st.Postgres.Rows != 5 {
		t.Errorf("node-b: known from the set %d, known %d, created %d, batches %d rows %d; want 5, 5, 0, 1, 5",
			st.KnownStored, st.Known, st.Created, st.Postgres.Batches, st.Postgres.Rows)
	}
	if st := b.Stats(); st.Postgres.Errors[CauseConnect] != 0 || b.pg.pool.Stat().NewConnsCount() != 0 {
		t.Errorf("node-b dialed PostgreSQL %d times, want 0", b.pg.pool.Stat().NewConnsCount())
	}

	// The set lost: the next node asks PostgreSQL, which knows them all,
	// and the set is filled again.
	rdb.Del(context.Background(), key)
	c := offer("node-c")
	if st := c.Stats(); st.KnownStored != 0 || st.Known != 5 || st.Created != 0 {
		t.Errorf("node-c: known from the set %d, known %d, created %d; want 0, 5, 0", st.KnownStored, st.Known, st.Created)
	}
	if n, _ := rdb.SCard(context.Background(), key).Result(); n != 5 {
		t.Errorf("set holds %d ids after node-c, want 5", n)
	}

	// A lost reply: node-d's insert of x committed, another node put x in
	// the set meanwhile; node-d's retry (x tried) still asks PostgreSQL
	// and announces the row it created. A fresh item of x would be known.
	d := open("node-d")
	defer closeSink(t, d)
	x := tmpl("stored", "stored set lost reply <*>", KindNew)
	it := &item{t: x}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.pg.write(ctx, &batch{token: "1", items: []*item{it}}); err != nil {
		t.Fatal(err)
	}
	if !it.tried {
		t.Error("an item sent to PostgreSQL is not marked tried")
	}
	retry := &batch{token: "1", items: []*item{it}}
	if err := d.pg.write(ctx, retry); err != nil {
		t.Fatal(err)
	}
	if len(retry.created) != 1 || retry.fromSet != 0 {
		t.Errorf("retry of a tried item: created %d, from the set %d; want 1, 0", len(retry.created), retry.fromSet)
	}
	fresh := &batch{token: "2", items: []*item{{t: x}}}
	if err := d.pg.write(ctx, fresh); err != nil {
		t.Fatal(err)
	}
	if len(fresh.created) != 0 || fresh.fromSet != 1 || fresh.known != 1 {
		t.Errorf("fresh item of a stored template: created %d, from the set %d, known %d; want 0, 1, 1", len(fresh.created), fresh.fromSet, fresh.known)
	}

	// Redis away: the set is skipped after one failure, PostgreSQL decides.
	e, err := New(fast(Config{PGDSN: testutil.SharedDSN, PGTable: table, RedisAddr: deadAddr(t), RedisPrefix: prefix, NodeName: "node-e"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	y := tmpl("stored", "stored set without redis <*>", KindNew)
	e.Template(y)
	e.Template(all[0])
	testutil.WaitFor(t, 10*time.Second, "node-e's rows written", func() bool {
		st := e.Stats()
		return st.Created+st.Known == 2
	})
	if st := e.Stats(); st.Created != 1 || st.Known != 1 || st.KnownStored != 0 {
		t.Errorf("node-e (no Redis): created %d known %d from the set %d; want 1, 1, 0", st.Created, st.Known, st.KnownStored)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel2()
	e.Close(ctx2) //nolint:errcheck // Redis is away: its events stay pending
}

// TestPgBouncerPooler: with PG_Pooler a node keeps its connection to
// PgBouncer between writes (one dial for many), and without it dials for
// every write; counts are exact either way.
func TestPgBouncerPooler(t *testing.T) {
	dsn := startPgBouncer(t, 1)
	table := pgSchema(t, testutil.SharedDSN)
	for _, pooler := range []bool{false, true} {
		cfg := fast(Config{PGDSN: dsn, PGTable: table, NodeName: "pooler-" + strconv.FormatBool(pooler), PGPooler: pooler})
		s, err := New(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		x := tmpl("pooler", "kept connection <*> "+strconv.FormatBool(pooler), KindNew)
		s.Template(x)
		const writes = 4
		for range writes {
			s.Hit(x.ID, 2)
			testutil.WaitFor(t, 10*time.Second, "a write", func() bool { return settled(s) })
			time.Sleep(3 * cfg.FlushInterval) // idle: the writer gives its connection back
		}
		dials := s.pg.pool.Stat().NewConnsCount()
		closeSink(t, s)
		if pooler && dials != 1 {
			t.Errorf("PG_Pooler on: %d dials for %d writes, want 1", dials, writes)
		}
		if !pooler && dials < writes {
			t.Errorf("PG_Pooler off: %d dials for %d writes, want one per write", dials, writes)
		}
		if h := hitsOf(t, table, x.ID); h != 2*writes {
			t.Errorf("pooler %v: hits %d, want %d", pooler, h, 2*writes)
		}
	}
}

// deadAddr is a local address nothing listens on.
func deadAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}
