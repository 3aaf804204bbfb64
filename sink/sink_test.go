package sink

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/awoooi/fluent-bit-drain/internal/testutil"
)

// tmpl builds a template the way the miner does (content-addressed id).
func tmpl(partition, text, kind string) Template {
	sum := sha256.Sum256([]byte(partition + "\x00" + text))
	return Template{ID: hex.EncodeToString(sum[:8]), Partition: partition, Source: "k8s_pod", Template: text,
		Sample: strings.ReplaceAll(text, "<*>", "42"), Kind: kind, SeenAt: time.Now(), Hits: 1}
}

// spilled reads the buffer file at path: the records Close wrote.
func spilled(t testing.TB, path string) []spillRecord {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return testutil.JSONLines[spillRecord](t, data)
}

// spillTokens counts the buffer file's records by batch token.
func spillTokens(t testing.TB, path string) map[string]int {
	t.Helper()
	tokens := map[string]int{}
	for _, r := range spilled(t, path) {
		tokens[r.Batch]++
	}
	return tokens
}

// closeWithBatchInFlight counts 4 more hits of id after the batch in flight
// was taken, closes s within timeout while its store cannot confirm, and
// checks the buffer file: the batch's records under one token, the later
// count under none (replay must apply the first at most once, the second
// always).
func closeWithBatchInFlight(t *testing.T, s *Sink, id, path string, timeout time.Duration) {
	t.Helper()
	s.Hit(id, 4) // counted after the batch was taken: not part of it
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	s.Close(ctx)
	if tokens := spillTokens(t, path); len(tokens) != 2 || tokens[""] != 1 {
		t.Fatalf("buffer file records by batch token: %v; want the batch's records under one token, the later count without", tokens)
	}
}

// syncBuf is the event log writer the writer goroutine and the test share.
type syncBuf struct{ testutil.Buffer }

func (s *syncBuf) events(t testing.TB) []Event {
	return testutil.JSONLines[Event](t, s.Bytes())
}

func fast(cfg Config) Config {
	cfg.FlushInterval = 50 * time.Millisecond
	cfg.RetryMin = 50 * time.Millisecond
	cfg.RetryMax = 400 * time.Millisecond
	cfg.CallTimeout = 2 * time.Second
	cfg.FlagsInterval = 100 * time.Millisecond
	cfg.PGHitsInterval = cfg.FlushInterval
	cfg.RedisHitsInterval = cfg.FlushInterval
	if cfg.NodeName == "" {
		cfg.NodeName = "node-a"
	}
	return cfg
}

func closeSink(t testing.TB, s *Sink) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func TestClean(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
		cut  bool
	}{
		{"plain", 10, "plain", false},
		{"a\x00b", 10, "a\uFFFDb", false},
		{"bad\xffbyte", 20, "bad\uFFFDbyte", false},
		{"héllo", 2, "h", true},              // é is 2 bytes: never split
		{"日本語", 7, "日本", true},               // 3-byte runes
		{"abc", 0, "abc", false},             // no limit
		{"\xff\xff\xff", 3, "\uFFFD", false}, // one U+FFFD per run of bad bytes
		{"ab\xffcd", 4, "ab", true},
	} {
		got, cut := clean(tc.in, tc.max)
		if got != tc.want || cut != tc.cut || !utf8.ValidString(got) {
			t.Errorf("clean(%q, %d) = %q, %v; want %q, %v", tc.in, tc.max, got, cut, tc.want, tc.cut)
		}
	}
}

func TestValidID(t *testing.T) {
	for id, want := range map[string]bool{
		"0123456789abcdef": true, "0123456789ABCDEF": false, "0123456789abcde": false,
		"0123456789abcdefg": false, "": false, "0123456789abcdez": false, "01234567:9abcdef": false,
	} {
		if validID(id) != want {
			t.Errorf("validID(%q) = %v", id, !want)
		}
	}
	// Every byte value in every position, against the definition.
	for pos := range 16 {
		for c := range 256 {
			id := []byte("0123456789abcdef")
			id[pos] = byte(c)
			want := c >= '0' && c <= '9' || c >= 'a' && c <= 'f'
			if validID(string(id)) != want {
				t.Errorf("validID(%q) = %v", id, !want)
			}
		}
	}
}

func TestTableIdent(t *testing.T) {
	for name, want := range map[string]string{
		"log_templates":         `"log_templates"`,
		"drain.log_tmpl":        `"drain"."log_tmpl"`,
		"x; DROP TABLE y":       "",
		`a"b`:                   "",
		"a.b.c":                 "",
		"1abc":                  "",
		"":                      "",
		strings.Repeat("a", 64): "",
	} {
		id, err := tableIdent(name)
		got := ""
		if err == nil {
			got = id.Sanitize()
		}
		if got != want {
			t.Errorf("tableIdent(%q) = %q, %v; want %q", name, got, err, want)
		}
	}
}

