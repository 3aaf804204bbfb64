package drain

import (
	"testing"

	ct "github.com/awoooi/fluent-bit-drain/plugin/chunk/chunktest"
)

// BenchmarkScanKube is the default tokenizer alone on the lines of the
// plugin's BenchmarkFlush chunk: the scanner's share of the flush path.
func BenchmarkScanKube(b *testing.B) {
	lines := make([]string, 1000)
	for i := range lines {
		lines[i] = ct.LogLine(i)
	}
	cfg, _ := Preset("default")
	tk := newDefaultTokenizer(&cfg)
	s := &scratch{}
	b.ReportAllocs()
	cpu := startCPU(b)
	for i := 0; i < b.N; i++ {
		tk.tokens(s, lines[i%len(lines)], true)
	}
	cpu.stop(b)
}
