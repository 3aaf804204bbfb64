package instance

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/awoooi/fluent-bit-drain/drain"
	"github.com/awoooi/fluent-bit-drain/internal/testutil"
	ct "github.com/awoooi/fluent-bit-drain/plugin/chunk/chunktest"
	"github.com/awoooi/fluent-bit-drain/plugin/config"
)

// syncBuf is the events writer the sink's goroutine and the test share.
type syncBuf struct{ testutil.Buffer }

func (s *syncBuf) events(t *testing.T) []map[string]any {
	return testutil.JSONLines[map[string]any](t, s.Bytes())
}

func newInstance(t testing.TB, keys config.Map) (*Instance, *syncBuf, *testutil.Log) {
	t.Helper()
	cfg, err := config.Parse(keys)
	if err != nil {
		t.Fatal(err)
	}
	ev, lg := &syncBuf{}, &testutil.Log{}
	in, err := New(cfg, lg, ev)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close(context.Background()) })
	return in, ev, lg
}

var et = ct.EventTime{Sec: 1795542001, Nsec: 5}

func TestPartitions(t *testing.T) {
	kubeTag := ct.KubeTag("coredns-5d78c9869d-x7k2p", "kube-system", "coredns")
	tests := []struct {
		name string
		keys config.Map
		tag  string
		body ct.M
		want string // partition the line was mined under
	}{
		{"k8s from kubernetes map", nil, kubeTag,
			ct.KubeRecord("shop", "web-1", "nginx", "GET /a"), "shop/nginx"},
		{"k8s from the tag", nil, kubeTag,
			ct.M{{"log", "GET /a"}}, "kube-system/coredns"},
		{"k8s tag with a custom prefix", nil, "kube.tmp.exp.containers.web_ns-1_app-x-" + strings.Repeat("0f", 32) + ".log",
			ct.M{{"log", "GET /a"}}, "ns-1/app-x"},
		{"k8s tag not parsable", nil, "kube.custom",
			ct.M{{"log", "GET /a"}}, "kube.custom"},
		{"k8s namespace only", nil, kubeTag,
			ct.M{{"log", "GET /a"}, {"kubernetes", ct.M{{"namespace_name", "shop"}}}}, "shop/-"},
		{"journald identifier", nil, "host.kubelet.service",
			ct.M{{"SYSLOG_IDENTIFIER", "kubelet"}, {"_SYSTEMD_UNIT", "kubelet.service"}, {"MESSAGE", "sync"}}, "kubelet"},
		{"journald unit", nil, "host.kubelet.service",
			ct.M{{"_SYSTEMD_UNIT", "kubelet.service"}, {"MESSAGE", "sync"}}, "kubelet.service"},
		{"journald tag", nil, "host.unknown",
			ct.M{{"MESSAGE", "IPVS: rr"}}, "host.unknown"},
		{"syslog ident", nil, "node.syslog.var.log.auth.log",
			ct.M{{"ident", "sshd"}, {"message", "Accepted"}}, "sshd"},
		{"syslog tag", nil, "node.syslog.var.log.syslog",
			ct.M{{"log", "Nov 25 raw"}}, "node.syslog.var.log.syslog"},
		{"app_log tag", nil, "myapp.events",
			ct.M{{"msg", "hello"}, {"ident", "ignored"}}, "myapp.events"},
		{"explicit keys joined", config.Map{"Partition_Key": "app,env"}, "x",
			ct.M{{"msg", "hello"}, {"app", "api"}, {"env", 3}}, "api/3"},
		{"explicit key missing", config.Map{"Partition_Key": "app,env"}, "x",
			ct.M{{"msg", "hello"}, {"env", "prod"}}, "-/prod"},
		{"explicit keys all missing", config.Map{"Partition_Key": "app"}, "fallback.tag",
			ct.M{{"msg", "hello"}}, "fallback.tag"},
		{"explicit key that is also the message key", config.Map{"Partition_Key": "msg"}, "x",
			ct.M{{"msg", "hello"}}, "hello"},
		{"fixed source", config.Map{"Source": "host_syslog"}, kubeTag,
			ct.M{{"ident", "cron"}, {"log", "job"}}, "cron"},
		{"long value cut", config.Map{"Partition_Key": "app"}, "x",
			ct.M{{"msg", "hello"}, {"app", strings.Repeat("é", 300)}}, strings.Repeat("é", 128)},
		{"invalid UTF-8 and NUL repaired", config.Map{"Partition_Key": "app"}, "x",
			ct.M{{"msg", "hello"}, {"app", "a\xffb\x00c"}}, "a\uFFFDbc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, _, _ := newInstance(t, tt.keys)
			data := ct.Build(func(e *ct.Enc) { e.V2(et, nil, tt.body) })
			if st := in.Flush(data, tt.tag); st != OK {
				t.Fatalf("Flush = %v", st)
			}
			ms := in.miner.Stats()
			if ms.Lines != 1 || ms.Partitions != 1 {
				t.Fatalf("miner stats %+v", ms)
			}
			line := ""
			for _, k := range []string{"log", "message", "MESSAGE", "msg"} {
				for _, kv := range tt.body {
					if kv[0] == k && line == "" {
						line, _ = kv[1].(string)
					}
				}
			}
			if _, ok := in.miner.Match(tt.want, line); !ok {
				t.Errorf("line %q not mined under partition %q", line, tt.want)
			}
		})
	}
}

