package realfb

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// waitStored waits until PostgreSQL and Redis hold hits lines and Redis as many events as
// there are templates, then checks that the table
// has exactly one row per template the miner created or widened (e.ids) and that Redis
// announced each of them exactly once.
func waitStored(t *testing.T, st stores, e *expect, hits int64, timeout time.Duration) map[string]row {
	t.Helper()
	var rows map[string]row
	var rs redisState
	deadline := time.Now().Add(timeout)
	for {
		var okPG, okRedis bool
		rows, okPG = st.pgRows(t)
		rs, okRedis = st.redis(t)
		// The announcements too: a template's event follows its row's
		// commit (the sink's Redis write runs after PostgreSQL's), so the
		// counts can be complete a moment before the last event is.
		if okPG && okRedis && sumHits(rows) == hits && rs.hits() == hits && len(rows) >= len(e.ids) &&
			len(rs.announced) >= len(e.ids) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: PostgreSQL %d rows, %d hits; Redis %d announced, %d hits; want %d templates, %d hits",
				timeout, len(rows), sumHits(rows), len(rs.announced), rs.hits(), len(e.ids), hits)
		}
		time.Sleep(200 * time.Millisecond)
	}
	var missing, extra []string
	for id, tmpl := range e.ids {
		if _, ok := rows[id]; !ok {
			missing = append(missing, id+" "+tmpl)
		}
	}
	for id, r := range rows {
		if _, ok := e.ids[id]; !ok {
			extra = append(extra, id+" "+r.partition+": "+r.template)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing)+len(extra) > 0 {
		t.Fatalf("templates differ from the miner's: missing %d %q, extra %d %q", len(missing), missing, len(extra), extra)
	}
	seen := map[string]int{}
	for _, id := range rs.announced {
		seen[id]++
	}
	for id := range e.ids {
		if seen[id] != 1 {
			t.Errorf("template %s announced %d times on Redis, want once", id, seen[id])
		}
	}
	if len(rs.announced) != len(e.ids) {
		t.Errorf("Redis announced %d events, want %d", len(rs.announced), len(e.ids))
	}
	return rows
}

// checkMetrics compares the plugin's /metrics with what the stores hold.
func checkMetrics(t *testing.T, n *node, lines int64, templates int) {
	t.Helper()
	var m map[string]float64
	waitFor(t, 10*time.Second, "/metrics to agree with the stores", func() bool {
		m = n.metrics()
		return m != nil && m["drain_miner_lines_total"] == float64(lines) &&
			m["drain_sink_created_total"] == float64(templates) &&
			m[`drain_store_up{store="postgres"}`] == 1 && m[`drain_store_up{store="redis"}`] == 1
	})
	if got := m[`drain_templates_total{kind="new"}`] + m[`drain_templates_total{kind="generalized"}`]; got != float64(templates) {
		t.Errorf("drain_templates_total new+generalized = %v, want %d", got, templates)
	}
	for _, k := range []string{"drain_sink_dropped_total", "drain_sink_lost_total", "drain_panics_total", "drain_decode_errors_total"} {
		if m[k] != 0 {
			t.Errorf("%s = %v, want 0", k, m[k])
		}
	}
}