func TestParseBool(t *testing.T) {
	for v, want := range map[string][2]bool{"on": {true, true}, "OFF": {false, true}, "1": {true, true},
		" false ": {false, true}, "maybe": {false, false}, "": {false, false}} {
		b, ok := parseBool(v)
		if b != want[0] || ok != want[1] {
			t.Errorf("parseBool(%q) = %v, %v", v, b, ok)
		}
	}
}

func TestBackoff(t *testing.T) {
	s := &Sink{cfg: Config{RetryMin: 100 * time.Millisecond, RetryMax: time.Second}}
	for n, max := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 4: 800 * time.Millisecond, 10: time.Second, 100: time.Second} {
		for range 50 {
			d := s.backoff(n)
			if d < max/2 || d > max {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", n, d, max/2, max)
			}
		}
	}
}

// TestLogOnly: with neither store, each event is one JSON line with every
// documented field; samples are truncated on a rune boundary and sanitised.
func TestLogOnly(t *testing.T) {
	var out syncBuf
	s, err := New(fast(Config{Events: &out, SampleBytes: 10, Flags: Flags{Enabled: true, ShadowMode: true}}), nil)
	if err != nil {
		t.Fatal(err)
	}
	a := tmpl("ns/app", "Connection from <*> closed", KindNew)
	a.Sample = "Connexxxión\x00 from 10.0.0.1 closed"
	g := tmpl("ns/app", "Connection <*> <*> closed", KindGeneralized)
	g.ParentID = a.ID
	s.Template(a)
	s.Template(a) // coalesced
	s.Template(g)
	s.Template(Template{ID: "nothex", Kind: KindNew})
	s.Template(Template{ID: a.ID, Kind: "other"})
	s.Hit(a.ID, 3)
	closeSink(t, s)

	evs := out.events(t)
	if len(evs) != 2 {
		t.Fatalf("got %d events, want 2: %+v", len(evs), evs)
	}
	e := evs[0]
	if e.ClusterID != a.ID || e.Kind != "new" || e.Partition != "ns/app" || e.Source != "k8s_pod" || e.Node != "node-a" ||
		!e.ShadowMode || e.Template != a.Template || e.Hits != 1 || e.ParentID != "" {
		t.Errorf("new event = %+v", e)
	}
	if e.SampleLog != "Connexxxi" {
		t.Errorf("sample %q: want truncated to 10 bytes on a rune boundary", e.SampleLog)
	}
	if !utf8.ValidString(e.SampleLog) || strings.ContainsRune(e.SampleLog, 0) || len(e.SampleLog) > 10 {
		t.Errorf("sample %q not sanitised", e.SampleLog)
	}
	if _, err := time.Parse(time.RFC3339Nano, e.DetectedAt); err != nil {
		t.Errorf("detected_at %q: %v", e.DetectedAt, err)
	}
	if evs[1].Kind != "generalized" || evs[1].ParentID != a.ID {
		t.Errorf("generalized event = %+v", evs[1])
	}
	st := s.Stats()
	if st.Templates != 3 || st.Coalesced != 1 || st.Invalid != 2 || st.Announced != 2 || st.Truncated == 0 || st.Pending != 0 {
		t.Errorf("stats = %+v", st)
	}
	s.Template(tmpl("ns/app", "after close", KindNew))
	if s.Stats().Dropped != 1 {
		t.Error("Template after Close not counted as dropped")
	}
}

// panicWriter panics on its first write.
type panicWriter struct {
	once sync.Once
	out  syncBuf
}

func (p *panicWriter) Write(b []byte) (int, error) {
	panicked := false
	p.once.Do(func() { panicked = true })
	if panicked {
		panic("boom")
	}
	return p.out.Write(b)
}

func TestWriterPanicRecovered(t *testing.T) {
	var pw panicWriter
	var lb testutil.Log
	s, err := New(fast(Config{Events: &pw}), &lb)
	if err != nil {
		t.Fatal(err)
	}
	s.Template(tmpl("p", "first <*>", KindNew))
	testutil.WaitFor(t, 5*time.Second, "panic counted", func() bool { return s.Stats().EventLog.Errors[CausePanic] == 1 })
	s.Template(tmpl("p", "second <*>", KindNew))
	closeSink(t, s)
	if evs := pw.out.events(t); len(evs) != 1 || evs[0].Template != "second <*>" {
		t.Errorf("events after panic = %+v", evs)
	}
	if st := s.Stats(); st.Lost != 1 {
		t.Errorf("Lost = %d, want the panicking batch (1)", st.Lost)
	}
	if !strings.Contains(lb.String(), "[drain] sink: events: write failed (panic)") {
		t.Errorf("log = %q", lb.String())
	}
}

// downConfig points both stores at ports nothing listens on.
func downConfig(t testing.TB) Config {
	return fast(Config{
		PGDSN:     fmt.Sprintf("postgres://postgres@127.0.0.1:%d/test?sslmode=disable&connect_timeout=1", testutil.Port(t)),
		RedisAddr: fmt.Sprintf("127.0.0.1:%d", testutil.Port(t)),
	})
}

