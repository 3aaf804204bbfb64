package instance

import (
	"io"
	"testing"

	"github.com/awoooi/fluent-bit-drain/internal/testutil"
	ct "github.com/awoooi/fluent-bit-drain/plugin/chunk/chunktest"
	"github.com/awoooi/fluent-bit-drain/plugin/config"
)

// FuzzFlush: no chunk and no tag makes Flush panic, and Flush answers
// Error only when nothing in the chunk decoded.
func FuzzFlush(f *testing.F) {
	f.Add(ct.KubeChunk(2), ct.KubeTag("p", "ns", "c"))
	f.Add(ct.Build(func(e *ct.Enc) {
		e.V2(et, nil, ct.M{{"SYSLOG_IDENTIFIER", 7}, {"MESSAGE", "a\xff\x00b\r\n"}})
		e.V1(float64(3), ct.M{{"kubernetes", "not a map"}, {"log", ct.Bin("x")}})
	}), "host.x")
	f.Add([]byte{0xdd, 0, 0, 0, 2}, "node.y")
	cfg, err := config.Parse(config.Map{"Max_Line_Bytes": "256", "Max_Tokens": "16"})
	if err != nil {
		f.Fatal(err)
	}
	in, err := New(cfg, &testutil.Log{}, io.Discard)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte, tag string) {
		before := in.Stats()
		st := in.Flush(data, tag)
		after := in.Stats()
		decoded := after.Records - before.Records
		for k, v := range after.Skipped {
			decoded += v - before.Skipped[k]
		}
		if st == Error && decoded != 0 {
			t.Fatalf("Error after decoding %d events", decoded)
		}
		if st != OK && st != Error {
			t.Fatalf("status %v", st)
		}
	})
}