// A node syslog line that reached the plugin raw ({"log": line}: tail with
// a parser that did not match) is mined without its header, under its
// program's partition, as a parsed record would be.
func TestRawSyslogLine(t *testing.T) {
	tests := []struct {
		name, tag, log string
		keys           config.Map
		part, mined    string
	}{
		{"rfc3164", "node.syslog.var.log.syslog", "Nov 25 17:40:07 node-a1 sshd[23456]: Accepted publickey for ubuntu",
			nil, "sshd", "Accepted publickey for ubuntu"},
		{"rfc3339", "node.syslog.var.log.syslog", "2026-11-25T17:40:07.1+00:00 node-a1 CRON[1]: (root) CMD (true)",
			nil, "CRON", "(root) CMD (true)"},
		{"no header", "node.syslog.var.log.syslog", "free text", nil, "node.syslog.var.log.syslog", "free text"},
		{"not a syslog source", "app.x", "Nov 25 17:40:07 node-a1 sshd[1]: x", nil, "app.x", "Nov 25 17:40:07 node-a1 sshd[1]: x"},
		{"explicit Partition_Key", "node.syslog.x", "Nov 25 17:40:07 node-a1 sshd[1]: x", config.Map{"Partition_Key": "app"},
			"node.syslog.x", "Nov 25 17:40:07 node-a1 sshd[1]: x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, _, _ := newInstance(t, tt.keys)
			data := ct.Build(func(e *ct.Enc) { e.V2(et, nil, ct.M{{"log", tt.log}}) })
			if st := in.Flush(data, tt.tag); st != OK {
				t.Fatalf("Flush = %v", st)
			}
			fresh, err := drain.New(in.miner.Config())
			if err != nil {
				t.Fatal(err)
			}
			want := fresh.Add(tt.part, tt.mined).Template
			res, ok := in.miner.Match(tt.part, tt.mined)
			if !ok || res.Template != want {
				t.Errorf("Match(%q, %q) = %q, %v; want %q: the message mined under that partition", tt.part, tt.mined, res.Template, ok, want)
			}
		})
	}
	// A header with nothing after it is an empty message.
	in, _, _ := newInstance(t, nil)
	data := ct.Build(func(e *ct.Enc) { e.V2(et, nil, ct.M{{"log", "Nov 25 17:40:07 node-a1 sshd[1]:"}}) })
	in.Flush(data, "node.syslog.x")
	if got := in.c.skipped[causeEmpty].Load(); got != 1 {
		t.Errorf("empty after header: skipped %d, want 1", got)
	}
}

