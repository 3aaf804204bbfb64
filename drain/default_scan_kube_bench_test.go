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
	benchScan(b, lines)
}
