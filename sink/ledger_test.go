package sink

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/awoooi/fluent-bit-drain/internal/testutil"
)

// Tests of the PostgreSQL batch ledger (<table>_batches): a batch of hit
// counts whose COMMIT reply was lost is not counted twice when retried,
// nor when replayed from the buffer file.

const sharedPGAddr = "127.0.0.1:5432"

// commitCutter is a TCP proxy in front of PostgreSQL that loses a COMMIT
// reply for real: it forwards the client's bytes as they come, reads the
// server's messages one by one, and, while armed, cuts the connection right
// after the server's ReadyForQuery ending a transaction that ran an UPDATE
// or INSERT (a batch of hit counts, not a schema check) has arrived, before
// passing it on: the transaction committed at its COMMIT or, a pipelined
// batch's implicit transaction, at its Sync. The server has committed; the client sees its connection
// die. It speaks only to clients that do not negotiate TLS
// (sslmode=disable).
type commitCutter struct {
	addr      string
	armed     atomic.Int32 // cuts still to make
	cuts      atomic.Int32 // cuts made
	downAfter bool         // refuse every connection after a cut
	down      atomic.Bool
	ready     atomic.Int32 // ReadyForQuery messages passed on: round trips that ended a query or a batch
}

func newCommitCutter(t testing.TB, target string, downAfter bool) *commitCutter {
	t.Helper()
	p := &commitCutter{downAfter: downAfter}
	p.addr = testutil.Listen(t, func(c net.Conn) {
		if p.down.Load() {
			c.Close()
			return
		}
		up, err := net.Dial("tcp", target)
		if err != nil {
			c.Close()
			return
		}
		go func() {
			io.Copy(up, c)
			up.Close()
		}()
		go p.replies(c, up)
	}).Addr
	return p
}

// dsn connects as user to the shared test database through the proxy.
func (p *commitCutter) dsn(user string) string {
	return "postgres://" + user + "@" + p.addr + "/test?sslmode=disable"
}

func (p *commitCutter) arm(n int32) { p.armed.Store(n) }

// take consumes one armed cut.
func (p *commitCutter) take() bool {
	for {
		n := p.armed.Load()
		if n <= 0 {
			return false
		}
		if p.armed.CompareAndSwap(n, n-1) {
			return true
		}
	}
}

// replies forwards the server's messages (type byte, int32 length, body)
// to the client until a cut or either side ends.
func (p *commitCutter) replies(c, up net.Conn) {
	defer c.Close()
	defer up.Close()
	r, w := bufio.NewReader(up), bufio.NewWriter(c)
	hdr := make([]byte, 5)
	updated := false
	for {
		if _, err := io.ReadFull(r, hdr); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint32(hdr[1:])) - 4
		if n < 0 || n > 1<<30 {
			return
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			return
		}
		switch hdr[0] {
		case 'C': // CommandComplete: the tag
			tag := string(bytes.TrimRight(body, "\x00"))
			// A write of hit counts: an UPDATE of the rows, or the
			// ledger's upsert and the delta's insert (the template
			// insert's tag is SELECT).
			if strings.HasPrefix(tag, "UPDATE ") || strings.HasPrefix(tag, "INSERT ") {
				updated = true
			}
		case 'Z': // ReadyForQuery: 'I' is outside a transaction
			p.ready.Add(1)
			if len(body) == 1 && body[0] == 'I' {
				// The transaction is over: committed at its COMMIT, or,
				// a pipeline's implicit one, at its Sync, just before
				// this message.
				if updated && p.take() {
					if p.downAfter {
						p.down.Store(true)
					}
					p.cuts.Add(1)
					return
				}
				updated = false
			}
		}
		w.Write(hdr)
		w.Write(body)
		if r.Buffered() == 0 && w.Flush() != nil {
			return
		}
	}
}

// hitsOf reads a template's count as users read it: its row's hits plus
// the deltas not yet merged.
func hitsOf(t testing.TB, table, id string) int64 {
	t.Helper()
	r := testutil.PGQuery(t, testutil.SharedDSN, `SELECT hits FROM `+countsOf(t, testutil.SharedDSN, table)+` AS c WHERE template_id = $1`, id)
	if len(r) != 1 {
		t.Fatalf("template %s: %d rows", id, len(r))
	}
	return r[0][0].(int64)
}

