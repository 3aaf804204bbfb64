package sink

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/awoooi/fluent-bit-drain/internal/testutil"
)

// countingBlackHole is a testutil.BlackHole (a store that hangs after the
// TCP handshake) that also reports how many connections are open on it.
func countingBlackHole(t testing.TB) (string, func() int) {
	t.Helper()
	bh := testutil.BlackHole(t)
	open := func() int {
		n := 0
		buf := make([]byte, 512)
		for _, c := range bh.Conns() {
			// A closed peer reads EOF at once; an open one times out.
			c.SetReadDeadline(time.Now().Add(time.Millisecond))
			if _, err := c.Read(buf); err == nil || isTimeout(err) {
				n++
			}
		}
		return n
	}
	return bh.Addr, open
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// TestPGPoolLazyAndCapped: New dials nothing; the pool then opens at most
// PGMaxConns connections however many callers want one; Close closes them.
func TestPGPoolLazyAndCapped(t *testing.T) {
	for _, maxConns := range []int{2, 3} {
		t.Run(strconv.Itoa(maxConns), func(t *testing.T) {
			// A black hole per sub-test: the previous one's connections
			// (closed, their startup bytes unread) must not be counted.
			addr, open := countingBlackHole(t)
			cfg := fast(Config{PGDSN: "postgres://postgres@" + addr + "/test?sslmode=disable", PGMaxConns: maxConns})
			cfg.CallTimeout = 5 * time.Second
			base := open()
			s, err := New(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			// An observation window, not a wait for a state: three flush
			// intervals in which a pool that is not lazy would dial.
			time.Sleep(3 * cfg.FlushInterval)
			if n := open() - base; n != 0 {
				t.Errorf("%d connections before any work, want a lazy pool", n)
			}
			s.Template(tmpl("lazy", "first <*>", KindNew))
			for range 4 {
				go s.LoadKnown(context.Background(), nil, func(string, string) {})
			}
			testutil.WaitFor(t, 5*time.Second, "connections", func() bool { return open()-base == maxConns })
			time.Sleep(200 * time.Millisecond) // a window for a connection beyond the cap
			if n := open() - base; n != maxConns {
				t.Errorf("%d connections open, want PGMaxConns = %d", n, maxConns)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			s.Close(ctx)
			testutil.WaitFor(t, time.Second, "connections closed", func() bool { return open() == base })
		})
	}
}

// TestCloseDeadlineBlackHoles: with PostgreSQL and Redis accepting and
// never answering, Close returns within its deadline (plus a small margin)
// and the pending templates are in the buffer file.
func TestCloseDeadlineBlackHoles(t *testing.T) {
	pgHole, rdHole := testutil.BlackHole(t), testutil.BlackHole(t)
	pgAddr, rdAddr := pgHole.Addr, rdHole.Addr
	host, port, _ := net.SplitHostPort(pgAddr)
	cfg := fast(Config{
		PGDSN:      fmt.Sprintf("postgres://postgres@%s:%s/test?sslmode=disable", host, port),
		RedisAddr:  rdAddr,
		BufferPath: filepath.Join(t.TempDir(), "drain.buf"),
	})
	cfg.CallTimeout = 5 * time.Second // longer than Close's deadline
	s, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for i := range 10 {
		tt := tmpl("bh", "black hole <*> "+strconv.Itoa(i), KindNew)
		s.Template(tt)
		s.Hit(tt.ID, 1)
		want[tt.ID] = true
	}
	loaded := make(chan error, 1)
	go func() { loaded <- s.LoadKnown(context.Background(), nil, func(string, string) {}) }()
	// Close once the writers hold every entry and they and LoadKnown are
	// connected to the black holes (PostgreSQL: the writer's and LoadKnown's
	// connections, the pool's default two), waiting for answers that never
	// come.
	testutil.WaitFor(t, 10*time.Second, "writers and LoadKnown blocked in the stores", func() bool {
		return s.Stats().QueueDepth == 0 && len(pgHole.Conns()) >= 2 && len(rdHole.Conns()) > 0
	})
	const deadline = time.Second
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	start := time.Now()
	s.Close(ctx)
	took := time.Since(start)
	t.Logf("Close took %v", took)
	if took > deadline+300*time.Millisecond {
		t.Errorf("Close took %v, want at most %v", took, deadline+300*time.Millisecond)
	}
	select {
	case err := <-loaded:
		if err == nil {
			t.Error("LoadKnown from a black hole succeeded")
		}
	case <-time.After(300 * time.Millisecond):
		t.Error("LoadKnown still blocked 300ms after Close returned")
	}
	for _, r := range spilled(t, cfg.BufferPath) {
		if r.Item != nil && r.Store == "postgres" {
			delete(want, r.Item.ID)
		}
	}
	if len(want) != 0 {
		t.Errorf("%d pending templates not in the buffer file", len(want))
	}
}

// TestLoadKnownCallerGivesUp: a LoadKnown whose caller cancels it (an
// instance closing during start-up) returns the caller's error and is not
// logged or counted as a PostgreSQL failure; one that times out is.
func TestLoadKnownCallerGivesUp(t *testing.T) {
	addr, _ := countingBlackHole(t)
	cfg := fast(Config{PGDSN: "postgres://postgres@" + addr + "/test?sslmode=disable"})
	cfg.LoadTimeout = 300 * time.Millisecond
	lb := &testutil.Log{}
	s, err := New(cfg, lb)
	if err != nil {
		t.Fatal(err)
	}
	defer closeSink(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	if err := s.LoadKnown(ctx, nil, func(string, string) {}); !errors.Is(err, context.Canceled) {
		t.Errorf("LoadKnown canceled by its caller = %v, want context.Canceled", err)
	}
	errs := uint64(0)
	for _, n := range s.Stats().Postgres.Errors {
		errs += n
	}
	if strings.Contains(lb.String(), "failed") || errs != 0 {
		t.Errorf("a caller's cancel was counted or logged as a failure:\n%s", lb.String())
	}
	if err := s.LoadKnown(context.Background(), nil, func(string, string) {}); err == nil {
		t.Error("LoadKnown from a black hole succeeded")
	}
	if !strings.Contains(lb.String(), "loading known templates failed (timeout)") {
		t.Errorf("a timed-out load was not logged as one:\n%s", lb.String())
	}
}
