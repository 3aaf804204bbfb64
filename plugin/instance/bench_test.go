package instance

import (
	"context"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
	benchFlush(b, [][]byte{ct.KubeChunk(1000)}, 1000, kubeTag, nil)
}

var kubeTag = ct.KubeTag("web-7f9c6d8b5-qwert", "shop", "nginx")

// BenchmarkFlushVaried is BenchmarkFlush on the varied corpus of make
// bench-fluent-bit: the raw lines of all 16 ../shared/data/loghub-2k sets
// interleaved, the first 1000 in one chunk (one partition), repeated.
func BenchmarkFlushVaried(b *testing.B) {
	benchFlush(b, variedChunks(b, 1000, 1000, kubeBody), 1000, kubeTag, nil)
}

// BenchmarkFlushVariedAll is BenchmarkFlushVaried on the whole corpus, its
// 32,000 lines in 32 chunks of 1000 flushed in turn, as Fluent Bit feeds it
// in make bench-fluent-bit: the miner's working set (templates, memo, tree)
// is the corpus's, not 1000 lines that stay in the caches.
func BenchmarkFlushVariedAll(b *testing.B) {
	benchFlush(b, variedChunks(b, 32000, 1000, kubeBody), 1000, kubeTag, nil)
}

// BenchmarkFlushVariedTail is BenchmarkFlushVariedAll as make
// bench-fluent-bit really feeds it: records of Fluent Bit's tail input,
// {"log": line}, tagged "loghub", with fbbench's Message_Key and
// Source_Map (so the source is app_log and the partition the tag).
func BenchmarkFlushVariedTail(b *testing.B) {
	benchFlush(b, variedChunks(b, 32000, 1000, tailBody), 1000, "loghub", config.Map{
		config.KeyMessageKey: "log,message,MESSAGE,msg",
		config.KeySourceMap:  "kube.=k8s_pod,host.=journald,node.=host_syslog",
	})
}

func kubeBody(line string) ct.M { return ct.KubeRecord("shop", "web-7f9c6d8b5-qwert", "nginx", line) }

func tailBody(line string) ct.M { return ct.M{{"log", line}} }

// variedChunks encodes the first n lines of the interleaved Loghub-2k sets
// as records made by body, per records to a chunk.
func variedChunks(b *testing.B, n, per int, body func(line string) ct.M) [][]byte {
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
	var chunks [][]byte
	var e ct.Enc
	for i := 0; i < n; i++ {
		line := strings.TrimSuffix(sets[i%len(sets)][i/len(sets)], "\r")
		e.V2(ct.EventTime{Sec: 1795542001, Nsec: uint32(i)}, nil, body(line))
		if (i+1)%per == 0 || i == n-1 {
			chunks, e = append(chunks, e.B), ct.Enc{}
		}
	}
	return chunks
}

// benchFlush flushes chunks of n records each in turn with tag, both
// presets on top of settings, after one flush of every chunk.
func benchFlush(b *testing.B, chunks [][]byte, n int, tag string, settings config.Map) {
	for _, preset := range []string{"default", "drain3"} {
		b.Run(preset, func(b *testing.B) {
			m := config.Map{config.KeyPreset: preset}
			maps.Copy(m, settings)
			cfg, err := config.Parse(m)
			if err != nil {
				b.Fatal(err)
			}
			in, err := New(cfg, &testutil.Log{}, io.Discard)
			if err != nil {
				b.Fatal(err)
			}
			defer in.Close(context.Background())
			for _, c := range chunks {
				in.Flush(c, tag)
			}
			// The sink writes the first pass's events in its own goroutine:
			// let it finish, so that the loop measures the steady state.
			for end := time.Now().Add(10 * time.Second); in.sink.Stats().PendingTemplates > 0 && time.Now().Before(end); {
				time.Sleep(5 * time.Millisecond)
			}
			b.SetBytes(int64(len(chunks[0])))
			b.ReportAllocs()
			cpu := testutil.StartCPU()
			i := 0
			for b.Loop() {
				if in.Flush(chunks[i], tag) != OK {
					b.Fatal("flush failed")
				}
				if i++; i == len(chunks) {
					i = 0
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
