package instance

import (
	"context"
	"strings"
	"testing"

	ct "github.com/awoooi/fluent-bit-drain/plugin/chunk/chunktest"
	"github.com/awoooi/fluent-bit-drain/plugin/config"
)

// secretLines are one line per secret form of issue 15, each with the
// secret parts that must reach no store.
var secretLines = []struct {
	line    string
	secrets []string
}{
	{"aws_access_key_id=AKIAIOSFODNN7EXAMPLE aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", []string{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI"}},
	{"uploading with key ASIAY34FZKBOKMUTVV7A now", []string{"ASIAY34FZKBOKMUTVV7A"}},
	{"-----BEGIN RSA PRIVATE KEY----- MIIEpAIBAAKCAQEA75abcdefg+/xyz -----END RSA PRIVATE KEY----- loaded", []string{"MIIEpAIBAAKCAQEA75"}},
	{"proxy headers Cookie: sessionid=38afes7a8; csrftoken=abcdef0123", []string{"38afes7a8", "abcdef0123"}},
	{"upstream GET https://api.example.com/v1/items?api_key=abcd1234secret&page=2 returned 502", []string{"abcd1234secret"}},
	{"login password=hunter2 for alice@example.com with Authorization: Bearer abc.def-ghi", []string{"hunter2", "alice@", "abc.def-ghi"}},
}

// flushLines mines lines as one partition's records and returns the events.
func flushLines(t *testing.T, keys config.Map, lines []string) []map[string]any {
	t.Helper()
	in, events, _ := newInstance(t, keys)
	data := ct.Build(func(e *ct.Enc) {
		for _, l := range lines {
			e.V2(et, nil, ct.M{{"log", l}})
		}
	})
	if st := in.Flush(data, "app.secrets"); st != OK {
		t.Fatalf("Flush = %v", st)
	}
	if err := in.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	return events.events(t)
}

// With Sample_Redact secrets (the default) the sample is the real line with
// only its secrets redacted; with values it is the masked line. Neither the
// sample nor the template holds a secret, with either preset.
func TestSampleRedact(t *testing.T) {
	lines := make([]string, len(secretLines))
	for i, s := range secretLines {
		lines[i] = s.line
	}
	for _, c := range []struct {
		name string
		keys config.Map
	}{
		{"default", nil},
		{"values", config.Map{"Sample_Redact": "values"}},
		{"drain3", config.Map{"Preset": "drain3"}},
		{"drain3 values", config.Map{"Preset": "drain3", "Sample_Redact": "VALUES"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			evs := flushLines(t, c.keys, lines)
			if len(evs) != len(lines) {
				t.Fatalf("%d events for %d distinct lines: %v", len(evs), len(lines), evs)
			}
			values := c.keys["Sample_Redact"] != ""
			samples := map[string]bool{}
			for i, e := range evs {
				tmpl, _ := e["template"].(string)
				sample, _ := e["sample_log"].(string)
				samples[sample] = true
				for _, sl := range secretLines {
					for _, sec := range sl.secrets {
						if strings.Contains(tmpl, sec) || strings.Contains(sample, sec) {
							t.Errorf("event %d holds %q: template %q sample %q", i, sec, tmpl, sample)
						}
					}
				}
				if values == strings.Contains(sample, "<redacted>") {
					t.Errorf("event %d sample %q: want <redacted> only with Sample_Redact secrets", i, sample)
				}
			}
			want := "upstream GET https://api.example.com/v1/items?api_key=<redacted>&page=2 returned 502"
			if !values && !samples[want] {
				t.Errorf("samples %v, want the real line %q among them", samples, want)
			}
		})
	}
}

// The sample is redacted before it is cut to Sample_Bytes: a secret that
// straddles the cut does not leave its first bytes.
func TestSampleRedactBeforeCut(t *testing.T) {
	line := strings.Repeat("x", 40) + " token=" + strings.Repeat("s", 100) + " tail"
	evs := flushLines(t, config.Map{"Sample_Bytes": "62"}, []string{line})
	if len(evs) != 1 {
		t.Fatalf("events %v", evs)
	}
	want := strings.Repeat("x", 40) + " token=<redacted> tail"
	if got := evs[0]["sample_log"]; got != want {
		t.Errorf("sample %q, want %q", got, want)
	}
}

func TestSampleRedactKey(t *testing.T) {
	if _, err := config.Parse(config.Map{"Sample_Redact": "all"}); err == nil || !strings.Contains(err.Error(), "Sample_Redact") {
		t.Errorf("Sample_Redact all: err %v, want it refused", err)
	}
	c, err := config.Parse(config.Map{})
	if err != nil {
		t.Fatal(err)
	}
	if c.SampleRedact != config.SampleRedactSecrets || !strings.Contains(c.String(), "Sample_Redact=secrets") {
		t.Errorf("default Sample_Redact %q (%s), want secrets", c.SampleRedact, c)
	}
}
