package realfb

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestFortyNodes: 40 Fluent Bit processes (nodes, distinct Node_Name, both configuration
// formats) tail the same syslog lines into one private PostgreSQL that has 30 connections
// for all of them (max_connections 30) and one private Redis. With the deployed
// PG_Hits_Interval (60 s) every node still holds its hit counts when all are stopped with
// SIGTERM at once, as soon as each has mined its lines: 40 nodes write at exit through 30
// slots, and what one cannot write in time goes to its Buffer_Path; then all start again
// and replay it. Every hit of every node is counted once in
// both stores, every template is one row, announced once. DRAIN_REALFB_NODES changes the
// node count.
func TestFortyNodes(t *testing.T) {
	needFB(t)
	count := 40
	if v := os.Getenv("DRAIN_REALFB_NODES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 2 {
			t.Fatalf("DRAIN_REALFB_NODES=%q: want a count of at least 2", v)
		}
		count = n
	}
	st, _, _ := privateStores(t)
	f := newFiles(t)
	syslog, messages := filepath.Join(f.logDir, "syslog"), filepath.Join(f.logDir, "messages")
	touch(t, syslog, messages)
	nodes := make([]*node, count)
	for i := range nodes {
		nodes[i] = newNode(t, fmt.Sprintf("node-%02d", i), configs[i%len(configs)], f, st)
		// The deployed interval: every node still holds its counts at SIGTERM.
		nodes[i].extraEnv = []string{"DRAIN_PG_HITS_INTERVAL=60s"}
		nodes[i].start()
	}
	e := newExpect(t)
	for _, p := range []struct{ path, sample string }{
		{syslog, "testdata/samples/syslog.log"}, {messages, "testdata/samples/syslog-rfc3339.log"},
	} {
		// One file at a time: both hold the same daemons, so the order in
		// which a node reads them decides its templates.
		lines := readLines(t, p.sample)
		appendLines(t, p.path, lines)
		e.addSyslog(t, lines)
		waitMined(t, nodes, e.lines)
	}
	want := int64(count) * e.lines

	// SIGTERM to every node at once: what a node has not written goes to its Buffer_Path.
	t0 := time.Now()
	for _, n := range nodes {
		if err := n.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatalf("%s: %v", n.name, err)
		}
	}
	for _, n := range nodes {
		select {
		case <-n.done:
		case <-time.After(40 * time.Second):
			t.Fatalf("%s still running 40 s after SIGTERM\n%s", n.name, n.logTail(30))
		}
		if n.waitErr != nil {
			t.Errorf("%s: exit after SIGTERM: %v", n.name, n.waitErr)
		}
	}
	rows, _ := st.pgRows(t)
	rs, _ := st.redis(t)
	buffered := 0
	for _, n := range nodes {
		if fi, err := os.Stat(filepath.Join(n.stateDir, "drain-buffer.jsonl")); err == nil && fi.Size() > 0 {
			buffered++
		}
	}
	t.Logf("%d nodes stopped in %v: PostgreSQL %d of %d hits, Redis %d; %d nodes left a buffer file",
		count, time.Since(t0).Round(10*time.Millisecond), sumHits(rows), want, rs.hits(), buffered)

	for _, n := range nodes {
		n.start()
	}
	rows = waitStored(t, st, e, want, 3*time.Minute)
	first := map[string]int{}
	for _, r := range rows {
		first[r.firstNode]++
	}
	for _, n := range nodes {
		n.stopClean()
	}
	t.Logf("%d nodes × %d lines: %d hits in both stores, %d templates created by %d nodes", count, e.lines, want, len(rows), len(first))
}

// waitMined waits until every node's miner has taken lines lines.
func waitMined(t *testing.T, nodes []*node, lines int64) {
	t.Helper()
	for _, n := range nodes {
		waitFor(t, 2*time.Minute, fmt.Sprintf("%s to mine %d lines", n.name, lines), func() bool {
			m := n.metrics()
			return m != nil && m["drain_miner_lines_total"] == float64(lines)
		})
	}
}
