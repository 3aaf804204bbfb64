package chunk

import (
	"bytes"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"

	ct "github.com/awoooi/fluent-bit-drain/plugin/chunk/chunktest"
)

// got is what a walk produced, in a comparable form.
type got struct {
	events []string // "sec.nsec key=value ..." per event
	stats  Stats
	err    string
}

// walk reads the whole chunk with a query for paths and renders the result.
func walk(t *testing.T, data []byte, paths ...string) got {
	t.Helper()
	q, err := NewQuery(paths...)
	if err != nil {
		t.Fatal(err)
	}
	var r Reader
	r.Reset(data, q)
	var g got
	var ev Event
	for r.Next(&ev) {
		var sb strings.Builder
		sb.WriteString(strings.TrimSpace(strings.Join([]string{itoa(ev.Sec), itoa(int64(ev.Nsec))}, ".")))
		for i, v := range ev.Values {
			if v.Kind == Missing {
				continue
			}
			sb.WriteString(" " + paths[i] + "=" + render(v))
		}
		g.events = append(g.events, sb.String())
		if len(ev.Body) == 0 || ev.Body[0]&0xf0 != 0x80 && ev.Body[0] != 0xde && ev.Body[0] != 0xdf {
			t.Errorf("Body does not start with a map header: % x", ev.Body[:min(len(ev.Body), 4)])
		}
	}
	g.stats = r.Stats()
	if r.Err() != nil {
		g.err = r.Err().Error()
	}
	return g
}

