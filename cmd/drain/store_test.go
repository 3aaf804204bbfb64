package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/awoooi/fluent-bit-drain/drain"
	"github.com/awoooi/fluent-bit-drain/sink"
)

// The shared servers of the house rules; each test has its own schema and
// key prefix on them.
const (
	testDSN   = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	testRedis = "127.0.0.1:6379"
)

var uniqN atomic.Int64

func uniq() string {
	return fmt.Sprintf("clit_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9, uniqN.Add(1))
}

// testStores gives a test its own PostgreSQL schema and Redis prefix, both
// removed at the end, and the environment a store command needs for them.
type testStores struct {
	table, prefix string
	rdb           *redis.Client
	env           map[string]string
}

func newTestStores(t *testing.T) *testStores {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, testDSN)
	if err != nil {
		t.Skipf("PostgreSQL not reachable (%v): start it or run .ci/run", err)
	}
	defer conn.Close(ctx)
	schema := uniq()
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, testDSN); err == nil {
			c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
			c.Close(ctx)
		}
	})
	rdb := redis.NewClient(&redis.Options{Addr: testRedis})
	if err := rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		t.Skipf("Redis not reachable at %s (%v): start it or run .ci/run", testRedis, err)
	}
	prefix := uniq()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if keys, err := rdb.Keys(ctx, prefix+":*").Result(); err == nil && len(keys) > 0 {
			rdb.Del(ctx, keys...)
		}
		rdb.Close()
	})
	ts := &testStores{table: schema + ".log_templates", prefix: prefix, rdb: rdb}
	ts.env = map[string]string{"PG_DSN": testDSN, "PG_Table": ts.table, "REDIS_ADDR": testRedis, "Redis_Prefix": prefix}
	return ts
}

func (ts *testStores) sinkConfig() sink.Config {
	return sink.Config{
		PGDSN: testDSN, PGTable: ts.table, RedisAddr: testRedis, RedisPrefix: ts.prefix,
		NodeName: "node-a", NewListMax: 100,
		FlushInterval: 20 * time.Millisecond, FlagsInterval: 50 * time.Millisecond,
		RetryMin: 50 * time.Millisecond, RetryMax: 200 * time.Millisecond,
		Flags: sink.Flags{Enabled: true, ShadowMode: true},
	}
}

// seeded are the templates seed writes through the real sink: a lineage
// a -> b -> d in shop/web (the newest last), and c, three hours old, in
// kube-system/coredns.
type seeded struct{ a, b, c, d sink.Template }

func tmpl(partition, text, kind, parent string, seen time.Time) sink.Template {
	return sink.Template{ID: drain.TemplateID(partition, text), ParentID: parent, Partition: partition,
		Source: "k8s_pod", Template: text, Sample: strings.ReplaceAll(text, "<*>", "42"), Kind: kind, SeenAt: seen, Hits: 1}
}

// seed writes the templates and their hits with the plugin's sink, the way
// the plugin does, and waits until PostgreSQL has them.
func (ts *testStores) seed(t *testing.T) seeded {
	t.Helper()
	now := time.Now()
	var s seeded
	s.a = tmpl("shop/web", "GET <*> 200 in <*> ms", sink.KindNew, "", now.Add(-40*time.Minute))
	s.b = tmpl("shop/web", "GET <*> <*> in <*> ms", sink.KindGeneralized, s.a.ID, now.Add(-20*time.Minute))
	s.d = tmpl("shop/web", "<*> <*> <*> in <*> ms", sink.KindGeneralized, s.b.ID, now.Add(-5*time.Minute))
	s.c = tmpl("kube-system/coredns", "plugin/reload: Running configuration SHA512 = <*>", sink.KindNew, "", now.Add(-3*time.Hour))
	s.c.Sample = "plugin/reload: \x1b[31mRunning\tconfiguration SHA512 = 9f"
	sk, err := sink.New(ts.sinkConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []sink.Template{s.a, s.b, s.d, s.c} {
		sk.Template(x)
	}
	sk.Hit(s.a.ID, 41)
	sk.Hit(s.b.ID, 7)
	sk.Hit(s.d.ID, 300)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := sk.Close(ctx); err != nil {
		t.Fatalf("sink Close: %v", err)
	}
	if st := sk.Stats(); st.Created != 4 || st.Postgres.Rows < 7 {
		t.Fatalf("sink wrote %+v, want 4 templates and 3 hit counts", st)
	}
	return s
}

// storeRun runs a store command as main does, with env as the environment.
func (ts *testStores) run(env map[string]string, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	err := runStore(args, func(k string) (string, bool) { v, ok := env[k]; return v, ok }, &out, &errb)
	switch {
	case err == nil:
	case errors.As(err, new(errUsage)):
		code = 2
	default:
		code = 1
	}
	if err != nil {
		errb.WriteString(err.Error())
	}
	return code, out.String(), errb.String()
}

func decode[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %q: %v", s, err)
	}
	return v
}