func TestHitDoesNotAllocate(t *testing.T) {
	s, err := New(downConfig(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		s.Close(ctx)
	}()
	id := tmpl("p", "x <*>", KindNew).ID
	s.Hit(id, 1)
	if n := testing.AllocsPerRun(1000, func() { s.Hit(id, 1) }); n != 0 {
		t.Errorf("Hit allocates %v times per call for a queued id", n)
	}
}

func TestHostileInputNeverPanics(t *testing.T) {
	var out syncBuf
	s, err := New(fast(Config{Events: &out}), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []Template{
		{},
		{ID: strings.Repeat("a", 16), Kind: KindNew, Template: strings.Repeat("\xff\x00", 1<<15), Sample: strings.Repeat("é", 1<<12), Partition: "\x00"},
		{ID: strings.Repeat("b", 16), Kind: KindGeneralized, ParentID: "zz"},
	} {
		s.Template(tt)
	}
	for _, n := range []int64{-1, 0, 1 << 62} {
		s.Hit(strings.Repeat("a", 16), n)
	}
	s.Hit("", 1)
	closeSink(t, s)
	evs := out.events(t)
	if len(evs) != 1 || len(evs[0].Template) > 16<<10 || !utf8.ValidString(evs[0].Template) || strings.ContainsRune(evs[0].Partition, 0) {
		t.Errorf("events = %d, first template %d bytes", len(evs), len(evs[0].Template))
	}
}

// The event JSON keeps "<*>" and "&" readable, as the Python seed's
// json.dumps did, and round-trips.
func TestEventJSONNotHTMLEscaped(t *testing.T) {
	it := &item{t: Template{ID: "0123456789abcdef", Template: "a <*> & b", Sample: "a <x> & b", Kind: "new"}}
	b := it.json("node-1")
	if bytes.Contains(b, []byte(`\u003c`)) || bytes.Contains(b, []byte(`\u0026`)) || bytes.HasSuffix(b, []byte("\n")) {
		t.Fatalf("event JSON escaped or newline-terminated: %s", b)
	}
	var e Event
	if err := json.Unmarshal(b, &e); err != nil || e.Template != "a <*> & b" || e.Node != "node-1" {
		t.Fatalf("round trip: %v %+v", err, e)
	}
}

// writeSizes records the size of every Write.
type writeSizes struct {
	bytes.Buffer
	sizes []int
}

func (w *writeSizes) Write(p []byte) (int, error) {
	w.sizes = append(w.sizes, len(p))
	return w.Buffer.Write(p)
}

// TestEventLogPieces: a burst of events reaches the log whole, in order,
// in writes of about eventPiece bytes, and the writer keeps no buffer of
// the burst's size.
func TestEventLogPieces(t *testing.T) {
	var w writeSizes
	e := &eventWriter{w: &w, node: "n1"}
	b := &batch{}
	var want bytes.Buffer
	at := time.Unix(1795542001, 0)
	for i := range 3000 {
		it := &item{t: Template{ID: fmt.Sprintf("%016x", i), Template: strings.Repeat("word ", 40) + fmt.Sprint(i), SeenAt: at.Add(time.Duration(i))}}
		b.items = append(b.items, it)
		want.Write(it.json("n1"))
		want.WriteByte('\n')
	}
	if err := e.write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(w.Bytes(), want.Bytes()) {
		t.Fatalf("the log differs from the events in order (%d bytes, want %d)", w.Len(), want.Len())
	}
	line := want.Len() / 3000
	for i, n := range w.sizes {
		if n > eventPiece+2*line {
			t.Errorf("write %d of %d bytes, want at most about %d", i, n, eventPiece)
		}
	}
	if len(w.sizes) < want.Len()/(eventPiece+2*line) {
		t.Errorf("%d writes for %d bytes", len(w.sizes), want.Len())
	}
	if c := e.buf.Cap(); c > 4*eventPiece {
		t.Errorf("the writer keeps a buffer of %d bytes", c)
	}
}

// TestEventOrder: events of the same instant keep the order the sink took
// them in, in the log and across batches: a store with more pending than a
// batch takes the oldest first.
func TestEventOrder(t *testing.T) {
	at := time.Unix(1795542001, 0)
	var items []*item
	for i := range 40 {
		// ids in the reverse of arrival, all at one instant but the last two
		it := &item{t: Template{ID: fmt.Sprintf("%016x", 99-i), SeenAt: at}, seq: uint64(i + 1)}
		if i >= 38 {
			it.t.SeenAt = at.Add(-time.Duration(i))
		}
		items = append(items, it)
	}
	st := &store{items: map[string]*item{}, hits: map[string]hitEntry{}, c: &storeCounters{}}
	for _, it := range items {
		st.addItem(it.t.ID, it)
	}
	var got []uint64
	for len(st.items) > 0 {
		b := st.take(7, false)
		if len(b.items) == 0 || len(b.items) > 7 {
			t.Fatalf("a batch of %d items", len(b.items))
		}
		sortBySeen(b.items)
		for _, it := range b.items {
			got = append(got, it.seq)
			delete(st.items, it.t.ID)
		}
	}
	for i := range 35 {
		if got[i] != uint64(i+1) {
			t.Fatalf("taken and sorted in the order %v, want arrival order", got)
		}
	}
}
