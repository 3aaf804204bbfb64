package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/fluent/fluent-bit-go/output"

	"github.com/awoooi/fluent-bit-drain/internal/testutil"
	ct "github.com/awoooi/fluent-bit-drain/plugin/chunk/chunktest"
	"github.com/awoooi/fluent-bit-drain/plugin/config"
	"github.com/awoooi/fluent-bit-drain/plugin/instance"
)

// The C test host cannot hand this plugin a context it did not issue (its
// no_context switch belongs to the probe plugin), so the lookup path of
// the exports is tested here, in process.
func TestUnknownContext(t *testing.T) {
	var cell [16]byte
	for _, tc := range []struct {
		name string
		ctx  unsafe.Pointer
	}{
		{"nil", nil},
		{"never issued", unsafe.Pointer(&cell)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := registry.missing.Load()
			data := []byte{0x90}
			if got := FLBPluginFlushCtx(tc.ctx, unsafe.Pointer(&data[0]), 1, nil); got != output.FLB_RETRY {
				t.Errorf("FlushCtx = %d, want FLB_RETRY (%d)", got, output.FLB_RETRY)
			}
			if got := registry.missing.Load() - before; got != 1 {
				t.Errorf("missing counted %d times, want 1", got)
			}
			if got := FLBPluginExitCtx(tc.ctx); got != output.FLB_ERROR {
				t.Errorf("ExitCtx = %d, want FLB_ERROR (%d)", got, output.FLB_ERROR)
			}
		})
	}
}

// A handle is forgotten by ExitCtx: a late flush with it is retried, not
// sent to a closed instance or to freed memory.
func TestReleasedContext(t *testing.T) {
	var cell [16]byte
	key := uintptr(unsafe.Pointer(&cell))
	registry.m.Store(key, &entry{seq: 1})
	if lookup(unsafe.Pointer(&cell)) == nil {
		t.Fatal("stored handle not found")
	}
	registry.m.Delete(key)
	if e := lookup(unsafe.Pointer(&cell)); e != nil {
		t.Fatalf("released handle still resolves to %+v", e)
	}
	if got := FLBPluginFlushCtx(unsafe.Pointer(&cell), nil, 0, nil); got != output.FLB_RETRY {
		t.Errorf("FlushCtx = %d, want FLB_RETRY", got)
	}
}

// newKubeInstance starts an instance that maps kube.* tags to k8s_pod, logs
// into out and writes its events nowhere; it is closed when tb ends.
func newKubeInstance(tb testing.TB, out *testutil.Log) *instance.Instance {
	tb.Helper()
	cfg, err := config.Parse(config.Map{"Source_Map": "kube.=k8s_pod"})
	if err != nil {
		tb.Fatal(err)
	}
	in, err := instance.New(cfg, out, io.Discard)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { in.Close(context.Background()) })
	return in
}

// FlushCtx resolves a live handle to its instance, mines the chunk and,
// when the instance has a flush histogram, times the flush once.
func TestFlushTimed(t *testing.T) {
	var out testutil.Log
	in := newKubeInstance(t, &out)
	var observed []time.Duration
	var cell [16]byte
	key := uintptr(unsafe.Pointer(&cell))
	registry.m.Store(key, &entry{in: in, seq: 1, log: newPanicLimiter(&out, time.Second),
		observe: func(d time.Duration) { observed = append(observed, d) }})
	defer registry.m.Delete(key)
	data := ct.KubeChunk(20)
	tag := []byte("kube.var.log.containers.x\x00")
	for i := range 3 {
		got := flush(unsafe.Pointer(&cell), unsafe.Pointer(&data[0]), len(data), unsafe.Pointer(&tag[0]))
		if got != output.FLB_OK {
			t.Fatalf("flush %d = %d, want FLB_OK", i, got)
		}
	}
	if st := in.Stats(); st.Chunks != 3 || st.Records != 60 || st.Bytes != 3*uint64(len(data)) {
		t.Errorf("stats %+v, want 3 chunks of 20 records", st)
	}
	if len(observed) != 3 || observed[0] <= 0 {
		t.Errorf("observed %v, want 3 positive durations", observed)
	}
}

func TestOptionalExports(t *testing.T) {
	if a, b := FLBPluginPreRegister(0), FLBPluginPreRegister(1); a != 0 || b != 0 {
		t.Errorf("PreRegister(0), (1) = %d, %d, want 0, 0", a, b)
	}
	if got := FLBPluginOutputPreRun(1); got != 0 {
		t.Errorf("OutputPreRun = %d, want 0", got)
	}
	FLBPluginOutputPreExit(1)
	if got := FLBPluginRegister(nil); got != -1 {
		t.Errorf("Register(nil) = %d, want -1", got)
	}
	FLBPluginUnregister(nil)
}

func TestPanicLimiter(t *testing.T) {
	var out testutil.Log
	lim := newPanicLimiter(&out, 10*time.Second)
	now := time.Unix(1000, 0)
	lim.now = func() time.Time { return now }
	step := func(d time.Duration, format string, args ...any) {
		now = now.Add(d)
		lim.Printf(format, args...)
	}
	step(0, "[drain] panic in flush (tag %s), chunk acknowledged: %v", "a", "boom") // logged
	step(time.Second, "[drain] panic in flush (tag %s), chunk acknowledged: %v", "a", "boom")
	step(time.Second, "[drain] seed: %d known templates loaded", 3) // not a panic: passes
	step(time.Second, "[drain] panic in seed (recovered): %v", "x")
	step(7*time.Second, "[drain] panic in flush (tag %s), chunk acknowledged: %v", "b", "boom") // 10 s: logged
	step(time.Second, "[drain] panic in flush (tag %s), chunk acknowledged: %v", "c", "boom")
	lim.flushSuppressed()
	lim.flushSuppressed() // nothing left
	want := []string{
		"[drain] panic in flush (tag a), chunk acknowledged: boom",
		"[drain] seed: 3 known templates loaded",
		"[drain] panic in flush (tag b), chunk acknowledged: boom (2 more panics not logged since the last one)",
		"[drain] 1 more panics not logged since the last one",
	}
	if out.String() != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", out.String(), strings.Join(want, "\n"))
	}
}

// BenchmarkFlushExport is the export's own cost around Instance.Flush
// (handle lookup, fault-handler check, tag view, and the two clock reads
// when the flush is timed) on a 1000-record chunk; one op is one chunk.
func BenchmarkFlushExport(b *testing.B) {
	var out testutil.Log
	in := newKubeInstance(b, &out)
	data := ct.KubeChunk(1000)
	tag := []byte("kube.var.log.containers.x\x00")
	for _, timed := range []bool{false, true} {
		b.Run(map[bool]string{false: "untimed", true: "timed"}[timed], func(b *testing.B) {
			var cell [16]byte
			key := uintptr(unsafe.Pointer(&cell))
			e := &entry{in: in, seq: 1, log: newPanicLimiter(&out, time.Second)}
			var n int
			if timed {
				e.observe = func(time.Duration) { n++ }
			}
			registry.m.Store(key, e)
			defer registry.m.Delete(key)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if flush(unsafe.Pointer(&cell), unsafe.Pointer(&data[0]), len(data), unsafe.Pointer(&tag[0])) != output.FLB_OK {
					b.Fatal("flush failed")
				}
			}
		})
	}
}