func ids(ps []pattern) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.ID
	}
	return out
}

// checkAligned checks a table: every row has a cell starting at each
// header's column, preceded by blanks, and nothing but the table.
func checkAligned(t *testing.T, table string, headers ...string) [][]string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(table, "\n"), "\n")
	var starts []int
	for _, h := range headers {
		i := strings.Index(lines[0], h)
		if i < 0 || (len(starts) > 0 && i <= starts[len(starts)-1]) {
			t.Fatalf("header %q not in order in %q", h, lines[0])
		}
		starts = append(starts, i)
	}
	var cells [][]string
	for _, l := range lines[1:] {
		var row []string
		for k, s := range starts {
			if len(l) <= s || l[s] == ' ' || (s > 0 && l[s-1] != ' ') {
				t.Fatalf("row %q has no cell at column %q (offset %d)\n%s", l, headers[k], s, table)
			}
			end := len(l)
			if k+1 < len(starts) {
				end = starts[k+1]
			}
			row = append(row, strings.TrimRight(l[s:end], " "))
		}
		if strings.HasSuffix(l, " ") {
			t.Errorf("row %q ends with blanks", l)
		}
		cells = append(cells, row)
	}
	return cells
}

func TestPatternsCommands(t *testing.T) {
	ts := newTestStores(t)
	s := ts.seed(t)
	env := ts.env

	t.Run("recent table", func(t *testing.T) {
		code, out, errs := ts.run(env, "patterns", "recent")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		rows := checkAligned(t, out, "WHEN", "ID", "KIND", "NODE", "PARTITION", "HITS", "TEMPLATE", "SAMPLE")
		want := [][]string{
			{s.d.ID, "generalized", "node-a", "shop/web", "300", s.d.Template, s.d.Sample},
			{s.b.ID, "generalized", "node-a", "shop/web", "7", s.b.Template, s.b.Sample},
			{s.a.ID, "new", "node-a", "shop/web", "41", s.a.Template, s.a.Sample},
		}
		if len(rows) != len(want) {
			t.Fatalf("rows %q, want the 3 templates of the last hour", rows)
		}
		for i, w := range want {
			if !slices.Equal(rows[i][1:], w) {
				t.Errorf("row %d = %q, want %q", i, rows[i][1:], w)
			}
			if _, err := time.Parse("2006-01-02 15:04:05Z", rows[i][0]); err != nil {
				t.Errorf("row %d: WHEN %q: %v", i, rows[i][0], err)
			}
		}
	})

	t.Run("recent json", func(t *testing.T) {
		code, out, errs := ts.run(env, "patterns", "recent", "--json", "--since", "1d")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		ps := decode[[]pattern](t, out)
		if got, want := ids(ps), []string{s.d.ID, s.b.ID, s.a.ID, s.c.ID}; !slices.Equal(got, want) {
			t.Fatalf("ids %v, want %v", got, want)
		}
		for i, x := range []sink.Template{s.d, s.b, s.a, s.c} {
			p := ps[i]
			if p.Partition != x.Partition || p.Template != x.Template || p.Sample != x.Sample || p.ParentID != x.ParentID ||
				p.Kind != x.Kind || p.Source != "k8s_pod" || p.FirstNode != "node-a" || !p.Shadow ||
				!p.FirstSeen.Equal(x.SeenAt.Truncate(time.Microsecond)) || p.LastSeen.Before(p.FirstSeen) {
				t.Errorf("row %d = %+v, want %+v", i, p, x)
			}
		}
		if ps[3].Hits != 0 || ps[0].Hits != 300 {
			t.Errorf("hits %d, %d: want 0 and 300", ps[3].Hits, ps[0].Hits)
		}
	})

	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"kind new", []string{"--since", "1d", "--kind", "new"}, []string{s.a.ID, s.c.ID}},
		{"kind generalized", []string{"--kind", "generalized"}, []string{s.d.ID, s.b.ID}},
		{"partition exact", []string{"--since", "1d", "--partition", "kube-system/coredns"}, []string{s.c.ID}},
		{"partition glob", []string{"--partition", "shop/*", "--since", "1d"}, []string{s.d.ID, s.b.ID, s.a.ID}},
		{"partition glob one byte", []string{"--partition", "shop?web", "--since", "1d"}, []string{s.d.ID, s.b.ID, s.a.ID}},
		{"LIKE wildcards are literal", []string{"--partition", "shop_web", "--since", "1d"}, []string{}},
		{"limit", []string{"--limit", "1"}, []string{s.d.ID}},
		{"since 10m", []string{"--since", "10m"}, []string{s.d.ID}},
	} {
		t.Run("recent "+tc.name, func(t *testing.T) {
			code, out, errs := ts.run(env, append([]string{"patterns", "recent", "--json"}, tc.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			if got := ids(decode[[]pattern](t, out)); !slices.Equal(got, tc.want) {
				t.Errorf("ids %v, want %v", got, tc.want)
			}
		})
	}

	t.Run("recent empty", func(t *testing.T) {
		_, out, _ := ts.run(env, "patterns", "recent", "--partition", "nowhere")
		if !strings.HasPrefix(out, "no templates first seen in the last 1h0m0s in ") {
			t.Errorf("out %q", out)
		}
	})

	t.Run("top", func(t *testing.T) {
		code, out, errs := ts.run(env, "patterns", "top")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		rows := checkAligned(t, out, "HITS", "LAST SEEN", "ID", "PARTITION", "TEMPLATE")
		var got []string
		for _, r := range rows {
			got = append(got, r[0]+" "+r[2])
		}
		want := []string{"300 " + s.d.ID, "41 " + s.a.ID, "7 " + s.b.ID, "0 " + s.c.ID}
		if !slices.Equal(got, want) {
			t.Errorf("top %q, want %q", got, want)
		}
		// c was last seen three hours ago: not in the last hour.
		_, out, _ = ts.run(env, "patterns", "top", "--since", "1h", "--json")
		if got := ids(decode[[]pattern](t, out)); !slices.Equal(got, []string{s.d.ID, s.a.ID, s.b.ID}) {
			t.Errorf("top --since 1h: %v", got)
		}
	})

	t.Run("show lineage", func(t *testing.T) {
		code, out, errs := ts.run(env, "patterns", "show", s.d.ID, "--json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		sh := decode[shown](t, out)
		if sh.Pattern.ID != s.d.ID || sh.Pattern.Hits != 300 || sh.Pattern.Sample != s.d.Sample {
			t.Errorf("pattern %+v", sh.Pattern)
		}
		if got := ids(sh.Lineage); !slices.Equal(got, []string{s.a.ID, s.b.ID}) {
			t.Errorf("lineage %v, want a, b", got)
		}
		if len(sh.Children) != 0 || sh.MissingParent != "" {
			t.Errorf("children %v, missing parent %q", ids(sh.Children), sh.MissingParent)
		}
		_, out, _ = ts.run(env, "patterns", "show", "--json", s.a.ID)
		sh = decode[shown](t, out)
		if len(sh.Lineage) != 0 || !slices.Equal(ids(sh.Children), []string{s.b.ID}) {
			t.Errorf("a: lineage %v, children %v", ids(sh.Lineage), ids(sh.Children))
		}
	})

	t.Run("show table", func(t *testing.T) {
		code, out, errs := ts.run(env, "patterns", "show", s.b.ID)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		for _, want := range []string{
			"id          " + s.b.ID + "\n", "kind        generalized\n", "parent      " + s.a.ID + "\n",
			"hits        7\n", "template    " + s.b.Template + "\n", "sample      " + s.b.Sample + "\n",
			"lineage, oldest first:\n", "widened into:\n",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		lin := out[strings.Index(out, "lineage, oldest first:\n")+len("lineage, oldest first:\n") : strings.Index(out, "\nwidened into:")]
		rows := checkAligned(t, lin, "ID", "KIND", "FIRST SEEN", "HITS", "TEMPLATE")
		if len(rows) != 2 || rows[0][0] != s.a.ID || rows[1][0] != s.b.ID || !strings.HasSuffix(rows[1][4], "<- this one") {
			t.Errorf("lineage rows %q", rows)
		}
	})

	t.Run("sample escaped in tables", func(t *testing.T) {
		_, out, _ := ts.run(env, "patterns", "show", s.c.ID)
		if strings.ContainsAny(out, "\x1b\t") || !strings.Contains(out, `sample      plugin/reload: \x1b[31mRunning\tconfiguration SHA512 = 9f`) {
			t.Errorf("control characters reach the terminal:\n%q", out)
		}
		_, out, _ = ts.run(env, "patterns", "show", s.c.ID, "--json")
		if sh := decode[shown](t, out); sh.Pattern.Sample != s.c.Sample {
			t.Errorf("json sample %q, want the stored bytes %q", sh.Pattern.Sample, s.c.Sample)
		}
	})

	t.Run("show unknown id", func(t *testing.T) {
		code, _, errs := ts.run(env, "patterns", "show", "0123456789abcdef")
		if code != 1 || !strings.Contains(errs, "postgres 127.0.0.1:5432: no template 0123456789abcdef in ") {
			t.Errorf("exit %d: %s", code, errs)
		}
	})

	t.Run("flags win over the environment", func(t *testing.T) {
		code, _, errs := ts.run(env, "patterns", "recent", "--pg-table", "missing_table")
		if code != 1 || !strings.Contains(errs, `postgres 127.0.0.1:5432: recent templates: `) || !strings.Contains(errs, `table "missing_table": check PG_Table`) {
			t.Errorf("exit %d: %s", code, errs)
		}
	})
}

func TestMuteCommands(t *testing.T) {
	ts := newTestStores(t)
	s := ts.seed(t)
	env := ts.env
	key := ts.prefix + ":muted"
	ctx := context.Background()
	members := func() []string {
		m, err := ts.rdb.SMembers(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(m)
		return m
	}
	tbl := pgx.Identifier(strings.Split(ts.table, ".")).Sanitize()
	poll := " in " + key + "; nodes stop announcing it at their next flags poll\n"
	glob := func(g string) string { return fmt.Sprintf("glob %q (matches a whole partition name or template)", g) }
	matches := func(n int) string {
		if n == 1 {
			return "it matches 1 template recorded in " + tbl + "\n"
		}
		return fmt.Sprintf("it matches %d templates recorded in %s\n", n, tbl)
	}
	const hc = "-*health check*"
	steps := []struct {
		args    []string
		code    int
		out     string // exact stdout, or error substring when code != 0
		members []string
	}{
		{[]string{"mute", s.a.ID}, 0, "muted template id " + s.a.ID + poll + matches(1), []string{s.a.ID}},
		{[]string{"mute", s.a.ID}, 0, "template id " + s.a.ID + " was already muted in " + key + "\n" + matches(1), []string{s.a.ID}},
		{[]string{"mute", "kube-system/*"}, 0, "muted " + glob("kube-system/*") + poll + matches(1), []string{s.a.ID, "kube-system/*"}},
		{[]string{"mute", "*<*> ms"}, 0, "muted " + glob("*<*> ms") + poll + matches(3), []string{"*<*> ms", s.a.ID, "kube-system/*"}},
		{[]string{"unmute", "*<*> ms"}, 0, "unmuted " + glob("*<*> ms") + " in " + key + "\n", []string{s.a.ID, "kube-system/*"}},
		{[]string{"mute", "--", hc}, 0, "muted " + glob(hc) + poll + matches(0), []string{hc, s.a.ID, "kube-system/*"}},
		{[]string{"unmute", hc}, 2, "flag provided but not defined", []string{hc, s.a.ID, "kube-system/*"}},
		{[]string{"unmute", "--", hc}, 0, "unmuted " + glob(hc) + " in " + key + "\n", []string{s.a.ID, "kube-system/*"}},
		{[]string{"unmute", "nothing*"}, 0, glob("nothing*") + " was not muted: not in " + key + " (see drain mute --list)\n", []string{s.a.ID, "kube-system/*"}},
		{[]string{"mute", ""}, 2, "empty string", []string{s.a.ID, "kube-system/*"}},
		{[]string{"mute", "a\nb"}, 2, "line break", []string{s.a.ID, "kube-system/*"}},
		{[]string{"mute", strings.ToUpper(s.b.ID)}, 2, "template ids are lowercase (" + s.b.ID + ")", []string{s.a.ID, "kube-system/*"}},
		{[]string{"mute"}, 2, "want one template id or glob", []string{s.a.ID, "kube-system/*"}},
		{[]string{"mute", "a", "b"}, 2, "want one template id or glob", []string{s.a.ID, "kube-system/*"}},
		{[]string{"mute", "--list", "x"}, 2, "no argument with --list", []string{s.a.ID, "kube-system/*"}},
		{[]string{"mute", "0000000000000001"}, 0, "muted template id 0000000000000001" + poll + "no template 0000000000000001 is recorded in " + tbl + " yet: it is muted when it appears\n", []string{"0000000000000001", s.a.ID, "kube-system/*"}},
	}
	for i, st := range steps {
		code, out, errs := ts.run(env, st.args...)
		if code != st.code || (code == 0 && out != st.out) || (code != 0 && !strings.Contains(errs, st.out)) {
			t.Errorf("step %d %q: exit %d, out %q, err %q; want exit %d and %q", i, st.args, code, out, errs, st.code, st.out)
		}
		if got := members(); !slices.Equal(got, st.members) {
			t.Fatalf("step %d %q: %s = %q, want %q", i, st.args, key, got, st.members)
		}
	}

	code, out, errs := ts.run(env, "mute", "--list", "--json")
	if code != 0 {
		t.Fatalf("list: exit %d: %s", code, errs)
	}
	want := []listed{
		{Member: "0000000000000001", Kind: "id"},
		{Member: s.a.ID, Kind: "id", Partition: "shop/web", Template: s.a.Template},
		{Member: "kube-system/*", Kind: "glob"},
	}
	if got := decode[[]listed](t, out); !slices.Equal(got, want) {
		t.Errorf("list --json = %+v, want %+v", got, want)
	}
	_, out, _ = ts.run(env, "mute", "--list")
	rows := checkAligned(t, out, "KIND", "MEMBER", "PARTITION", "TEMPLATE")
	wantRows := [][]string{{"id", "0000000000000001", "-", "-"}, {"id", s.a.ID, "shop/web", s.a.Template}, {"glob", "kube-system/*", "-", "-"}}
	if !slices.EqualFunc(rows, wantRows, slices.Equal) {
		t.Errorf("list table %q, want %q", rows, wantRows)
	}
	// Without PostgreSQL the list still works, without templates.
	_, out, _ = ts.run(map[string]string{"REDIS_ADDR": testRedis, "REDIS_PREFIX": ts.prefix}, "mute", "--list", "--json")
	if got := decode[[]listed](t, out); len(got) != 3 || got[1].Template != "" {
		t.Errorf("list without PostgreSQL: %+v", got)
	}
	// Without PostgreSQL, mute says nothing of recorded templates; with it
	// away, it mutes and warns.
	code, out, errs = ts.run(map[string]string{"REDIS_ADDR": testRedis, "REDIS_PREFIX": ts.prefix}, "mute", "--json", "x?")
	if r := decode[muteResult](t, out); code != 0 || r.Recorded != nil || !r.Changed || r.Kind != "glob" || errs != "" {
		t.Errorf("mute without PostgreSQL: exit %d, %+v, %q", code, r, errs)
	}
	_, out, errs = ts.run(map[string]string{"REDIS_ADDR": testRedis, "REDIS_PREFIX": ts.prefix, "PG_DSN": "postgres://drain:pw-1234@127.0.0.1:1/x"}, "unmute", "x?")
	if !strings.HasPrefix(out, "unmuted ") || errs != "" {
		t.Errorf("unmute asks PostgreSQL nothing: %q %q", out, errs)
	}
	_, out, errs = ts.run(map[string]string{"REDIS_ADDR": testRedis, "REDIS_PREFIX": ts.prefix, "PG_DSN": "postgres://drain:pw-1234@127.0.0.1:1/x"}, "mute", "x?")
	if !strings.HasPrefix(out, "muted glob") || !strings.HasPrefix(errs, `drain: warning: postgres 127.0.0.1:1: templates matching "x?": `) || strings.Contains(errs, "pw-1234") {
		t.Errorf("mute with PostgreSQL down: %q %q", out, errs)
	}
	ts.rdb.SRem(ctx, key, "x?")
	code, out, _ = ts.run(env, "mute", "--json", "kube-system/*")
	if r := decode[muteResult](t, out); code != 0 || r.Recorded == nil || *r.Recorded != 1 || r.Changed {
		t.Errorf("mute --json: exit %d, %+v", code, r)
	}
	// PostgreSQL away: the list still, with a warning.
	down := map[string]string{"REDIS_ADDR": testRedis, "REDIS_PREFIX": ts.prefix, "PG_DSN": "postgres://drain:pw-1234@127.0.0.1:1/x"}
	code, out, errs = ts.run(down, "mute", "--list", "--json")
	if got := decode[[]listed](t, out); code != 0 || len(got) != 3 || got[1].Template != "" ||
		!strings.HasPrefix(errs, "drain: warning: postgres 127.0.0.1:1: templates of muted ids: ") || strings.Contains(errs, "pw-1234") {
		t.Errorf("list with PostgreSQL down: exit %d, %+v, %q", code, got, errs)
	}
	code, out, _ = ts.run(env, "unmute", "--json", s.a.ID)
	if r := decode[muteResult](t, out); code != 0 || r != (muteResult{Key: key, Member: s.a.ID, Kind: "id", Changed: true}) {
		t.Errorf("unmute --json: exit %d, %+v", code, r)
	}
}

func TestFlagsCommand(t *testing.T) {
	ts := newTestStores(t)
	env := ts.env
	key := ts.prefix + ":flags"
	ctx := context.Background()
	// A sink polling the same hash: what the command writes is what the
	// nodes read.
	cfg := ts.sinkConfig()
	cfg.PGDSN = ""
	sk, err := sink.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sk.Close(ctx)
	waitFlags := func(want sink.Flags) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for sk.Flags() != want {
			if time.Now().After(deadline) {
				t.Fatalf("sink flags %+v, want %+v", sk.Flags(), want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	code, out, errs := ts.run(env, "flags")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	rows := checkAligned(t, out, "FLAG", "VALUE", "FROM")
	if want := [][]string{{"enabled", "-", "not set: each node's Enabled key"}, {"shadow_mode", "-", "not set: each node's Shadow_Mode key"}}; !slices.EqualFunc(rows, want, slices.Equal) {
		t.Errorf("rows %q, want %q", rows, want)
	}

	code, out, errs = ts.run(env, "flags", "shadow_mode", "off", "enabled", "on")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if m, _ := ts.rdb.HGetAll(ctx, key).Result(); len(m) != 2 || m["shadow_mode"] != "off" || m["enabled"] != "on" {
		t.Errorf("%s = %v", key, m)
	}
	if !strings.HasSuffix(out, "nodes apply a change at their next flags poll (every 10 s)\n") {
		t.Errorf("out %q", out)
	}
	waitFlags(sink.Flags{Enabled: true, ShadowMode: false})

	code, out, _ = ts.run(env, "flags", "--json", "enabled", "off")
	on, off := "on", "off"
	want := flagsResult{Key: key, Flags: []flagState{{"enabled", &off, true}, {"shadow_mode", &on, true}}}
	want.Flags[1].Value = &off
	if got := decode[flagsResult](t, out); code != 0 || fmt.Sprint(deref(got)) != fmt.Sprint(deref(want)) {
		t.Errorf("json: exit %d, %v, want %v", code, deref(got), deref(want))
	}
	waitFlags(sink.Flags{Enabled: false, ShadowMode: false})

	code, _, _ = ts.run(env, "flags", "shadow_mode", "default", "enabled", "default")
	if n, _ := ts.rdb.Exists(ctx, key).Result(); code != 0 || n != 0 {
		t.Errorf("default: exit %d, %s exists %d", code, key, n)
	}
	waitFlags(sink.Flags{Enabled: true, ShadowMode: true}) // the sink's static flags

	ts.rdb.HSet(ctx, key, "shadow_mode", "maybe")
	_, out, _ = ts.run(env, "flags")
	rows = checkAligned(t, out, "FLAG", "VALUE", "FROM")
	if rows[1][1] != "maybe" || rows[1][2] != "ignored by the nodes: not on/off" {
		t.Errorf("bad value shown as %q", rows[1])
	}

	for _, args := range [][]string{{"flags", "shadow_mode"}, {"flags", "shadow", "on"}, {"flags", "enabled", "1"}} {
		if code, _, errs := ts.run(env, args...); code != 2 || !strings.HasPrefix(errs, "flags: ") {
			t.Errorf("%q: exit %d, %q", args, code, errs)
		}
	}
}

func deref(r flagsResult) []string {
	var out []string
	for _, f := range r.Flags {
		v := "<nil>"
		if f.Value != nil {
			v = *f.Value
		}
		out = append(out, fmt.Sprintf("%s=%s/%v", f.Field, v, f.Overrides))
	}
	return append(out, r.Key)
}

// TestStoreErrors: a store that cannot be reached or is not configured is
// named, and no password reaches the output, whichever way it was given.
func TestStoreErrors(t *testing.T) {
	const pw = "Sup3r-s3cret-pw"
	dir := t.TempDir()
	dsnFile := filepath.Join(dir, "pg-dsn")
	os.WriteFile(dsnFile, []byte("postgres://drain:"+pw+"@127.0.0.1:1/x?sslmode=disable\n"), 0o600)
	pwFile := filepath.Join(dir, "redis-password")
	os.WriteFile(pwFile, []byte(pw+"\n"), 0o600)
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string
	}{
		{"pg url", map[string]string{"PG_DSN": "postgres://drain:" + pw + "@127.0.0.1:1/x?sslmode=disable"}, []string{"patterns", "recent"}, 1, "postgres 127.0.0.1:1: recent templates: failed to connect to `user=drain database=x`: "},
		{"pg key=value", map[string]string{"PG_DSN": "host=127.0.0.1 port=1 user=drain password=" + pw + " dbname=x sslmode=disable"}, []string{"patterns", "top"}, 1, "postgres 127.0.0.1:1: top templates: "},
		{"pg dsn file", map[string]string{"PG_DSN_FILE": dsnFile}, []string{"patterns", "show", "0123456789abcdef"}, 1, "postgres 127.0.0.1:1: template 0123456789abcdef: "},
		{"pg flag", nil, []string{"patterns", "recent", "--pg-dsn", "postgres://drain:" + pw + "@127.0.0.1:1/x"}, 1, "postgres 127.0.0.1:1: "},
		{"pg unparsable", map[string]string{"PG_DSN": "postgres://drain:" + pw + "@127.0.0.1:99999999/x"}, []string{"patterns", "recent"}, 2, "PG_DSN: cannot be parsed (value not shown)"},
		{"pg missing file", map[string]string{"PG_DSN_File": filepath.Join(dir, "none")}, []string{"patterns", "recent"}, 2, "PG_DSN_File: open " + filepath.Join(dir, "none")},
		{"pg not configured", nil, []string{"patterns", "recent"}, 2, "postgres: not configured: set PG_DSN or PG_DSN_File"},
		{"redis down", map[string]string{"REDIS_ADDR": "127.0.0.1:1", "REDIS_PASSWORD": pw}, []string{"mute", "x"}, 1, "redis 127.0.0.1:1: mute log_anomaly:muted: dial tcp 127.0.0.1:1: connect: connection refused"},
		{"redis password file", map[string]string{"Redis_Addr": "127.0.0.1:1", "Redis_Password_File": pwFile, "Redis_Prefix": "p"}, []string{"flags"}, 1, "redis 127.0.0.1:1: read p:flags: "},
		{"redis not configured", nil, []string{"mute", "--list"}, 2, "redis: not configured: set Redis_Addr"},
		{"bad prefix", map[string]string{"REDIS_ADDR": testRedis, "REDIS_PREFIX": "a b"}, []string{"flags"}, 2, "Redis_Prefix: \"a b\" must have no blanks"},
		{"bad table", map[string]string{"PG_DSN": testDSN}, []string{"patterns", "recent", "--pg-table", "a;b"}, 2, `PG_Table: "a;b" is not a table name`},
		{"miner keys ignored", map[string]string{"DEPTH": "1", "REDIS_ADDR": "127.0.0.1:1"}, []string{"flags"}, 1, "redis 127.0.0.1:1: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := &testStores{}
			code, out, errs := ts.run(tc.env, tc.args...)
			if code != tc.code || !strings.Contains(errs, tc.want) {
				t.Errorf("exit %d, error %q; want exit %d and %q", code, errs, tc.code, tc.want)
			}
			if strings.Contains(out+errs, pw) {
				t.Errorf("the password reached the output: %q %q", out, errs)
			}
		})
	}
}

func TestStoreUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"patterns"}, "patterns: want recent, show or top"},
		{[]string{"patterns", "list"}, `patterns: unknown command "list"`},
		{[]string{"patterns", "recent", "--since", "soon"}, "want a positive duration"},
		{[]string{"patterns", "recent", "--since", "-1h"}, "want a positive duration"},
		{[]string{"patterns", "recent", "--kind", "old"}, `--kind "old": want new or generalized`},
		{[]string{"patterns", "recent", "--limit", "0"}, "--limit 0: want 1 to 100000"},
		{[]string{"patterns", "recent", "extra"}, "want no argument"},
		{[]string{"patterns", "top", "--partition", "x"}, "flag provided but not defined: -partition"},
		{[]string{"patterns", "show"}, "want a template id"},
		{[]string{"patterns", "show", "xyz"}, `"xyz" is not a template id`},
		{[]string{"unmute", "--list"}, "flag provided but not defined: -list"},
	} {
		var out, errb bytes.Buffer
		if code := run(tc.args, nil, &out, &errb); code != 2 || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%q: exit %d, %q; want 2 and %q", tc.args, code, errb.String(), tc.want)
		}
	}
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{{"1h", time.Hour}, {"30m", 30 * time.Minute}, {"7d", 7 * 24 * time.Hour}, {"1h30m", 90 * time.Minute}} {
		if d, err := parseSince(tc.in); err != nil || d != tc.want {
			t.Errorf("parseSince(%q) = %v, %v", tc.in, d, err)
		}
	}
	var out, errb bytes.Buffer
	if code := run([]string{"--help"}, nil, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), usage) || !strings.Contains(out.String(), "drain mute --list") {
		t.Errorf("--help: %d %q", code, out.String())
	}
	out.Reset()
	if code := run([]string{"mute", "--help"}, nil, &out, &errb); code != 0 || out.String() != storeUsage {
		t.Errorf("mute --help: %d %q", code, out.String())
	}
	out.Reset()
	if code := run([]string{"mine", "--help"}, nil, &out, &errb); code != 0 || out.String() != usage {
		t.Errorf("mine --help changed: %q", out.String())
	}
}

