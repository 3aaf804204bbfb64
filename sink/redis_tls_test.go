package sink

// Redis over TLS against a real redis-server with TLS only (no plain port):
// certificates from a throwaway CA (testutil.NewCA), the happy path with the
// default user and with an ACL user, and the failures a deployment meets
// (wrong CA, TLS against a plain server, wrong password), each of which
// must keep the pipeline flowing and lose nothing once the server is fixed.

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/awoooi/fluent-bit-drain/internal/testutil"
	"github.com/redis/go-redis/v9"
)

// tlsFeed hands the sink n new templates and one hit each, and fails the test
// if the calls take long: the sink must never block on Redis.
func tlsFeed(t testing.TB, s *Sink, part string, n int) []string {
	t.Helper()
	ids := make([]string, n)
	start := time.Now()
	for i := range n {
		tt := tmpl(part, "tls template <*> number "+strconv.Itoa(i), KindNew)
		s.Template(tt)
		s.Hit(tt.ID, 2)
		ids[i] = tt.ID
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("%d templates and hits took %v to hand over: the sink blocked", n, d)
	}
	return ids
}

// tlsCheckAnnounced checks that every id has exactly one event in <prefix>:new
// and that its cluster hash holds the template and the size 2 (the Hit
// call; size counts Hit calls, as Stats.Hits does).
func tlsCheckAnnounced(t testing.TB, rdb *redis.Client, prefix string, ids []string) {
	t.Helper()
	evs := listEvents(t, rdb, prefix+":new")
	count := map[string]int{}
	for _, e := range evs {
		count[e.ClusterID]++
		if e.Kind != KindNew || !strings.HasPrefix(e.Template, "tls template <*> number ") {
			t.Errorf("event %+v", e)
		}
	}
	if len(evs) != len(ids) {
		t.Errorf("%d events in %s:new, want %d", len(evs), prefix, len(ids))
	}
	ctx := context.Background()
	for _, id := range ids {
		if count[id] != 1 {
			t.Errorf("template %s announced %d times", id, count[id])
		}
		h, err := rdb.HGetAll(ctx, prefix+":clusters:"+id).Result()
		if err != nil {
			t.Fatal(err)
		}
		if h["size"] != "2" || !strings.HasPrefix(h["template"], "tls template") || h["last_seen_at"] == "" {
			t.Errorf("cluster %s hash = %v, want size 2, the template and last_seen_at", id, h)
		}
	}
}

// TestRedisTLSLive: templates are announced and counted over TLS, as the default
// user with requirepass and as an ACL user limited to the sink's prefix,
// the passwords read from files.
func TestRedisTLSLive(t *testing.T) {
	const aclUser, aclPW = "drain-tls", "acl-Pw-5e1d93"
	for _, tc := range []struct {
		name, user, password string
	}{
		{"no password", "", ""},
		{"requirepass", "", testutil.PGPassword},
		{"ACL user", aclUser, aclPW},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			ca := testutil.NewCA(t, dir, "drain-test-ca")
			adminPW := ""
			if tc.user != "" || tc.password != "" {
				adminPW = testutil.PGPassword
			}
			rs := testutil.NewRedis(t, adminPW)
			rs.SetCA(t, ca)
			rs.StartTLS(t)
			admin := rs.TLSClient("", adminPW)
			defer admin.Close()
			prefix := testutil.Uniq("tls")
			if tc.user != "" {
				err := admin.Do(context.Background(), "ACL", "SETUSER", tc.user, "reset", "on", ">"+tc.password,
					"~"+prefix+":*", "+@all").Err()
				if err != nil {
					t.Fatal(err)
				}
			}
			s, lb := newTLSSink(t, fast(Config{RedisAddr: rs.Addr(), RedisTLS: true, RedisCAFile: ca.File, RedisPrefix: prefix,
				RedisUsername: tc.user, NewListMax: 1000}), dir, tc.password)
			ids := tlsFeed(t, s, "tls", 20)
			testutil.WaitFor(t, 10*time.Second, "announced over TLS", func() bool { return settled(s) })
			closeSink(t, s)
			st := s.Stats()
			if st.Redis.Batches == 0 || st.Redis.Retries != 0 || st.Lost != 0 {
				t.Errorf("redis stats %+v, lost %d", st.Redis, st.Lost)
			}
			tlsCheckAnnounced(t, admin, prefix, ids)
			if log := lb.String(); strings.Contains(log, "failed") || (tc.password != "" && strings.Contains(log, tc.password)) {
				t.Errorf("log:\n%s", log)
			}
		})
	}
}

