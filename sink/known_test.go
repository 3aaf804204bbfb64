package sink

import (
	"context"
	"encoding/json"
	"hash/crc32"
	"io"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/awoooi/fluent-bit-drain/internal/testutil"
)

// knownSet is what a LoadKnown gave fn, as "partition|template".
type knownSet map[string]bool

func loadKnownSet(t testing.TB, s *Sink, partitions []string) (knownSet, error) {
	t.Helper()
	got := knownSet{}
	err := s.LoadKnown(context.Background(), partitions, func(p, tt string) {
		if got[p+"|"+tt] {
			t.Errorf("LoadKnown gave %q twice", p+"|"+tt)
		}
		got[p+"|"+tt] = true
	})
	return got, err
}

// cacheSet is what the node's known-templates cache holds.
func cacheSet(s *Sink) knownSet {
	m := s.known.entries(true, nil)
	out := knownSet{}
	for _, e := range m {
		out[e.partition+"|"+e.template] = true
	}
	return out
}

func sortedKeys(m knownSet) []string { return slices.Sorted(maps.Keys(m)) }

// writeTemplates writes ts through a sink of cfg (node name node) and
// closes it, so every row is committed.
func writeTemplates(t *testing.T, cfg Config, node string, ts ...Template) {
	t.Helper()
	cfg.NodeName, cfg.BufferPath = node, ""
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range ts {
		s.Template(tt)
	}
	closeSink(t, s)
}

func widened(parent Template, text string) Template {
	c := tmpl(parent.Partition, text, KindGeneralized)
	c.ParentID = parent.ID
	return c
}

