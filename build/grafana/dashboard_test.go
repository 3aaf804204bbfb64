// Package grafana holds the Grafana dashboard over the plugin's metrics,
// build/grafana/drain-dashboard.json; its tests check the dashboard model,
// every PromQL query against the metrics a real instance serves, and the
// PostgreSQL panel's query against the real schema.
package grafana

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/awoooi/fluent-bit-drain/plugin/config"
	"github.com/awoooi/fluent-bit-drain/plugin/instance"
)

const dashboardFile = "drain-dashboard.json"

type datasourceRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type target struct {
	RefID        string          `json:"refId"`
	Datasource   *datasourceRef  `json:"datasource"`
	Expr         string          `json:"expr"`
	LegendFormat string          `json:"legendFormat"`
	RawSQL       string          `json:"rawSql"`
	Format       string          `json:"format"`
	Extra        json.RawMessage `json:"-"`
}

type panel struct {
	ID      int    `json:"id"`
	Type    string `json:"type"`
	Title   string `json:"title"`
	GridPos *struct {
		X, Y, W, H int
	} `json:"gridPos"`
	Datasource *datasourceRef `json:"datasource"`
	Targets    []target       `json:"targets"`
	Panels     []panel        `json:"panels"` // a collapsed row's panels
}

type variable struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Query      json.RawMessage `json:"query"`
	Datasource *datasourceRef  `json:"datasource"`
	Definition string          `json:"definition"`
}

type dashboard struct {
	Title         string  `json:"title"`
	UID           string  `json:"uid"`
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []panel `json:"panels"`
	Templating    struct {
		List []variable `json:"list"`
	} `json:"templating"`
	Time struct{ From, To string } `json:"time"`
}

func loadDashboard(t *testing.T) *dashboard {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	return &d
}

// allPanels flattens rows, collapsed ones included.
func allPanels(d *dashboard) []panel {
	var out []panel
	for _, p := range d.Panels {
		out = append(out, p)
		out = append(out, p.Panels...)
	}
	return out
}

// Grafana's built-in variables and macros that may appear in queries.
var builtins = []string{"__rate_interval", "__interval", "__range", "__timeFilter", "__timeFrom", "__timeTo"}