func TestCell(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"plain text", 0, "plain text"},
		{"a\tb\nc\rd\x1b[0m\x00", 0, `a\tb\nc\rd\x1b[0m\x00`},
		{"bad \xff byte", 0, `bad \xff byte`},
		{"real \uFFFD rune", 0, "real \uFFFD rune"},
		{"line\u2028sep\u0085", 0, `line\u2028sep\x85`},
		{"héllo wörld", 5, "héllo…"},
		{"hello world", 6, "hello…"},
		{"exact", 5, "exact"},
	} {
		if got := cell(tc.in, tc.max); got != tc.want {
			t.Errorf("cell(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}

// TestStoreBinary runs the built command once, configured only through the
// environment as an operator would, against the same seeded stores.
func TestStoreBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	ts := newTestStores(t)
	s := ts.seed(t)
	bin := filepath.Join(t.TempDir(), "drain")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	runBin := func(args ...string) (string, string, int) {
		cmd := exec.Command(bin, args...)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
		for k, v := range ts.env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), errb.String(), code
	}
	out, errs, code := runBin("patterns", "recent", "--json", "--since", "1d")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if got := ids(decode[[]pattern](t, out)); !slices.Equal(got, []string{s.d.ID, s.b.ID, s.a.ID, s.c.ID}) {
		t.Errorf("recent: %v", got)
	}
	_, fnOut, _ := ts.run(ts.env, "patterns", "recent", "--since", "1d")
	if out, _, _ := runBin("patterns", "recent", "--since", "1d"); out != fnOut {
		t.Errorf("binary table differs from the function's:\n%s\n%s", out, fnOut)
	}
	if out, errs, code := runBin("mute", "shop/*"); code != 0 || !strings.HasPrefix(out, `muted glob "shop/*"`) {
		t.Errorf("mute: exit %d %q %q", code, out, errs)
	}
	if m, _ := ts.rdb.SMembers(context.Background(), ts.prefix+":muted").Result(); !slices.Equal(m, []string{"shop/*"}) {
		t.Errorf("muted set %v", m)
	}
	if _, errs, code := runBin("patterns", "show", "nothex"); code != 2 || !strings.HasPrefix(errs, `drain: patterns show: "nothex" is not a template id`) {
		t.Errorf("usage error: exit %d %q", code, errs)
	}
	if _, errs, code := runBin("patterns", "show", "0123456789abcdef"); code != 1 || !strings.HasPrefix(errs, "drain: postgres 127.0.0.1:5432: no template 0123456789abcdef") {
		t.Errorf("store error: exit %d %q", code, errs)
	}
}

// TestPatternsPendingHits: the counts the pattern commands show are the
// ones users must see, hits plus the deltas nodes wrote that no merge has
// added yet (here one a node left behind when it died), ranked by that
// total; without the deltas table (a deployment of an earlier version),
// the row's hits alone.
func TestPatternsPendingHits(t *testing.T) {
	ts := newTestStores(t)
	s := ts.seed(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, testDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	deltas := ts.table + "_deltas"
	if _, err := conn.Exec(ctx, `INSERT INTO `+deltas+` (node, token, ids, n, last, at) VALUES ('node-x', 'f00', $1, $2, $3, now())`,
		[]string{s.a.ID, s.c.ID}, []int64{1000, 5}, []time.Time{time.Now(), time.Now()}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name         string
		drop         bool
		topA, showC  int64
		firstOfTopID string
	}{
		{"with deltas pending", false, 41 + 1000, 5, s.a.ID},
		{"without the deltas table", true, 41, 0, s.d.ID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.drop {
				if _, err := conn.Exec(ctx, `DROP TABLE `+deltas); err != nil {
					t.Fatal(err)
				}
			}
			code, out, errs := ts.run(ts.env, "patterns", "top", "--since", "1d", "--json")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			ps := decode[[]pattern](t, out)
			if len(ps) == 0 || ps[0].ID != tc.firstOfTopID {
				t.Fatalf("top %v, want %s first", ids(ps), tc.firstOfTopID)
			}
			for _, p := range ps {
				if p.ID == s.a.ID && p.Hits != tc.topA {
					t.Errorf("top: hits of a = %d, want %d", p.Hits, tc.topA)
				}
			}
			code, out, errs = ts.run(ts.env, "patterns", "show", s.c.ID, "--json")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			if got := decode[shown](t, out).Pattern.Hits; got != tc.showC {
				t.Errorf("show: hits of c = %d, want %d", got, tc.showC)
			}
		})
	}
}
