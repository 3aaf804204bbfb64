package e2e

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/awoooi/fluent-bit-drain/internal/testutil"
)

// The sample logs through the C host into a private redis-server that
// listens with TLS only, its certificate from a throwaway CA given as
// Redis_CA_File: every event the plugin logs is announced in <prefix>:new.
// It checks that the Fluent Bit keys reach the TLS dialer; the failure
// cases are the sink's tests (sink/redis_tls_test.go).
func TestRedisTLSOnly(t *testing.T) {
	needSamples(t)
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not found")
	}
	dir := t.TempDir()
	ca := testutil.NewCA(t, dir, "drain-e2e-ca")
	certFile, keyFile := ca.ServerCert(t, dir, "redis")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	addr := fmt.Sprintf("127.0.0.1:%d", port)

	var out testutil.Buffer
	srv := exec.Command("redis-server", "--port", "0", "--tls-port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--tls-cert-file", certFile, "--tls-key-file", keyFile, "--tls-ca-cert-file", ca.File,
		"--tls-auth-clients", "no", "--save", "", "--appendonly", "no", "--dir", dir)
	srv.Stdout, srv.Stderr = &out, &out
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1,
		TLSConfig: &tls.Config{RootCAs: ca.Pool(), ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}})
	defer rdb.Close()
	ctx := context.Background()
	for i := 0; rdb.Ping(ctx).Err() != nil; i++ {
		low := strings.ToLower(string(out.Bytes()))
		if strings.Contains(low, "tls") && (strings.Contains(low, "not supported") || strings.Contains(low, "bad directive")) {
			t.Skipf("redis-server lacks TLS support: %s", out.Bytes())
		}
		if i == 100 {
			t.Fatalf("TLS redis-server did not come up on %s: %s", addr, out.Bytes())
		}
		time.Sleep(50 * time.Millisecond)
	}

	const prefix = "drain_e2e_tls"
	r := host(t, append([]string{"-q", "-p", "workers=1", "-p", "Redis_Addr=" + addr, "-p", "Redis_TLS=on",
		"-p", "Redis_CA_File=" + ca.File, "-p", "Redis_Prefix=" + prefix, "-p", "New_List_Max=100000",
		"-p", "Flush_Interval=200ms", "-p", "Exit_Timeout=10s"}, sampleArgs()...)...)
	r.ok(t)
	evs := r.events(t)
	n, err := rdb.LLen(ctx, prefix+":new").Result()
	if err != nil || n == 0 || n != int64(len(evs)) {
		t.Fatalf("%s:new has %d entries (%v); the plugin logged %d events\nstderr:\n%s", prefix, n, err, len(evs), tail(r.stderr, 3000))
	}
	if strings.Contains(r.stderr, "write failed") {
		t.Errorf("a Redis write failed:\n%s", tail(r.stderr, 3000))
	}
	size, err := rdb.HGet(ctx, prefix+":clusters:"+evs[0].ClusterID, "size").Int64()
	if err != nil || size == 0 {
		t.Errorf("cluster %s size = %d, %v", evs[0].ClusterID, size, err)
	}
	t.Logf("%d events announced over TLS to %s", n, addr)
}