func touch(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestNodeSyslogFiles: the node's syslog files in both timestamp styles, with a rotation
// (rename + new file) between two halves, tailed into a private schema and key prefix.
// Every line is one hit; every template is one row, announced once; /api/v1/health and
// /metrics answer and /metrics agrees with the stores.
func TestNodeSyslogFiles(t *testing.T) {
	needFB(t)
	rfc3164 := readLines(t, "testdata/samples/syslog.log")
	rfc3339 := readLines(t, "testdata/samples/syslog-rfc3339.log")
	for _, conf := range configs {
		t.Run(conf, func(t *testing.T) {
			st := sharedStores(t)
			f := newFiles(t)
			syslog, messages := filepath.Join(f.logDir, "syslog"), filepath.Join(f.logDir, "messages")
			touch(t, syslog, messages)
			n := newNode(t, "node-a", conf, f, st)
			n.start()
			e := newExpect(t)

			half := len(rfc3164) / 2
			appendLines(t, syslog, rfc3164[:half])
			e.addSyslog(t, rfc3164[:half])
			waitStored(t, st, e, e.lines, time.Minute)
			t.Logf("%s first half stored", time.Now().Format("15:04:05.000"))

			// logrotate's create mode: the old file is renamed, a new one takes its name.
			next := syslog + ".new"
			appendLines(t, next, rfc3164[half:])
			if err := os.Rename(syslog, syslog+".1"); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(next, syslog); err != nil {
				t.Fatal(err)
			}
			e.addSyslog(t, rfc3164[half:])
			// If tail handles the rename before the new file exists, it finds the new file
			// at its next scan (node_files: Refresh_Interval 10; 60 s by default).
			waitStored(t, st, e, e.lines, time.Minute)
			t.Logf("%s rotated half stored", time.Now().Format("15:04:05.000"))

			appendLines(t, messages, rfc3339)
			e.addSyslog(t, rfc3339)
			rows := waitStored(t, st, e, e.lines, time.Minute)
			t.Logf("%s messages stored", time.Now().Format("15:04:05.000"))
			for id, r := range rows {
				if r.firstNode != "node-a" {
					t.Errorf("%s: first_node %q, want node-a", id, r.firstNode)
				}
			}
			if code, body := n.get(n.httpPort, "/api/v1/health"); code != 200 {
				t.Errorf("/api/v1/health: %d %q", code, body)
			}
			checkMetrics(t, n, e.lines, len(e.ids))
			t.Logf("%s metrics checked", time.Now().Format("15:04:05.000"))
			n.stopClean()
			t.Logf("%s: %d lines, %d templates in PostgreSQL and Redis", conf, e.lines, len(e.ids))
		})
	}
}

var pods = []pod{
	{ns: "shop", name: "web-7f9c6d8b5-qwert", container: "nginx", format: "cri"},
	{ns: "payments", name: "api-5d4f8c9b7-zx2lp", container: "api", format: "docker"},
}

// TestContainerLogs: container logs in CRI and docker formats, partial lines joined by the
// multiline parsers, pod metadata from Kube_Meta_Preload_Cache_Dir (the API server URL
// points at a closed port), JSON lines merged by the kubernetes filter; templates land
// partitioned by namespace/container.
func TestContainerLogs(t *testing.T) {
	needFB(t)
	for _, conf := range configs {
		t.Run(conf, func(t *testing.T) {
			st := sharedStores(t)
			f := newFiles(t)
			for _, p := range pods {
				p.writeMeta(t, f)
				touch(t, p.path(f))
			}
			n := newNode(t, "node-a", conf, f, st)
			n.start()
			e := newExpect(t)
			for round := 0; round < 2; round++ {
				for _, p := range pods {
					appendLines(t, p.path(f), p.containerLines(e, round*300, 300))
				}
				waitStored(t, st, e, e.lines, time.Minute)
			}
			rows := waitStored(t, st, e, e.lines, time.Minute)
			parts := map[string]int{}
			for _, r := range rows {
				parts[r.partition]++
				if strings.Contains(r.template, `"msg"`) {
					t.Errorf("template %q: the JSON line was not merged by the kubernetes filter", r.template)
				}
			}
			for _, p := range pods {
				if parts[p.partition()] == 0 {
					t.Errorf("no template in partition %s: %v", p.partition(), parts)
				}
			}
			if len(parts) != len(pods) {
				t.Errorf("partitions %v, want one per pod", parts)
			}
			checkMetrics(t, n, e.lines, len(e.ids))
			if log := n.log(); strings.Contains(log, "upstream connection error") || strings.Contains(log, "could not get meta") {
				t.Errorf("the kubernetes filter asked the API server instead of the preload cache:\n%s", n.logTail(20))
			}
			n.stopClean()
			t.Logf("%s: %d records, %d templates in %d partitions", conf, e.lines, len(e.ids), len(parts))
		})
	}
}

// TestStoresRestartedMidRun: private PostgreSQL and Redis are killed (immediate shutdown,
// SIGKILL) while lines keep coming, then restarted: no template and no hit is lost.
func TestStoresRestartedMidRun(t *testing.T) {
	needFB(t)
	st, pg, rs := privateStores(t)
	f := newFiles(t)
	syslog := filepath.Join(f.logDir, "syslog")
	touch(t, syslog)
	n := newNode(t, "node-a", "fluent-bit.conf", f, st)
	n.start()
	e := newExpect(t)
	lines := readLines(t, "testdata/samples/syslog.log")
	third := len(lines) / 3

	appendLines(t, syslog, lines[:third])
	e.addSyslog(t, lines[:third])
	waitStored(t, st, e, e.lines, time.Minute)

	pg.kill()
	rs.kill()
	appendLines(t, syslog, lines[third:2*third])
	e.addSyslog(t, lines[third:2*third])
	waitFor(t, 30*time.Second, "the plugin to mine the lines of the outage", func() bool {
		m := n.metrics()
		return m != nil && m["drain_miner_lines_total"] == float64(e.lines) &&
			m[`drain_store_up{store="postgres"}`] == 0 && m[`drain_store_up{store="redis"}`] == 0
	})
	pg.start(t)
	rs.start(t)
	appendLines(t, syslog, lines[2*third:])
	e.addSyslog(t, lines[2*third:])
	waitStored(t, st, e, e.lines, 2*time.Minute)
	checkMetrics(t, n, e.lines, len(e.ids))
	n.stopClean()
}

// TestTwoNodes: two Fluent Bit processes (Node_Name node-a and node-b) tail the same files
// into the same stores: each template is one row and is announced exactly once; every
// line is counted once per node.
func TestTwoNodes(t *testing.T) {
	needFB(t)
	st := sharedStores(t)
	f := newFiles(t)
	syslog, messages := filepath.Join(f.logDir, "syslog"), filepath.Join(f.logDir, "messages")
	touch(t, syslog, messages)
	a := newNode(t, "node-a", "fluent-bit.yaml", f, st)
	b := newNode(t, "node-b", "fluent-bit.conf", f, st)
	a.start()
	b.start()
	e := newExpect(t)
	lines := readLines(t, "testdata/samples/syslog.log")
	appendLines(t, syslog, lines)
	e.addSyslog(t, lines)
	waitMined(t, []*node{a, b}, e.lines) // the files share daemons: read in order
	rfc3339 := readLines(t, "testdata/samples/syslog-rfc3339.log")
	appendLines(t, messages, rfc3339)
	e.addSyslog(t, rfc3339)
	rows := waitStored(t, st, e, 2*e.lines, 2*time.Minute)
	nodes := map[string]int{}
	for _, r := range rows {
		nodes[r.firstNode]++
	}
	ma, mb := a.metrics(), b.metrics()
	if ma == nil || mb == nil {
		t.Fatal("a node's /metrics does not answer")
	}
	if got := ma["drain_sink_created_total"] + mb["drain_sink_created_total"]; got != float64(len(e.ids)) {
		t.Errorf("created on node-a %v + node-b %v, want %d in all", ma["drain_sink_created_total"], mb["drain_sink_created_total"], len(e.ids))
	}
	if float64(nodes["node-a"]) != ma["drain_sink_created_total"] || float64(nodes["node-b"]) != mb["drain_sink_created_total"] {
		t.Errorf("first_node counts %v disagree with the nodes' drain_sink_created_total (%v, %v)", nodes, ma["drain_sink_created_total"], mb["drain_sink_created_total"])
	}
	a.stopClean()
	b.stopClean()
	t.Logf("%d templates, first_node %v", len(e.ids), nodes)
}

// TestShutdownDuringOutageAndReload: SIGTERM while both stores are down ends Fluent Bit
// within Grace, what was pending lands in Buffer_Path, and the next start replays it;
// then a SIGHUP hot reload (-Y): the plugin goes on mining and serving /metrics, and the
// process listens on as many sockets as before.
func TestShutdownDuringOutageAndReload(t *testing.T) {
	needFB(t)
	st, pg, rs := privateStores(t)
	f := newFiles(t)
	syslog := filepath.Join(f.logDir, "syslog")
	touch(t, syslog)
	n := newNode(t, "node-a", "fluent-bit.conf", f, st)
	n.args = []string{"-Y"}
	n.start()
	e := newExpect(t)
	lines := readLines(t, "testdata/samples/syslog.log")
	quarter := len(lines) / 4

	appendLines(t, syslog, lines[:quarter])
	e.addSyslog(t, lines[:quarter])
	waitStored(t, st, e, e.lines, time.Minute)

	pg.kill()
	rs.kill()
	appendLines(t, syslog, lines[quarter:2*quarter])
	e.addSyslog(t, lines[quarter:2*quarter])
	waitFor(t, 30*time.Second, "the plugin to mine the lines of the outage", func() bool {
		m := n.metrics()
		return m != nil && m["drain_miner_lines_total"] == float64(e.lines)
	})
	code, took := n.stop(syscall.SIGTERM, 40*time.Second)
	if code != 0 {
		t.Errorf("exit status %d after SIGTERM during the outage", code)
	}
	// Grace 10 s (fluent-bit.conf), the plugin's Exit_Timeout 5 s within it.
	if took > 12*time.Second {
		t.Errorf("SIGTERM to exit took %v, want within Grace (10 s)", took)
	}
	buf := filepath.Join(n.stateDir, "drain-buffer.jsonl")
	if fi, err := os.Stat(buf); err != nil || fi.Size() == 0 {
		t.Fatalf("Buffer_Path %s after the shutdown: %v (want the pending entries)\n%s", buf, err, n.logTail(20))
	}
	t.Logf("SIGTERM during the outage: exit %d after %v", code, took.Round(10*time.Millisecond))

	pg.start(t)
	rs.start(t)
	n.start()
	waitStored(t, st, e, e.lines, time.Minute)
	if m := n.metrics(); m == nil || m["drain_sink_replayed_total"] == 0 {
		t.Errorf("drain_sink_replayed_total = %v after the restart, want > 0", m["drain_sink_replayed_total"])
	}

	// Hot reload: the new generation of the instance mines on (from the templates it
	// loads from PostgreSQL, so only counts are compared exactly), and the old
	// generation's Metrics_Listen port is handed over: the counters that answer are the
	// new instance's. One reload only: Fluent Bit 4.2.8 starts two worker pools for a Go
	// output (flb_proxy_output_cb_init and flb_output_init_all both call
	// flb_output_enable_multi_threading) and never stops the first; after a second
	// reload that orphaned worker crashes the process in flb_upstream_conn_timeouts
	// (SIGSEGV, 4 of 5 runs here). docs/development.md, "Inside a real Fluent Bit".
	listening := n.listeners() // Fluent Bit's HTTP server and the plugin's /metrics
	if listening != 2 {
		t.Errorf("%d listening sockets before the reload, want 2 (HTTP server, /metrics)", listening)
	}
	if err := n.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the hot reload", func() bool {
		if !n.running() {
			t.Fatalf("fluent-bit exited on SIGHUP: %v\n%s", n.waitErr, n.logTail(30))
		}
		return n.reloads() == 1
	})
	rest := lines[2*quarter:]
	appendLines(t, syslog, rest)
	e.addSyslog(t, rest)
	waitCounted(t, st, e.lines, time.Minute)
	waitFor(t, 30*time.Second, "/metrics of the reloaded instance", func() bool {
		m := n.metrics()
		return m != nil && m["drain_miner_lines_total"] == float64(len(rest))
	})
	if got := n.listeners(); got != listening {
		t.Errorf("%d listening sockets after the reload, %d before: a listener leaked", got, listening)
	}
	n.stopClean()
}

// waitCounted waits until both stores hold hits lines, then checks that every row was
// announced exactly once.
func waitCounted(t *testing.T, st stores, hits int64, timeout time.Duration) map[string]row {
	t.Helper()
	var rows map[string]row
	var rs redisState
	waitFor(t, timeout, fmt.Sprintf("%d hits in both stores", hits), func() bool {
		var okPG, okRedis bool
		rows, okPG = st.pgRows(t)
		rs, okRedis = st.redis(t)
		return okPG && okRedis && sumHits(rows) == hits && rs.hits() == hits && len(rs.announced) == len(rows)
	})
	seen := map[string]int{}
	for _, id := range rs.announced {
		seen[id]++
	}
	for id := range rows {
		if seen[id] != 1 {
			t.Errorf("template %s announced %d times, want once", id, seen[id])
		}
	}
	return rows
}
