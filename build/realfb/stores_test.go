package realfb

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/awoooi/fluent-bit-drain/internal/testutil"
	"github.com/awoooi/fluent-bit-drain/sink"
	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// stores are where a test's nodes write: a PostgreSQL table of the test's own (schema.table)
// and a Redis key prefix of its own.
type stores struct {
	pgDSN, table      string
	redisAddr, prefix string
}

// sharedStores gives the test a schema in the shared PostgreSQL and a prefix in the shared
// Redis, both removed afterwards.
func sharedStores(t *testing.T) stores {
	t.Helper()
	st := stores{pgDSN: sharedDSN, redisAddr: sharedRedis, prefix: uniq()}
	schema := uniq()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, st.pgDSN)
	if err != nil {
		t.Skipf("PostgreSQL not reachable at 127.0.0.1:5432 (%v)", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	st.table = schema + ".log_templates"
	rdb := redis.NewClient(&redis.Options{Addr: st.redisAddr})
	if err := rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		t.Skipf("Redis not reachable at %s (%v)", st.redisAddr, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, st.pgDSN); err == nil {
			c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
			c.Close(ctx)
		}
		if keys, err := rdb.Keys(ctx, st.prefix+":*").Result(); err == nil && len(keys) > 0 {
			rdb.Del(ctx, keys...)
		}
		rdb.Close()
	})
	return st
}

// row is one template row.
type row struct {
	partition, template, parent, firstNode string
	hits                                   int64
}

// pgRows reads the table; ok is false while PostgreSQL or the table is not there.
func (st stores) pgRows(t testing.TB) (map[string]row, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, st.pgDSN)
	if err != nil {
		return nil, false
	}
	defer conn.Close(ctx)
	// Counts as users read them: the row's hits plus the node deltas no
	// merge has added yet (docs/stores.md, "Hit counts as deltas").
	_, pending, err := sink.PendingHits(st.table)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(ctx, "SELECT t.template_id, t.partition, t.template, coalesce(t.parent_id, ''), t.first_node, "+
		sink.PendingSum("t.hits", "p.n")+" FROM "+st.table+" AS t LEFT JOIN "+pending+" AS p USING (template_id)")
	if err != nil {
		return nil, false
	}
	out := map[string]row{}
	for rows.Next() {
		var id string
		var r row
		if err := rows.Scan(&id, &r.partition, &r.template, &r.parent, &r.firstNode, &r.hits); err != nil {
			t.Fatal(err)
		}
		out[id] = r
	}
	return out, rows.Err() == nil
}

func sumHits(rows map[string]row) int64 {
	var n int64
	for _, r := range rows {
		n += r.hits
	}
	return n
}

// redisState is what the plugin wrote under the prefix.
type redisState struct {
	announced []string         // cluster_id of each event in <prefix>:new, oldest first
	sizes     map[string]int64 // size of each <prefix>:clusters:<id>
}

func (s redisState) hits() int64 {
	var n int64
	for _, v := range s.sizes {
		n += v
	}
	return n
}

func (st stores) redis(t testing.TB) (redisState, bool) {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: st.redisAddr, MaxRetries: -1})
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var s redisState
	evs, err := rdb.LRange(ctx, st.prefix+":new", 0, -1).Result()
	if err != nil {
		return s, false
	}
	for i := len(evs) - 1; i >= 0; i-- {
		var ev struct {
			ID string `json:"cluster_id"`
		}
		if err := json.Unmarshal([]byte(evs[i]), &ev); err != nil {
			t.Fatalf("%s:new: %v: %s", st.prefix, err, evs[i])
		}
		s.announced = append(s.announced, ev.ID)
	}
	s.sizes = map[string]int64{}
	iter := rdb.Scan(ctx, 0, st.prefix+":clusters:*", 1000).Iterator()
	for iter.Next(ctx) {
		v, err := rdb.HGet(ctx, iter.Val(), "size").Int64()
		if err != nil && err != redis.Nil {
			return s, false
		}
		s.sizes[strings.TrimPrefix(iter.Val(), st.prefix+":clusters:")] = v
	}
	return s, iter.Err() == nil
}

const pgBin = "/usr/lib/postgresql/15/bin"