func TestMessage(t *testing.T) {
	tests := []struct {
		body  ct.M
		want  string
		cause string // skipped cause, "" when mined
	}{
		{ct.M{{"log", "docker line\n"}}, "docker line", ""},
		{ct.M{{"log", "crlf line\r\n"}}, "crlf line", ""},
		{ct.M{{"log", "two\n\n"}}, "two\n", ""},
		{ct.M{{"message", "m"}, {"log", "l"}}, "l", ""}, // key order of Message_Key, not of the record
		{ct.M{{"log", ct.Bin("bytes")}}, "bytes", ""},
		{ct.M{{"log", ct.M{{"a", "b"}}}, {"msg", "text"}}, "text", ""},
		{ct.M{{"log", 42}}, "", "not_text"},
		{ct.M{{"log", ct.M{{"a", "b"}}}}, "", "not_text"},
		{ct.M{{"level", "info"}}, "", "no_message"},
		{ct.M{}, "", "no_message"},
		{ct.M{{"log", "\n"}}, "", "empty"},
	}
	for _, tt := range tests {
		in, _, _ := newInstance(t, nil)
		data := ct.Build(func(e *ct.Enc) { e.V2(et, nil, tt.body) })
		if st := in.Flush(data, "app"); st != OK {
			t.Fatalf("%v: Flush = %v", tt.body, st)
		}
		st := in.Stats()
		if tt.cause != "" {
			if st.Skipped[tt.cause] != 1 || in.miner.Stats().Lines != 0 {
				t.Errorf("%v: skipped %v, miner lines %d; want cause %s", tt.body, st.Skipped, in.miner.Stats().Lines, tt.cause)
			}
			continue
		}
		if _, ok := in.miner.Match("app", tt.want); !ok || in.miner.Stats().Lines != 1 {
			t.Errorf("%v: %q not mined", tt.body, tt.want)
		}
	}
}

func TestStatusAndCounters(t *testing.T) {
	in, _, lg := newInstance(t, nil)
	good := ct.KubeChunk(10)
	if st := in.Flush(good, "kube.x"); st != OK {
		t.Fatalf("Flush = %v", st)
	}
	// Truncated: earlier events count, the chunk is acknowledged.
	if st := in.Flush(good[:len(good)-5], "kube.x"); st != OK {
		t.Fatalf("truncated chunk: Flush = %v, want OK", st)
	}
	// Nothing decodable: ERROR (retrying cannot help).
	if st := in.Flush([]byte{0xc1, 0x00}, "kube.x"); st != Error {
		t.Fatalf("garbage chunk: Flush = %v, want Error", st)
	}
	// Only group markers and skipped events: decoded, OK.
	markers := ct.Build(func(e *ct.Enc) { e.GroupStart(ct.M{}); e.GroupEnd(); e.V1("bad ts", ct.M{{"log", "x"}}) })
	if st := in.Flush(markers, "kube.x"); st != OK {
		t.Fatalf("markers: Flush = %v", st)
	}
	st := in.Stats()
	if st.Chunks != 4 || st.Records != 19 || st.DecodeErrors != 2 || st.Skipped["group_marker"] != 2 || st.Skipped["bad_timestamp"] != 1 {
		t.Fatalf("stats %+v", st)
	}
	if st.Bytes != uint64(2*len(good)-5+2+len(markers)) {
		t.Fatalf("bytes %d", st.Bytes)
	}
	if st.TemplatesNew == 0 || st.TemplatesNew != in.miner.Stats().Created {
		t.Fatalf("templates %d, miner created %d", st.TemplatesNew, in.miner.Stats().Created)
	}
	if !strings.Contains(lg.String(), "[drain] tag kube.x: chunk: malformed event 9") {
		t.Fatalf("log: %s", lg.String())
	}
}

