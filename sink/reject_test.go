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
// templates violating a CHECK added to a private table. A hit count that
// would overflow bigint is not bad data for the deltas table: the merge
// saturates the counter instead (one full counter must not hold up every
// node's merge).
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
	s.Hit(full.ID, 5) // past bigint's limit
	testutil.WaitFor(t, 10*time.Second, "backlog written", func() bool { return settled(s) })
	closeSink(t, s)

	r := testutil.PGQuery(t, testutil.SharedDSN, `SELECT count(*), coalesce(sum(hits), 0)::bigint FROM `+cfg.PGTable+` WHERE template_id <> $1`, full.ID)
	if r[0][0] != int64(len(good)) || r[0][1] != wantHits {
		t.Errorf("rows, hits = %v, want %d, %d", r[0], len(good), wantHits)
	}
	if r := testutil.PGQuery(t, testutil.SharedDSN, `SELECT hits FROM `+cfg.PGTable+` WHERE template_id = $1`, full.ID); r[0][0] != int64(math.MaxInt64) {
		t.Errorf("full counter = %v, want saturated at %d", r[0][0], int64(math.MaxInt64))
	}
	if n := len(listEvents(t, rdb, cfg.RedisPrefix+":new")); n != len(good) {
		t.Errorf("%d events, want %d", n, len(good))
	}
	st := s.Stats()
	// Lost: each poison template with its hit count (2 × 2).
	if st.Created != uint64(len(good)) || st.Lost != 4 || st.Postgres.Errors[CauseRejected] < 2 || st.DroppedHits != 8+32 || st.Merges == 0 {
		t.Errorf("created %d lost %d dropped hits %d rejected %d merges %d; want %d, 4, 40, ≥2, ≥1",
			st.Created, st.Lost, st.DroppedHits, st.Postgres.Errors[CauseRejected], st.Merges, len(good))
	}
	log := lb.String()
	// One cause: one line, two when a good half succeeded between them.
	if n := strings.Count(log, "write failed (rejected)"); n < 1 || n > 2 || !strings.Contains(log, "no_poison") {
		t.Errorf("want one or two log lines for the rejection, naming the constraint:\n%s", log)
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
