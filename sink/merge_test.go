package sink

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/awoooi/fluent-bit-drain/internal/testutil"
)

// Tests of the hit-count deltas (<table>_deltas): batches of hit counts go
// in as rows of their node and are merged into the templates' hits by
// whichever node finds the merge due.

// deltaRows is the number of unmerged deltas of table.
func deltaRows(t testing.TB, table string) int64 {
	t.Helper()
	dq, _, err := PendingHits(table)
	if err != nil {
		t.Fatal(err)
	}
	return testutil.PGQuery(t, testutil.SharedDSN, `SELECT count(*) FROM `+dq)[0][0].(int64)
}

// mergedHits is a template's hits column alone: what merges added.
func mergedHits(t testing.TB, table, id string) int64 {
	t.Helper()
	return testutil.PGQuery(t, testutil.SharedDSN, `SELECT hits FROM `+table+` WHERE template_id = $1`, id)[0][0].(int64)
}

// TestPGMergeExactlyOnce: nodes write batches of hit counts while several
// mergers run at once, until every delta is merged; each template's hits
// equal the counts written, whether the mergers share the advisory lock or
// race past it (distinct lock keys: only the DELETE then keeps a delta
// from being added twice).
func TestPGMergeExactlyOnce(t *testing.T) {
	for _, tc := range []struct {
		name     string
		sameLock bool
	}{
		{"mergers share the lock", true},
		{"mergers race past the lock", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			table := pgSchema(t, testutil.SharedDSN)
			const nodes, batches, mergers = 4, 30, 4
			ids := []string{
				tmpl("merge", "shared a <*>", KindNew).ID,
				tmpl("merge", "shared b <*>", KindNew).ID,
				tmpl("merge", "shared c <*>", KindNew).ID,
			}
			ws := make([]*pgWriter, nodes+mergers)
			for i := range ws {
				w, err := newPGWriter(poolConfig(t, testutil.SharedDSN), table, "", fmt.Sprintf("node-%d", i))
				if err != nil {
					t.Fatal(err)
				}
				if !tc.sameLock {
					w.mergeKey += int64(i)
				}
				defer w.close()
				ws[i] = w
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			items := &batch{token: newToken()}
			for _, id := range ids {
				tt := tmpl("merge", "x", KindNew)
				tt.ID = id
				items.items = append(items.items, &item{t: tt})
			}
			if err := ws[0].write(ctx, items); err != nil {
				t.Fatal(err)
			}

			var wg sync.WaitGroup
			errs := make(chan error, nodes+mergers)
			for n := range nodes {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range batches {
						now := time.Now().UnixMicro()
						b := &batch{token: newToken(), hitIDs: ids, hitN: []int64{1, int64(n + 1), int64(i + 1)}, hitLast: []int64{now, now, now}}
						if err := ws[n].write(ctx, b); err != nil {
							errs <- fmt.Errorf("node %d batch %d: %w", n, i, err)
							return
						}
					}
				}()
			}
			writing := make(chan struct{})
			go func() { wg.Wait(); close(writing) }()
			var mg sync.WaitGroup
			var mu sync.Mutex
			merges := 0
			for m := range mergers {
				mg.Add(1)
				go func() {
					defer mg.Done()
					w := ws[nodes+m]
					for {
						done := false
						select {
						case <-writing:
							done = true
						default:
						}
						n, _, err := w.merge(ctx, 0)
						if err != nil {
							errs <- fmt.Errorf("merger %d: %w", m, err)
							return
						}
						if n > 0 {
							mu.Lock()
							merges++
							mu.Unlock()
						}
						if done && n == 0 {
							return
						}
					}
				}()
			}
			mg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			// A merger may have stopped while a race-past merger still held
			// deltas; one more merge takes whatever is left.
			if _, _, err := ws[nodes].merge(ctx, 0); err != nil {
				t.Fatal(err)
			}
			if n := deltaRows(t, table); n != 0 {
				t.Fatalf("%d deltas left unmerged", n)
			}
			want := []int64{nodes * batches, batches * (1 + 2 + 3 + 4), nodes * batches * (batches + 1) / 2}
			for i, id := range ids {
				if h := mergedHits(t, table, id); h != want[i] {
					t.Errorf("template %d: hits = %d, want %d", i, h, want[i])
				}
			}
			t.Logf("%d merges", merges)
			if merges < 2 {
				t.Errorf("%d merges, want several while nodes write", merges)
			}
		})
	}
}

