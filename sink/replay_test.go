package sink

import (
	"bytes"
	"context"
	"net"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/awoooi/fluent-bit-drain/internal/testutil"
)

// replyEater is a TCP proxy that forwards every request to target, and
// every reply until a client sends EXEC; from then on it drops all replies:
// the server applies the transaction and the client never learns it.
type replyEater struct {
	addr   string
	eating atomic.Bool
}

func newReplyEater(t testing.TB, target string) *replyEater {
	t.Helper()
	p := &replyEater{}
	// Closing the client side (the listener's cleanup does) ends both copy
	// loops and closes the upstream connection.
	p.addr = testutil.Listen(t, func(c net.Conn) {
		up, err := net.Dial("tcp", target)
		if err != nil {
			c.Close()
			return
		}
		go pipe(up, c, func(b []byte) bool {
			if bytes.Contains(b, []byte("exec")) || bytes.Contains(b, []byte("EXEC")) {
				p.eating.Store(true)
			}
			return true
		})
		go pipe(c, up, func([]byte) bool { return !p.eating.Load() })
	}).Addr
	return p
}

// pipe copies from src to dst what pass lets through, read by read; when
// src ends it closes dst.
func pipe(dst, src net.Conn, pass func([]byte) bool) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if err != nil {
			dst.Close()
			return
		}
		if pass(buf[:n]) {
			dst.Write(buf[:n])
		}
	}
}

// TestRedisReplayAfterLostReply: a batch Redis applied but whose EXEC reply
// was lost is spilled at Close with its token; the next start sees the
// token in <prefix>:batch:<node> and does not announce or count it again.
func TestRedisReplayAfterLostReply(t *testing.T) {
	rdb, prefix := testutil.RedisPrefix(t, testutil.SharedRedis, "sinkt")
	proxy := newReplyEater(t, testutil.SharedRedis)
	cfg := fast(Config{RedisAddr: proxy.addr, RedisPrefix: prefix, NewListMax: 1000,
		BufferPath: filepath.Join(t.TempDir(), "drain.buf")})
	cfg.CallTimeout = 300 * time.Millisecond
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, b := tmpl("lost", "reply lost <*> a", KindNew), tmpl("lost", "reply lost <*> b", KindNew)
	s.Template(a)
	s.Template(b)
	s.Hit(a.ID, 3)
	ctx := context.Background()
	testutil.WaitFor(t, 5*time.Second, "batch applied, reply lost", func() bool {
		return rdb.LLen(ctx, prefix+":new").Val() == 2 && s.Stats().Redis.Errors[CauseTimeout] > 0
	})
	closeWithBatchInFlight(t, s, a.ID, cfg.BufferPath, 200*time.Millisecond)

	cfg.RedisAddr = testutil.SharedRedis
	s2, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	closeSink(t, s2)
	if n := rdb.LLen(ctx, prefix+":new").Val(); n != 2 {
		t.Errorf("%d events in %s:new, want 2 (each announced once)", n, prefix)
	}
	if v, _ := rdb.HGet(ctx, prefix+":clusters:"+a.ID, "size").Int64(); v != 7 {
		t.Errorf("size of a = %d, want 3 + 4", v)
	}
	if st := s2.Stats(); st.Replayed != 4 || st.Pending != 0 {
		t.Errorf("replayed %d pending %d, want 4 and 0", st.Replayed, st.Pending)
	}
}
