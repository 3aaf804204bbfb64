package realfb

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/awoooi/fluent-bit-drain/internal/testutil"
)

const (
	sharedDSN   = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	sharedRedis = "127.0.0.1:6379"
	skipReason  = "FLUENT_BIT is not set: this suite runs inside a real Fluent Bit (make test-fluent-bit FLUENT_BIT=/path/to/fluent-bit)"
)

var (
	fbBin    = os.Getenv("FLUENT_BIT")
	root     string // repository root, absolute
	confDir  string // DRAIN_CONF_DIR: custom_parsers.conf and plugins.conf
	soPath   string
	setupErr error

	cleanupMu sync.Mutex
	cleanups  []func()
)

func TestMain(m *testing.M) {
	code := 0
	func() {
		if fbBin == "" {
			code = m.Run()
			return
		}
		dir, err := os.MkdirTemp("", "realfb-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
			return
		}
		defer os.RemoveAll(dir)
		setupErr = setup(dir)
		code = m.Run()
		cleanupMu.Lock()
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
		cleanupMu.Unlock()
	}()
	os.Exit(code)
}

// setup finds the repository, builds the plugin unless DRAIN_SO names one, and writes
// the configuration directory: the repository's parsers and a plugins file naming the .so.
func setup(dir string) error {
	var err error
	if root, err = filepath.Abs(filepath.Join("..", "..")); err != nil {
		return err
	}
	if fbBin, err = filepath.Abs(fbBin); err != nil {
		return err
	}
	if _, err := os.Stat(fbBin); err != nil {
		return fmt.Errorf("FLUENT_BIT: %w", err)
	}
	soPath = os.Getenv("DRAIN_SO")
	if soPath == "" {
		soPath = filepath.Join(dir, "out_drain.so")
		cmd := exec.Command("go", "build", "-trimpath", "-buildmode=c-shared", "-o", soPath, "./plugin")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("building the plugin: %v: %s", err, out)
		}
	} else if soPath, err = filepath.Abs(soPath); err != nil {
		return err
	}
	confDir = filepath.Join(dir, "conf")
	if err := os.MkdirAll(confDir, 0o755); err != nil {
		return err
	}
	if err := os.Symlink(filepath.Join(root, "build", "parsers.conf"), filepath.Join(confDir, "custom_parsers.conf")); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(confDir, "plugins.conf"), []byte("[PLUGINS]\n    Path "+soPath+"\n"), 0o644)
}

func atExit(f func()) {
	cleanupMu.Lock()
	defer cleanupMu.Unlock()
	cleanups = append(cleanups, f)
}

// needFB skips the test when no Fluent Bit is given.
func needFB(t *testing.T) {
	t.Helper()
	if fbBin == "" {
		t.Skip(skipReason)
	}
	if setupErr != nil {
		t.Fatal(setupErr)
	}
}

// configs are the repository's two configuration files, run in turn by the tests that
// cover both formats.
var configs = []string{"fluent-bit.conf", "fluent-bit.yaml"}

var uniqN atomic.Int64

