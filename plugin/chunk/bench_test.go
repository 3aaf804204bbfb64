package chunk

// The comparison with fluent-bit-go's decoder (the pinned a7a013e2473c,
// which the plugin itself uses for registration) runs with the others:
// go test -run '^$' -bench . -benchmem ./plugin/chunk

import (
	"testing"
	"unsafe"

	"github.com/fluent/fluent-bit-go/output"

	"github.com/awoooi/fluent-bit-drain/internal/testutil"
	ct "github.com/awoooi/fluent-bit-drain/plugin/chunk/chunktest"
)

// BenchmarkFluentBitGoDecoder is fluent-bit-go's own decoder on the same
// chunk: it copies the chunk, then decodes each record into a
// map[interface{}]interface{} by reflection.
func BenchmarkFluentBitGoDecoder(b *testing.B) {
	data := ct.KubeChunk(benchRecords)
	b.SetBytes(int64(len(data) / benchRecords))
	b.ReportAllocs()
	var dec *output.FLBDecoder
	cpu := testutil.StartCPU()
	n := 0
	for b.Loop() {
		if n == 0 {
			dec = output.NewDecoder(unsafe.Pointer(&data[0]), len(data))
		}
		ret, _, rec := output.GetRecord(dec)
		if ret != 0 {
			b.Fatal("decode failed")
		}
		log, _ := rec["log"].([]byte)
		k8s, _ := rec["kubernetes"].(map[interface{}]interface{})
		ns, _ := k8s["namespace_name"].([]byte)
		cn, _ := k8s["container_name"].([]byte)
		if len(log) == 0 || len(ns) == 0 || len(cn) == 0 {
			b.Fatal("record missing")
		}
		if n++; n == benchRecords {
			n = 0
		}
	}
	b.ReportMetric(float64(cpu.Stop().Nanoseconds())/float64(b.N), "cpu-ns/op")
}
