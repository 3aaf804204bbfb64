package drain

import (
	"runtime"
	"testing"

	"github.com/awoooi/fluent-bit-drain/internal/testutil"
)

// BenchmarkAddFlood: a flood of never-seen lines (floodLines: 3 to 30
// random words of 3 to 9 letters) into one partition with the default
// bounds, after 100,000 such lines: the partition is past its new-template
// budget, every line is a miss that scores its leaf's window and (default
// preset) 16 clusters of other leaves, then is throttled.
func BenchmarkAddFlood(b *testing.B) {
	lines := floodLines(11, 200000)
	for _, preset := range []string{"default", "drain3"} {
		b.Run(preset, func(b *testing.B) {
			cfg, _ := Preset(preset)
			m, _ := New(cfg)
			for _, l := range lines[:100000] {
				m.Add("flood", l)
			}
			st0 := m.Stats()
			b.ReportAllocs()
			cpu := startCPU(b)
			for i := 0; i < b.N; i++ {
				sinkResult = m.Add("flood", lines[100000+i%100000])
			}
			cpu.stop(b)
			st := m.Stats()
			b.ReportMetric(float64(st.Scored-st0.Scored)/float64(b.N), "scored/line")
			b.ReportMetric(float64(st.Throttled-st0.Throttled)/float64(b.N), "throttled/line")
		})
	}
}

// BenchmarkFloodMillion: 1,000,000 never-seen lines into a fresh miner
// (default preset and bounds), timed by thread CPU per 100,000 lines:
// first-ns/line and last-ns/line show that the cost per line does not grow
// with the flood's length, avg-ns/line is the whole run's. Run it with
// -benchtime 1x: one op is the whole flood.
func BenchmarkFloodMillion(b *testing.B) {
	const chunk, chunks = 100000, 10
	for i := 0; i < b.N; i++ {
		cfg, _ := Preset("default")
		m, _ := New(cfg)
		var first, last, total float64
		for k := range chunks {
			b.StopTimer()
			lines := floodLines(uint64(100+k), chunk)
			runtime.GC()
			b.StartTimer()
			runtime.LockOSThread()
			t0 := testutil.ThreadCPU()
			for _, l := range lines {
				sinkResult = m.Add("flood", l)
			}
			ns := float64((testutil.ThreadCPU() - t0).Nanoseconds()) / chunk
			runtime.UnlockOSThread()
			if k == 0 {
				first = ns
			}
			last = ns
			total += ns / chunks
		}
		b.ReportMetric(first, "first-ns/line")
		b.ReportMetric(last, "last-ns/line")
		b.ReportMetric(total, "avg-ns/line")
		b.ReportMetric(float64(m.Stats().Clusters), "clusters")
	}
}
