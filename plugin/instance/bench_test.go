package instance

import (
	"context"
	"io"
	"testing"

	ct "github.com/awoooi/fluent-bit-drain/plugin/chunk/chunktest"
	"github.com/awoooi/fluent-bit-drain/plugin/config"
)

// BenchmarkFlush is the whole flush path on a 1000-record kubernetes-shaped
// chunk (~320 B records): decode + extract + mine + enqueue. The chunk is
// flushed once before timing, so the miner is hot (the steady state of a
// node: most lines match known templates). ns/record and allocs/record are
// reported per record.
func BenchmarkFlush(b *testing.B) {
	for _, preset := range []string{"default", "drain3"} {
		b.Run(preset, func(b *testing.B) {
			cfg, err := config.Parse(config.Map{"Preset": preset})
			if err != nil {
				b.Fatal(err)
			}
			in, err := New(cfg, &logBuf{}, io.Discard)
			if err != nil {
				b.Fatal(err)
			}
			defer in.Close(context.Background())
			const n = 1000
			data := ct.KubeChunk(n)
			tag := ct.KubeTag("web-7f9c6d8b5-qwert", "shop", "nginx")
			in.Flush(data, tag)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if in.Flush(data, tag) != OK {
					b.Fatal("flush failed")
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
			b.ReportMetric(0, "ns/op")
		})
	}
}
