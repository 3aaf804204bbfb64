package sink

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/awoooi/fluent-bit-drain/internal/testutil"
)

func TestGlobMatch(t *testing.T) {
	for _, c := range []struct {
		pattern, s string
		want       bool
	}{
		{"kube-system/*", "kube-system/coredns", true},
		{"kube-system/*", "kube-system/", true},
		{"kube-system/*", "default/kube-system/x", false},
		{"*health check*", "GET /healthz health check ok", true},
		{"*health check*", "health check", true},
		{"*health check*", "healthcheck", false},
		{"?", "a", true},
		{"?", "", false},
		{"?", "ab", false},
		{"a?c", "abc", true},
		{"a?c", "a/c", true},
		{"*", "", true},
		{"", "", true},
		{"", "x", false},
		{"abc", "abc", true},
		{"abc", "abcd", false},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
		{"*a*a*a*a*b", strings.Repeat("a", 200), false},
		{"[abc]", "a", false}, // no classes: '[' is a plain byte
		{"[abc]", "[abc]", true},
		{"é*", "été", true},
	} {
		if got := globMatch(c.pattern, c.s); got != c.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", c.pattern, c.s, got, c.want)
		}
	}
}

func TestMuteListMembers(t *testing.T) {
	a := tmpl("ns/api", "GET <*> 200", KindNew)
	h := tmpl("kube-system/coredns", "[INFO] plugin/reload: Running configuration", KindNew)
	k := tmpl("shop/web", "GET /healthz health check ok", KindNew)
	for _, c := range []struct {
		name    string
		members []string
		muted   []bool // a, h, k
	}{
		{"empty", nil, []bool{false, false, false}},
		{"id", []string{a.ID}, []bool{true, false, false}},
		{"upper-case id is a glob", []string{strings.ToUpper(a.ID)}, []bool{false, false, false}},
		{"partition glob", []string{"kube-system/*"}, []bool{false, true, false}},
		{"template glob", []string{"*health check*"}, []bool{false, false, true}},
		{"whole partition only", []string{"kube-system"}, []bool{false, false, false}},
		{"several", []string{a.ID, "*health check*", ""}, []bool{true, false, true}},
	} {
		m := newMuteList(c.members)
		for i, tt := range []Template{a, h, k} {
			if got := m.muted(&tt); got != c.muted[i] {
				t.Errorf("%s: muted(%s %q) = %v, want %v", c.name, tt.Partition, tt.Template, got, c.muted[i])
			}
		}
	}
	var none *muteList
	if none.muted(&a) {
		t.Error("a nil mute list mutes")
	}
}

// TestMuteRedis: a template on the mute list <prefix>:muted is recorded in
// PostgreSQL, its hits counted, but it is neither LPUSHed to <prefix>:new
// nor added to the alert stream; the list is read at every flags poll, so
// muting and unmuting take effect mid-run.
func TestMuteRedis(t *testing.T) {
	cfg, rdb := sharedConfig(t)
	cfg.Flags.ShadowMode = false // alerts on: the stream must skip muted ones too
	ctx := context.Background()
	keyMuted := cfg.RedisPrefix + ":muted"
	muteID := tmpl("ns/api", "muted by id <*>", KindNew)
	if err := rdb.SAdd(ctx, keyMuted, muteID.ID, "kube-system/*", "*health check*").Err(); err != nil {
		t.Fatal(err)
	}
	var lb testutil.Log
	s, err := New(cfg, &lb)
	if err != nil {
		t.Fatal(err)
	}
	defer closeSink(t, s)
	testutil.WaitFor(t, 10*time.Second, "the mute list read", func() bool { return s.muteList().size() == 3 })

	byGlobP := tmpl("kube-system/coredns", "reload <*>", KindNew)
	byGlobT := tmpl("shop/web", "GET /healthz health check <*>", KindNew)
	loud := tmpl("shop/web", "payment failed for order <*>", KindNew)
	for _, tt := range []Template{muteID, byGlobP, byGlobT, loud} {
		s.Template(tt)
		s.Hit(tt.ID, 3)
	}
	testutil.WaitFor(t, 10*time.Second, "all written", func() bool { return settled(s) && s.Stats().Created == 4 })

	evs := listEvents(t, rdb, cfg.RedisPrefix+":new")
	if len(evs) != 1 || evs[0].ClusterID != loud.ID {
		t.Fatalf("announced %v, want only %s", evs, loud.ID)
	}
	alerts, err := rdb.XRange(ctx, cfg.RedisPrefix+":alerts", "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 1 || !strings.Contains(alerts[0].Values["event"].(string), loud.ID) {
		t.Fatalf("alert stream %v, want only %s", alerts, loud.ID)
	}
	rows := testutil.PGQuery(t, cfg.PGDSN, `SELECT template_id, hits FROM `+countsOf(t, cfg.PGDSN, cfg.PGTable)+` AS c ORDER BY template_id`)
	if len(rows) != 4 {
		t.Fatalf("rows %v, want the 4 templates recorded", rows)
	}
	for _, r := range rows {
		if r[1].(int64) != 3 {
			t.Errorf("row %v: hits not counted", r)
		}
	}
	if h, err := rdb.HGetAll(ctx, cfg.RedisPrefix+":clusters:"+muteID.ID).Result(); err != nil || h["template"] != muteID.Template || h["size"] != "3" {
		t.Errorf("cluster hash of a muted template %v (%v), want its template and size", h, err)
	}
	if st := s.Stats(); st.Muted != 3 || st.Announced != 1 {
		t.Errorf("muted %d announced %d, want 3 and 1", st.Muted, st.Announced)
	}

	// Unmute the partition glob, mute the loud template's text: the next
	// poll changes what is announced.
	if err := rdb.SRem(ctx, keyMuted, "kube-system/*").Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.SAdd(ctx, keyMuted, "payment failed*").Err(); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 10*time.Second, "the new mute list read", func() bool {
		m := s.muteList()
		return m.size() == 3 && m.muted(&Template{Template: "payment failed again"})
	})
	unmuted := tmpl("kube-system/coredns", "reload again <*>", KindNew)
	nowMuted := tmpl("shop/web", "payment failed twice for order <*>", KindNew)
	s.Template(unmuted)
	s.Template(nowMuted)
	testutil.WaitFor(t, 10*time.Second, "written", func() bool { return settled(s) && s.Stats().Created == 6 })
	evs = listEvents(t, rdb, cfg.RedisPrefix+":new")
	if len(evs) != 2 || evs[0].ClusterID != unmuted.ID {
		t.Fatalf("announced %v, want %s then %s", evs, loud.ID, unmuted.ID)
	}
	if !strings.Contains(lb.String(), "mute list now") {
		t.Errorf("no log line for the mute list change:\n%s", lb.String())
	}
}

