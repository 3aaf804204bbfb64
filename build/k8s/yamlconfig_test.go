package k8s

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// yamlConfig is the subset of Fluent Bit's YAML format that fluent-bit.yaml uses. Strict
// decoding rejects any other top-level key, so a section added only there is noticed.
type yamlConfig struct {
	Service  map[string]any `json:"service"`
	Pipeline struct {
		Inputs  []map[string]any `json:"inputs"`
		Filters []map[string]any `json:"filters"`
		Outputs []map[string]any `json:"outputs"`
	} `json:"pipeline"`
}

// kvs flattens a YAML plugin map into lower-case keys and string values. sigs.k8s.io/yaml
// reads YAML 1.1, so on/off arrive as booleans and numbers as float64: they are turned back
// into Fluent Bit's strings. A list becomes one value per element, as Fluent Bit sets a
// multi-valued property once per element.
func kvs(t *testing.T, m map[string]any) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for k, v := range m {
		k = strings.ToLower(k)
		switch v := v.(type) {
		case []any:
			for _, e := range v {
				out[k] = append(out[k], scalar(t, k, e))
			}
		default:
			out[k] = append(out[k], scalar(t, k, v))
		}
	}
	return out
}

func scalar(t *testing.T, k string, v any) string {
	t.Helper()
	switch v := v.(type) {
	case string:
		return v
	case bool:
		if v {
			return "on"
		}
		return "off"
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	t.Fatalf("key %s: unexpected YAML value %#v", k, v)
	return ""
}

func classicKVs(s section) map[string][]string {
	out := map[string][]string{}
	for _, e := range s.entries {
		k := strings.ToLower(e.key)
		out[k] = append(out[k], e.value)
	}
	return out
}

// normBool maps Fluent Bit's boolean spellings to on/off so "On", "true" and a YAML bool
// compare equal; other values compare exactly.
func normBool(v string) string {
	switch strings.ToLower(v) {
	case "on", "true", "yes":
		return "on"
	case "off", "false", "no":
		return "off"
	}
	return v
}

func sameKVs(t *testing.T, where string, classic, yml map[string][]string) {
	t.Helper()
	for k, cv := range classic {
		yv, ok := yml[k]
		if !ok {
			t.Errorf("%s: %s is in fluent-bit.conf but not in fluent-bit.yaml", where, k)
			continue
		}
		if len(cv) != len(yv) {
			t.Errorf("%s: %s has %d values in fluent-bit.conf, %d in fluent-bit.yaml", where, k, len(cv), len(yv))
			continue
		}
		for i := range cv {
			if normBool(cv[i]) != normBool(yv[i]) {
				t.Errorf("%s: %s = %q in fluent-bit.conf, %q in fluent-bit.yaml", where, k, cv[i], yv[i])
			}
		}
	}
	for k := range yml {
		if _, ok := classic[k]; !ok {
			t.Errorf("%s: %s is in fluent-bit.yaml but not in fluent-bit.conf", where, k)
		}
	}
}

// TestYAMLMatchesClassic: fluent-bit.yaml describes the same service, inputs, filters and
// outputs as fluent-bit.conf, in the same order, key by key (keys case-insensitive).
func TestYAMLMatchesClassic(t *testing.T) {
	yb, err := os.ReadFile(filepath.Join(root, "fluent-bit.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var y yamlConfig
	if err := yaml.UnmarshalStrict(yb, &y); err != nil {
		t.Fatalf("fluent-bit.yaml: %v", err)
	}
	cb, err := os.ReadFile(filepath.Join(root, "fluent-bit.conf"))
	if err != nil {
		t.Fatal(err)
	}
	conf, err := parseClassic(string(cb))
	if err != nil {
		t.Fatalf("fluent-bit.conf: %v", err)
	}
	svc := sectionsNamed(conf, "SERVICE")
	if len(svc) != 1 {
		t.Fatalf("fluent-bit.conf: want one [SERVICE], got %d", len(svc))
	}
	sameKVs(t, "service", classicKVs(svc[0]), kvs(t, y.Service))
	for _, tt := range []struct {
		name string
		yml  []map[string]any
	}{
		{"INPUT", y.Pipeline.Inputs}, {"FILTER", y.Pipeline.Filters}, {"OUTPUT", y.Pipeline.Outputs},
	} {
		cs := sectionsNamed(conf, tt.name)
		if len(cs) != len(tt.yml) {
			t.Errorf("%d [%s] in fluent-bit.conf, %d in fluent-bit.yaml", len(cs), tt.name, len(tt.yml))
			continue
		}
		for i := range cs {
			sameKVs(t, tt.name+" #"+strconv.Itoa(i+1), classicKVs(cs[i]), kvs(t, tt.yml[i]))
		}
	}
	if len(sectionsNamed(conf, "PLUGINS")) > 0 {
		t.Error("[PLUGINS] in fluent-bit.conf: it belongs in plugins.conf")
	}
}

func TestExpandDefaults(t *testing.T) {
	env := map[string]string{"DRAIN_LOG_DIR": "/tmp/logs", "EMPTY": ""}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok && v != "" }
	for _, tt := range []struct{ in, want string }{
		{"${DRAIN_LOG_DIR:-/var/log}/syslog,${DRAIN_LOG_DIR:-/var/log}/kern.log", "/tmp/logs/syslog,/tmp/logs/kern.log"},
		{"${DRAIN_STATE_DIR:-/var/log}/flb_kube.db", "/var/log/flb_kube.db"},
		{"${EMPTY:-x}", "x"},
		{"${NODE_NAME}", "${NODE_NAME}"},
	} {
		if got := expandDefaults(tt.in, lookup); got != tt.want {
			t.Errorf("expandDefaults(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
