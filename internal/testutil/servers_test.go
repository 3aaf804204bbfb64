package testutil

import (
	"context"
	"net"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

func TestPoll(t *testing.T) {
	var n atomic.Int32
	if !Poll(2*time.Second, func() bool { return n.Add(1) == 3 }) {
		t.Fatal("Poll gave up on a condition that holds at the third check")
	}
	start := time.Now()
	if Poll(50*time.Millisecond, func() bool { return false }) {
		t.Fatal("Poll reported a condition that never holds")
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Fatalf("Poll gave up after %v, before its timeout", d)
	}
}

// TestPortReserved: a reserved port is outside the kernel's ephemeral
// range, locked against other reservations until the test ends, and free.
func TestPortReserved(t *testing.T) {
	lo, hi := portRange()
	seen := map[int]bool{}
	for range 5 {
		p := Port(t)
		if p < lo || p > hi {
			t.Errorf("port %d outside %d-%d", p, lo, hi)
		}
		if seen[p] {
			t.Errorf("port %d reserved twice", p)
		}
		seen[p] = true
		if release, ok := lockPort(p); ok {
			release()
			t.Errorf("port %d could be locked again while reserved", p)
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			t.Errorf("reserved port %d is not free: %v", p, err)
			continue
		}
		l.Close()
	}
}

func TestSharedStores(t *testing.T) {
	schema := PGSchema(t, SharedDSN, "testutil")
	PGQuery(t, SharedDSN, "CREATE TABLE "+schema+".t (n int)")
	PGQuery(t, SharedDSN, "INSERT INTO "+schema+".t VALUES (1), (2)")
	if r := PGQuery(t, SharedDSN, "SELECT sum(n)::bigint FROM "+schema+".t"); len(r) != 1 || r[0][0] != int64(3) {
		t.Errorf("sum = %v, want 3", r)
	}
	rdb, prefix := RedisPrefix(t, SharedRedis, "testutil")
	if err := rdb.Set(context.Background(), prefix+":k", "v", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if v, err := rdb.Get(context.Background(), prefix+":k").Result(); err != nil || v != "v" {
		t.Errorf("get = %q, %v", v, err)
	}
}

// TestRedisRestartTLS: a private Redis starts in plain TCP, is killed and
// comes back with TLS only on the same port.
func TestRedisRestartTLS(t *testing.T) {
	r := NewRedis(t, "pw-1")
	r.Start(t)
	addr := r.Addr()
	c := r.Client()
	if err := c.Set(context.Background(), "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	c.Close()
	r.Kill()
	r.SetCA(t, NewCA(t, r.Dir, "testutil-ca"))
	r.StartTLS(t)
	if r.Addr() != addr {
		t.Fatalf("restarted on %s, want %s", r.Addr(), addr)
	}
	tc := r.TLSClient("", "pw-1")
	defer tc.Close()
	if v, err := tc.Get(context.Background(), "k").Result(); err != nil || v != "v" {
		t.Errorf("after the restart: get = %q, %v (appendfsync always must keep it)", v, err)
	}
}

func TestPrivatePG(t *testing.T) {
	pg := PrivatePG(t)
	pg.Start(t)
	if r := PGQuery(t, pg.DSN(PGPassword), "SELECT 1"); len(r) != 1 {
		t.Fatalf("SELECT 1 = %v", r)
	}
	pg.Stop()
}

func TestMain(m *testing.M) { os.Exit(Main(m)) }