func TestDisabledAndClosed(t *testing.T) {
	in, _, _ := newInstance(t, config.Map{"Enabled": "off"})
	if st := in.Flush(ct.KubeChunk(5), "kube.x"); st != OK {
		t.Fatalf("Flush = %v", st)
	}
	if st := in.Stats(); st.ChunksDisabled != 1 || st.Records != 0 || in.miner.Stats().Lines != 0 {
		t.Fatalf("disabled: %+v", st)
	}
	in2, _, _ := newInstance(t, nil)
	if err := in2.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := in2.Flush(ct.KubeChunk(5), "kube.x"); st != OK || in2.Stats().ChunksClosed != 1 {
		t.Fatalf("after Close: %v %+v", st, in2.Stats())
	}
	if err := in2.Close(context.Background()); err != nil {
		t.Fatal("second Close:", err)
	}
}

// Templates reach the sink with their partition and source, and the sample
// is a copy (the chunk is overwritten right after Flush, as Fluent Bit
// frees it).
func TestTemplatesReachSink(t *testing.T) {
	in, events, _ := newInstance(t, config.Map{"Flush_Interval": "50ms"})
	data := ct.KubeChunk(40)
	if st := in.Flush(data, ct.KubeTag("web-1", "shop", "nginx")); st != OK {
		t.Fatalf("Flush = %v", st)
	}
	for i := range data {
		data[i] = 0xAA
	}
	if err := in.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	evs := events.events(t)
	if len(evs) == 0 {
		t.Fatal("no events")
	}
	samples := map[string]bool{}
	for i := 0; i < 40; i++ {
		samples[in.sample(ct.LogLine(i))] = true
	}
	for _, e := range evs {
		if e["partition"] != "shop/nginx" || e["source"] != "k8s_pod" {
			t.Fatalf("event %v", e)
		}
		s, _ := e["sample_log"].(string)
		if !samples[s] {
			t.Fatalf("sample %q is not one of the redacted lines (aliasing the chunk?)", s)
		}
	}
}

func TestConcurrentFlush(t *testing.T) {
	in, _, _ := newInstance(t, nil)
	data := ct.KubeChunk(200)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				if st := in.Flush(data, "kube.x"); st != OK {
					t.Errorf("Flush = %v", st)
				}
			}
		}()
	}
	wg.Wait()
	if st := in.Stats(); st.Records != 4000 || in.miner.Stats().Lines != 4000 {
		t.Fatalf("records %d, mined %d", st.Records, in.miner.Stats().Lines)
	}
}

func TestTestPanicHook(t *testing.T) {
	for _, mode := range []string{"panic", "nil"} {
		in, _, _ := newInstance(t, nil)
		in.cfg.TestPanic = mode // settable here; config only accepts it with drain_testhooks
		func() {
			defer func() {
				if r := recover(); r == nil {
					t.Errorf("%s: no panic", mode)
				}
			}()
			in.Flush(ct.KubeChunk(1), "kube.x")
		}()
		// The instance still works after a recovered panic.
		in.cfg.TestPanic = ""
		if st := in.Flush(ct.KubeChunk(3), "kube.x"); st != OK || in.Stats().Records != 3 {
			t.Errorf("%s: after panic: %v %+v", mode, st, in.Stats())
		}
	}
}

