package sink

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/awoooi/fluent-bit-drain/internal/testutil"
)

// redisProc is a redis-server (or Sentinel) the test starts on a reserved
// port and kills when it ends.
type redisProc struct {
	port int
	cmd  *exec.Cmd
	done chan struct{}
	out  *testutil.Buffer
}

func (r *redisProc) addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }

// startRedis starts redis-server with args on port (0: a new reserved one)
// and waits until it answers PING.
func startRedis(t *testing.T, port int, args ...string) *redisProc {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not found: Redis Cluster and Sentinel tests need it")
	}
	if port == 0 {
		port = testutil.Port(t)
	}
	r := &redisProc{port: port, done: make(chan struct{}), out: &testutil.Buffer{}}
	if len(args) > 0 && strings.HasSuffix(args[0], ".conf") {
		args = append([]string{args[0], "--port", strconv.Itoa(port)}, args[1:]...)
	} else {
		args = append([]string{"--port", strconv.Itoa(port)}, args...)
	}
	r.cmd = exec.Command("redis-server", append(args, "--bind", "127.0.0.1")...)
	r.cmd.Stdout, r.cmd.Stderr = r.out, r.out
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.cmd.Wait(); close(r.done) }()
	t.Cleanup(r.kill)
	c := redis.NewClient(&redis.Options{Addr: r.addr(), MaxRetries: -1})
	defer c.Close()
	exited := false
	up := testutil.Poll(10*time.Second, func() bool {
		select {
		case <-r.done:
			exited = true
			return true
		default:
		}
		return c.Ping(context.Background()).Err() == nil
	})
	if !up || exited {
		t.Fatalf("redis-server on %s did not come up (exited %v): %s", r.addr(), exited, r.out.Bytes())
	}
	return r
}

func (r *redisProc) kill() {
	r.cmd.Process.Kill()
	<-r.done
}