var varRef = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)(?::[a-z]+)?\}|\$([A-Za-z0-9_]+)`)

// TestDashboardModel: the JSON is a Grafana dashboard model Grafana imports:
// a schema version, panels with unique ids, a place on the 24-column grid
// that no other panel takes, targets with unique refIds, and every
// datasource given through a datasource template variable of its type.
func TestDashboardModel(t *testing.T) {
	d := loadDashboard(t)
	if d.SchemaVersion < 36 || d.SchemaVersion > 41 {
		t.Errorf("schemaVersion %d: want 36 to 41 (Grafana 9.x to 11.x)", d.SchemaVersion)
	}
	if d.Title == "" || d.UID == "" || len(d.UID) > 40 {
		t.Errorf("title %q, uid %q: want both, uid at most 40 characters", d.Title, d.UID)
	}
	if d.Time.From == "" || d.Time.To == "" {
		t.Error("no default time range")
	}
	vars := map[string]variable{}
	for _, v := range d.Templating.List {
		if _, dup := vars[v.Name]; dup || v.Name == "" {
			t.Errorf("variable %q is empty or defined twice", v.Name)
		}
		vars[v.Name] = v
	}
	// dsVar checks a datasource reference: "${name}" of a datasource
	// variable whose plugin type is the reference's type.
	dsVar := func(where string, ref *datasourceRef) string {
		if ref == nil {
			t.Errorf("%s: no datasource", where)
			return ""
		}
		m := regexp.MustCompile(`^\$\{([A-Za-z0-9_]+)\}$`).FindStringSubmatch(ref.UID)
		if m == nil {
			t.Errorf("%s: datasource uid %q is not a template variable ${name}", where, ref.UID)
			return ""
		}
		v, ok := vars[m[1]]
		var q string
		json.Unmarshal(v.Query, &q)
		if !ok || v.Type != "datasource" || q != ref.Type {
			t.Errorf("%s: datasource %+v: want a datasource variable %q of type %s", where, *ref, m[1], ref.Type)
		}
		return ref.Type
	}
	types := map[string]int{}
	for _, v := range d.Templating.List {
		if v.Type == "query" {
			dsVar("variable "+v.Name, v.Datasource)
		}
	}
	ids := map[int]bool{}
	type rect struct {
		x, y, w, h int
		title      string
	}
	var placed []rect
	for _, p := range allPanels(d) {
		where := fmt.Sprintf("panel %d %q", p.ID, p.Title)
		if p.ID <= 0 || ids[p.ID] {
			t.Errorf("%s: id must be positive and unique", where)
		}
		ids[p.ID] = true
		if p.Title == "" || !slices.Contains([]string{"row", "timeseries", "table", "stat"}, p.Type) {
			t.Errorf("%s: type %q: want a title and a row, timeseries, table or stat panel", where, p.Type)
		}
		g := p.GridPos
		if g == nil || g.W <= 0 || g.H <= 0 || g.X < 0 || g.Y < 0 || g.X+g.W > 24 {
			t.Errorf("%s: gridPos %+v is not on the 24-column grid", where, g)
			continue
		}
		r := rect{g.X, g.Y, g.W, g.H, p.Title}
		for _, o := range placed {
			if r.x < o.x+o.w && o.x < r.x+r.w && r.y < o.y+o.h && o.y < r.y+r.h {
				t.Errorf("%s overlaps panel %q", where, o.title)
			}
		}
		placed = append(placed, r)
		if p.Type == "row" {
			if len(p.Targets) > 0 || g.W != 24 || g.H != 1 {
				t.Errorf("%s: a row spans 24 columns, 1 high, without targets", where)
			}
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("%s: no targets", where)
		}
		pt := dsVar(where, p.Datasource)
		refs := map[string]bool{}
		for _, tg := range p.Targets {
			if tg.RefID == "" || refs[tg.RefID] {
				t.Errorf("%s: refId %q empty or repeated", where, tg.RefID)
			}
			refs[tg.RefID] = true
			tt := dsVar(where+" target "+tg.RefID, tg.Datasource)
			if tt != pt {
				t.Errorf("%s target %s: datasource type %s, the panel's is %s", where, tg.RefID, tt, pt)
			}
			types[tt]++
			switch tt {
			case "prometheus":
				if strings.TrimSpace(tg.Expr) == "" {
					t.Errorf("%s target %s: empty expr", where, tg.RefID)
				}
			case "grafana-postgresql-datasource":
				if strings.TrimSpace(tg.RawSQL) == "" || tg.Format != "table" {
					t.Errorf("%s target %s: want rawSql in table format", where, tg.RefID)
				}
			}
			// Every variable a query uses is defined or built in.
			for _, m := range varRef.FindAllStringSubmatch(tg.Expr+" "+tg.RawSQL, -1) {
				name := m[1] + m[2]
				if _, ok := vars[name]; !ok && !slices.Contains(builtins, name) {
					t.Errorf("%s target %s: $%s is not a dashboard variable", where, tg.RefID, name)
				}
			}
		}
	}
	if types["prometheus"] == 0 || types["grafana-postgresql-datasource"] == 0 {
		t.Errorf("targets by datasource %v: want Prometheus panels and the PostgreSQL table", types)
	}
}

// served is what a real instance's metrics endpoint exposes: series names
// (histograms as _bucket, _sum, _count) and, for each, its label names and
// the values seen.
type served map[string]map[string][]string

// scrape starts a real output instance with Metrics_Listen and reads its
// /metrics, as Prometheus would.
func scrape(t *testing.T) served {
	t.Helper()
	cfg, err := config.Parse(config.Map{config.KeyMetricsListen: "127.0.0.1:0", config.KeyNodeName: "grafana-test"})
	if err != nil {
		t.Fatal(err)
	}
	in, err := instance.New(cfg, discard{}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		in.Close(ctx)
	}()
	in.ObserveFlush(time.Millisecond)
	deadline := time.Now().Add(10 * time.Second)
	for in.MetricsAddr() == "" {
		if time.Now().After(deadline) {
			t.Fatal("the metrics endpoint never listened")
		}
		time.Sleep(10 * time.Millisecond)
	}
	resp, err := http.Get("http://" + in.MetricsAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	s, err := parseExposition(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if len(s) < 20 {
		t.Fatalf("only %d series served", len(s))
	}
	return s
}

type discard struct{}

func (discard) Printf(string, ...any) {}

// parseExposition reads Prometheus's text format: `name{l="v",...} value`.
func parseExposition(r io.Reader) (served, error) {
	s := served{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		end := strings.IndexAny(line, "{ ")
		if end < 0 {
			return nil, fmt.Errorf("bad sample line %q", line)
		}
		name := line[:end]
		labels := s[name]
		if labels == nil {
			labels = map[string][]string{}
			s[name] = labels
		}
		if line[end] != '{' {
			continue
		}
		rest := line[end+1:]
		for rest != "" && rest[0] != '}' {
			eq := strings.Index(rest, `="`)
			if eq < 0 {
				return nil, fmt.Errorf("bad labels in %q", line)
			}
			key := rest[:eq]
			rest = rest[eq+1:]
			val, err := strconv.QuotedPrefix(rest)
			if err != nil {
				return nil, fmt.Errorf("bad label value in %q: %v", line, err)
			}
			rest = strings.TrimPrefix(rest[len(val):], ",")
			v, _ := strconv.Unquote(val)
			if !slices.Contains(labels[key], v) {
				labels[key] = append(labels[key], v)
			}
		}
	}
	return s, sc.Err()
}

