package sink

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/awoooi/fluent-bit-drain/internal/testutil"
)

// startPgBouncer runs a PgBouncer in transaction pooling mode in front of
// the shared PostgreSQL's database test, with server pool servers
// connections, and returns the DSN through it. Skipped without pgbouncer.
func startPgBouncer(t *testing.T, servers int) string {
	t.Helper()
	return testutil.PgBouncerFor(t, servers).DSN()
}

// TestPgBouncerTransactionPooling: sinks write through a PgBouncer in
// transaction mode whose pool has fewer server connections than there are
// sinks, so consecutive transactions of one sink run on different server
// sessions: no statement is prepared and no setting outlives its
// transaction. Schema creation, the batch ledger, new-to-the-cluster
// inserts, hit counts and LoadKnown all work, and every count lands once.
func TestPgBouncerTransactionPooling(t *testing.T) {
	dsn := startPgBouncer(t, 2)
	table := pgSchema(t, testutil.SharedDSN)
	const sinks = 5
	var all []Template
	for i := range 30 {
		all = append(all, tmpl("bouncer", "through the pooler <*> number "+strconv.Itoa(i), KindNew))
	}
	sent := map[string]int64{}
	var created uint64
	bufDir := t.TempDir()
	// The second round's sinks start warm, reading every row; the third's
	// from their caches of known templates, reading the rows since.
	for round := range 3 {
		ss := make([]*Sink, sinks)
		for i := range ss {
			cfg := fast(Config{PGDSN: dsn, PGTable: table, NodeName: "bouncer-" + strconv.Itoa(i),
				BufferPath: filepath.Join(bufDir, strconv.Itoa(i)+".buf")})
			cfg.knownMargin = time.Millisecond
			s, err := New(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			ss[i] = s
		}
		for i, s := range ss {
			known := 0
			if err := s.LoadKnown(context.Background(), nil, func(string, string) { known++ }); err != nil {
				t.Fatalf("round %d: LoadKnown through pgbouncer: %v", round, err)
			}
			if round > 0 && known != len(all) {
				t.Errorf("round %d, sink %d: loaded %d templates, want %d", round, i, known, len(all))
			}
			if st := s.Stats(); round == 2 && (st.KnownCached != uint64(len(all)) || st.KnownRead != 0) {
				t.Errorf("round 2, sink %d: %d from the cache, %d rows read; want %d, 0", i, st.KnownCached, st.KnownRead, len(all))
			}
			for k, tt := range all {
				tt.SeenAt = time.Now() // a later sighting: not this node's earlier insert
				s.Template(tt)
				n := int64(1 + (k+i+round)%4)
				s.Hit(tt.ID, n)
				sent[tt.ID] += n
			}
		}
		testutil.WaitFor(t, 30*time.Second, "every sink's backlog written", func() bool {
			for _, s := range ss {
				if !settled(s) {
					return false
				}
			}
			return true
		})
		for i, s := range ss {
			closeSink(t, s)
			st := s.Stats()
			created += st.Created
			for cause, n := range st.Postgres.Errors {
				if n != 0 {
					t.Errorf("round %d, sink %d: %d %s errors through pgbouncer", round, i, n, cause)
				}
			}
			if st.Unguarded != 0 {
				t.Errorf("round %d, sink %d: %d batches without the ledger", round, i, st.Unguarded)
			}
		}
	}
	if created != uint64(len(all)) {
		t.Errorf("%d rows created by the sinks, want %d (each template new to the cluster once)", created, len(all))
	}
	rows := testutil.PGQuery(t, testutil.SharedDSN, `SELECT template_id, hits FROM `+table)
	if len(rows) != len(all) {
		t.Errorf("%d rows, want %d", len(rows), len(all))
	}
	for _, r := range rows {
		if id, hits := r[0].(string), r[1].(int64); hits != sent[id] {
			t.Errorf("template %s: %d hits, want %d", id, hits, sent[id])
		}
	}
}