// TestRedisTLSFaults: each misconfiguration is counted as a Redis error and
// logged once, clearly and without the secret, while the sink keeps taking
// records; once the server side is put right, everything held arrives,
// announced once. The sink's configuration never changes: the server is
// what gets fixed (a certificate from the trusted CA, TLS turned on, the
// password the sink has).
func TestRedisTLSFaults(t *testing.T) {
	const wrongPW = "Wr0ng-tls-pw-8c31"
	for _, tc := range []struct {
		name      string
		password  string // the sink's password
		cause     string
		logWants  []string
		namesAddr bool // the failure line names the server
		setUp     func(t *testing.T, rs *testutil.Redis, other *testutil.CA)
		fix       func(t *testing.T, rs *testutil.Redis, trusted *testutil.CA)
		serverPW  string
	}{
		{
			name:      "wrong CA",
			cause:     CauseConnect,
			logWants:  []string{"write failed (connect)", "TLS handshake with 127.0.0.1:", "certificate signed by unknown authority"},
			namesAddr: true,
			// The server presents a certificate from another CA.
			setUp: func(t *testing.T, rs *testutil.Redis, other *testutil.CA) {
				rs.SetCA(t, other)
				rs.StartTLS(t)
			},
			fix: func(t *testing.T, rs *testutil.Redis, trusted *testutil.CA) {
				rs.Kill()
				rs.SetCA(t, trusted)
				rs.StartTLS(t)
			},
		},
		{
			name: "server plain",
			// A plain redis-server takes the ClientHello for the start of an
			// inline command and waits for its end: the handshake times out.
			cause:     CauseTimeout,
			logWants:  []string{"write failed (timeout)", "a server that does not speak TLS"},
			namesAddr: true,
			setUp: func(t *testing.T, rs *testutil.Redis, _ *testutil.CA) {
				rs.Start(t) // plain TCP on the same port
			},
			fix: func(t *testing.T, rs *testutil.Redis, _ *testutil.CA) {
				rs.Kill()
				rs.StartTLS(t)
			},
		},
		{
			name:      "wrong password",
			password:  wrongPW,
			serverPW:  testutil.PGPassword,
			cause:     CauseAuth,
			logWants:  []string{"write failed (auth)"},
			namesAddr: true,
			setUp: func(t *testing.T, rs *testutil.Redis, _ *testutil.CA) {
				rs.StartTLS(t)
			},
			fix: func(t *testing.T, rs *testutil.Redis, _ *testutil.CA) {
				admin := rs.TLSClient("", rs.Password)
				defer admin.Close()
				if err := admin.ConfigSet(context.Background(), "requirepass", wrongPW).Err(); err != nil {
					t.Fatal(err)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			ca := testutil.NewCA(t, dir, "drain-trusted-ca")
			other := testutil.NewCA(t, dir, "drain-other-ca")
			rs := testutil.NewRedis(t, tc.serverPW)
			rs.SetCA(t, ca) // a server started plain keeps ca for the fix
			tc.setUp(t, rs, other)
			prefix := testutil.Uniq("tlsfault")
			s, lb := newTLSSink(t, fast(Config{RedisAddr: rs.Addr(), RedisTLS: true, RedisCAFile: ca.File, RedisPrefix: prefix,
				NewListMax: 1000, CallTimeout: time.Second}), dir, tc.password)
			ids := tlsFeed(t, s, "fault", 10)
			testutil.WaitFor(t, 10*time.Second, "Redis errors counted", func() bool {
				st := s.Stats()
				return st.Redis.Retries >= 2 && errSum(st.Redis.Errors) >= 2
			})
			ids = append(ids, tlsFeed(t, s, "fault-more", 10)...) // still taking records
			st := s.Stats()
			if tc.cause != "" && st.Redis.Errors[tc.cause] == 0 {
				t.Errorf("no %s error counted: %v", tc.cause, st.Redis.Errors)
			}
			if st.Redis.Batches != 0 || st.Lost != 0 || st.Dropped != 0 || st.Pending == 0 {
				t.Errorf("while failing: redis %+v, lost %d, dropped %d, pending %d", st.Redis, st.Lost, st.Dropped, st.Pending)
			}
			log := lb.String()
			t.Logf("errors %v; log:\n%s", st.Redis.Errors, log)
			for _, want := range tc.logWants {
				if !strings.Contains(log, want) {
					t.Errorf("log lacks %q", want)
				}
			}
			if tc.namesAddr && !strings.Contains(log, "sink: redis "+rs.Addr()+": write failed") {
				t.Errorf("log does not name the address %s", rs.Addr())
			}
			for _, secret := range []string{wrongPW, testutil.PGPassword} {
				if strings.Contains(log, secret) {
					t.Error("a password appears in the log")
				}
			}
			if n := strings.Count(log, "redis: write failed"); n > 2 {
				t.Errorf("%d failure lines for one repeated cause: want rate-limited", n)
			}

			tc.fix(t, rs, ca)
			testutil.WaitFor(t, 15*time.Second, "backlog written once fixed", func() bool { return settled(s) })
			closeSink(t, s)
			if st := s.Stats(); st.Lost != 0 || st.Dropped != 0 {
				t.Errorf("after the fix: lost %d, dropped %d", st.Lost, st.Dropped)
			}
			if !strings.Contains(lb.String(), "redis: writes succeed again") {
				t.Errorf("no recovery line in log:\n%s", lb.String())
			}
			rdb := rs.TLSClient("", tc.password)
			if tc.password == "" {
				rdb = rs.TLSClient("", rs.Password)
			}
			defer rdb.Close()
			tlsCheckAnnounced(t, rdb, prefix, ids)
		})
	}
}

func errSum(m map[string]uint64) (n uint64) {
	for _, v := range m {
		n += v
	}
	return n
}

// newTLSSink starts a sink on cfg, its Redis password (if any) in a file
// in dir, logging to the returned Log.
func newTLSSink(t *testing.T, cfg Config, dir, password string) (*Sink, *testutil.Log) {
	t.Helper()
	if password != "" {
		cfg.RedisPasswordFile = filepath.Join(dir, "redis-pw")
		if err := os.WriteFile(cfg.RedisPasswordFile, []byte(password+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	lb := &testutil.Log{}
	s, err := New(cfg, lb)
	if err != nil {
		t.Fatal(err)
	}
	return s, lb
}