// TestKnownIncremental (warm start from the local cache): a node that
// loaded once keeps a cache of known templates next to its buffer file; its
// next start replays it without PostgreSQL and reads only the rows created
// since, and afterwards its cache holds exactly what a full load returns,
// whatever other nodes created or widened meanwhile.
func TestKnownIncremental(t *testing.T) {
	p0a, p0b, p1a := tmpl("p0", "boot <*> done", KindNew), tmpl("p0", "disk <*> full", KindNew), tmpl("p1", "user alice in", KindNew)
	base := []Template{p0a, p0b, p1a}
	for _, tc := range []struct {
		name  string
		steps [][]Template // written by another node after the mark, each step committed before the next
	}{
		{"nothing changed", nil},
		{"new rows", [][]Template{{tmpl("p0", "fresh <*>", KindNew), tmpl("p2", "other partition", KindNew)}}},
		{"cached template widened", [][]Template{{widened(p1a, "user <*> in")}}},
		{"widened twice", [][]Template{{widened(p0a, "boot <*> <*>")}, {widened(widened(p0a, "boot <*> <*>"), "<*> <*> <*>")}}},
		{"new then widened", [][]Template{{tmpl("p0", "conn 1 lost", KindNew)}, {widened(tmpl("p0", "conn 1 lost", KindNew), "conn <*> lost")}}},
		{"new and widened in one batch", [][]Template{{tmpl("p3", "job 7 ok", KindNew), widened(tmpl("p3", "job 7 ok", KindNew), "job <*> ok")}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _ := sharedConfig(t)
			cfg.knownMargin = time.Millisecond // the test commits before each step: no transaction in flight
			cfg.BufferPath = filepath.Join(t.TempDir(), "drain.buf")
			cfg.NodeName = "node-a"

			// First start: no table, nothing known, no mark (a later
			// load reads every row once).
			a, err := New(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := loadKnownSet(t, a, nil); err != nil || len(got) != 0 {
				t.Fatalf("first LoadKnown = %v, %v", got, err)
			}
			for _, tt := range base {
				a.Template(tt)
			}
			closeSink(t, a)
			// Second start: the cache (no mark yet) replayed, then a full
			// load, which sets the mark.
			a, err = New(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := loadKnownSet(t, a, nil); err != nil || len(got) != len(base) {
				t.Fatalf("second LoadKnown = %v, %v", sortedKeys(got), err)
			}
			if st := a.Stats(); st.KnownCached != 3 || st.KnownRead != 3 {
				t.Errorf("second start: %d from the cache, %d rows read; want 3, 3 (no mark yet: a full load)", st.KnownCached, st.KnownRead)
			}
			closeSink(t, a)
			before := cacheSet(a)

			time.Sleep(5 * time.Millisecond) // past the margin
			rows := 0
			for _, step := range tc.steps {
				writeTemplates(t, cfg, "node-b", step...)
				rows += len(step)
			}

			// Third start: incremental.
			a, err = New(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer closeSink(t, a)
			got, err := loadKnownSet(t, a, nil)
			if err != nil {
				t.Fatal(err)
			}
			full, err := loadKnownSet(t, noCacheSink(t, cfg), nil)
			if err != nil {
				t.Fatal(err)
			}
			if c := cacheSet(a); !maps.Equal(c, full) {
				t.Errorf("cache after the incremental load:\n  %q\nfull load:\n  %q", sortedKeys(c), sortedKeys(full))
			}
			// fn saw the cache as it was, then what PostgreSQL added.
			want := maps.Clone(before)
			maps.Copy(want, full)
			if !maps.Equal(got, want) {
				t.Errorf("LoadKnown gave\n  %q\nwant the cache replayed and the new rows:\n  %q", sortedKeys(got), sortedKeys(want))
			}
			if st := a.Stats(); st.KnownCached != uint64(len(before)) || st.KnownRead != uint64(rows) {
				t.Errorf("incremental start: %d from the cache, %d rows read; want %d, %d (only the rows since the mark)",
					st.KnownCached, st.KnownRead, len(before), rows)
			}
			// And the next start replays exactly the full load's set.
			closeSink(t, a)
			a2, err := New(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer closeSink(t, a2)
			if got, err := loadKnownSet(t, a2, nil); err != nil || !maps.Equal(got, full) {
				t.Errorf("fourth start: %q, %v; want %q", sortedKeys(got), err, sortedKeys(full))
			}
		})
	}
}

func noCacheSink(t *testing.T, cfg Config) *Sink {
	t.Helper()
	cfg.BufferPath = ""
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeSink(t, s) })
	return s
}

// TestKnownPartitions: LoadKnown of some partitions replays and loads
// only theirs, and keeps the mark's cache whole.
func TestKnownPartitions(t *testing.T) {
	cfg, _ := sharedConfig(t)
	cfg.knownMargin = time.Millisecond
	cfg.BufferPath = filepath.Join(t.TempDir(), "drain.buf")
	writeTemplates(t, cfg, "node-b", tmpl("p0", "a", KindNew), tmpl("p1", "b", KindNew))
	a, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := loadKnownSet(t, a, nil); err != nil || len(got) != 2 {
		t.Fatalf("LoadKnown = %v, %v", got, err)
	}
	closeSink(t, a)
	time.Sleep(5 * time.Millisecond)
	writeTemplates(t, cfg, "node-b", tmpl("p0", "c", KindNew), tmpl("p1", "d", KindNew))
	a, err = New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer closeSink(t, a)
	got, err := loadKnownSet(t, a, []string{"p1"})
	if want := []string{"p1|b", "p1|d"}; err != nil || !slices.Equal(sortedKeys(got), want) {
		t.Errorf("LoadKnown(p1) = %q, %v; want %q", sortedKeys(got), err, want)
	}
	if c := cacheSet(a); len(c) != 4 {
		t.Errorf("cache = %q, want all four", sortedKeys(c))
	}
}

// TestKnownCacheUnusable: a corrupt, truncated, foreign or future-version
// cache is not used — the warm start reads every row, as without one —
// logged once, and replaced by a good one.
func TestKnownCacheUnusable(t *testing.T) {
	for _, tc := range []struct {
		name, why string
		spoil     func(data []byte) []byte
	}{
		{"garbage", "corrupt", func([]byte) []byte { return []byte("not a cache\n") }},
		{"truncated", "corrupt", func(d []byte) []byte { return d[:len(d)*2/3] }},
		{"byte flipped", "checksum", func(d []byte) []byte {
			i := strings.Index(string(d), "tmpl 1")
			d[i+5] = '7'
			return d
		}},
		{"empty", "corrupt", func([]byte) []byte { return nil }},
		{"another table", "written for", func(d []byte) []byte {
			return []byte(strings.Replace(string(d), ".log_templates", ".other_table", 1))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _ := sharedConfig(t)
			cfg.BufferPath = filepath.Join(t.TempDir(), "drain.buf")
			var ts []Template
			for i := range 5 {
				ts = append(ts, tmpl("p", "tmpl "+string(rune('0'+i)), KindNew))
			}
			writeTemplates(t, cfg, "node-b", ts...)
			s, err := New(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := loadKnownSet(t, s, nil); err != nil || len(got) != 5 {
				t.Fatalf("LoadKnown = %v, %v", got, err)
			}
			closeSink(t, s)
			path := cfg.BufferPath + ".known"
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			data = tc.spoil(data)
			if tc.name == "another table" { // well-formed, checksum right: only the store differs
				data = resum(data)
			}
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			var lg testutil.Log
			s, err = New(cfg, &lg)
			if err != nil {
				t.Fatal(err)
			}
			got, err := loadKnownSet(t, s, nil)
			if err != nil || len(got) != 5 {
				t.Errorf("LoadKnown with a spoilt cache = %q, %v; want the 5 rows", sortedKeys(got), err)
			}
			if st := s.Stats(); st.KnownCached != 0 || st.KnownRead != 5 {
				t.Errorf("%d from the cache, %d rows read; want 0, 5", st.KnownCached, st.KnownRead)
			}
			if _, err := loadKnownSet(t, s, nil); err != nil {
				t.Error(err)
			}
			if n := strings.Count(lg.String(), "not used"); n != 1 || !strings.Contains(lg.String(), tc.why) {
				t.Errorf("logged %d times (want once, saying %q):\n%s", n, tc.why, lg.String())
			}
			closeSink(t, s)
			s, err = New(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer closeSink(t, s)
			if got, err := loadKnownSet(t, s, nil); err != nil || len(got) != 5 || s.Stats().KnownCached != 5 {
				t.Errorf("after rewriting: %q, %v, %d from the cache", sortedKeys(got), err, s.Stats().KnownCached)
			}
		})
	}
}

// resum rewrites a cache file's trailer for its (edited) content.
func resum(data []byte) []byte {
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	body := strings.Join(lines[:len(lines)-1], "\n") + "\n"
	tr, _ := json.Marshal(knownTrailer{End: len(lines) - 2, CRC32: crc32.ChecksumIEEE([]byte(body))})
	return []byte(body + string(tr) + "\n")
}

// TestKnownWithoutPostgres: a node without PostgreSQL (Redis only) knows
// after a restart what it announced before, from its cache alone, so it
// does not announce it again; a node whose PostgreSQL is down seeds from
// its cache too (and reports the load failed, to be tried again).
func TestKnownWithoutPostgres(t *testing.T) {
	cfg, rdb := sharedConfig(t)
	cfg.PGDSN = ""
	cfg.BufferPath = filepath.Join(t.TempDir(), "drain.buf")
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, b := tmpl("p", "announced <*>", KindNew), tmpl("p", "announced 2", KindNew)
	s.Template(a)
	s.Template(b)
	closeSink(t, s)
	s.Template(widened(b, "announced <*> too")) // after Close: refused, not cached
	s, err = New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := loadKnownSet(t, s, nil)
	if want := []string{"p|announced 2", "p|announced <*>"}; err != nil || !slices.Equal(sortedKeys(got), want) {
		t.Errorf("LoadKnown without PostgreSQL = %q, %v; want %q", sortedKeys(got), err, want)
	}
	// A widening confirmed by Redis drops its parent from the cache.
	s.Template(widened(b, "announced <*> too"))
	closeSink(t, s)
	s, err = New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err = loadKnownSet(t, s, nil)
	if want := []string{"p|announced <*>", "p|announced <*> too"}; err != nil || !slices.Equal(sortedKeys(got), want) {
		t.Errorf("after a widening = %q, %v; want %q", sortedKeys(got), err, want)
	}
	closeSink(t, s)
	if n := len(listEvents(t, rdb, cfg.RedisPrefix+":new")); n != 3 {
		t.Errorf("%d events, want 3 (two new, one widened; nothing again)", n)
	}

	// PostgreSQL down: the cache a node wrote while it was up seeds it.
	// (A proxy stands for the server, so that its address stays the same.)
	var up atomic.Bool
	up.Store(true)
	proxy := testutil.Listen(t, func(c net.Conn) {
		if !up.Load() {
			c.Close()
			return
		}
		go func() {
			defer c.Close()
			pg, err := net.Dial("tcp", "127.0.0.1:5432")
			if err != nil {
				return
			}
			defer pg.Close()
			go io.Copy(pg, c) //nolint:errcheck // ends with either side
			io.Copy(c, pg)    //nolint:errcheck // as above
		}()
	})
	pcfg, _ := sharedConfig(t)
	pcfg.PGDSN = "postgres://postgres@" + proxy.Addr + "/test?sslmode=disable"
	pcfg.BufferPath = filepath.Join(t.TempDir(), "drain.buf")
	writeTemplates(t, pcfg, "node-b", a, b)
	s, err = New(pcfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := loadKnownSet(t, s, nil); err != nil || len(got) != 2 {
		t.Fatalf("LoadKnown = %v, %v", got, err)
	}
	closeSink(t, s)
	up.Store(false)
	pcfg.CallTimeout, pcfg.LoadTimeout = 500*time.Millisecond, time.Second
	s, err = New(pcfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err = loadKnownSet(t, s, nil)
	if want := []string{"p|announced 2", "p|announced <*>"}; err == nil || !slices.Equal(sortedKeys(got), want) {
		t.Errorf("PostgreSQL down: %q, %v; want %q from the cache and an error", sortedKeys(got), err, want)
	}
	s.Close(context.Background()) //nolint:errcheck // nothing pending
}

// TestKnownCreatedAtMigration: a table made before created_at gets it from
// the first write of a role that owns it (older rows keep NULL), after
// which warm starts read only the rows since their mark; a role that may
// not alter the table says so once and its warm starts read every row,
// with the same result.
func TestKnownCreatedAtMigration(t *testing.T) {
	table := pgSchema(t, testutil.SharedDSN)
	schema := strings.Split(table, ".")[0]
	q := quoteTable(t, table)
	for _, stmt := range schemaSQL(q, "log_templates") {
		testutil.PGQuery(t, testutil.SharedDSN, stmt)
	}
	testutil.PGQuery(t, testutil.SharedDSN, `ALTER TABLE `+q+` DROP COLUMN created_at`)
	hasCreated := func() bool {
		return testutil.PGQuery(t, testutil.SharedDSN, `SELECT `+sqlHasCreated, table)[0][0] == true
	}
	role := uniq() + "_role"
	testutil.PGQuery(t, testutil.SharedDSN, `CREATE ROLE `+role+` LOGIN`)
	t.Cleanup(func() {
		testutil.PGQuery(t, testutil.SharedDSN, `DROP OWNED BY `+role)
		testutil.PGQuery(t, testutil.SharedDSN, `DROP ROLE `+role)
	})
	testutil.PGQuery(t, testutil.SharedDSN, `GRANT USAGE ON SCHEMA `+schema+` TO `+role)
	testutil.PGQuery(t, testutil.SharedDSN, `GRANT SELECT, INSERT, UPDATE ON `+table+` TO `+role)

	// Not the owner: goes on without it, every warm start reads every row.
	limited := fast(Config{PGDSN: "postgres://" + role + "@127.0.0.1:5432/test?sslmode=disable", PGTable: table,
		BufferPath: filepath.Join(t.TempDir(), "drain.buf")})
	limited.knownMargin = time.Millisecond
	var lb testutil.Log
	s, err := New(limited, &lb)
	if err != nil {
		t.Fatal(err)
	}
	s.Template(tmpl("p", "old row 1", KindNew))
	testutil.WaitFor(t, 10*time.Second, "written", func() bool { return settled(s) })
	for range 2 {
		if got, err := loadKnownSet(t, s, nil); err != nil || len(got) != 1 || hasCreated() {
			t.Fatalf("LoadKnown = %v, %v; created_at there: %v", got, err, hasCreated())
		}
	}
	if st := s.Stats(); st.KnownRead != 2 {
		t.Errorf("%d rows read by two loads, want 2 (every row each time)", st.KnownRead)
	}
	closeSink(t, s)
	if n := strings.Count(lb.String(), "created_at is missing and this role cannot add it"); n != 1 {
		t.Errorf("want one line saying created_at cannot be added:\n%s", lb.String())
	}

	// The owner's node adds it at its first write.
	cfg := fast(Config{PGDSN: testutil.SharedDSN, PGTable: table, BufferPath: filepath.Join(t.TempDir(), "drain.buf")})
	cfg.knownMargin = time.Millisecond
	writeTemplates(t, cfg, "node-b", tmpl("p", "old row 2", KindNew))
	if !hasCreated() {
		t.Fatal("created_at not added")
	}
	if r := testutil.PGQuery(t, testutil.SharedDSN, `SELECT count(*) FILTER (WHERE created_at IS NULL), count(*) FROM `+table); r[0][0] != int64(1) || r[0][1] != int64(2) {
		t.Errorf("rows without / with created_at: %v, want 1 of 2 (the row before it)", r[0])
	}
	s, err = New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := loadKnownSet(t, s, nil); err != nil || len(got) != 2 {
		t.Fatalf("LoadKnown = %v, %v", got, err)
	}
	closeSink(t, s)
	time.Sleep(5 * time.Millisecond)
	writeTemplates(t, cfg, "node-b", tmpl("p", "new row", KindNew))
	s, err = New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer closeSink(t, s)
	if got, err := loadKnownSet(t, s, nil); err != nil || len(got) != 3 || s.Stats().KnownRead != 1 {
		t.Errorf("incremental after the migration: %q, %v, %d rows read (want 3 known, 1 read)", sortedKeys(got), err, s.Stats().KnownRead)
	}
}

// TestKnownConfirmedOrder: a batch holds a template and its widening in
// any order; the parent leaves the cache either way, and a save and read
// give back the same set.
func TestKnownConfirmedOrder(t *testing.T) {
	p := tmpl("p", "user alice in", KindNew)
	c := widened(p, "user <*> in")
	path := filepath.Join(t.TempDir(), "c.known")
	for _, order := range [][]*item{{{t: c}, {t: p}}, {{t: p}, {t: c}}} {
		k := newKnownCache(path, "s", t.Logf)
		k.load()
		k.confirmed(order)
		if err := k.saveFile(); err != nil {
			t.Fatal(err)
		}
		k2 := newKnownCache(path, "s", t.Logf)
		k2.load()
		if m := k2.entries(true, nil); len(m) != 1 || m[c.ID].template != c.Template {
			t.Errorf("cache after %s then %s = %v, want the widening only", order[0].t.Template, order[1].t.Template, m)
		}
	}
}

// TestKnownRefresh: a running node reads, with its hit counts, the rows
// other nodes created since its last load, and a template one of them
// stored is then known here without a write; one widened since leaves the
// cache, and its widening is known.
func TestKnownRefresh(t *testing.T) {
	cfg, _ := sharedConfig(t)
	cfg.knownMargin = time.Millisecond // the test commits before each step: no transaction in flight
	cfg.BufferPath = filepath.Join(t.TempDir(), "drain.buf")
	cfg.NodeName = "node-a"
	boot := tmpl("p0", "boot <*> done", KindNew)
	writeTemplates(t, cfg, "node-b", boot) // the table exists: the load below sets a mark

	a, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer closeSink(t, a)
	if _, err := loadKnownSet(t, a, nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond) // past the margin
	fresh := tmpl("p0", "disk <*> full", KindNew)
	wide := widened(boot, "<*> <*> done")
	writeTemplates(t, cfg, "node-b", fresh, wide)

	// A's hit counts go out every FlushInterval (fast); the refresh follows.
	a.Hit(boot.ID, 1)
	if !testutil.Poll(10*time.Second, func() bool { return a.known.has(fresh.ID) && a.known.has(wide.ID) }) {
		t.Fatalf("refresh: cache %q; want node-b's rows in it", sortedKeys(cacheSet(a)))
	}
	if a.known.has(boot.ID) {
		t.Errorf("refresh kept %q, widened by node-b since", boot.Template)
	}
	before := a.Stats()
	a.Template(fresh)
	a.Template(wide)
	st := a.Stats()
	if st.Known-before.Known != 2 || st.Created != before.Created {
		t.Errorf("templates other nodes stored: known %d -> %d, created %d -> %d; want both known at once, none created",
			before.Known, st.Known, before.Created, st.Created)
	}
	if st.PendingTemplates != 0 {
		t.Errorf("%d templates pending after two the cache knew: want nothing queued", st.PendingTemplates)
	}
	// A template nobody stored still goes to PostgreSQL.
	own := tmpl("p0", "fan <*> slow", KindNew)
	a.Template(own)
	if !testutil.Poll(10*time.Second, func() bool { return a.Stats().Created == before.Created+1 }) {
		t.Errorf("a template new to the cluster: created %d, want %d", a.Stats().Created, before.Created+1)
	}
}
