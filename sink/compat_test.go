package sink

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/awoooi/fluent-bit-drain/internal/testutil"
)

// seedCluster is what the seed service's reader takes from an event of
// <prefix>:new, under exactly these names.
type seedCluster struct {
	ClusterID   string `json:"cluster_id"`
	Template    string `json:"template"`
	Size        int64  `json:"size"`
	FirstSeenAt string `json:"first_seen_at"`
	LastSeenAt  string `json:"last_seen_at"`
}

// TestEventsSeedReader: the events on Redis and in the event log carry the
// seed's cluster fields, and every existing field is still there.
func TestEventsSeedReader(t *testing.T) {
	cfg, rdb := sharedConfig(t)
	var ev syncBuf
	cfg.Events = &ev
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := tmpl("ns/api", "GET <*> 200", KindNew)
	a.Hits = 7
	a.SeenAt = time.Date(2026, 11, 25, 18, 0, 0, 123456789, time.UTC)
	s.Template(a)
	testutil.WaitFor(t, 10*time.Second, "announced", func() bool { return settled(s) && s.Stats().Announced == 1 })
	closeSink(t, s)
	raw, err := rdb.LRange(context.Background(), cfg.RedisPrefix+":new", 0, -1).Result()
	if err != nil || len(raw) != 1 {
		t.Fatalf("redis events %v (%v), want one", raw, err)
	}
	lines := strings.Split(strings.TrimSpace(string(ev.Bytes())), "\n")
	for where, js := range map[string]string{"redis": raw[0], "event log": lines[0]} {
		var c seedCluster
		dec := json.NewDecoder(strings.NewReader(js))
		if err := dec.Decode(&c); err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		const at = "2026-11-25T18:00:00.123456Z" // microseconds, as PostgreSQL keeps them
		want := seedCluster{ClusterID: a.ID, Template: a.Template, Size: 7, FirstSeenAt: at, LastSeenAt: at}
		if c != want {
			t.Errorf("%s: seed fields %+v, want %+v", where, c, want)
		}
		var all map[string]any
		if err := json.Unmarshal([]byte(js), &all); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"cluster_id", "template", "sample_log", "detected_at", "shadow_mode", "source", "kind",
			"partition", "node", "parent_id", "hits", "size", "first_seen_at", "last_seen_at"} {
			if _, ok := all[k]; !ok {
				t.Errorf("%s: event lacks %q: %s", where, k, js)
			}
		}
	}
}

// TestCompatView: with PGCompatView the schema has a view with the seed's
// LogClusterRecord columns over the table; it cannot be written through.
func TestCompatView(t *testing.T) {
	cfg, _ := sharedConfig(t)
	schema := strings.Split(cfg.PGTable, ".")[0]
	cfg.PGCompatView = schema + ".log_cluster_records"
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := tmpl("ns/api", "GET <*> 200", KindNew)
	a.Sample = "GET /v1/items 200"
	s.Template(a)
	s.Hit(a.ID, 4)
	testutil.WaitFor(t, 10*time.Second, "written", func() bool { return settled(s) && s.Stats().Created == 1 })
	closeSink(t, s)

	rows := testutil.PGQuery(t, cfg.PGDSN, `SELECT cluster_id, template, size, source, sample_log, first_seen_at, last_seen_at
FROM `+cfg.PGCompatView)
	if len(rows) != 1 {
		t.Fatalf("view rows %v, want one", rows)
	}
	r := rows[0]
	if r[0] != a.ID || r[1] != a.Template || r[2] != int64(4) || r[3] != "k8s_pod" || r[4] != a.Sample {
		t.Errorf("view row %v", r)
	}
	first, last := r[5].(time.Time), r[6].(time.Time)
	if !first.Equal(a.SeenAt.Truncate(time.Microsecond)) || last.Before(first) {
		t.Errorf("first_seen_at %v last_seen_at %v, want %v and not before it", first, last, a.SeenAt)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, cfg.PGDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, stmt := range []string{
		`DELETE FROM ` + cfg.PGCompatView,
		`UPDATE ` + cfg.PGCompatView + ` SET size = 0`,
		`INSERT INTO ` + cfg.PGCompatView + ` (cluster_id) VALUES ('x')`,
	} {
		_, err := conn.Exec(ctx, stmt)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "55000" || !strings.Contains(pe.Detail, "not automatically updatable") {
			t.Errorf("%s: err %v, want the view refusing writes", stmt, err)
		}
	}

	// A second start finds the view and leaves it.
	s, err = New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := tmpl("ns/api", "POST <*> 201", KindNew)
	s.Template(b)
	testutil.WaitFor(t, 10*time.Second, "written", func() bool { return settled(s) && s.Stats().Created == 1 })
	closeSink(t, s)
	if n := testutil.PGQuery(t, cfg.PGDSN, `SELECT count(*) FROM `+cfg.PGCompatView); n[0][0] != int64(2) {
		t.Errorf("view count %v after a restart, want 2", n)
	}
}

func TestCompatViewName(t *testing.T) {
	for _, name := range []string{`v"; DROP TABLE x; --`, "a.b.c", "1view", "log_templates"} {
		_, err := New(Config{PGDSN: testutil.SharedDSN, PGCompatView: name}, nil)
		if err == nil || !strings.Contains(err.Error(), "PG_Compat_View") {
			t.Errorf("PG_Compat_View %q: err %v, want it refused", name, err)
		}
	}
}