// targetLabels are attached by Prometheus to every series it scrapes.
var targetLabels = []string{"instance", "job"}

// TestDashboardMetricsServed: every metric a query selects is one the
// plugin serves, every label it matches, groups by or names in a legend is
// one of those metrics' (or a scrape target's), and every fixed label value
// it matches is one the plugin emits.
func TestDashboardMetricsServed(t *testing.T) {
	d := loadDashboard(t)
	srv := scrape(t)
	type query struct{ where, expr, legend string }
	var qs []query
	for _, p := range allPanels(d) {
		for _, tg := range p.Targets {
			if tg.Expr != "" {
				qs = append(qs, query{fmt.Sprintf("panel %q target %s", p.Title, tg.RefID), tg.Expr, tg.LegendFormat})
			}
		}
	}
	labelValues := regexp.MustCompile(`^label_values\((?:(.+),\s*)?([A-Za-z_][A-Za-z0-9_]*)\)$`)
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		m := labelValues.FindStringSubmatch(v.Definition)
		if m == nil || m[1] == "" {
			t.Errorf("variable %s: %q is not label_values(metric, label)", v.Name, v.Definition)
			continue
		}
		qs = append(qs, query{"variable " + v.Name, m[1], "{{" + m[2] + "}}"})
	}
	used := map[string]bool{}
	for _, q := range qs {
		pq, err := parsePromQL(q.expr)
		if err != nil {
			t.Errorf("%s: %v in %q", q.where, err, q.expr)
			continue
		}
		if len(pq.selectors) == 0 {
			t.Errorf("%s: %q selects no metric", q.where, q.expr)
		}
		metricLabels := map[string]bool{}
		for _, l := range targetLabels {
			metricLabels[l] = true
		}
		for _, sel := range pq.selectors {
			labels, ok := srv[sel.name]
			if !ok {
				t.Errorf("%s: metric %s is not served by the plugin", q.where, sel.name)
				continue
			}
			used[sel.name] = true
			for l := range labels {
				metricLabels[l] = true
			}
			for _, m := range sel.matchers {
				if slices.Contains(targetLabels, m.label) {
					continue
				}
				vals, ok := labels[m.label]
				if !ok {
					t.Errorf("%s: %s has no label %s", q.where, sel.name, m.label)
					continue
				}
				if strings.Contains(m.value, "$") {
					continue
				}
				switch m.op {
				case "=":
					if !slices.Contains(vals, m.value) {
						t.Errorf("%s: %s{%s=%q}: the plugin emits %s only as %q", q.where, sel.name, m.label, m.value, m.label, vals)
					}
				case "=~":
					re, err := regexp.Compile("^(?:" + m.value + ")$")
					if err != nil || !slices.ContainsFunc(vals, re.MatchString) {
						t.Errorf("%s: %s{%s=~%q} matches none of %q", q.where, sel.name, m.label, m.value, vals)
					}
				}
			}
		}
		for _, l := range pq.grouping {
			if !metricLabels[l] {
				t.Errorf("%s: groups by %s, which none of its metrics has", q.where, l)
			}
		}
		for _, m := range regexp.MustCompile(`\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}`).FindAllStringSubmatch(q.legend, -1) {
			ok := metricLabels[m[1]]
			if len(pq.grouping) > 0 {
				ok = slices.Contains(pq.grouping, m[1])
			}
			if !ok {
				t.Errorf("%s: legend {{%s}} is not a label of the result", q.where, m[1])
			}
		}
	}
	// The list: each of these is on the dashboard.
	for _, m := range []string{
		"drain_records_total", "drain_miner_lines_total", "drain_templates_total", "drain_records_skipped_total",
		"drain_sink_dropped_total", "drain_sink_queue_depth", "drain_store_pending", "drain_store_errors_total",
		"drain_flush_duration_seconds_bucket",
	} {
		if !used[m] {
			t.Errorf("no query uses %s", m)
		}
	}
}

