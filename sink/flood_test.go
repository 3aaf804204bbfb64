package sink

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/awoooi/fluent-bit-drain/internal/testutil"
)

// TestFloodNotices: a notice goes once to the event log and to
// <prefix>:floods (newest first, trimmed to NewListMax), never to the
// template lists; past maxFloodsPending waiting, notices are dropped and
// counted; with Redis down a notice is counted lost and the sink goes on.
func TestFloodNotices(t *testing.T) {
	rdb, prefix := testutil.RedisPrefix(t, testutil.SharedRedis, "sinkt")
	var ev syncBuf
	s, err := New(fast(Config{RedisAddr: testutil.SharedRedis, RedisPrefix: prefix, NewListMax: 3, Events: &ev}), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer closeSink(t, s)
	for i := range 5 {
		s.Flood(Flood{Partition: fmt.Sprintf("shop/noisy-%d", i), Source: "k8s_pod", Sample: "qzv kdjw plo", Throttled: uint64(100 + i), Burst: 2000, PerMinute: 60})
		testutil.WaitFor(t, 5*time.Second, "notice written", func() bool { return s.Stats().Floods == uint64(i+1) })
	}
	ctx := context.Background()
	got, err := rdb.LRange(ctx, prefix+":floods", 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d notices in %s:floods, want 3 (NewListMax)", len(got), prefix)
	}
	var newest FloodEvent
	if err := json.Unmarshal([]byte(got[0]), &newest); err != nil {
		t.Fatal(err)
	}
	if newest.Kind != KindFlood || newest.Partition != "shop/noisy-4" || newest.Throttled != 104 || newest.Node != "node-a" ||
		newest.SampleLog != "qzv kdjw plo" || newest.Burst != 2000 || newest.PerMinute != 60 || newest.At == "" {
		t.Errorf("newest notice %+v", newest)
	}
	if n, _ := rdb.LLen(ctx, prefix+":new").Result(); n != 0 {
		t.Errorf("%d entries in the template list, want 0", n)
	}
	var lines int
	for _, l := range bytes.Split(ev.Bytes(), []byte("\n")) {
		var e FloodEvent
		if json.Unmarshal(l, &e) == nil && e.Kind == KindFlood {
			lines++
		}
	}
	if lines != 5 {
		t.Errorf("%d flood lines in the event log, want 5", lines)
	}
}

// TestFloodNoticesBounded: the queue holds maxFloodsPending notices; the
// rest are dropped and counted, and Flood never blocks.
func TestFloodNoticesBounded(t *testing.T) {
	rs := testutil.NewRedis(t, "")
	rs.Start(t)
	s, err := New(fast(Config{RedisAddr: rs.Addr(), RedisPrefix: "fl"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer closeSink(t, s)
	rs.Kill() // every write fails: the notices are counted lost
	start := time.Now()
	for i := range 1000 {
		s.Flood(Flood{Partition: fmt.Sprint("p", i), Sample: "x"})
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("1000 Flood calls took %v with Redis down", d)
	}
	testutil.WaitFor(t, 30*time.Second, "every notice written or dropped", func() bool {
		st := s.Stats()
		return st.Floods+st.FloodsLost == 1000
	})
	if st := s.Stats(); st.Floods != 0 || st.FloodsLost != 1000 {
		t.Errorf("floods %d lost %d, want 0 and 1000", st.Floods, st.FloodsLost)
	}
}
