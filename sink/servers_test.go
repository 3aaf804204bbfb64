package sink

// Test-only helpers: the shared PostgreSQL and Redis of the machine (each
// test gets its own schema / key prefix), and private instances on spare
// ports for the tests that stop, kill or pause a server.

import (
	"context"
	"fmt"
	"net"
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

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
)

const (
	sharedDSN   = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	sharedRedis = "127.0.0.1:6379"
	pgBin       = "/usr/lib/postgresql/15/bin"
	privatePW   = "s3cret-Pw-9f27c1"
)

var uniqN atomic.Int64

func uniq(t testing.TB) string {
	return fmt.Sprintf("sinkt_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9, uniqN.Add(1))
}

// poolConfig is the pool configuration the sink would use for dsn.
func poolConfig(t testing.TB, dsn string) *pgxpool.Config {
	t.Helper()
	cfg := Config{PGDSN: dsn}
	cfg.setDefaults()
	pc, _, err := cfg.pgConfig()
	if err != nil {
		t.Fatal(err)
	}
	return pc
}

// pgSchema creates a schema of its own in the shared database and returns a
// table name inside it.
func pgSchema(t testing.TB, dsn string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Skipf("PostgreSQL not reachable (%v): start it or run .ci/run", err)
	}
	defer conn.Close(ctx)
	schema := uniq(t)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, dsn); err == nil {
			c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
			c.Close(ctx)
		}
	})
	return schema + ".log_templates"
}

func pgQuery(t testing.TB, dsn, sql string, args ...any) [][]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, sql, args...)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]any
	for rows.Next() {
		v, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// redisPrefix returns a key prefix of its own on the shared Redis and
// deletes its keys afterwards.
func redisPrefix(t testing.TB, addr string) (*redis.Client, string) {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: addr, Password: ""})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Skipf("Redis not reachable at %s (%v): start it or run .ci/run", addr, err)
	}
	p := uniq(t)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if keys, err := rdb.Keys(ctx, p+":*").Result(); err == nil && len(keys) > 0 {
			rdb.Del(ctx, keys...)
		}
		rdb.Close()
	})
	return rdb, p
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// pgServer is a private PostgreSQL cluster (password auth) on a spare port.
type pgServer struct {
	dir  string
	port int
}

var (
	privPGOnce sync.Once
	privPG     *pgServer
	privPGErr  error
	cleanups   []func()
	cleanupMu  sync.Mutex
)

func atExit(f func()) {
	cleanupMu.Lock()
	defer cleanupMu.Unlock()
	cleanups = append(cleanups, f)
}

func TestMain(m *testing.M) {
	code := m.Run()
	cleanupMu.Lock()
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	cleanupMu.Unlock()
	os.Exit(code)
}

func runAsPostgres(args ...string) error {
	cmd := exec.Command("runuser", append([]string{"-u", "postgres", "--"}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// privatePG returns the private cluster, stopped; tests start, stop, pause
// it and leave it stopped. It is created once per test binary.
func privatePG(t testing.TB) *pgServer {
	t.Helper()
	if _, err := os.Stat(filepath.Join(pgBin, "initdb")); err != nil {
		t.Skipf("initdb not found at %s: private PostgreSQL tests need postgresql-15", pgBin)
	}
	if _, err := exec.LookPath("runuser"); err != nil || os.Geteuid() != 0 {
		t.Skip("private PostgreSQL tests run initdb as user postgres through runuser, which needs root")
	}
	privPGOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sink-pg-")
		if err != nil {
			privPGErr = err
			return
		}
		os.Chmod(dir, 0o755)
		pw := filepath.Join(dir, "pw")
		os.WriteFile(pw, []byte(privatePW+"\n"), 0o644)
		exec.Command("chown", "-R", "postgres", dir).Run()
		s := &pgServer{dir: dir, port: freePort(t)}
		if err := runAsPostgres(filepath.Join(pgBin, "initdb"), "-D", filepath.Join(dir, "data"), "-U", "postgres",
			"-A", "scram-sha-256", "--pwfile", pw, "--no-sync", "-E", "UTF8"); err != nil {
			privPGErr = err
			return
		}
		atExit(func() {
			runAsPostgres(filepath.Join(pgBin, "pg_ctl"), "-D", filepath.Join(dir, "data"), "-m", "immediate", "-w", "stop")
			os.RemoveAll(dir)
		})
		privPG = s
	})
	if privPGErr != nil {
		t.Fatalf("private PostgreSQL: %v", privPGErr)
	}
	t.Cleanup(func() { privPG.resume(); privPG.stop() })
	return privPG
}

func (p *pgServer) dsn(password string) string {
	return fmt.Sprintf("postgres://postgres:%s@127.0.0.1:%d/postgres?sslmode=disable", password, p.port)
}

func (p *pgServer) start(t testing.TB) {
	t.Helper()
	err := runAsPostgres(filepath.Join(pgBin, "pg_ctl"), "-D", filepath.Join(p.dir, "data"), "-w", "-l", filepath.Join(p.dir, "log"),
		"-o", fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50", p.port, p.dir), "start")
	if err != nil {
		t.Fatal(err)
	}
}

func (p *pgServer) stop() {
	runAsPostgres(filepath.Join(pgBin, "pg_ctl"), "-D", filepath.Join(p.dir, "data"), "-m", "fast", "-w", "stop")
}

// pids returns the postmaster and its children.
func (p *pgServer) pids() []int {
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

func (p *pgServer) pause() {
	for _, pid := range p.pids() {
		syscall.Kill(pid, syscall.SIGSTOP)
	}
}

func (p *pgServer) resume() {
	for _, pid := range p.pids() {
		syscall.Kill(pid, syscall.SIGCONT)
	}
}

// redisServer is a private redis-server on a spare port, persisting every
// write (appendfsync always) so that a kill -9 loses nothing acknowledged.
type redisServer struct {
	dir, password string
	port          int
	cmd           *exec.Cmd
}

func privateRedis(t testing.TB, password string) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not found: private Redis tests need it")
	}
	r := &redisServer{dir: t.TempDir(), password: password, port: freePort(t)}
	t.Cleanup(r.kill)
	return r
}

func (r *redisServer) addr() string { return fmt.Sprintf("127.0.0.1:%d", r.port) }

func (r *redisServer) start(t testing.TB) {
	t.Helper()
	args := []string{"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
		"--appendfsync", "always", "--dir", r.dir}
	if r.password != "" {
		args = append(args, "--requirepass", r.password)
	}
	r.cmd = exec.Command("redis-server", args...)
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	rdb := r.client()
	defer rdb.Close()
	for i := 0; i < 100; i++ {
		if rdb.Ping(context.Background()).Err() == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("private redis-server did not come up")
}

func (r *redisServer) client() *redis.Client {
	return redis.NewClient(&redis.Options{Addr: r.addr(), Password: r.password, MaxRetries: -1})
}

func (r *redisServer) kill() {
	if r.cmd != nil && r.cmd.Process != nil {
		r.cmd.Process.Kill()
		r.cmd.Wait()
		r.cmd = nil
	}
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
