package realfb

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestHotReloadWorkersZero: the repository's fluent-bit.conf with the drain output's
// Workers set to 0 (flushes on the engine thread) survives repeated hot reloads (SIGHUP):
// each new generation mines on, every line is one hit, every template one row announced
// once, and the old generations leave neither a listener nor a store connection behind.
// With Workers 1, Fluent Bit 4.2.8 crashes at the second or third reload (an orphaned
// worker pool; docs/deploy.md, "Limits and known issues"), which is why
// TestShutdownDuringOutageAndReload reloads once only.
func TestHotReloadWorkersZero(t *testing.T) {
	needFB(t)
	st := sharedStores(t)
	f := newFiles(t)
	syslog := filepath.Join(f.logDir, "syslog")
	touch(t, syslog)
	conf := workersConf(t, 0)
	n := newNode(t, "node-a", conf, f, st)
	n.args = []string{"-Y"}
	n.start()
	e := newExpect(t)
	lines := readLines(t, "testdata/samples/syslog.log")
	const reloads = 4
	part := len(lines) / (reloads + 1)

	appendLines(t, syslog, lines[:part])
	e.addSyslog(t, lines[:part])
	waitStored(t, st, e, e.lines, time.Minute)
	listening := n.listeners()
	redisPort := portOf(t, st.redisAddr)
	redisConns := n.connectedTo(redisPort)

	for i := 1; i <= reloads; i++ {
		if err := n.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, "hot reload "+strconv.Itoa(i), func() bool {
			if !n.running() {
				t.Fatalf("fluent-bit exited at reload %d: %v\n%s", i, n.waitErr, n.logTail(30))
			}
			return n.reloads() == i
		})
		chunk := lines[i*part : (i+1)*part]
		if i == reloads {
			chunk = lines[i*part:]
		}
		appendLines(t, syslog, chunk)
		e.addSyslog(t, chunk)
		waitCounted(t, st, e.lines, time.Minute)
		waitFor(t, 30*time.Second, "/metrics of generation "+strconv.Itoa(i+1), func() bool {
			m := n.metrics()
			return m != nil && m["drain_miner_lines_total"] == float64(len(chunk))
		})
		if got := n.listeners(); got != listening {
			t.Errorf("reload %d: %d listening sockets, %d before the first: a listener leaked", i, got, listening)
		}
		// The sink's Redis pool grows with need; what must not happen is one more
		// generation's worth of connections per reload.
		if got := n.connectedTo(redisPort); got > 2*max(redisConns, 1) {
			t.Errorf("reload %d: %d connections to Redis, %d before the first: old generations keep theirs", i, got, redisConns)
		}
	}
	t.Logf("%d reloads with Workers 0: %d lines, %d listening sockets, Redis connections %d before, %d after",
		reloads, e.lines, listening, redisConns, n.connectedTo(redisPort))
	n.stopClean()
}

// workersConf writes a copy of the repository's fluent-bit.conf whose drain output has
// Workers set to w, and returns its path. Only that line differs.
func workersConf(t *testing.T, w int) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "fluent-bit.conf"))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^(\s*Workers\s+)1\s*$`)
	if got := len(re.FindAllIndex(b, -1)); got != 1 {
		t.Fatalf("fluent-bit.conf: %d lines `Workers 1`, want the drain output's only", got)
	}
	p := filepath.Join(t.TempDir(), "fluent-bit-workers"+strconv.Itoa(w)+".conf")
	if err := os.WriteFile(p, re.ReplaceAll(b, []byte("${1}"+strconv.Itoa(w))), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func portOf(t *testing.T, addr string) int {
	t.Helper()
	p, err := strconv.Atoi(addr[strings.LastIndexByte(addr, ':')+1:])
	if err != nil {
		t.Fatalf("port of %q: %v", addr, err)
	}
	return p
}
