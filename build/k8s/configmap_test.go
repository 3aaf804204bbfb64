package k8s

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite 20-configmap.yaml from the repository's configuration files")

const configMapFile = "20-configmap.yaml"

// configFiles maps ConfigMap keys to the repository files they carry. The keys are the file
// names under the mount point /fluent-bit/etc/conf, the same names the image uses.
var configFiles = []struct{ key, file string }{
	{"fluent-bit.conf", "fluent-bit.conf"},
	{"plugins.conf", "build/plugins.conf"},
	{"custom_parsers.conf", "build/parsers.conf"},
}

// renderConfigMap writes the ConfigMap with each file as a literal block scalar.
func renderConfigMap() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`# Generated from fluent-bit.conf, build/plugins.conf and build/parsers.conf; do not edit.
# Regenerate with: cd build/k8s && go test -run TestConfigMap -update
# After a change, restart the pods (kubectl -n logging rollout restart daemonset/fluent-bit-drain):
# hot reload is not used.
apiVersion: v1
kind: ConfigMap
metadata:
  name: fluent-bit-drain-config
  namespace: logging
  labels:
    app.kubernetes.io/name: fluent-bit-drain
data:
`)
	for _, cf := range configFiles {
		body, err := os.ReadFile(filepath.Join(root, cf.file))
		if err != nil {
			return nil, err
		}
		s := string(body)
		// `|` keeps exactly one final newline, so the round trip is exact only for files
		// that end with one; leading spaces would be taken as the block's indentation.
		if !strings.HasSuffix(s, "\n") || strings.HasSuffix(s, "\n\n") || s[0] == ' ' || s[0] == '\t' {
			return nil, fmt.Errorf("%s must start unindented and end with exactly one newline", cf.file)
		}
		fmt.Fprintf(&b, "  %s: |\n", cf.key)
		for _, l := range strings.SplitAfter(strings.TrimSuffix(s, "\n"), "\n") {
			if l == "\n" {
				b.WriteString(l)
				continue
			}
			b.WriteString("    " + l)
		}
		b.WriteString("\n")
	}
	return b.Bytes(), nil
}

func TestConfigMapUpToDate(t *testing.T) {
	want, err := renderConfigMap()
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(configMapFile, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(configMapFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is out of date: run cd build/k8s && go test -run TestConfigMap -update", configMapFile)
	}
}

// TestConfigMapContent decodes the ConfigMap as Kubernetes would and checks that every
// file arrives byte-identical to the repository's.
func TestConfigMapContent(t *testing.T) {
	cm := one(t, "ConfigMap", loadManifests(t).configMaps)
	if len(cm.Data) != len(configFiles) {
		t.Errorf("ConfigMap has %d keys, want %d", len(cm.Data), len(configFiles))
	}
	for _, cf := range configFiles {
		want, err := os.ReadFile(filepath.Join(root, cf.file))
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := cm.Data[cf.key]; !ok || got != string(want) {
			t.Errorf("ConfigMap key %s differs from %s", cf.key, cf.file)
		}
	}
}
