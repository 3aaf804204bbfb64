package instance

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/awoooi/fluent-bit-drain/drain"
	"github.com/awoooi/fluent-bit-drain/internal/testutil"
	ct "github.com/awoooi/fluent-bit-drain/plugin/chunk/chunktest"
	"github.com/awoooi/fluent-bit-drain/plugin/config"
)

// BenchmarkFlush is the whole flush path on a 1000-record kubernetes-shaped
// chunk (~320 B records): decode + extract + mine + enqueue. The chunk is
// flushed once before timing, so the miner is hot (the steady state of a
// node: most lines match known templates). ns/record and allocs/record are
// reported per record, and cpu-ns/record: the flushing thread's CPU time,
// which the other processes on a shared machine do not inflate.
func BenchmarkFlush(b *testing.B) {
	benchFlush(b, ct.KubeChunk(1000), 1000)
}

// BenchmarkFlushVaried is BenchmarkFlush on the varied corpus of make
// bench-fluent-bit: the raw lines of all 16 ../shared/data/loghub-2k sets
// interleaved, the first 1000 in one chunk (one partition), repeated.
func BenchmarkFlushVaried(b *testing.B) {
	dir := "../../../shared/data/loghub-2k"
	var sets [][]string
	for _, name := range []string{"Android", "Apache", "BGL", "HDFS", "HPC", "Hadoop", "HealthApp", "Linux",
		"Mac", "OpenSSH", "OpenStack", "Proxifier", "Spark", "Thunderbird", "Windows", "Zookeeper"} {
		data, err := os.ReadFile(filepath.Join(dir, name, name+"_2k.log"))
		if err != nil {
			b.Skipf("shared data not found: %v", err)
		}
		sets = append(sets, strings.Split(string(data), "\n"))
	}
	const n = 1000
	var e ct.Enc
	for i := 0; i < n; i++ {
		line := strings.TrimSuffix(sets[i%len(sets)][i/len(sets)], "\r")
		e.V2(ct.EventTime{Sec: 1795542001, Nsec: uint32(i)}, nil, ct.KubeRecord("shop", "web-7f9c6d8b5-qwert", "nginx", line))
	}
	benchFlush(b, e.B, n)
}

// benchFlush flushes the chunk data of n records, both presets.
func benchFlush(b *testing.B, data []byte, n int) {
	for _, preset := range []string{"default", "drain3"} {
		b.Run(preset, func(b *testing.B) {
			cfg, err := config.Parse(config.Map{"Preset": preset})
			if err != nil {
				b.Fatal(err)
			}
			in, err := New(cfg, &testutil.Log{}, io.Discard)
			if err != nil {
				b.Fatal(err)
			}
			defer in.Close(context.Background())
			tag := ct.KubeTag("web-7f9c6d8b5-qwert", "shop", "nginx")
			in.Flush(data, tag)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			cpu := testutil.StartCPU()
			for b.Loop() {
				if in.Flush(data, tag) != OK {
					b.Fatal("flush failed")
				}
			}
			b.ReportMetric(float64(cpu.Stop().Nanoseconds())/float64(b.N*n), "cpu-ns/record")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// BenchmarkMinerAlone is the miner's share of BenchmarkFlush: the same
// lines, partition and presets, straight into Miner.Add.
func BenchmarkMinerAlone(b *testing.B) {
	for _, preset := range []string{"default", "drain3"} {
		b.Run(preset, func(b *testing.B) {
			cfg, err := config.Parse(config.Map{"Preset": preset})
			if err != nil {
				b.Fatal(err)
			}
			m, err := drain.New(cfg.Drain)
			if err != nil {
				b.Fatal(err)
			}
			lines := make([]string, 1000)
			for i := range lines {
				lines[i] = ct.LogLine(i)
				m.Add("shop/nginx", lines[i])
			}
			b.ReportAllocs()
			cpu := testutil.StartCPU()
			i := 0
			for b.Loop() {
				m.Add("shop/nginx", lines[i])
				if i++; i == len(lines) {
					i = 0
				}
			}
			b.ReportMetric(float64(cpu.Stop().Nanoseconds())/float64(b.N), "cpu-ns/record")
		})
	}
}