func TestLedgerName(t *testing.T) {
	long := strings.Repeat("a", 55) + "_batches" // 63 bytes: the suffix alone would be cut onto it
	for _, tc := range []struct{ bare, want string }{
		{"log_templates", "log_templates_batches"},
		{strings.Repeat("x", 55), strings.Repeat("x", 55) + "_batches"},
	} {
		if got := ledgerName(tc.bare); got != tc.want {
			t.Errorf("ledgerName(%q) = %q, want %q", tc.bare, got, tc.want)
		}
	}
	for _, bare := range []string{strings.Repeat("x", 56), strings.Repeat("x", 63), long} {
		got := ledgerName(bare)
		if len(got) > 63 || got == bare || !strings.HasSuffix(got, "_batches") || got != ledgerName(bare) {
			t.Errorf("ledgerName(%q) = %q: want ≤ 63 bytes, distinct from the table, stable", bare, got)
		}
	}
	if ledgerName(strings.Repeat("x", 62)+"a") == ledgerName(strings.Repeat("x", 62)+"b") {
		t.Error("two long table names share a ledger")
	}
}

// TestPGLedgerSameBatchOnce: the writer applies a batch's hit counts once
// per token and node, however often it is written; the insert still reports
// the rows this node created, so a retried batch is announced.
func TestPGLedgerSameBatchOnce(t *testing.T) {
	table := pgSchema(t, testutil.SharedDSN)
	ws := map[string]*pgWriter{}
	for _, node := range []string{"node-a", "node-b"} {
		w, err := newPGWriter(poolConfig(t, testutil.SharedDSN), table, "", node)
		if err != nil {
			t.Fatal(err)
		}
		defer w.close()
		ws[node] = w
	}
	a := tmpl("ledger", "same batch <*> once", KindNew)
	mk := func(token string, n int64, withItem bool) *batch {
		b := &batch{token: token, hitIDs: []string{a.ID}, hitN: []int64{n}, hitLast: []int64{time.Now().UnixMicro()}}
		if withItem {
			b.items = []*item{{t: a}}
		}
		return b
	}
	for _, step := range []struct {
		name, node string
		b          *batch
		applied    bool
		created    int
		hits       int64
	}{
		{"first write", "node-a", mk("a1", 5, true), false, 1, 5},
		{"same token again (reply lost)", "node-a", mk("a1", 5, true), true, 1, 5},
		{"and again", "node-a", mk("a1", 5, false), true, 0, 5},
		{"next batch", "node-a", mk("a2", 3, false), false, 0, 8},
		{"same token, other node", "node-b", mk("a2", 4, true), false, 0, 12},
		{"other node's retry", "node-b", mk("a2", 4, false), true, 0, 12},
		{"a token seen before, not the last", "node-a", mk("a1", 2, false), false, 0, 14},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := ws[step.node].write(ctx, step.b)
		cancel()
		if err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if step.b.applied != step.applied || len(step.b.created) != step.created || step.b.unguarded {
			t.Errorf("%s: applied %v created %d unguarded %v, want %v %d false", step.name,
				step.b.applied, len(step.b.created), step.b.unguarded, step.applied, step.created)
		}
		if h := hitsOf(t, table, a.ID); h != step.hits {
			t.Errorf("%s: hits = %d, want %d", step.name, h, step.hits)
		}
	}
	r := testutil.PGQuery(t, testutil.SharedDSN, `SELECT node, token FROM `+strings.Replace(table, ".log_templates", ".log_templates_batches", 1)+` ORDER BY node`)
	if len(r) != 2 || r[0][1] != "a1" || r[1][1] != "a2" {
		t.Errorf("ledger rows = %v, want node-a a1, node-b a2", r)
	}
}