func TestMetricsEndpoint(t *testing.T) {
	in, _, _ := newInstance(t, config.Map{"Metrics_Listen": "127.0.0.1:0"})
	in.Flush(ct.KubeChunk(10), "kube.x")
	in.Flush(ct.Build(func(e *ct.Enc) { e.V2(et, nil, ct.M{{"level", "x"}}) }), "kube.x")
	// The fourth daemon merges the siblings, folding two of them.
	in.Flush(ct.Build(func(e *ct.Enc) {
		for _, d := range []string{"klogd", "syslogd", "ntpd", "crond"} {
			e.V2(et, nil, ct.KubeRecord("shop", "web-7f9c6d8b5-qwert", "init", d+" startup succeeded"))
		}
	}), "kube.x")
	var addr string
	testutil.WaitFor(t, 2*time.Second, "the metrics endpoint listening", func() bool { addr = in.MetricsAddr(); return addr != "" })
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		"drain_records_total 15\n",
		`drain_records_skipped_total{cause="no_message"} 1` + "\n",
		"drain_chunks_total 3\n",
		"drain_miner_lines_total 14\n",
		"drain_miner_folded_total 2\n",
		"drain_miner_memo_hits_total ",
		`drain_templates_total{kind="new"} `,
		"drain_sink_pending ",
		`drain_store_batches_total{store="postgres"} 0`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
	// Every metric served is documented in docs/config.md's table.
	doc, err := os.ReadFile("../../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(body), "\n") {
		if name, ok := strings.CutPrefix(line, "# HELP "); ok {
			name, _, _ = strings.Cut(name, " ")
			if strings.HasPrefix(name, "drain_") && !strings.Contains(string(doc), "`"+name+"`") {
				t.Errorf("metric %s is not in docs/config.md", name)
			}
		}
	}
	if err := in.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get("http://" + addr + "/metrics"); err == nil {
		t.Fatal("metrics endpoint still up after Close")
	}
}

func TestKubeTagPartition(t *testing.T) {
	id := strings.Repeat("ab", 32)
	tests := map[string]string{
		"kube.var.log.containers.coredns-5d78c9869d-x7k2p_kube-system_coredns-" + id + ".log": "kube-system/coredns",
		"kube.var.log.containers.my.pod_ns_side-car-" + id + ".log":                           "ns/side-car",
		"kube.var.log.containers.pod_ns_c-" + id[:63] + ".log":                                "",
		"kube.var.log.containers.pod_ns_c-" + strings.Repeat("AB", 32) + ".log":               "",
		"kube.var.log.containers.podns_c-" + id + ".log":                                      "",
		"kube.var.log.containers.pod__c-" + id + ".log":                                       "",
		"kube.var.log.containers.pod_ns_-" + id + ".log":                                      "",
		"kube.x": "",
	}
	for tag, want := range tests {
		got, ok := kubeTagPartition(tag)
		if got != want || ok != (want != "") {
			t.Errorf("kubeTagPartition(%q) = %q, %v; want %q", tag, got, ok, want)
		}
	}
}

// The Redis hash <prefix>:flags turns the output off at run time: chunks
// are then acknowledged untouched.
func TestRedisKillSwitch(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := testutil.RedisPrefix(t, testutil.SharedRedis, "drain_inst_test")
	if err := rdb.HSet(ctx, prefix+":flags", "enabled", "off").Err(); err != nil {
		t.Fatal(err)
	}
	in, _, _ := newInstance(t, config.Map{"Redis_Addr": testutil.SharedRedis, "Redis_Prefix": prefix})
	testutil.WaitFor(t, 5*time.Second, "the flags hash read", func() bool { return !in.sink.Flags().Enabled })
	if st := in.Flush(ct.KubeChunk(5), "kube.x"); st != OK {
		t.Fatalf("Flush = %v", st)
	}
	if st := in.Stats(); st.ChunksDisabled != 1 || st.Records != 0 || in.miner.Stats().Lines != 0 {
		t.Fatalf("disabled at run time: %+v, miner lines %d", st, in.miner.Stats().Lines)
	}
}