// A key of another type keeps the last list and says so once; Redis
// going back to a set is picked up.
func TestMuteWrongType(t *testing.T) {
	rdb, prefix := testutil.RedisPrefix(t, testutil.SharedRedis, "sinkt")
	ctx := context.Background()
	key := prefix + ":muted"
	if err := rdb.SAdd(ctx, key, "kube-system/*").Err(); err != nil {
		t.Fatal(err)
	}
	var lb testutil.Log
	s, err := New(fast(Config{RedisAddr: testutil.SharedRedis, RedisPrefix: prefix}), &lb)
	if err != nil {
		t.Fatal(err)
	}
	defer closeSink(t, s)
	testutil.WaitFor(t, 10*time.Second, "the mute list read", func() bool { return s.muteList().size() == 1 })
	rdb.Del(ctx, key)
	if err := rdb.Set(ctx, key, "kube-system/*", 0).Err(); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 10*time.Second, "the wrong type reported", func() bool { return strings.Contains(lb.String(), "is not a set") })
	if s.muteList().size() != 1 {
		t.Errorf("mute list %d members after a wrong type, want the last one kept", s.muteList().size())
	}
	rdb.Del(ctx, key)
	testutil.WaitFor(t, 10*time.Second, "an empty list read", func() bool { return s.muteList().size() == 0 })
	if n := strings.Count(lb.String(), "is not a set"); n != 1 {
		t.Errorf("wrong type logged %d times, want once:\n%s", n, lb.String())
	}
}

// Without PostgreSQL the event log and Redis are the first stage: a muted
// template is not written to the event log either.
func TestMuteEventLog(t *testing.T) {
	rdb, prefix := testutil.RedisPrefix(t, testutil.SharedRedis, "sinkt")
	ctx := context.Background()
	if err := rdb.SAdd(ctx, prefix+":muted", "quiet/*").Err(); err != nil {
		t.Fatal(err)
	}
	var ev syncBuf
	s, err := New(fast(Config{RedisAddr: testutil.SharedRedis, RedisPrefix: prefix, Events: &ev}), nil)
	if err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 10*time.Second, "the mute list read", func() bool { return s.muteList().size() == 1 })
	q, l := tmpl("quiet/app", "tick <*>", KindNew), tmpl("loud/app", "boom <*>", KindNew)
	s.Template(q)
	s.Template(l)
	testutil.WaitFor(t, 10*time.Second, "written", func() bool { return settled(s) })
	closeSink(t, s)
	evs := ev.events(t)
	if len(evs) != 1 || evs[0].ClusterID != l.ID {
		t.Errorf("event log %v, want only %s", evs, l.ID)
	}
	if got := listEvents(t, rdb, prefix+":new"); len(got) != 1 || got[0].ClusterID != l.ID {
		t.Errorf("redis %v, want only %s", got, l.ID)
	}
	if st := s.Stats(); st.Muted != 1 {
		t.Errorf("muted %d, want 1", st.Muted)
	}
}