func itoa(i int64) string {
	if i == 0 {
		return "0"
	}
	neg := i < 0
	if neg {
		i = -i
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	if neg {
		return "-" + string(b)
	}
	return string(b)
}

func render(v Value) string {
	switch v.Kind {
	case Str:
		return "s:" + string(v.Bytes)
	case Bin:
		return "b:" + string(v.Bytes)
	case Uint:
		return "u:" + itoa(int64(v.U))
	case Int:
		return "i:" + itoa(v.I)
	case Bool:
		return "bool:" + itoa(int64(v.U))
	case Float:
		return "f:" + itoa(int64(v.F*1000))
	case Nil:
		return "nil"
	default:
		return v.Kind.String() + ":" + hex.EncodeToString(v.Bytes)
	}
}

var et = ct.EventTime{Sec: 1795542001, Nsec: 123456789}

func TestFluentBitExactBytes(t *testing.T) {
	// The bytes of docs/fluent-bit.md#chunks (v4.2.8, dummy input), body shortened.
	data, _ := hex.DecodeString("dd00000002" + "dd00000002" + "d7006b071a81367b261a" + "80" +
		"82" + "a36c6f67" + "a568656c6c6f" + "a1" + "6e" + "01")
	g := walk(t, data, "log", "n")
	want := []string{"1795627649.914040346 log=s:hello n=u:1"}
	if !slices.Equal(g.events, want) || g.err != "" || g.stats.Skipped() != 0 {
		t.Fatalf("got %+v, want %v", g, want)
	}
	// And the test encoder writes the same framing.
	e := ct.Build(func(e *ct.Enc) {
		e.V2(ct.EventTime{Sec: 0x6b071a81, Nsec: 0x367b261a}, nil, ct.M{{"log", "hello"}, {"n", 1}})
	})
	if !bytes.Equal(e, data) {
		t.Fatalf("encoder mismatch:\n% x\n% x", e, data)
	}
}

func TestFixtures(t *testing.T) {
	kube := ct.KubeRecord("kube-system", "coredns-5d78c9869d-x7k2p", "coredns", `[INFO] 10.244.1.5:53122 - 4321 "A IN api.example.com. udp 33 false 512" NOERROR qr,rd,ra 94 0.000312s`)
	huge := strings.Repeat("x", 1<<20)
	deep := func(depth int) []byte {
		var e ct.Enc
		for i := 0; i < depth; i++ {
			e.MapHeader(1)
			e.Str("a")
		}
		e.Str("bottom")
		return e.B
	}
	paths := []string{"log", "message", "MESSAGE", "msg", "kubernetes.namespace_name", "kubernetes.container_name", "SYSLOG_IDENTIFIER", "ident"}

	tests := []struct {
		name  string
		data  []byte
		want  []string
		stats Stats
		err   string // substring
	}{
		{
			name: "A1 v2 single record",
			data: ct.Build(func(e *ct.Enc) { e.V2(et, nil, kube) }),
			want: []string{"1795542001.123456789 log=s:[INFO] 10.244.1.5:53122 - 4321 \"A IN api.example.com. udp 33 false 512\" NOERROR qr,rd,ra 94 0.000312s kubernetes.namespace_name=s:kube-system kubernetes.container_name=s:coredns"},
		},
		{
			name: "A2 metadata and group markers",
			data: ct.Build(func(e *ct.Enc) {
				e.GroupStart(ct.M{{"resource", ct.M{{"service.name", "api"}}}})
				e.V2(et, ct.M{{"otlp", ct.M{{"severity_number", 9}}}}, ct.M{{"message", "one"}})
				e.V2(et, ct.M{{"otlp", ct.M{{"severity_number", 13}}}}, ct.M{{"message", "two"}})
				e.GroupEnd()
			}),
			want:  []string{"1795542001.123456789 message=s:one", "1795542001.123456789 message=s:two"},
			stats: Stats{GroupMarkers: 2},
		},
		{
			name: "A3 v1 EventTime, uint, float64, float32, int8",
			data: ct.Build(func(e *ct.Enc) {
				e.V1(et, ct.M{{"log", "a"}})
				e.V1(uint64(1795542002), ct.M{{"log", "b"}})
				e.V1(float64(1795542003.25), ct.M{{"log", "c"}})
				e.V1(float32(1.5), ct.M{{"log", "d"}})
				e.V1(ct.Raw{0xd0, 0x05}, ct.M{{"log", "e"}})
				e.V1(ct.Raw{0xcf, 0, 0, 0, 0, 0x6b, 0x07, 0x1a, 0x81}, ct.M{{"log", "f"}})
			}),
			want: []string{"1795542001.123456789 log=s:a", "1795542002.0 log=s:b", "1795542003.250000000 log=s:c",
				"1.500000000 log=s:d", "5.0 log=s:e", "1795627649.0 log=s:f"},
		},
		{
			name: "A4 EventTime ext8, ext16 accepted; ext type 1 and size 4 skipped",
			data: ct.Build(func(e *ct.Enc) {
				e.V2(ct.Raw{0xc7, 0x08, 0x00, 0, 0, 0, 9, 0, 0, 0, 1}, nil, ct.M{{"log", "ext8"}})
				e.V2(ct.Raw{0xc8, 0x00, 0x08, 0x00, 0, 0, 0, 10, 0, 0, 0, 2}, nil, ct.M{{"log", "ext16"}})
				e.V2(ct.Raw{0xd7, 0x01, 0, 0, 0, 9, 0, 0, 0, 1}, nil, ct.M{{"log", "type1"}})
				e.V2(ct.Raw{0xd6, 0x00, 0, 0, 0, 9}, nil, ct.M{{"log", "size4"}})
				e.V1(ct.Raw{0xd8, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, ct.M{{"log", "size16"}})
				e.V2(et, nil, ct.M{{"log", "after"}})
			}),
			want:  []string{"9.1 log=s:ext8", "10.2 log=s:ext16", "1795542001.123456789 log=s:after"},
			stats: Stats{BadTime: 3},
		},
		{
			name: "A4 other invalid timestamps skipped",
			data: ct.Build(func(e *ct.Enc) {
				e.V1("2026-11-25", ct.M{{"log", "str"}})
				e.V1(nil, ct.M{{"log", "nil"}})
				e.V1(int64(-3), ct.M{{"log", "neg"}})
				e.V1(float64(-1), ct.M{{"log", "negf"}})
				e.V1(ct.Raw{0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 1}, ct.M{{"log", "nan"}})
				e.V1(ct.Raw{0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, ct.M{{"log", "huge"}})
				e.V1(ct.M{{"a", 1}}, ct.M{{"log", "map"}})
				e.V1(uint64(7), ct.M{{"log", "ok"}})
			}),
			want:  []string{"7.0 log=s:ok"},
			stats: Stats{BadTime: 7},
		},
		{
			name: "bad shapes skipped",
			data: ct.Build(func(e *ct.Enc) {
				e.Value("not an event")
				e.Value([]any{et})                          // 1 element
				e.Value([]any{et, ct.M{}, ct.M{}})          // 3 elements
				e.Value(ct.Array32{ct.Array32{et}, ct.M{}}) // v2 header of 1
				e.V2(et, nil, "body is a string")           // body not a map
				e.V1(et, []any{"body is an array"})         // body not a map
				e.Value(ct.Array32{ct.Array32{et, ct.M{}, 1, 2}, ct.M{{"log", "long header"}}})
			}),
			want:  []string{"1795542001.123456789 log=s:long header"},
			stats: Stats{BadShape: 6},
		},
		{
			name: "A5 record bodies",
			data: ct.Build(func(e *ct.Enc) {
				e.V2(et, nil, ct.M{{"log", "10.0.0.7 - - \"GET /healthz HTTP/1.1\" 200 2\n"}, {"stream", "stdout"}})
				e.V2(et, nil, ct.M{{"stream", "stderr"}, {"level", "error"}, {"msg", "upstream timed out"}, {"kubernetes", ct.M{{"namespace_name", "shop"}, {"container_name", "nginx"}}}})
				e.V2(et, nil, ct.M{{"log", "Nov 25 17:40:05 node-a1 systemd[1]: Started session-42.scope."}})
				e.V2(et, nil, ct.M{{"_TRANSPORT", "stdout"}, {"SYSLOG_IDENTIFIER", "kubelet"}, {"_SYSTEMD_UNIT", "kubelet.service"}, {"CODE_LINE", []string{"1", "2"}}, {"MESSAGE", "I1125 sync"}})
				e.V2(et, nil, ct.M{{"pri", "28"}, {"host", "node-a1"}, {"ident", "kubelet"}, {"msgid", "KLOG"}, {"message", "Failed to get pod status"}})
				e.V2(et, nil, ct.M{{"pri", "38"}, {"ident", "sshd"}, {"pid", "4321"}, {"message", "Accepted publickey"}})
				e.V2(et, nil, ct.M{{"level", "info"}, {"n", 3}}) // no message key
			}),
			want: []string{
				"1795542001.123456789 log=s:10.0.0.7 - - \"GET /healthz HTTP/1.1\" 200 2\n",
				"1795542001.123456789 msg=s:upstream timed out kubernetes.namespace_name=s:shop kubernetes.container_name=s:nginx",
				"1795542001.123456789 log=s:Nov 25 17:40:05 node-a1 systemd[1]: Started session-42.scope.",
				"1795542001.123456789 MESSAGE=s:I1125 sync SYSLOG_IDENTIFIER=s:kubelet",
				"1795542001.123456789 message=s:Failed to get pod status ident=s:kubelet",
				"1795542001.123456789 message=s:Accepted publickey ident=s:sshd",
				"1795542001.123456789",
			},
		},
		{
			name: "A6 hostile content",
			data: ct.Build(func(e *ct.Enc) {
				e.V2(et, nil, ct.M{{"log", "bad \xff\xfe utf8 and \x00 nul"}})
				e.V2(et, nil, ct.M{{"log", huge}})
				e.V2(et, nil, ct.M{{"deep", ct.Raw(deep(100000))}, {"log", "after deep"}})
				e.V2(et, nil, ct.Raw{0x83, 0x01, 0xa1, 'x', 0xcd, 0x01, 0x00, 0xa1, 'y', 0xa3, 'l', 'o', 'g', 0xa2, 'o', 'k'}) // int keys
				e.V2(et, nil, ct.M{})
				e.V2(et, nil, ct.M{{"log", ct.Bin("binary payload")}})
				e.V2(et, nil, ct.M{{"log", ct.M{{"nested", "map"}}}, {"msg", 42}, {"message", "third"}})
				e.V2(et, nil, ct.Map32{{"log", ct.Str32("wide headers")}})
				e.V2(et, nil, ct.M{{"log", "first"}, {"log", "duplicate"}})
			}),
			want: []string{
				"1795542001.123456789 log=s:bad \xff\xfe utf8 and \x00 nul",
				"1795542001.123456789 log=s:" + huge,
				"1795542001.123456789 log=s:after deep",
				"1795542001.123456789 log=s:ok",
				"1795542001.123456789",
				"1795542001.123456789 log=b:binary payload",
				"1795542001.123456789 log=map:81a66e6573746564a36d6170 message=s:third msg=u:42",
				"1795542001.123456789 log=s:wide headers",
				"1795542001.123456789 log=s:first",
			},
		},
		{
			name: "A7 truncated mid-string",
			data: func() []byte {
				b := ct.Build(func(e *ct.Enc) {
					e.V2(et, nil, ct.M{{"log", "one"}})
					e.V2(et, nil, ct.M{{"log", "two"}})
					e.V2(et, nil, ct.M{{"log", "three is cut"}})
				})
				return b[:len(b)-4]
			}(),
			want: []string{"1795542001.123456789 log=s:one", "1795542001.123456789 log=s:two"},
			err:  "malformed event 2 at offset 60",
		},
		{
			name: "huge array count in a tiny chunk",
			data: ct.Build(func(e *ct.Enc) {
				e.V2(et, nil, ct.M{{"log", "ok"}})
				e.Value(ct.Raw{0xdd, 0xff, 0xff, 0xff, 0xff, 0x01})
			}),
			want: []string{"1795542001.123456789 log=s:ok"},
			err:  "malformed event 1 at offset 29",
		},
		{
			name: "reserved byte",
			data: ct.Build(func(e *ct.Enc) { e.V2(et, nil, ct.Raw{0x81, 0xa1, 'k', 0xc1}) }),
			err:  "reserved byte 0xc1",
		},
		{
			name: "empty chunk",
			data: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := walk(t, tt.data, paths...)
			if !slices.Equal(g.events, tt.want) {
				t.Errorf("events:\n got %q\nwant %q", short(g.events), short(tt.want))
			}
			tt.stats.Events = len(tt.want)
			if g.stats != tt.stats {
				t.Errorf("stats = %+v, want %+v", g.stats, tt.stats)
			}
			if tt.err == "" && g.err != "" || !strings.Contains(g.err, tt.err) {
				t.Errorf("err = %q, want %q", g.err, tt.err)
			}
		})
	}
}

func TestTenThousandRecords(t *testing.T) {
	data := ct.KubeChunk(10000)
	var r Reader
	q, _ := NewQuery("log", "kubernetes.namespace_name")
	r.Reset(data, q)
	var ev Event
	n := 0
	for r.Next(&ev) {
		if want := ct.LogLine(n); string(ev.Values[0].Bytes) != want {
			t.Fatalf("record %d: log = %q, want %q", n, ev.Values[0].Bytes, want)
		}
		if string(ev.Values[1].Bytes) != "shop" {
			t.Fatalf("record %d: namespace = %q", n, ev.Values[1].Bytes)
		}
		n++
	}
	if n != 10000 || r.Err() != nil || r.Offset() != len(data) {
		t.Fatalf("n=%d err=%v offset=%d/%d", n, r.Err(), r.Offset(), len(data))
	}
}

// A 2.1 MB chunk of records with 1 KiB lines.
func TestLargeChunk(t *testing.T) {
	var e ct.Enc
	line := strings.Repeat("y", 1024)
	written := 0
	for ; len(e.B) < 2_100_000; written++ {
		e.V2(et, nil, ct.M{{"log", line}})
	}
	var r Reader
	q, _ := NewQuery("log")
	r.Reset(e.B, q)
	var ev Event
	n := 0
	for r.Next(&ev) {
		n++
	}
	if r.Err() != nil || n != written {
		t.Fatalf("n=%d err=%v", n, r.Err())
	}
}

func TestErrorUnwrap(t *testing.T) {
	var r Reader
	r.Reset([]byte{0x92, 0xa5, 'x'}, nil)
	var ev Event
	if r.Next(&ev) {
		t.Fatal("Next succeeded on a truncated chunk")
	}
	var ce *Error
	if !errors.As(r.Err(), &ce) || !errors.Is(r.Err(), errTruncated) || ce.Offset != 0 {
		t.Fatalf("err = %v", r.Err())
	}
}

func TestNewQuery(t *testing.T) {
	for _, bad := range [][]string{{"a..b"}, {""}, {"x", "x"}, {"a.b.c.d.e.f.g.h.i"}} {
		if _, err := NewQuery(bad...); err == nil {
			t.Errorf("NewQuery(%q) succeeded", bad)
		}
	}
	// A path can be both a leaf and a prefix of another path.
	data := ct.Build(func(e *ct.Enc) { e.V2(et, nil, ct.M{{"k", ct.M{{"ns", "a"}}}}) })
	g := walk(t, data, "k", "k.ns")
	if want := []string{"1795542001.123456789 k=map:81a26e73a161 k.ns=s:a"}; !slices.Equal(g.events, want) {
		t.Fatalf("got %q want %q", g.events, want)
	}
}

// A Reader reused across chunks does not allocate.
func TestReaderNoAllocs(t *testing.T) {
	data := ct.KubeChunk(100)
	q, _ := NewQuery("log", "message", "MESSAGE", "msg", "kubernetes.namespace_name", "kubernetes.container_name")
	var r Reader
	var ev Event
	allocs := testing.AllocsPerRun(20, func() {
		r.Reset(data, q)
		for r.Next(&ev) {
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per chunk, want 0", allocs)
	}
}

func short(s []string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		if len(x) > 200 {
			x = x[:200] + "…"
		}
		out[i] = x
	}
	return out
}

// TestOneKey checks that bodies read through Reader.one give what a scan
// gives: one-key bodies after one that taught it their key, with values of
// every string width and of other kinds, and bodies it must not take.
func TestOneKey(t *testing.T) {
	q, err := NewQuery("log", "msg", "k.a", "longer_key")
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("v", 300)
	for _, tc := range []struct {
		name string
		body ct.M
	}{
		{"fixstr", ct.M{{"log", "short"}}},
		{"str8", ct.M{{"log", strings.Repeat("v", 40)}}},
		{"str16", ct.M{{"log", long}}},
		{"empty", ct.M{{"log", ""}}},
		{"int", ct.M{{"log", 7}}},
		{"map", ct.M{{"log", ct.M{{"a", "x"}}}}},
		{"other key", ct.M{{"msg", "m"}}},
		{"unknown key", ct.M{{"lag", "m"}}},
		{"deeper path", ct.M{{"k", ct.M{{"a", "x"}}}}},
		{"long key", ct.M{{"longer_key", "x"}}},
		{"two keys", ct.M{{"log", "a"}, {"msg", "b"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := ct.Build(func(e *ct.Enc) {
				e.V2(ct.EventTime{Sec: 1}, nil, ct.M{{"log", "teaches the key"}})
				e.V2(ct.EventTime{Sec: 2}, nil, tc.body)
				e.V2(ct.EventTime{Sec: 3}, nil, ct.M{{"log", long}})
			})
			var r, plain Reader
			plain.noMemo = true
			r.Reset(data, q)
			plain.Reset(data, q)
			var ev, pev Event
			for i := 0; r.Next(&ev); i++ {
				if !plain.Next(&pev) || !sameValues(ev.Values, pev.Values) || !bytes.Equal(ev.Body, pev.Body) {
					t.Fatalf("event %d: %v, scanned %v", i, ev.Values, pev.Values)
				}
			}
			if plain.Next(&pev) || r.Err() != nil || plain.Stats() != r.Stats() || r.Stats().Events != 3 {
				t.Fatalf("walks end differently: %+v %v, scanned %+v", r.Stats(), r.Err(), plain.Stats())
			}
		})
	}
}