func uniq() string {
	return fmt.Sprintf("realfb_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9, uniqN.Add(1))
}

// waitFor polls cond every 50 ms until it holds or timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// files is one node's view of the disk: the tailed logs (shared by the nodes of a test)
// and its own state (tail offsets, Buffer_Path) and secrets.
type files struct {
	logDir, metaDir string
}

func newFiles(t *testing.T) files {
	t.Helper()
	d := t.TempDir()
	f := files{logDir: filepath.Join(d, "log"), metaDir: filepath.Join(d, "kube-meta")}
	for _, p := range []string{filepath.Join(f.logDir, "containers"), f.metaDir} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// node is one Fluent Bit process running a repository configuration file.
type node struct {
	t           *testing.T
	name        string // NODE_NAME
	conf        string // fluent-bit.conf or fluent-bit.yaml, or an absolute path
	files       files
	stateDir    string
	secretsDir  string
	httpPort    int
	metricsPort int
	st          stores
	args        []string // extra command-line arguments (e.g. -Y for hot reload)
	journalDir  string   // if set, mounted over /var/log/journal in a private mount namespace
	extraEnv    []string // appended to env(): later entries override

	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	waitErr error
}

func newNode(t *testing.T, name, conf string, f files, st stores) *node {
	t.Helper()
	d := t.TempDir()
	n := &node{t: t, name: name, conf: conf, files: f, st: st,
		stateDir: filepath.Join(d, "state"), secretsDir: filepath.Join(d, "secrets"),
		httpPort: testutil.Port(t), metricsPort: testutil.Port(t)}
	for _, p := range []string{n.stateDir, n.secretsDir} {
		if err := os.MkdirAll(p, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		if n.running() {
			n.cmd.Process.Kill()
			<-n.done
		}
		if t.Failed() {
			n.dumpLog()
		}
	})
	return n
}

// env is the process environment: the DRAIN_* overrides of the configuration files.
func (n *node) env() []string {
	closed := testutil.Port(n.t) // nothing listens: the kubernetes filter must use the preload cache
	tagDir := strings.ReplaceAll(strings.TrimPrefix(filepath.Join(n.files.logDir, "containers"), "/"), "/", ".")
	return append(append(os.Environ(),
		"DRAIN_CONF_DIR="+confDir,
		"DRAIN_LOG_DIR="+n.files.logDir,
		"DRAIN_STATE_DIR="+n.stateDir,
		"DRAIN_SECRETS_DIR="+n.secretsDir,
		"DRAIN_HTTP_PORT="+strconv.Itoa(n.httpPort),
		"DRAIN_METRICS_LISTEN=127.0.0.1:"+strconv.Itoa(n.metricsPort),
		"DRAIN_PG_TABLE="+n.st.table,
		"DRAIN_REDIS_PREFIX="+n.st.prefix,
		"DRAIN_PG_HITS_INTERVAL=1s", // the tests wait for every count
		"DRAIN_REDIS_ADDR="+n.st.redisAddr,
		"DRAIN_KUBE_URL=http://127.0.0.1:"+strconv.Itoa(closed),
		"DRAIN_KUBE_TAG_PREFIX=kube."+tagDir+".",
		"DRAIN_KUBE_META_DIR="+n.files.metaDir,
		"DRAIN_ENABLED=on",
		"DRAIN_SHADOW_MODE=on",
		"NODE_NAME="+n.name,
	), n.extraEnv...)
}

// start runs Fluent Bit and waits until its health endpoint answers.
func (n *node) start() {
	n.t.Helper()
	if err := os.WriteFile(filepath.Join(n.secretsDir, "pg-dsn"), []byte(n.st.pgDSN+"\n"), 0o600); err != nil {
		n.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(n.secretsDir, "redis-password"), nil, 0o600); err != nil {
		n.t.Fatal(err)
	}
	n.logPath = filepath.Join(n.stateDir, fmt.Sprintf("fluent-bit-%d.log", time.Now().UnixNano()))
	lf, err := os.Create(n.logPath)
	if err != nil {
		n.t.Fatal(err)
	}
	conf := n.conf
	if !filepath.IsAbs(conf) {
		conf = filepath.Join(root, conf)
	}
	n.cmd = exec.Command(fbBin, append([]string{"-c", conf}, n.args...)...)
	if n.journalDir != "" {
		n.cmd = inJournalNamespace(n.journalDir, n.cmd.Args)
	}
	n.cmd.Env = n.env()
	n.cmd.Stdout, n.cmd.Stderr = lf, lf
	if err := n.cmd.Start(); err != nil {
		lf.Close()
		n.t.Fatal(err)
	}
	n.done = make(chan struct{})
	go func() {
		defer close(n.done)
		n.waitErr = n.cmd.Wait()
		lf.Close()
	}()
	waitFor(n.t, 30*time.Second, n.name+": /api/v1/health", func() bool {
		if !n.running() {
			n.t.Fatalf("%s: fluent-bit exited at start: %v\n%s", n.name, n.waitErr, n.logTail(40))
		}
		code, _ := n.get(n.httpPort, "/api/v1/health")
		return code == http.StatusOK
	})
}

func (n *node) running() bool {
	if n.cmd == nil || n.done == nil {
		return false
	}
	select {
	case <-n.done:
		return false
	default:
		return true
	}
}

// stop sends sig and waits for the exit; it returns the exit code and how long it took.
func (n *node) stop(sig syscall.Signal, timeout time.Duration) (int, time.Duration) {
	n.t.Helper()
	t0 := time.Now()
	if err := n.cmd.Process.Signal(sig); err != nil {
		n.t.Fatalf("%s: signal: %v", n.name, err)
	}
	select {
	case <-n.done:
	case <-time.After(timeout):
		n.cmd.Process.Kill()
		<-n.done
		n.t.Fatalf("%s: fluent-bit still running %v after %v; killed\n%s", n.name, timeout, sig, n.logTail(40))
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(n.waitErr, &ee) {
		code = ee.ExitCode()
	} else if n.waitErr != nil {
		n.t.Fatalf("%s: %v", n.name, n.waitErr)
	}
	return code, time.Since(t0)
}

// stopClean stops the node with SIGTERM and requires exit status 0.
func (n *node) stopClean() {
	n.t.Helper()
	if code, _ := n.stop(syscall.SIGTERM, 40*time.Second); code != 0 {
		n.t.Fatalf("%s: fluent-bit exited with %d\n%s", n.name, code, n.logTail(40))
	}
}

func (n *node) get(port int, path string) (int, string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d%s", port, path), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// listeners counts the process's listening TCP sockets.
func (n *node) listeners() int {
	return n.sockets(func(state string, _ int) bool { return state == "0A" }) // LISTEN
}

// connectedTo counts the process's established TCP connections to a remote port.
func (n *node) connectedTo(port int) int {
	return n.sockets(func(state string, remote int) bool { return state == "01" && remote == port }) // ESTABLISHED
}

// sockets counts the process's TCP sockets (/proc/<pid>/fd) that /proc/<pid>/net/tcp{,6}
// lists with a state and remote port that match.
func (n *node) sockets(match func(state string, remotePort int) bool) int {
	pid := n.cmd.Process.Pid
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		n.t.Fatal(err)
	}
	own := map[string]bool{}
	for _, fd := range fds {
		if l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name())); err == nil && strings.HasPrefix(l, "socket:[") {
			own[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	count := 0
	for _, f := range []string{"tcp", "tcp6"} {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, f))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
			fs := strings.Fields(line)
			if len(fs) <= 9 || !own[fs[9]] {
				continue
			}
			remote := 0
			if i := strings.LastIndexByte(fs[2], ':'); i >= 0 {
				if v, err := strconv.ParseInt(fs[2][i+1:], 16, 32); err == nil {
					remote = int(v)
				}
			}
			if match(fs[3], remote) {
				count++
			}
		}
	}
	return count
}

func (n *node) reloads() int {
	code, body := n.get(n.httpPort, "/api/v2/reload")
	var r struct {
		Count int `json:"hot_reload_count"`
	}
	if code != http.StatusOK || json.Unmarshal([]byte(body), &r) != nil {
		return -1
	}
	return r.Count
}

// metrics scrapes the plugin's /metrics into "name{labels}" -> value; nil if it does not answer.
func (n *node) metrics() map[string]float64 {
	code, body := n.get(n.metricsPort, "/metrics")
	if code != http.StatusOK {
		return nil
	}
	m := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			m[line[:i]] = v
		}
	}
	return m
}

func (n *node) log() string {
	b, _ := os.ReadFile(n.logPath)
	return string(b)
}

func (n *node) logTail(lines int) string {
	l := strings.Split(strings.TrimRight(n.log(), "\n"), "\n")
	return strings.Join(l[max(0, len(l)-lines):], "\n")
}

func (n *node) dumpLog() {
	n.t.Logf("%s (%s) log, last lines:\n%s", n.name, n.conf, n.logTail(60))
}

// appendLines appends lines to path (created if missing), each with a newline.
func appendLines(t testing.TB, path string, lines []string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for _, l := range lines {
		w.WriteString(l)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
