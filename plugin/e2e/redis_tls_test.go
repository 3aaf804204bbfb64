package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/awoooi/fluent-bit-drain/internal/testutil"
)

// The sample logs through the C host into a private redis-server that
// listens with TLS only, its certificate from a throwaway CA given as
// Redis_CA_File: every event the plugin logs is announced in <prefix>:new.
// It checks that the Fluent Bit keys reach the TLS dialer; the failure
// cases are the sink's tests (sink/redis_tls_test.go).
func TestRedisTLSOnly(t *testing.T) {
	needSamples(t)
	rs := testutil.NewRedis(t, "")
	ca := testutil.NewCA(t, rs.Dir, "drain-e2e-ca")
	rs.SetCA(t, ca)
	rs.StartTLS(t)
	addr := rs.Addr()
	rdb := rs.TLSClient("", "")
	defer rdb.Close()
	ctx := context.Background()

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
