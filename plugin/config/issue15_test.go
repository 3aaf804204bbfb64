package config

import (
	"strings"
	"testing"
)

func TestPGCompatView(t *testing.T) {
	for _, c := range []struct {
		view, table string
		ok          bool
	}{
		{"", "", true},
		{"log_cluster_records", "", true},
		{"app.log_cluster_records", "app.log_templates", true},
		{"log_templates", "", false}, // the table itself
		{"app.t", "app.t", false},
		{`v"; DROP TABLE x; --`, "", false},
		{"a.b.c", "", false},
		{"1view", "", false},
	} {
		cfg, err := Parse(Map{KeyPGCompatView: c.view, KeyPGTable: c.table})
		if c.ok != (err == nil) {
			t.Errorf("PG_Compat_View %q PG_Table %q: err %v, want ok %v", c.view, c.table, err, c.ok)
			continue
		}
		if err != nil {
			if !strings.Contains(err.Error(), KeyPGCompatView) {
				t.Errorf("error %q does not name %s", err, KeyPGCompatView)
			}
			continue
		}
		if cfg.Sink.PGCompatView != c.view {
			t.Errorf("PGCompatView %q, want %q", cfg.Sink.PGCompatView, c.view)
		}
		want := KeyPGCompatView + "=" + c.view
		if c.view == "" {
			want = KeyPGCompatView + `=""`
		}
		if !strings.Contains(cfg.String(), want) {
			t.Errorf("String() %q lacks %q", cfg.String(), want)
		}
	}
}

func TestSampleRedactValues(t *testing.T) {
	for v, want := range map[string]string{"": SampleRedactSecrets, "secrets": SampleRedactSecrets, "Values": SampleRedactValues} {
		cfg, err := Parse(Map{KeySampleRedact: v})
		if err != nil {
			t.Errorf("Sample_Redact %q: %v", v, err)
		} else if cfg.SampleRedact != want {
			t.Errorf("Sample_Redact %q: %q, want %q", v, cfg.SampleRedact, want)
		}
	}
	if _, err := Parse(Map{KeySampleRedact: "none"}); err == nil || !strings.Contains(err.Error(), KeySampleRedact) {
		t.Errorf("Sample_Redact none: err %v, want it refused", err)
	}
}
