package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// randomLines returns n lines of 3 to 30 random words of 3 to 9 letters:
// every line a pattern never seen before.
func randomLines(seed uint64, n int) []string {
	r := rand.New(rand.NewPCG(seed, seed))
	out := make([]string, n)
	for i := range out {
		var w []string
		for range 3 + r.IntN(28) {
			b := make([]byte, 3+r.IntN(7))
			for k := range b {
				b[k] = byte('a' + r.IntN(26))
			}
			w = append(w, string(b))
		}
		out[i] = strings.Join(w, " ")
	}
	return out
}

// writeLines writes lines to a file in dir and returns its path.
func writeLines(t *testing.T, dir, name string, lines []string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// A pod that floods never-seen lines, through the cgo boundary: its
// partition creates no more templates than its budget, one flood notice
// and one log line say so, and a normal partition mined in the same
// chunks stream gets exactly the events it gets alone.
func TestFlood(t *testing.T) {
	dir := t.TempDir()
	flood := randomLines(7, 20000)
	var normal []string
	for i := range 20000 {
		if i%10 == 0 {
			normal = append(normal, fmt.Sprintf("order %d shipped to warehouse %d in %d ms", i, i%7, i%300),
				fmt.Sprintf("payment %d declined: card expired", i))
		}
	}
	floodFile := writeLines(t, dir, "flood.log", flood)
	normalFile := writeLines(t, dir, "normal.log", normal)
	props := []string{"-q", "-p", "Source=app_log", "-p", "New_Templates_Burst=300", "-p", "New_Templates_Per_Minute=0", "-n", "500"}

	alone := host(t, append(props, "-t", "app.shop", "-f", normalFile)...)
	alone.ok(t)
	both := host(t, append(props, "-t", "app.noisy", "-f", floodFile, "-t", "app.shop", "-f", normalFile, "-t", "app.noisy", "-f", floodFile)...)
	both.ok(t)

	var floods []map[string]any
	perPart := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(both.stdout), "\n") {
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("stdout line %q: %v", line, err)
		}
		if e["kind"] == "flood" {
			floods = append(floods, e)
			continue
		}
		p, _ := e["partition"].(string)
		perPart[p] = append(perPart[p], fmt.Sprint(e["kind"], " ", e["template"]))
	}
	// A bucket of 300 with a reserve of 30, never refilled.
	if n := len(perPart["app.noisy"]); n != 270 {
		t.Errorf("the flooding partition announced %d templates, want 270 (its budget)", n)
	}
	if len(floods) != 1 || floods[0]["partition"] != "app.noisy" || floods[0]["source"] != "app_log" || floods[0]["sample_log"] == "" {
		t.Errorf("flood notices %v, want one for app.noisy with a sample", floods)
	}
	if c := strings.Count(both.stderr, `[drain] partition "app.noisy" is flooding`); c != 1 {
		t.Errorf("%d flood log lines, want 1:\n%s", c, tail(both.stderr, 2000))
	}
	var want []string
	for _, e := range alone.events(t) {
		want = append(want, e.Kind+" "+e.Template)
	}
	if !slices.Equal(perPart["app.shop"], want) || len(want) == 0 {
		t.Errorf("the normal partition beside the flood:\n%q\nalone:\n%q", perPart["app.shop"], want)
	}
}

// The same flood with PostgreSQL and Redis: the budget bounds the rows
// inserted and the events pushed as well, and the notice reaches Redis.
func TestFloodStores(t *testing.T) {
	ctx := context.Background()
	conn, rdb, id := sharedStores(t, "drain_e2e_flood")
	flood := randomLines(8, 20000)
	file := writeLines(t, t.TempDir(), "flood.log", flood)
	run := host(t, "-q", "-p", "Source=app_log", "-p", "New_Templates_Burst=300", "-p", "New_Templates_Per_Minute=0",
		"-p", "PG_DSN=postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "-p", "PG_Table="+id,
		"-p", "Redis_Addr=127.0.0.1:6379", "-p", "Redis_Prefix="+id, "-p", "New_List_Max=1000",
		"-p", "Flush_Interval=200ms", "-p", "Exit_Timeout=10s", "-t", "app.noisy", "-f", file)
	run.ok(t)
	// New templates are the budget; a flood line may also widen one of
	// them (a generalized row, with a parent), which the budget allows.
	var rows, roots int
	if err := conn.QueryRow(ctx, "SELECT count(*), count(*) FILTER (WHERE parent_id IS NULL) FROM "+id).Scan(&rows, &roots); err != nil || roots != 270 || rows > 280 {
		t.Errorf("%d rows, %d without a parent, %v; want 270 new (the budget) and few widened", rows, roots, err)
	}
	if n, err := rdb.LLen(ctx, id+":new").Result(); err != nil || n != int64(rows) {
		t.Errorf("%s:new has %d entries, %v; want one per row (%d)", id, n, err, rows)
	}
	if n, err := rdb.LLen(ctx, id+":floods").Result(); err != nil || n != 1 {
		t.Errorf("%s:floods has %d entries, %v; want 1", id, n, err)
	}
}