// TestParsePromQL pins the reader the test above relies on.
func TestParsePromQL(t *testing.T) {
	for _, tc := range []struct {
		expr     string
		want     string // selectors: name{label op value,...}; grouping after |
		wantErr  bool
		comments string
	}{
		{expr: `rate(a_total[5m])`, want: `a_total{}|`},
		{expr: `sum by (x, y) (rate(a_total{k="v", j=~"$var"}[$__rate_interval])) * 60`, want: `a_total{k="v",j=~"$var"}|x,y`},
		{expr: `sum(rate(a{b!="c"}[1m])) without (d) / on(e) group_left(f) max by(g)(b_x)`, want: `a{b!="c"} b_x{}|d,e,f,g`},
		{expr: `histogram_quantile(0.99, sum by (le) (rate(h_bucket{i!~"x|y"}[5m])))`, want: `h_bucket{i!~"x|y"}|le`},
		{expr: `topk(5, a) > bool 3 and b offset 5m`, want: `a{} b{}|`},
		{expr: `{__name__="m", k='v'}`, want: `m{k="v"}|`},
		{expr: `clamp_min(a, 0.01) unless b`, want: `a{} b{}|`},
		{expr: `a{k="v"`, wantErr: true},
		{expr: `a{k}`, wantErr: true},
		{expr: `rate(a[5m]`, wantErr: true},
	} {
		pq, err := parsePromQL(tc.expr)
		if (err != nil) != tc.wantErr {
			t.Errorf("%q: error %v, want error %v", tc.expr, err, tc.wantErr)
			continue
		}
		if err != nil {
			continue
		}
		var sels []string
		for _, s := range pq.selectors {
			var ms []string
			for _, m := range s.matchers {
				ms = append(ms, m.label+m.op+strconv.Quote(m.value))
			}
			sels = append(sels, s.name+"{"+strings.Join(ms, ",")+"}")
		}
		if got := strings.Join(sels, " ") + "|" + strings.Join(pq.grouping, ","); got != tc.want {
			t.Errorf("%q: got %s, want %s", tc.expr, got, tc.want)
		}
	}
}

