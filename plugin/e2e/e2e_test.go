// Package e2e runs out_drain.so end to end: built with the drain_testhooks
// tag, loaded by the C test host (build/testhost/flb_host.c) exactly as
// Fluent Bit loads it, fed the sample logs, against the local PostgreSQL
// and Redis where a scenario needs them.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/awoooi/fluent-bit-drain/internal/testutil"
)

var (
	hostBin, soPath string
	buildErr        error
	root            = filepath.Join("..", "..")
	samples         = filepath.Join(root, "testdata", "samples")
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "drain-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	hostBin, soPath = filepath.Join(dir, "flb-host"), filepath.Join(dir, "out_drain.so")
	buildErr = build()
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// build compiles the host with the Makefile's flags and the plugin with the
// test hooks, in parallel.
func build() error {
	so := exec.Command("go", "build", "-tags", "drain_testhooks", "-trimpath", "-buildmode=c-shared", "-o", soPath, "./plugin")
	so.Dir = root
	so.Env = append(os.Environ(), "CGO_ENABLED=1")
	_, err := testutil.RunAll(testutil.HostCommand(root, hostBin), so)
	return err
}

type run struct {
	code           int
	stdout, stderr string
	total          map[string]int // from the host's "total" line
}

// host runs flb-host with args and the plugin, within a timeout.
func host(t *testing.T, args ...string) run {
	t.Helper()
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, hostBin, append(args, soPath)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := run{stdout: out.String(), stderr: errb.String(), total: map[string]int{}}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`(?m)^\[host\] total (.*)$`).FindStringSubmatch(r.stderr); m != nil {
		for _, f := range strings.Fields(m[1]) {
			k, v, _ := strings.Cut(f, "=")
			r.total[k], _ = strconv.Atoi(v)
		}
	}
	return r
}