// TestPGMergeCrashAndOfflineNode: node A writes its hit counts as deltas
// and dies before any merge (its process gone, nothing closed); the counts
// users read (the compatibility view, and hits plus deltas) already hold
// them. Node B, alone online, merges A's deltas with its own: the counts
// read before and after the merge are the same and equal what was sent,
// and the merged column now holds them all.
func TestPGMergeCrashAndOfflineNode(t *testing.T) {
	table := pgSchema(t, testutil.SharedDSN)
	view := strings.Replace(table, ".log_templates", ".log_cluster_records", 1)
	a := tmpl("offline", "written by a node that died <*>", KindNew)
	b := tmpl("offline", "written by the node that stayed <*>", KindNew)

	cfgA := fast(Config{PGDSN: testutil.SharedDSN, PGTable: table, PGCompatView: view, NodeName: "node-a"})
	cfgA.PGMergeInterval = time.Hour // no merge in this node's life
	sa, err := New(cfgA, nil)
	if err != nil {
		t.Fatal(err)
	}
	sa.Template(a)
	sa.Hit(a.ID, 5)
	testutil.WaitFor(t, 10*time.Second, "node A's backlog written", func() bool { return settled(sa) })
	sa.Hit(a.ID, 2)
	testutil.WaitFor(t, 10*time.Second, "node A's second batch", func() bool { return settled(sa) })
	// A crash: the sink's life ends without Close, so no final merge.
	sa.closeStores()

	readCounts := func(when string) {
		t.Helper()
		if h := hitsOf(t, table, a.ID); h != 7 {
			t.Errorf("%s: hits + deltas of A's template = %d, want 7", when, h)
		}
		if r := testutil.PGQuery(t, testutil.SharedDSN, `SELECT size FROM `+view+` WHERE cluster_id = $1`, a.ID); len(r) != 1 || r[0][0] != int64(7) {
			t.Errorf("%s: view size of A's template = %v, want 7", when, r)
		}
	}
	if n := deltaRows(t, table); n != 2 {
		t.Fatalf("%d deltas after node A, want 2 (two batches)", n)
	}
	if h := mergedHits(t, table, a.ID); h != 0 {
		t.Fatalf("hits column = %d before any merge, want 0", h)
	}
	readCounts("before the merge")

	cfgB := fast(Config{PGDSN: testutil.SharedDSN, PGTable: table, PGCompatView: view, NodeName: "node-b"})
	cfgB.PGMergeInterval = time.Millisecond
	sb, err := New(cfgB, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer closeSink(t, sb)
	sb.Template(b)
	sb.Hit(b.ID, 3)
	sb.Hit(a.ID, 1) // the same template on the node still online
	testutil.WaitFor(t, 10*time.Second, "node B merged", func() bool { return sb.Stats().Merges > 0 && deltaRows(t, table) == 0 })
	if ha, hb := mergedHits(t, table, a.ID), mergedHits(t, table, b.ID); ha != 8 || hb != 3 {
		t.Errorf("merged hits = %d, %d, want 8, 3", ha, hb)
	}
	if h := hitsOf(t, table, a.ID); h != 8 {
		t.Errorf("after the merge: hits + deltas of A's template = %d, want 8", h)
	}
	if r := testutil.PGQuery(t, testutil.SharedDSN, `SELECT size FROM `+view+` WHERE cluster_id = $1`, a.ID); len(r) != 1 || r[0][0] != int64(8) {
		t.Errorf("after the merge: view size = %v, want 8", r)
	}
	if st := sb.Stats(); st.Unmatched != 0 || st.Merged < 2 {
		t.Errorf("unmatched %d merged %d, want 0, ≥ 2", st.Unmatched, st.Merged)
	}
}

// TestPGMergeAtClose: a node's deltas younger than PGMergeInterval are
// merged when it closes, so the last node of a fleet leaves nothing
// pending; a node that finds another one merging leaves its deltas to it.
func TestPGMergeAtClose(t *testing.T) {
	table := pgSchema(t, testutil.SharedDSN)
	a := tmpl("close", "merged at close <*>", KindNew)
	cfg := fast(Config{PGDSN: testutil.SharedDSN, PGTable: table})
	cfg.PGMergeInterval = time.Hour
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Template(a)
	s.Hit(a.ID, 4)
	testutil.WaitFor(t, 10*time.Second, "backlog written", func() bool { return settled(s) })
	if n, h := deltaRows(t, table), mergedHits(t, table, a.ID); n != 1 || h != 0 {
		t.Fatalf("before Close: %d deltas, hits %d; want 1, 0", n, h)
	}
	closeSink(t, s)
	if n, h := deltaRows(t, table), mergedHits(t, table, a.ID); n != 0 || h != 4 {
		t.Errorf("after Close: %d deltas, hits %d; want 0, 4", n, h)
	}
	if st := s.Stats(); st.Merges != 1 || st.Merged != 1 {
		t.Errorf("merges %d merged %d, want 1, 1", st.Merges, st.Merged)
	}
}