// TestRedisCluster: with Redis_Addr a list of cluster nodes, a batch's keys
// share the slot of "{prefix}", so its MULTI/EXEC is never refused
// (CROSSSLOT) and every event and count lands.
func TestRedisCluster(t *testing.T) {
	if _, err := exec.LookPath("redis-cli"); err != nil {
		t.Skip("redis-cli not found: creating a Redis Cluster needs it")
	}
	dir := t.TempDir()
	var nodes []*redisProc
	var addrs []string
	for i := range 3 {
		// The bus port is reserved too: the default, port+10000, may be a
		// port the kernel hands out to outgoing connections.
		n := startRedis(t, 0, "--cluster-enabled", "yes", "--cluster-port", strconv.Itoa(testutil.Port(t)),
			"--cluster-config-file", filepath.Join(dir, fmt.Sprintf("nodes-%d.conf", i)),
			"--cluster-node-timeout", "2000", "--save", "", "--appendonly", "no", "--dir", dir)
		nodes = append(nodes, n)
		addrs = append(addrs, n.addr())
	}
	create := exec.Command("redis-cli", append(append([]string{"--cluster", "create"}, addrs...), "--cluster-replicas", "0", "--cluster-yes")...)
	if out, err := create.CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	for _, n := range nodes {
		c := redis.NewClient(&redis.Options{Addr: n.addr()})
		testutil.WaitFor(t, 20*time.Second, "cluster_state:ok on "+n.addr(), func() bool {
			info, err := c.ClusterInfo(context.Background()).Result()
			return err == nil && strings.Contains(info, "cluster_state:ok")
		})
		c.Close()
	}

	cfg := fast(Config{RedisAddr: strings.Join(addrs, ","), RedisPrefix: "hc", NewListMax: 1000})
	if !cfg.RedisCluster() || cfg.RedisKeyPrefix() != "{hc}" {
		t.Fatalf("cluster %v, key prefix %q", cfg.RedisCluster(), cfg.RedisKeyPrefix())
	}
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 50 {
		tt := tmpl("cl", "cluster event <*> number "+strconv.Itoa(i), KindNew)
		s.Template(tt)
		ids = append(ids, tt.ID)
		s.Hit(tt.ID, 3)
	}
	testutil.WaitFor(t, 20*time.Second, "everything written", func() bool { return settled(s) })
	st := s.Stats()
	closeSink(t, s)
	for cause, n := range st.Redis.Errors {
		if n != 0 {
			t.Errorf("%d Redis errors of cause %s", n, cause)
		}
	}
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	defer cc.Close()
	ctx := context.Background()
	if n, err := cc.LLen(ctx, "{hc}:new").Result(); err != nil || n != 50 {
		t.Errorf("{hc}:new has %d events, %v; want 50", n, err)
	}
	for _, id := range ids {
		if v, err := cc.HGet(ctx, "{hc}:clusters:"+id, "size").Int(); err != nil || v != 3 {
			t.Errorf("template %s: size %d, %v; want 3", id, v, err)
			break
		}
	}
	// The command-line tools see the same keys.
	c, err := OpenClients(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Prefix != "{hc}" || c.Redis.LLen(ctx, c.Prefix+":new").Val() != 50 {
		t.Errorf("OpenClients: prefix %q, %d events", c.Prefix, c.Redis.LLen(ctx, c.Prefix+":new").Val())
	}
}

// TestRedisSentinelFailover: Redis behind a Sentinel, each batch held by a
// replica before it counts (Redis_Min_Replicas 1). The master is killed
// mid-run; the Sentinel promotes the replica, the old master comes back as
// its replica, and every event and count arrives exactly once.
func TestRedisSentinelFailover(t *testing.T) {
	dir := t.TempDir()
	master := startRedis(t, 0, "--save", "", "--appendonly", "no", "--dir", dir)
	replica := startRedis(t, 0, "--save", "", "--appendonly", "no", "--dir", dir, "--replicaof", "127.0.0.1", strconv.Itoa(master.port))
	mc := redis.NewClient(&redis.Options{Addr: master.addr()})
	testutil.WaitFor(t, 10*time.Second, "the replica linked", func() bool {
		info, _ := mc.Info(context.Background(), "replication").Result()
		return strings.Contains(info, "connected_slaves:1")
	})
	mc.Close()
	sconf := filepath.Join(dir, "sentinel.conf")
	os.WriteFile(sconf, []byte(fmt.Sprintf("sentinel monitor mm 127.0.0.1 %d 1\nsentinel down-after-milliseconds mm 1000\nsentinel failover-timeout mm 3000\n", master.port)), 0o644)
	sentinel := startRedis(t, 0, sconf, "--sentinel")

	// A queue that holds the whole outage: the test counts what the stores
	// got against what was sent, and a bounded queue drops past its budget.
	cfg := fast(Config{RedisAddr: sentinel.addr(), RedisMasterName: "mm", RedisMinReplicas: 1, RedisPrefix: "hs", NewListMax: 1 << 20, QueueBudget: 1 << 22})
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	type sent struct {
		ids  []string
		hits int64
	}
	done := make(chan sent)
	go func() {
		var r sent
		for i := 0; !stop.Load(); i++ {
			tt := tmpl("ha", "sentinel event <*> line "+strconv.Itoa(i), KindNew)
			s.Template(tt)
			r.ids = append(r.ids, tt.ID)
			for _, id := range r.ids[max(0, len(r.ids)-5):] {
				s.Hit(id, 1)
				r.hits++
			}
			time.Sleep(2 * time.Millisecond) // pace the producer
		}
		done <- r
	}()
	sc := redis.NewSentinelClient(&redis.Options{Addr: sentinel.addr()})
	defer sc.Close()
	masterAddr := func() string {
		a, err := sc.GetMasterAddrByName(context.Background(), "mm").Result()
		if err != nil || len(a) != 2 {
			return ""
		}
		return a[0] + ":" + a[1]
	}
	testutil.WaitFor(t, 10*time.Second, "some batches written", func() bool { return s.Stats().Redis.Batches >= 5 })
	master.kill()
	testutil.WaitFor(t, 30*time.Second, "the Sentinel's failover", func() bool { return masterAddr() == replica.addr() })
	// The old master returns as the new one's replica, so batches can be
	// replicated again.
	startRedis(t, master.port, "--save", "", "--appendonly", "no", "--dir", t.TempDir(), "--replicaof", "127.0.0.1", strconv.Itoa(replica.port))
	before := s.Stats().Redis.Batches
	testutil.WaitFor(t, 30*time.Second, "batches after the failover", func() bool { return s.Stats().Redis.Batches >= before+5 })
	stop.Store(true)
	r := <-done
	testutil.WaitFor(t, 30*time.Second, "the backlog written", func() bool { return settled(s) })
	st := s.Stats()
	closeSink(t, s)
	if st.Dropped != 0 || st.Lost != 0 {
		t.Fatalf("the sink dropped %d and lost %d entries", st.Dropped, st.Lost)
	}

	ctx := context.Background()
	nc := redis.NewClient(&redis.Options{Addr: masterAddr()}) // the Sentinels' master now
	defer nc.Close()
	events, err := nc.LRange(ctx, "hs:new", 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != len(r.ids) {
		t.Errorf("%d events on the new master, %d templates sent", len(events), len(r.ids))
	}
	var total int64
	for _, id := range r.ids {
		n, _ := nc.HGet(ctx, "hs:clusters:"+id, "size").Int64()
		total += n
	}
	if total != r.hits {
		t.Errorf("%d hits counted on the new master, %d sent", total, r.hits)
	}
	if st.Redis.Retries == 0 {
		t.Errorf("no batch was retried: the kill did not land mid-run (%+v)", st.Redis)
	}
	t.Logf("%d templates, %d hits; %d batches, %d retries, errors %v", len(r.ids), r.hits, st.Redis.Batches, st.Redis.Retries, st.Redis.Errors)
}