// ok checks the run succeeded and every flush was answered FLB_OK.
func (r run) ok(t *testing.T) {
	t.Helper()
	if r.code != 0 || r.total["failures"] != 0 || r.total["attempts"] == 0 || r.total["ok"] != r.total["attempts"] {
		t.Fatalf("exit %d, total %v\nstderr:\n%s", r.code, r.total, tail(r.stderr, 3000))
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

type event struct {
	ClusterID, Template, SampleLog, Source, Kind, Partition, ParentID string
}

// newEvents counts the run's events of kind new.
func (r run) newEvents(t *testing.T) int {
	t.Helper()
	n := 0
	for _, e := range r.events(t) {
		if e.Kind == "new" {
			n++
		}
	}
	return n
}

func (r run) events(t *testing.T) []event {
	t.Helper()
	var evs []event
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e struct {
			ClusterID string `json:"cluster_id"`
			Template  string `json:"template"`
			SampleLog string `json:"sample_log"`
			Source    string `json:"source"`
			Kind      string `json:"kind"`
			Partition string `json:"partition"`
			ParentID  string `json:"parent_id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("stdout line %q: %v", sc.Text(), err)
		}
		evs = append(evs, event{e.ClusterID, e.Template, e.SampleLog, e.Source, e.Kind, e.Partition, e.ParentID})
	}
	return evs
}

func sampleArgs() []string {
	return []string{
		"-t", "node.syslog.var.log.syslog", "-f", filepath.Join(samples, "syslog.log"),
		"--format", "json", "-f", filepath.Join(samples, "journald.jsonl"), "-f", filepath.Join(samples, "containers.jsonl"),
	}
}

func needSamples(t *testing.T) {
	if _, err := os.Stat(filepath.Join(samples, "syslog.log")); err != nil {
		t.Skip("testdata/samples missing")
	}
}

// The sample logs through one instance (workers 1): every chunk OK, events
// for every source with the default partitions.
func TestSamples(t *testing.T) {
	needSamples(t)
	r := host(t, append([]string{"-q", "-p", "workers=1"}, sampleArgs()...)...)
	r.ok(t)
	if r.total["records"] != 4700 {
		t.Fatalf("records %d, want 4700", r.total["records"])
	}
	evs := r.events(t)
	sources, parts := map[string]int{}, map[string]bool{}
	for _, e := range evs {
		sources[e.Source]++
		parts[e.Partition] = true
		if e.Template == "" || len(e.ClusterID) != 16 || (e.Kind != "new" && e.Kind != "generalized") {
			t.Fatalf("bad event %+v", e)
		}
	}
	for _, s := range []string{"k8s_pod", "journald", "host_syslog"} {
		if sources[s] == 0 {
			t.Errorf("no events for source %s: %v", s, sources)
		}
	}
	// Raw syslog file lines are partitioned by their program (kernel, sshd, …).
	for _, p := range []string{"kube-system/coredns", "kubelet", "kernel", "sshd"} {
		if !parts[p] {
			t.Errorf("no events for partition %q", p)
		}
	}
	// Each file ends with a burst of a pattern seen nowhere earlier (the
	// containers' one is a merged JSON record: its message is under msg).
	for _, want := range []struct{ partition, text string }{
		{"kernel", "oom-kill"}, {"kubelet", "tls: bad certificate"}, {"shop/api", "query failed"},
	} {
		found := false
		for _, e := range evs {
			found = found || e.Partition == want.partition && strings.Contains(e.Template, want.text)
		}
		if !found {
			t.Errorf("no template for the %q burst in partition %s", want.text, want.partition)
		}
	}
}

// Panics and nil dereferences in flush are recovered and the chunk
// acknowledged, also after the host re-ran its signal setup (SIGCONT), on
// the engine thread's small coroutine stacks and on a worker. One panic is
// logged per 10 s; the others are counted in the next line or at exit.
func TestPanicRecovery(t *testing.T) {
	needSamples(t)
	for _, mode := range []string{"panic", "nil"} {
		for _, extra := range [][]string{{"--workers", "0"}, {"--workers", "0", "--resignal"}, {"--workers", "1", "--resignal"}} {
			t.Run(mode+strings.Join(extra, ""), func(t *testing.T) {
				args := append([]string{"-q", "-p", "_test_panic=" + mode, "-n", "100"}, extra...)
				r := host(t, append(args, "-t", "app.x", "-f", filepath.Join(samples, "syslog.log"))...)
				r.ok(t)
				logged := strings.Count(r.stderr, "[drain] panic in flush")
				suppressed := 0
				if m := regexp.MustCompile(`\[drain\] (\d+) more panics not logged`).FindStringSubmatch(r.stderr); m != nil {
					suppressed, _ = strconv.Atoi(m[1])
				}
				if logged != 1 || r.total["attempts"] < 2 || logged+suppressed != r.total["attempts"] {
					t.Fatalf("%d panics logged, %d suppressed, for %d flushes\n%s", logged, suppressed, r.total["attempts"], tail(r.stderr, 2000))
				}
				if slicesContains(extra, "--resignal") && !strings.Contains(r.stderr, "re-installed Go's SIGSEGV/SIGBUS/SIGFPE handlers") {
					t.Fatalf("handlers not re-installed after SIGCONT:\n%s", tail(r.stderr, 2000))
				}
			})
		}
	}
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// Concurrency, hot reload, retention and old-def layouts.
func TestHostScenarios(t *testing.T) {
	needSamples(t)
	for _, args := range [][]string{
		{"--workers", "4", "-n", "50"},                         // concurrent FlushCtx on one instance
		{"--reload", "--workers", "1"},                         // generation overlap
		{"--poison", "--workers", "0"},                         // data overwritten after each call
		{"--def32"},                                            // Fluent Bit <= 4.2.2 def size
		{"--event-format", "1", "--ts", "float"},               // v1 float timestamps
		{"--ts", "ext8", "--stack", "24576", "--workers", "0"}, // EventTime as ext8, 24 KiB stacks
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := host(t, append(append([]string{"-q"}, args...), sampleArgs()...)...)
			r.ok(t)
			if len(r.events(t)) == 0 {
				t.Fatal("no events")
			}
		})
	}
}

// Two instances with different keys: one disabled, one with a fixed
// source and partition key.
func TestTwoInstances(t *testing.T) {
	needSamples(t)
	r := host(t, append([]string{"-q", "-p", "Enabled=off", "-i", "-p", "Source=app_log", "-p", "Partition_Key=stream", "-p", "Message_Key=log,msg"},
		"--format", "json", "-f", filepath.Join(samples, "containers.jsonl"))...)
	r.ok(t)
	evs := r.events(t)
	if len(evs) == 0 {
		t.Fatal("no events")
	}
	for _, e := range evs {
		if e.Source != "app_log" || (e.Partition != "stdout" && e.Partition != "stderr") {
			t.Fatalf("event from the wrong instance or partition: %+v", e)
		}
	}
}

// Malformed chunks: a truncated one is acknowledged (its first events
// mined), garbage is answered FLB_ERROR, and the process lives on.
func TestMalformedChunks(t *testing.T) {
	dir := t.TempDir()
	// [[EventTime, {}], {"log": "hello world"}] twice, the second cut.
	ev := []byte{0xdd, 0, 0, 0, 2, 0xdd, 0, 0, 0, 2, 0xd7, 0, 0x6b, 7, 0x1a, 0x81, 0, 0, 0, 0, 0x80,
		0x81, 0xa3, 'l', 'o', 'g', 0xab, 'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd'}
	truncated := filepath.Join(dir, "truncated.msgpack")
	garbage := filepath.Join(dir, "garbage.msgpack")
	os.WriteFile(truncated, append(append([]byte{}, ev...), ev[:len(ev)-3]...), 0o644)
	os.WriteFile(garbage, []byte{0xc1, 0xc1, 0xc1}, 0o644)
	r := host(t, "-q", "--format", "msgpack", "-f", truncated, "-f", garbage)
	if r.code != 0 || r.total["ok"] != 1 || r.total["error"] != 1 {
		t.Fatalf("exit %d total %v\n%s", r.code, r.total, tail(r.stderr, 2000))
	}
	if evs := r.events(t); len(evs) != 1 || evs[0].Template != "hello world" {
		t.Fatalf("events %+v", evs)
	}
	if !strings.Contains(r.stderr, "malformed event 1 at offset 38") {
		t.Fatalf("decode error not logged:\n%s", tail(r.stderr, 2000))
	}
}

// sharedStores connects to the local PostgreSQL and Redis (skipping the
// test when either is away) and names a table and key prefix of the
// test's own, dropped when it ends.
func sharedStores(t *testing.T, name string) (*pgx.Conn, *redis.Client, string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	if err != nil {
		t.Skipf("PostgreSQL at 127.0.0.1:5432 not reachable: %v", err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	if err := rdb.Ping(ctx).Err(); err != nil {
		conn.Close(ctx)
		rdb.Close()
		t.Skipf("Redis at 127.0.0.1:6379 not reachable: %v", err)
	}
	id := fmt.Sprintf("%s_%d", name, os.Getpid())
	t.Cleanup(func() {
		conn.Exec(ctx, "DROP TABLE IF EXISTS "+id)
		if keys, _ := rdb.Keys(ctx, id+":*").Result(); len(keys) > 0 {
			rdb.Del(ctx, keys...)
		}
		conn.Close(ctx)
		rdb.Close()
	})
	return conn, rdb, id
}

// Against the local PostgreSQL and Redis: templates are stored and
// announced, secrets never logged, and a second run (a restart) announces
// nothing the cluster already knows.
func TestStores(t *testing.T) {
	needSamples(t)
	ctx := context.Background()
	conn, rdb, id := sharedStores(t, "drain_e2e")
	args := append([]string{"-p", "workers=1",
		"-p", "PG_DSN=postgres://postgres:n0t-a-real-s3cret@127.0.0.1:5432/test?sslmode=disable",
		"-p", "PG_Table=" + id, "-p", "Redis_Addr=127.0.0.1:6379", "-p", "Redis_Prefix=" + id,
		"-p", "Redis_Password=", "-p", "Flush_Interval=200ms", "-p", "Exit_Timeout=10s",
		"-p", "Buffer_Path=" + filepath.Join(t.TempDir(), "drain.buf"), "-p", "Load_Jitter=0s"},
		sampleArgs()...)
	r := host(t, args...)
	r.ok(t)
	if strings.Contains(r.stderr, "n0t-a-real-s3cret") || !strings.Contains(r.stderr, "postgres:***@127.0.0.1") {
		t.Fatalf("DSN not redacted in the log:\n%s", tail(r.stderr, 3000))
	}
	var rows int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+id).Scan(&rows); err != nil || rows == 0 {
		t.Fatalf("rows %d, %v", rows, err)
	}
	n, err := rdb.LLen(ctx, id+":new").Result()
	if err != nil || n == 0 {
		t.Fatalf("%s:new has %d entries, %v", id, n, err)
	}
	// A restart: the same logs again are known to the cluster. The known
	// templates load in the background while the run mines (start-up never
	// waits for PostgreSQL), so lines may meet the loaded templates in
	// another order than in the first run and widen one differently: that
	// may add a generalized row (one with a parent), never a new template.
	roots := func() (all, root int) {
		t.Helper()
		if err := conn.QueryRow(ctx, "SELECT count(*), count(*) FILTER (WHERE parent_id IS NULL) FROM "+id).Scan(&all, &root); err != nil {
			t.Fatal(err)
		}
		return all, root
	}
	_, root1 := roots()
	// The restarts keep the host running a while after their last chunk, as
	// Fluent Bit would: the load runs in the background and its log line is
	// checked below (a loaded machine mined all 4700 records before it was read).
	args = append([]string{"--linger", "3000"}, args...)
	r2 := host(t, args...)
	r2.ok(t)
	newEvents := r2.newEvents(t)
	rows2, root2 := roots()
	if newEvents != 0 || root2 != root1 || rows2 < rows {
		t.Fatalf("second run: %d new events, rows %d → %d, rows without a parent %d → %d", newEvents, rows, rows2, root1, root2)
	}
	if rows2 > rows {
		t.Logf("second run widened %d template(s) differently (generalized rows)", rows2-rows)
	}
	// The first run's load found no table, so the second read every row
	// once; the third replays the node's cache of known templates (next to
	// Buffer_Path) and reads from PostgreSQL only the rows created since
	// the second run's load.
	if !strings.Contains(r2.stderr, "reading every current template") {
		t.Errorf("second run: no full warm start in the log:\n%s", tail(r2.stderr, 3000))
	}
	r3 := host(t, args...)
	r3.ok(t)
	if n := r3.newEvents(t); n != 0 {
		t.Errorf("third run announced %d templates as new", n)
	}
	if !regexp.MustCompile(`loaded \d+ known templates \([1-9]\d* from the local cache, \d+ more from PostgreSQL reading the rows created since`).MatchString(r3.stderr) {
		t.Errorf("third run: no incremental warm start from the local cache in the log:\n%s", tail(r3.stderr, 3000))
	}
}

// Redis only, no PostgreSQL: "new" is new to the node's miner, so without
// its cache of known templates (next to Buffer_Path) a restart would
// announce every template again. With it, the second run announces no new
// template.
func TestRedisOnlyRestart(t *testing.T) {
	needSamples(t)
	_, rdb, id := sharedStores(t, "drain_e2e_redis")
	args := append([]string{"-q", "-p", "workers=1", "-p", "Redis_Addr=127.0.0.1:6379", "-p", "Redis_Prefix=" + id,
		"-p", "Flush_Interval=200ms", "-p", "Exit_Timeout=10s", "-p", "Buffer_Path=" + filepath.Join(t.TempDir(), "drain.buf")},
		sampleArgs()...)
	r := host(t, args...)
	r.ok(t)
	n1, err := rdb.LLen(context.Background(), id+":new").Result()
	if err != nil || n1 == 0 {
		t.Fatalf("%s:new has %d entries, %v", id, n1, err)
	}
	r2 := host(t, args...)
	r2.ok(t)
	newEvents := r2.newEvents(t)
	if newEvents != 0 {
		t.Errorf("second run announced %d new templates again (first run: %d events)", newEvents, n1)
	}
}

// A PostgreSQL that accepts connections and never answers: flushes stay
// fast (p99 < 50 ms) and exit ends within Exit_Timeout.
func TestBlackholeStore(t *testing.T) {
	needSamples(t)
	pg := testutil.BlackHole(t)
	r := host(t, append([]string{"-p", "workers=1", "-p", "PG_DSN=postgres://u@" + pg.Addr + "/db?sslmode=disable&connect_timeout=30",
		"-p", "Exit_Timeout=1s", "-p", "Flush_Interval=100ms"}, sampleArgs()...)...)
	r.ok(t)
	m := regexp.MustCompile(`FLBPluginExitCtx\(\S+\) instance=\S+ -> \d+ \((\d+) us\)`).FindStringSubmatch(r.stderr)
	if m == nil {
		t.Fatalf("no ExitCtx line:\n%s", tail(r.stderr, 2000))
	}
	if us, _ := strconv.Atoi(m[1]); us > 2_500_000 {
		t.Fatalf("ExitCtx took %d us with Exit_Timeout=1s", us)
	}
	p := regexp.MustCompile(`p99_us=(\d+)`).FindStringSubmatch(r.stderr)
	if p == nil {
		t.Fatal("no summary")
	}
	if us, _ := strconv.Atoi(p[1]); us > 50_000 {
		t.Fatalf("flush p99 %d us with a blackholed PostgreSQL", us)
	}
}

// The Prometheus endpoint of the .so while the host flushes: the counters
// move between scrapes, and SIGINT shuts the instance (and its server)
// down cleanly.
func TestMetricsEndpoint(t *testing.T) {
	needSamples(t)
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, hostBin, "-q", "-p", "Metrics_Listen="+addr, "-n", "100", "--repeat", "100000",
		"-t", "app.x", "-f", filepath.Join(samples, "syslog.log"), soPath)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	value := func(body, name string) uint64 {
		m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\S+)$`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no %s in\n%s", name, body)
		}
		v, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return uint64(v)
	}
	var prev uint64
	for i := 0; i < 2; i++ {
		var body string
		scraped := testutil.Poll(20*time.Second, func() bool {
			resp, err := http.Get("http://" + addr + "/metrics")
			if err != nil {
				return false
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body = string(b)
			return resp.StatusCode == 200 && value(body, "drain_records_total") > prev
		})
		if !scraped {
			t.Fatalf("scrape %d: drain_records_total not above %d:\n%s\nstderr:\n%s", i, prev, body, tail(errb.String(), 2000))
		}
		prev = value(body, "drain_records_total")
		if n := value(body, "drain_flush_duration_seconds_count"); n == 0 {
			t.Errorf("scrape %d: no flush observed:\n%s", i, body)
		}
		if c := value(body, "drain_chunks_total"); c == 0 || value(body, "drain_chunk_bytes_total") == 0 {
			t.Fatalf("scrape %d: chunks %d:\n%s", i, c, body)
		}
		for _, want := range []string{
			`drain_templates_total{kind="new"} `,
			"drain_miner_clusters ",
			"drain_sink_pending ",
			"drain_sink_queue_depth ",
			"drain_sink_unmatched_total ",
			`drain_store_up{store="event_log"} `,
			"# TYPE drain_flush_duration_seconds histogram",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("scrape %d lacks %q", i, want)
			}
		}
	}
	cmd.Process.Signal(os.Interrupt)
	err = cmd.Wait()
	stopped = true
	if err != nil {
		t.Fatalf("host: %v\n%s", err, tail(errb.String(), 2000))
	}
	if _, err := http.Get("http://" + addr + "/metrics"); err == nil {
		t.Fatal("metrics endpoint still up after the host exited")
	}
}