// TestPGLostCommitReply: the proxy kills the connection after PostgreSQL
// committed a batch of hit counts and before the sink got the reply; the
// sink retries the batch, finds its token in the ledger, and the counts
// equal the lines sent.
func TestPGLostCommitReply(t *testing.T) {
	table := pgSchema(t, testutil.SharedDSN)
	cut := newCommitCutter(t, sharedPGAddr, false)
	cut.arm(1)
	s, err := New(fast(Config{PGDSN: cut.dsn("postgres"), PGTable: table}), nil)
	if err != nil {
		t.Fatal(err)
	}
	a, b := tmpl("cut", "commit reply lost <*> a", KindNew), tmpl("cut", "commit reply lost <*> b", KindNew)
	s.Template(a)
	s.Template(b)
	s.Hit(a.ID, 5)
	s.Hit(b.ID, 7)
	testutil.WaitFor(t, 10*time.Second, "a COMMIT reply cut", func() bool { return cut.cuts.Load() == 1 })
	testutil.WaitFor(t, 10*time.Second, "backlog written", func() bool { return settled(s) })
	closeSink(t, s)
	if ha, hb := hitsOf(t, table, a.ID), hitsOf(t, table, b.ID); ha != 5 || hb != 7 {
		t.Errorf("hits = %d, %d, want 5, 7", ha, hb)
	}
	st := s.Stats()
	if st.AlreadyApplied != 1 || st.Postgres.Retries == 0 || st.Created != 2 || st.Unguarded != 0 {
		t.Errorf("already applied %d, retries %d, created %d, unguarded %d; want 1, ≥1, 2, 0",
			st.AlreadyApplied, st.Postgres.Retries, st.Created, st.Unguarded)
	}
}

// TestPGReplayAfterLostCommit: the COMMIT reply of a batch is lost and
// PostgreSQL stays unreachable until Close, which spills the batch with its
// token; the next start replays it, finds the token in the ledger, and
// neither counts it again nor fails to report the row it created.
func TestPGReplayAfterLostCommit(t *testing.T) {
	table := pgSchema(t, testutil.SharedDSN)
	cut := newCommitCutter(t, sharedPGAddr, true)
	cut.arm(1)
	cfg := fast(Config{PGDSN: cut.dsn("postgres"), PGTable: table, BufferPath: filepath.Join(t.TempDir(), "drain.buf")})
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := tmpl("replay", "replayed after a lost commit <*>", KindNew)
	s.Template(a)
	s.Hit(a.ID, 3)
	testutil.WaitFor(t, 10*time.Second, "a COMMIT reply cut and a failed retry", func() bool {
		return cut.cuts.Load() == 1 && s.Stats().Postgres.Retries >= 2
	})
	if h := hitsOf(t, table, a.ID); h != 3 {
		t.Fatalf("hits = %d after the cut COMMIT, want 3 (committed)", h)
	}
	closeWithBatchInFlight(t, s, a.ID, cfg.BufferPath, 300*time.Millisecond)

	cfg.PGDSN = testutil.SharedDSN
	s2, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 10*time.Second, "replay written", func() bool { return settled(s2) })
	closeSink(t, s2)
	if h := hitsOf(t, table, a.ID); h != 7 {
		t.Errorf("hits = %d, want 3 + 4", h)
	}
	if st := s2.Stats(); st.Replayed != 3 || st.AlreadyApplied != 1 || st.Created != 1 || st.Pending != 0 {
		t.Errorf("replayed %d, already applied %d, created %d, pending %d; want 3, 1, 1, 0",
			st.Replayed, st.AlreadyApplied, st.Created, st.Pending)
	}
}

