package chunk

import (
	"testing"

	"github.com/awoooi/fluent-bit-drain/internal/testutil"
	ct "github.com/awoooi/fluent-bit-drain/plugin/chunk/chunktest"
)

// The benchmarks decode a 1000-record kubernetes-shaped chunk (~320 B per
// record) and pull out the message and partition values. One op is one
// record: ns/op is ns/record. bench_test.go runs fluent-bit-go's decoder on
// the same chunk.

const benchRecords = 1000

var benchPaths = []string{"log", "message", "MESSAGE", "msg", "kubernetes.namespace_name", "kubernetes.container_name"}

func BenchmarkReader(b *testing.B) {
	benchReader(b, ct.KubeChunk(benchRecords), true)
}

// BenchmarkReaderTail is BenchmarkReader on the records of Fluent Bit's
// tail input, {"log": line}, with the same lines.
func BenchmarkReaderTail(b *testing.B) {
	var e ct.Enc
	for i := range benchRecords {
		e.V2(ct.EventTime{Sec: 1795542001, Nsec: uint32(i)}, nil, ct.M{{"log", ct.LogLine(i)}})
	}
	benchReader(b, e.B, false)
}

// benchReader reads data's records in turn; part: each has a namespace.
func benchReader(b *testing.B, data []byte, part bool) {
	q, _ := NewQuery(benchPaths...)
	var r Reader
	var ev Event
	b.SetBytes(int64(len(data) / benchRecords))
	b.ReportAllocs()
	cpu := testutil.StartCPU()
	n := 0
	for b.Loop() {
		if n == 0 {
			r.Reset(data, q)
		}
		if !r.Next(&ev) || len(ev.Values[0].Bytes) == 0 || part && len(ev.Values[4].Bytes) == 0 {
			b.Fatal("record missing")
		}
		if n++; n == benchRecords {
			n = 0
		}
	}
	b.ReportMetric(float64(cpu.Stop().Nanoseconds())/float64(b.N), "cpu-ns/op")
}