// pgServer is a private PostgreSQL cluster (trust auth) on a spare port, for the tests
// that kill and restart it. Clusters are made by initdb as user postgres (runuser, root).
type pgServer struct {
	dir  string
	port int
}

var (
	pgTemplateOnce sync.Once
	pgTemplateDir  string
	pgTemplateErr  error
)

func runAsPostgres(args ...string) error {
	out, err := exec.Command("runuser", append([]string{"-u", "postgres", "--"}, args...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// privatePG returns a stopped private cluster of the test's own, copied from one initdb.
func privatePG(t *testing.T) *pgServer {
	t.Helper()
	if _, err := os.Stat(filepath.Join(pgBin, "initdb")); err != nil {
		t.Skipf("initdb not found at %s: the fault tests need postgresql-15", pgBin)
	}
	if _, err := exec.LookPath("runuser"); err != nil || os.Geteuid() != 0 {
		t.Skip("the fault tests run initdb as user postgres through runuser, which needs root")
	}
	pgTemplateOnce.Do(func() {
		dir, err := os.MkdirTemp("", "realfb-pg-")
		if err != nil {
			pgTemplateErr = err
			return
		}
		atExit(func() { os.RemoveAll(dir) })
		os.Chmod(dir, 0o755)
		exec.Command("chown", "postgres", dir).Run()
		pgTemplateDir = filepath.Join(dir, "data")
		pgTemplateErr = runAsPostgres(filepath.Join(pgBin, "initdb"), "-D", pgTemplateDir, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")
	})
	if pgTemplateErr != nil {
		t.Fatalf("private PostgreSQL: %v", pgTemplateErr)
	}
	dir, err := os.MkdirTemp("", "realfb-pg-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	if out, err := exec.Command("cp", "-a", pgTemplateDir, filepath.Join(dir, "data")).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	exec.Command("chown", "-R", "postgres", dir).Run()
	p := &pgServer{dir: dir, port: testutil.Port(t)}
	t.Cleanup(func() { p.kill(); os.RemoveAll(dir) })
	return p
}

func (p *pgServer) dsn() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=2", p.port)
}

func (p *pgServer) start(t testing.TB) {
	t.Helper()
	err := runAsPostgres(filepath.Join(pgBin, "pg_ctl"), "-D", filepath.Join(p.dir, "data"), "-w", "-l", filepath.Join(p.dir, "log"),
		"-o", fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=30", p.port, p.dir), "start")
	if err != nil {
		t.Fatal(err)
	}
}

// kill stops the server the hard way (immediate shutdown: no checkpoint, clients cut).
func (p *pgServer) kill() {
	runAsPostgres(filepath.Join(pgBin, "pg_ctl"), "-D", filepath.Join(p.dir, "data"), "-m", "immediate", "-w", "stop")
}

// redisServer is a private redis-server on a spare port; every write is fsynced to its
// append-only file, so a kill -9 loses nothing it acknowledged.
type redisServer struct {
	dir  string
	port int
	cmd  *exec.Cmd
}

func privateRedis(t *testing.T) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not found: the fault tests need it")
	}
	r := &redisServer{dir: t.TempDir(), port: testutil.Port(t)}
	t.Cleanup(r.kill)
	return r
}

func (r *redisServer) addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }

func (r *redisServer) start(t testing.TB) {
	t.Helper()
	r.cmd = exec.Command("redis-server", "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "yes", "--appendfsync", "always", "--dir", r.dir)
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: r.addr(), MaxRetries: -1})
	defer rdb.Close()
	waitFor(t, 10*time.Second, "private redis-server", func() bool {
		return rdb.Ping(context.Background()).Err() == nil
	})
}

// kill ends the server with SIGKILL.
func (r *redisServer) kill() {
	if r.cmd != nil && r.cmd.Process != nil {
		r.cmd.Process.Kill()
		r.cmd.Wait()
		r.cmd = nil
	}
}

// privateStores starts a private PostgreSQL and Redis and returns stores on them.
func privateStores(t *testing.T) (stores, *pgServer, *redisServer) {
	t.Helper()
	pg, rs := privatePG(t), privateRedis(t)
	pg.start(t)
	rs.start(t)
	return stores{pgDSN: pg.dsn(), table: "log_templates", redisAddr: rs.addr(), prefix: "realfb"}, pg, rs
}