// TestLatestTemplatesQuery runs the PostgreSQL panel's query, with
// Grafana's macros expanded as Grafana does, against the schema of
// build/sql/log_templates.sql in a schema of its own.
func TestLatestTemplatesQuery(t *testing.T) {
	d := loadDashboard(t)
	var sql string
	for _, p := range allPanels(d) {
		for _, tg := range p.Targets {
			if tg.RawSQL != "" {
				sql = tg.RawSQL
			}
		}
	}
	if sql == "" {
		t.Fatal("no PostgreSQL query on the dashboard")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	if err != nil {
		t.Skipf("PostgreSQL not reachable (%v): start it or run .ci/run", err)
	}
	defer conn.Close(context.Background())
	schema := fmt.Sprintf("grafanat_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	ddl, err := os.ReadFile("../sql/log_templates.sql")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "SET search_path TO "+schema); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, string(ddl)); err != nil {
		t.Fatalf("build/sql/log_templates.sql: %v", err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	for _, r := range []struct {
		id, parent, partition, tmpl string
		hits                        int64
		seen                        time.Time
	}{
		{"00000000000000a1", "", "shop/web", "GET <*> 200", 41, now.Add(-time.Hour)},
		{"00000000000000a2", "00000000000000a1", "shop/web", "GET <*> <*>", 7, now.Add(-30 * time.Minute)},
		{"00000000000000a3", "", "kube-system/dns", "reload <*>", 3, now.Add(-10 * time.Minute)},
		{"00000000000000a4", "", "old/app", "too old <*>", 1, now.Add(-48 * time.Hour)},
	} {
		if _, err := conn.Exec(ctx, `INSERT INTO log_templates (template_id, partition, source, template, sample, hits,
			first_seen_at, last_seen_at, first_node, parent_id) VALUES ($1, $2, 'k8s_pod', $3, 'sample of '||$1, $4, $5, $5, 'node-a', NULLIF($6, ''))`,
			r.id, r.partition, r.tmpl, r.hits, r.seen, r.parent); err != nil {
			t.Fatal(err)
		}
	}
	// Grafana's expansion for the default time range (now-6h to now) and
	// the PG_Table variable set to this schema's table.
	q := strings.ReplaceAll(sql, "${pg_table}", schema+".log_templates")
	q = regexp.MustCompile(`\$__timeFilter\(([a-z_]+)\)`).ReplaceAllString(q,
		fmt.Sprintf("$1 BETWEEN '%s' AND '%s'", now.Add(-6*time.Hour).Format(time.RFC3339), now.Add(time.Minute).Format(time.RFC3339)))
	if strings.Contains(q, "$") {
		t.Fatalf("unexpanded macro or variable left in %q", q)
	}
	if _, err := conn.Exec(ctx, "SET search_path TO public"); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(ctx, q)
	if err != nil {
		t.Fatalf("%v in %q", err, q)
	}
	var cols []string
	for _, f := range rows.FieldDescriptions() {
		cols = append(cols, f.Name)
	}
	var got []string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprint(vals[1:]))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if want := []string{"when", "id", "node", "partition", "hits", "template", "sample"}; !slices.Equal(cols, want) {
		t.Errorf("columns %v, want %v", cols, want)
	}
	want := []string{
		"[00000000000000a3 node-a kube-system/dns 3 reload <*> sample of 00000000000000a3]",
		"[00000000000000a1 node-a shop/web 41 GET <*> 200 sample of 00000000000000a1]",
	}
	if !slices.Equal(got, want) {
		t.Errorf("rows\n%q\nwant the new templates of the range, newest first\n%q", got, want)
	}
}
