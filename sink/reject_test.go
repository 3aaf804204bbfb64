package sink

import (
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/awoooi/fluent-bit-drain/internal/testutil"
)

// TestRejectedRowsBisected: a batch PostgreSQL rejects as bad data is
// written in halves, so only the bad rows are lost (and counted): here two
// templates violating a CHECK added to a private table, and a hit count
// that would overflow bigint.
func TestRejectedRowsBisected(t *testing.T) {
	cfg, rdb := sharedConfig(t)
	var lb testutil.Log
	for _, stmt := range schemaSQL(quoteTable(t, cfg.PGTable), "log_templates") {
		testutil.PGQuery(t, testutil.SharedDSN, stmt)
	}
	testutil.PGQuery(t, testutil.SharedDSN, `ALTER TABLE `+cfg.PGTable+` ADD CONSTRAINT no_poison CHECK (template NOT LIKE '%poison%')`)
	full := tmpl("bisect", "counter already full <*>", KindNew)
	testutil.PGQuery(t, testutil.SharedDSN, `INSERT INTO `+cfg.PGTable+` (template_id, partition, template, hits, first_seen_at, last_seen_at)
		VALUES ($1, 'bisect', $2, $3, now(), now())`, full.ID, full.Template, int64(math.MaxInt64-1))

	cfg.FlushInterval = 300 * time.Millisecond // one batch
	s, err := New(cfg, &lb)
	if err != nil {
		t.Fatal(err)
	}
	var good []Template
	var wantHits int64
	for i := range 40 {
		text := "bisect template <*> " + strconv.Itoa(i)
		if i == 7 || i == 31 {
			text = "poison " + text
		}
		tt := tmpl("bisect", text, KindNew)
		s.Template(tt)
		s.Hit(tt.ID, int64(i+1))
		if !strings.HasPrefix(text, "poison") {
			good = append(good, tt)
			wantHits += int64(i + 1)
		}
	}
	s.Hit(full.ID, 5) // bigint overflow: 22003
	testutil.WaitFor(t, 10*time.Second, "backlog written", func() bool { return settled(s) })
	closeSink(t, s)

	r := testutil.PGQuery(t, testutil.SharedDSN, `SELECT count(*), coalesce(sum(hits), 0)::bigint FROM `+cfg.PGTable+` WHERE template_id <> $1`, full.ID)
	if r[0][0] != int64(len(good)) || r[0][1] != wantHits {
		t.Errorf("rows, hits = %v, want %d, %d", r[0], len(good), wantHits)
	}
	if r := testutil.PGQuery(t, testutil.SharedDSN, `SELECT hits FROM `+cfg.PGTable+` WHERE template_id = $1`, full.ID); r[0][0] != int64(math.MaxInt64-1) {
		t.Errorf("full counter = %v", r[0][0])
	}
	if n := len(listEvents(t, rdb, cfg.RedisPrefix+":new")); n != len(good) {
		t.Errorf("%d events, want %d", n, len(good))
	}
	st := s.Stats()
	// Lost: each poison template with its hit count (2 × 2), the overflowing count.
	if st.Created != uint64(len(good)) || st.Lost != 5 || st.Postgres.Errors[CauseRejected] < 3 || st.DroppedHits != 8+32+5 {
		t.Errorf("created %d lost %d dropped hits %d rejected %d; want %d, 5, 45, ≥3",
			st.Created, st.Lost, st.DroppedHits, st.Postgres.Errors[CauseRejected], len(good))
	}
	log := lb.String()
	// Two causes; the poison lines repeat only if the overflow came between.
	if n := strings.Count(log, "write failed (rejected)"); n < 2 || n > 3 || !strings.Contains(log, "no_poison") {
		t.Errorf("want a log line per cause of rejection (2 or 3 lines), naming the constraint:\n%s", log)
	}
}

// quoteTable quotes a test's schema.table name.
func quoteTable(t testing.TB, name string) string {
	id, err := tableIdent(name)
	if err != nil {
		t.Fatal(err)
	}
	return id.Sanitize()
}