// TestPGLedgerUnavailable: a role that may write the table but cannot
// create the ledger (an existing least-privilege deployment) keeps writing
// without it, says so once, and counts those batches; a lost COMMIT reply is
// then counted twice (the limit the ledger removes). Once the owner applies
// build/sql/log_templates.sql and grants the ledger, the writer uses it.
func TestPGLedgerUnavailable(t *testing.T) {
	table := pgSchema(t, testutil.SharedDSN)
	schema := strings.Split(table, ".")[0]
	role := uniq() + "_role"
	testutil.PGQuery(t, testutil.SharedDSN, `CREATE ROLE `+role+` LOGIN`)
	t.Cleanup(func() { // before the schema goes: DROP OWNED revokes the grants
		testutil.PGQuery(t, testutil.SharedDSN, `DROP OWNED BY `+role)
		testutil.PGQuery(t, testutil.SharedDSN, `DROP ROLE `+role)
	})
	for _, stmt := range schemaSQL(quoteTable(t, table), "log_templates") {
		testutil.PGQuery(t, testutil.SharedDSN, stmt)
	}
	testutil.PGQuery(t, testutil.SharedDSN, `GRANT USAGE ON SCHEMA `+schema+` TO `+role)
	testutil.PGQuery(t, testutil.SharedDSN, `GRANT SELECT, INSERT, UPDATE ON `+table+` TO `+role)

	cut := newCommitCutter(t, sharedPGAddr, false)
	cut.arm(1)
	cfg := fast(Config{PGDSN: cut.dsn(role), PGTable: table})
	cfg.ledgerRecheck = time.Nanosecond // look again at every write
	var lb testutil.Log
	s, err := New(cfg, &lb)
	if err != nil {
		t.Fatal(err)
	}
	defer closeSink(t, s)
	a := tmpl("noledger", "written without the ledger <*>", KindNew)
	s.Template(a)
	s.Hit(a.ID, 5)
	testutil.WaitFor(t, 10*time.Second, "a COMMIT reply cut", func() bool { return cut.cuts.Load() == 1 })
	testutil.WaitFor(t, 10*time.Second, "backlog written", func() bool { return settled(s) })
	if h := hitsOf(t, table, a.ID); h != 10 {
		t.Errorf("hits = %d without the ledger, want 5 counted twice (the cut did not bite?)", h)
	}
	if st := s.Stats(); st.Unguarded != 1 || st.AlreadyApplied != 0 || st.Created != 1 {
		t.Errorf("unguarded %d already applied %d created %d, want 1, 0, 1", st.Unguarded, st.AlreadyApplied, st.Created)
	}

	// The owner creates the ledger but grants nothing yet: still without.
	sqlFile, err := os.ReadFile(filepath.Join("..", "build", "sql", "log_templates.sql"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, testutil.SharedDSN)
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(ctx, `SET search_path TO `+schema+`; `+string(sqlFile))
	conn.Close(ctx)
	if err != nil {
		t.Fatalf("applying build/sql/log_templates.sql: %v", err)
	}
	s.Hit(a.ID, 1)
	testutil.WaitFor(t, 10*time.Second, "a batch without grant on the ledger", func() bool { return s.Stats().Unguarded == 2 })

	testutil.PGQuery(t, testutil.SharedDSN, `GRANT SELECT, INSERT, UPDATE ON `+schema+`.log_templates_batches TO `+role)
	// A hit per poll until a batch finds the ledger usable again.
	testutil.WaitFor(t, 10*time.Second, "the ledger in use", func() bool {
		if strings.Contains(lb.String(), "in use again") {
			return true
		}
		s.Hit(a.ID, 1)
		return false
	})
	testutil.WaitFor(t, 10*time.Second, "backlog written", func() bool { return settled(s) })
	before := hitsOf(t, table, a.ID)
	cut.arm(1)
	s.Hit(a.ID, 7)
	testutil.WaitFor(t, 10*time.Second, "a second COMMIT reply cut", func() bool { return cut.cuts.Load() == 2 })
	testutil.WaitFor(t, 10*time.Second, "backlog written", func() bool { return settled(s) })
	if h := hitsOf(t, table, a.ID); h != before+7 {
		t.Errorf("hits = %d with the ledger, want %d + 7", h, before)
	}
	if st := s.Stats(); st.AlreadyApplied != 1 {
		t.Errorf("already applied %d, want 1", st.AlreadyApplied)
	}
	log := lb.String()
	t.Logf("log:\n%s", log)
	if n := strings.Count(log, "batch ledger"); n != 2 || !strings.Contains(log, "cannot create it") {
		t.Errorf("want one line saying the ledger cannot be created and one saying it is in use again:\n%s", log)
	}
}

// countsOf is a subquery of table's templates and their counts as users read
// them, (template_id, hits): hits plus the deltas not yet merged, when the
// deltas table exists.
func countsOf(t testing.TB, dsn, table string) string {
	t.Helper()
	dq, pending, err := PendingHits(table)
	if err != nil {
		t.Fatal(err)
	}
	if r := testutil.PGQuery(t, dsn, `SELECT to_regclass($1) IS NOT NULL`, dq); r[0][0] != true {
		return `(SELECT template_id, hits FROM ` + table + `)`
	}
	return `(SELECT t.template_id, ` + PendingSum("t.hits", "p.n") + ` AS hits FROM ` + table + ` AS t LEFT JOIN ` + pending + ` AS p USING (template_id))`
}
