package testutil

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// PGPassword is the postgres user's password on the private cluster.
const PGPassword = "s3cret-Pw-9f27c1"

// PG is a private PostgreSQL cluster (password auth) on a reserved port,
// for tests that stop, start, pause or resume a server. Tests leave it
// stopped.
type PG struct {
	dir     string
	bin     string
	port    int
	release func() // releases the port reservation
	started bool   // started once: the port is now the cluster's
}

// The private cluster is created once per test binary (initdb takes
// seconds) and removed by Main.
var (
	privPGOnce sync.Once
	privPG     *PG
	privPGErr  error
	cleanupMu  sync.Mutex
	cleanups   []func()
)

func atExit(f func()) {
	cleanupMu.Lock()
	defer cleanupMu.Unlock()
	cleanups = append(cleanups, f)
}

// Main runs the tests and then removes what the package's tests left for
// the whole binary (the private PostgreSQL cluster); call it from TestMain
// as os.Exit(testutil.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	cleanupMu.Lock()
	defer cleanupMu.Unlock()
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	cleanups = nil
	return code
}

// pgBin is the newest installed PostgreSQL's bin folder.
func pgBin() (string, error) {
	m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(m) == 0 {
		return "", errors.New("no initdb under /usr/lib/postgresql/*/bin: private PostgreSQL tests need the postgresql package")
	}
	sort.Slice(m, func(i, j int) bool {
		a, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(m[i]))))
		b, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(m[j]))))
		return a < b
	})
	return filepath.Dir(m[len(m)-1]), nil
}

func runAsPostgres(args ...string) error {
	out, err := exec.Command("runuser", append([]string{"-u", "postgres", "--"}, args...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// PrivatePG returns the private cluster, stopped. It is created at the first
// call of the test binary; when the test ends it is resumed and stopped.
// Without PostgreSQL's binaries or root (initdb runs as user postgres
// through runuser) the test is skipped. The package's TestMain must call
// Main.
func PrivatePG(t testing.TB) *PG {
	t.Helper()
	bin, err := pgBin()
	if err != nil {
		t.Skip(err)
	}
	if _, err := exec.LookPath("runuser"); err != nil || os.Geteuid() != 0 {
		t.Skip("private PostgreSQL tests run initdb as user postgres through runuser, which needs root")
	}
	privPGOnce.Do(func() { privPG, privPGErr = newPG(bin) })
	if privPGErr != nil {
		t.Fatalf("private PostgreSQL: %v", privPGErr)
	}
	t.Cleanup(func() { privPG.Resume(); privPG.Stop() })
	return privPG
}

func newPG(bin string) (*PG, error) {
	dir, err := os.MkdirTemp("", "drain-pg-")
	if err != nil {
		return nil, err
	}
	os.Chmod(dir, 0o755)
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte(PGPassword+"\n"), 0o644); err != nil {
		return nil, err
	}
	if out, err := exec.Command("chown", "-R", "postgres", dir).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("chown %s: %v: %s", dir, err, out)
	}
	port, release, err := reservePort()
	if err != nil {
		return nil, err
	}
	p := &PG{dir: dir, bin: bin, port: port, release: release}
	atExit(func() {
		runAsPostgres(filepath.Join(bin, "pg_ctl"), "-D", filepath.Join(dir, "data"), "-m", "immediate", "-w", "stop")
		os.RemoveAll(dir)
		p.release()
	})
	if err := runAsPostgres(filepath.Join(bin, "initdb"), "-D", filepath.Join(dir, "data"), "-U", "postgres",
		"-A", "scram-sha-256", "--pwfile", pw, "--no-sync", "-E", "UTF8"); err != nil {
		return nil, err
	}
	return p, nil
}

// Port is the cluster's port.
func (p *PG) Port() int { return p.port }

// DSN connects as postgres with password to the cluster's database postgres.
func (p *PG) DSN(password string) string {
	return fmt.Sprintf("postgres://postgres:%s@127.0.0.1:%d/postgres?sslmode=disable", password, p.port)
}

// Start starts the cluster and waits until it accepts connections. If its
// first start finds the reserved port taken, it moves to another one.
func (p *PG) Start(t testing.TB) {
	t.Helper()
	log := filepath.Join(p.dir, "log")
	for attempt := 0; ; attempt++ {
		os.Truncate(log, 0)
		err := runAsPostgres(filepath.Join(p.bin, "pg_ctl"), "-D", filepath.Join(p.dir, "data"), "-w", "-l", log,
			"-o", fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50", p.port, p.dir), "start")
		if err == nil {
			p.started = true
			return
		}
		b, _ := os.ReadFile(log)
		if p.started || attempt == 2 || !strings.Contains(string(b), "Address already in use") {
			t.Fatalf("start private PostgreSQL on port %d: %v\n%s", p.port, err, b)
		}
		port, release, rerr := reservePort()
		if rerr != nil {
			t.Fatal(rerr)
		}
		p.release()
		p.port, p.release = port, release
	}
}

// Stop stops the cluster (fast shutdown) if it runs.
func (p *PG) Stop() {
	runAsPostgres(filepath.Join(p.bin, "pg_ctl"), "-D", filepath.Join(p.dir, "data"), "-m", "fast", "-w", "stop")
}

// pids returns the postmaster and its children.
func (p *PG) pids() []int {
	b, err := os.ReadFile(filepath.Join(p.dir, "data", "postmaster.pid"))
	if err != nil {
		return nil
	}
	pm, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err != nil {
		return nil
	}
	pids := []int{pm}
	out, _ := exec.Command("pgrep", "-P", strconv.Itoa(pm)).Output()
	for _, f := range strings.Fields(string(out)) {
		if n, err := strconv.Atoi(f); err == nil {
			pids = append(pids, n)
		}
	}
	return pids
}

// Pause freezes the cluster's processes (SIGSTOP): connections stay open
// and nothing answers.
func (p *PG) Pause() {
	for _, pid := range p.pids() {
		syscall.Kill(pid, syscall.SIGSTOP)
	}
}

// Resume lets paused processes run again (SIGCONT).
func (p *PG) Resume() {
	for _, pid := range p.pids() {
		syscall.Kill(pid, syscall.SIGCONT)
	}
}
