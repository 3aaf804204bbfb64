package instance

import (
	"testing"

	"github.com/awoooi/fluent-bit-drain/plugin/config"
)

// The Mask key applies under both presets: the line "hello world" gives
// the template "<FOO> world", and with Sample_Redact values the sample is
// masked by the same rule.
func TestMaskKey(t *testing.T) {
	for _, preset := range []string{"default", "drain3"} {
		t.Run(preset, func(t *testing.T) {
			evs := flushLines(t, config.Map{"Preset": preset, "Mask": "FOO=hello", "Sample_Redact": "values"}, []string{"hello world"})
			if len(evs) != 1 {
				t.Fatalf("%d events, want 1: %v", len(evs), evs)
			}
			if tmpl := evs[0]["template"]; tmpl != "<FOO> world" {
				t.Errorf("template %q, want %q", tmpl, "<FOO> world")
			}
			if s := evs[0]["sample_log"]; s != "<FOO> world" {
				t.Errorf("sample %q, want %q", s, "<FOO> world")
			}
		})
	}
}