// Records are mined in batches and consecutive records reuse their
// partition: a chunk whose partition changes in runs of every length,
// with records that have none, must mine every line under its own
// partition, in order, as a miner fed one line at a time does.
func TestFlushPartitionRuns(t *testing.T) {
	in, _, _ := newInstance(t, config.Map{"Partition_Key": "app"})
	ref, err := drain.New(in.cfg.Drain)
	if err != nil {
		t.Fatal(err)
	}
	apps := []string{"api", "api", "web", "a\xffb", "a\xffb", "", "web", "db"}
	var parts, lines []string
	data := ct.Build(func(e *ct.Enc) {
		for i := 0; i < 300; i++ {
			app := apps[(i/(1+i%5))%len(apps)]
			line := fmt.Sprintf("request %d served by %s in %d ms", i, []string{"alpha", "beta"}[i%2], i%7)
			body := ct.M{{"msg", line}}
			part := "tag.x"
			if app != "" {
				body = append(body, ct.KV{"app", app})
				part = strings.ToValidUTF8(app, "\uFFFD")
			}
			e.V2(et, nil, body)
			parts, lines = append(parts, part), append(lines, line)
		}
	})
	if st := in.Flush(data, "tag.x"); st != OK {
		t.Fatalf("Flush = %v", st)
	}
	cleaned := 0
	for i, l := range lines {
		ref.Add(parts[i], l)
		if strings.Contains(parts[i], "\uFFFD") {
			cleaned++
		}
	}
	got, want := in.miner.Stats(), ref.Stats()
	if got != want {
		t.Errorf("miner stats %+v, want %+v", got, want)
	}
	for i, l := range lines {
		r, ok := in.miner.Match(parts[i], l)
		w, _ := ref.Match(parts[i], l)
		if !ok || !reflect.DeepEqual(r, w) {
			t.Fatalf("record %d %q under %q: %+v, want %+v", i, l, parts[i], r, w)
		}
	}
	if n := in.Stats().PartitionsCleaned; n != uint64(cleaned) {
		t.Errorf("PartitionsCleaned = %d, want %d", n, cleaned)
	}
}

// TestHitCounts checks the coalesced counts against a plain map: ids that
// repeat by pointer, equal ids in distinct strings, enough ids to grow the
// table, and a reset between chunks.
func TestHitCounts(t *testing.T) {
	ids := make([]string, 80)
	for i := range ids {
		ids[i] = fmt.Sprintf("%016x", i*7919)
	}
	var h hitCounts
	for round := range 2 {
		want := map[string]int64{}
		for i := range 5000 {
			id := ids[(i*i+round)%(12+round*60)] // 12 ids, then 72: the table grows
			if i%7 == 0 {
				id = strings.Clone(id) // same id, another string
			}
			h.add(id)
			want[id]++
		}
		got := map[string]int64{}
		h.each(func(id string, n int64) {
			if _, dup := got[id]; dup {
				t.Fatalf("round %d: id %s reported twice", round, id)
			}
			got[id] = n
		})
		if !maps.Equal(got, want) {
			t.Fatalf("round %d: counts %v, want %v", round, got, want)
		}
		h.reset()
	}
}

// TestFlushLeavesNoReferences checks that a flush leaves its scratch (which
// Flush pools) holding nothing of the chunk or the miner's results, for
// chunks that fill the record batch less than once, exactly, and several
// times.
func TestFlushLeavesNoReferences(t *testing.T) {
	in, _, _ := newInstance(t, config.Map{})
	tag := ct.KubeTag("web-7f9c6d8b5-qwert", "shop", "nginx")
	for _, n := range []int{1, pendMax - 1, pendMax, 3*pendMax + 5} {
		s := &scratch{}
		if st := in.flush(s, ct.KubeChunk(n), tag); st != OK {
			t.Fatalf("%d records: flush = %v", n, st)
		}
		if s.pend.n != 0 || s.pend.used != 0 {
			t.Errorf("%d records: pending n=%d used=%d, want 0", n, s.pend.n, s.pend.used)
		}
		for i := range pendMax {
			if s.pend.parts[i] != "" || s.pend.lines[i] != "" || !reflect.DeepEqual(s.pend.res[i], drain.Result{}) {
				t.Fatalf("%d records: pending entry %d kept %q %q %+v", n, i, s.pend.parts[i], s.pend.lines[i], s.pend.res[i])
			}
		}
		for i, v := range s.prevVals {
			if v.Bytes != nil {
				t.Errorf("%d records: prevVals[%d] kept %q", n, i, v.Bytes)
			}
		}
		if s.ev.Body != nil || s.ev.Values != nil || s.src != "" {
			t.Errorf("%d records: event or source kept: %+v %q", n, s.ev, s.src)
		}
	}
}
