package config

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/awoooi/fluent-bit-drain/drain"
)

func TestDefaults(t *testing.T) {
	t.Setenv("NODE_NAME", "node-a1")
	c, err := Parse(Map{})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := drain.Preset("default")
	switch {
	case !c.Sink.Flags.Enabled || !c.Sink.Flags.ShadowMode:
		t.Errorf("Enabled=%v ShadowMode=%v, want on, on", c.Sink.Flags.Enabled, c.Sink.Flags.ShadowMode)
	case !slices.Equal(c.Sink.AlertKinds, []string{"new"}):
		t.Errorf("AlertKinds = %q, want [new]", c.Sink.AlertKinds)
	case !slices.Equal(c.MessageKeys, []string{"log", "message", "MESSAGE", "msg"}):
		t.Errorf("MessageKeys = %q", c.MessageKeys)
	case c.PartitionKeys != nil || c.Source != "":
		t.Errorf("PartitionKeys = %q, Source = %q", c.PartitionKeys, c.Source)
	case c.Drain.Depth != want.Depth || c.Drain.SimTh != want.SimTh || len(c.Drain.Masks) != len(want.Masks):
		t.Errorf("Drain = %+v, want the default preset %+v", c.Drain, want)
	case c.Sink.PGTable != "log_templates" || c.Sink.RedisPrefix != "log_anomaly" || c.Sink.NewListMax != 200 || c.Sink.NewListTTL != 7*24*time.Hour:
		t.Errorf("store defaults: %+v", c)
	case c.Sink.FlushInterval != time.Second || c.ExitTimeout != 5*time.Second || c.Sink.QueueBudget != 50000 || c.Sink.SampleBytes != 500:
		t.Errorf("timing defaults: %+v", c)
	case c.Sink.NodeName != "node-a1":
		t.Errorf("NodeName = %q, want NODE_NAME", c.Sink.NodeName)
	case c.MetricsListen != "" || c.TestPanic != "":
		t.Errorf("MetricsListen = %q, TestPanic = %q", c.MetricsListen, c.TestPanic)
	}
	for tag, src := range map[string]string{
		"kube.var.log.containers.a_b_c-1.log": "k8s_pod",
		"host.kubelet.service":                "journald",
		"node.syslog.var.log.syslog":          "host_syslog",
		"myapp":                               "app_log",
	} {
		if got := c.SourceFor(tag); got != src {
			t.Errorf("SourceFor(%q) = %q, want %q", tag, got, src)
		}
	}
	t.Setenv("NODE_NAME", "")
	if c, _ := Parse(Map{}); c.Sink.NodeName == "" {
		t.Error("NodeName empty without NODE_NAME; want the host name")
	}
}

func TestValues(t *testing.T) {
	c, err := Parse(Map{
		"enabled":        "OFF", // case-insensitive key and value
		"Shadow_Mode":    "no",
		"Alert_Kinds":    " Generalized , new,new",
		"Message_Key":    " msg , log ",
		"Partition_Key":  "kubernetes.namespace_name,app",
		"Source":         "journald",
		"Source_Map":     "a.=k8s_pod,=host_syslog",
		"Preset":         "drain3",
		"Sim_Th":         "0.55",
		"Depth":          "5",
		"Max_Children":   "7",
		"Max_Clusters":   "1000",
		"Max_Partitions": "20",
		"Max_Line_Bytes": "4K",
		"Max_Tokens":     "64",
		"Mask":           `ORDER=ord-\d+; SEMI=a\;b`,
		"Redis_DB":       "3",
		"Redis_TLS":      "Yes",
		"New_List_TTL":   "90",
		"Flush_Interval": "250ms",
		"Exit_Timeout":   "1m",
		"Queue_Size":     "10",
		"Sample_Bytes":   "1KB",
		"Metrics_Listen": "127.0.0.1:0",
		"Node_Name":      "explicit",
		"PG_Table":       "drain.templates",
	})
	if err != nil {
		t.Fatal(err)
	}
	d := c.Drain
	checks := []struct {
		name      string
		got, want any
	}{
		{"Enabled", c.Sink.Flags.Enabled, false},
		{"ShadowMode", c.Sink.Flags.ShadowMode, false},
		{"AlertKinds", strings.Join(c.Sink.AlertKinds, ","), "generalized,new"},
		{"MessageKeys", strings.Join(c.MessageKeys, "|"), "msg|log"},
		{"PartitionKeys", strings.Join(c.PartitionKeys, "|"), "kubernetes.namespace_name|app"},
		{"Source", c.SourceFor("kube.x"), "journald"},
		{"SourceMap", len(c.SourceMap), 2},
		{"SimTh", d.SimTh, 0.55},
		{"Depth", d.Depth, 5},
		{"MaxChildren", d.MaxChildren, 7},
		{"MaxClusters", d.MaxClusters, 1000},
		{"MaxPartitions", d.MaxPartitions, 20},
		{"MaxLineBytes", d.MaxLineBytes, 4096},
		{"MaxTokens", d.MaxTokens, 64},
		{"Masks", len(d.Masks), 2}, // drain3 preset has none
		{"Mask 0", d.Masks[0].Pattern, `ord-\d+`},
		{"Mask 1", d.Masks[1].Pattern, `a\;b`},
		{"RedisDB", c.Sink.RedisDB, 3},
		{"RedisTLS", c.Sink.RedisTLS, true},
		{"NewListTTL", c.Sink.NewListTTL, 90 * time.Second},
		{"FlushInterval", c.Sink.FlushInterval, 250 * time.Millisecond},
		{"ExitTimeout", c.ExitTimeout, time.Minute},
		{"QueueSize", c.Sink.QueueBudget, 10},
		{"SampleSize", c.Sink.SampleBytes, 1024},
		{"MetricsListen", c.MetricsListen, "127.0.0.1:0"},
		{"NodeName", c.Sink.NodeName, "explicit"},
		{"PGTable", c.Sink.PGTable, "drain.templates"},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
	// Source_Map order: the first matching prefix wins, "" matches all.
	c.Source = ""
	if got := c.SourceFor("a.b"); got != "k8s_pod" {
		t.Errorf("SourceFor(a.b) = %q", got)
	}
	if got := c.SourceFor("zzz"); got != "host_syslog" {
		t.Errorf("SourceFor(zzz) = %q", got)
	}
	// User masks go before the preset's.
	c, _ = Parse(Map{"Mask": "ID=id-[0-9]+"})
	preset, _ := drain.Preset("default")
	if c.Drain.Masks[0].Name != "ID" || len(c.Drain.Masks) != 1+len(preset.Masks) {
		t.Errorf("Masks = %+v, want the user rule first, then the preset's", c.Drain.Masks)
	}
}

func TestInvalid(t *testing.T) {
	tests := []struct {
		key, value string
		want       string // substring of the error
	}{
		{"Enabled", "maybe", "Enabled: \"maybe\" is not a boolean (want true/on/yes or false/off/no)"},
		{"Shadow_Mode", "1", "Shadow_Mode"},
		{"Alert_Kinds", "new,known", "Alert_Kinds: \"known\" is not an event kind (want new, generalized or both, comma-separated)"},
		{"Alert_Kinds", "new,", "Alert_Kinds: \"\" is not an event kind"},
		{"Redis_TLS", "enable", "Redis_TLS"},
		{"Message_Key", ",,", "Message_Key: want 1 to 16"},
		{"Message_Key", "a..b", "Message_Key: path \"a..b\" has an empty segment"},
		{"Partition_Key", "a,b,c,d,e,f,g,h,i", "Partition_Key: want 1 to 8"},
		{"Source", "k8s", "Source: \"k8s\" is not a source (want one of k8s_pod, journald, host_syslog, app_log)"},
		{"Source_Map", "kube.=pods", "Source_Map: \"kube.=pods\" is not tag_prefix=source"},
		{"Source_Map", "kube.", "Source_Map"},
		{"Preset", "fast", "Preset: \"fast\" is not a preset (want default or drain3)"},
		{"Sim_Th", "1.5", "Sim_Th: \"1.5\" is not a number in [0, 1]"},
		{"Sim_Th", "NaN", "Sim_Th"},
		{"Depth", "2", "Depth: \"2\" is not an integer in [3, 32]"},
		{"Depth", "four", "Depth"},
		{"Max_Children", "0", "Max_Children"},
		{"Max_Clusters", "-1", "Max_Clusters"},
		{"Max_Partitions", "1e3", "Max_Partitions"},
		{"Max_Line_Bytes", "4X", "Max_Line_Bytes: \"4X\" is not a size"},
		{"Max_Line_Bytes", "1G", "Max_Line_Bytes"},
		{"Max_Line_Bytes", "K", "Max_Line_Bytes"},
		{"Max_Tokens", "70000", "Max_Tokens"},
		{"Mask", "NOEQUALS", "Mask: \"NOEQUALS\" is not NAME=REGEX"},
		{"Mask", "X=(", "Mask: rule X: error parsing regexp"},
		{"Mask", "bad name=x", "Config.Masks[0].Name"},
		{"PG_Table", "t; DROP TABLE x", "PG_Table"},
		{"PG_Table", "a.b.c", "PG_Table"},
		{"Redis_Addr", "localhost", "Redis_Addr: \"localhost\" is not host:port"},
		{"Redis_DB", "x", "Redis_DB"},
		{"Redis_Prefix", "a b", "Redis_Prefix"},
		{"New_List_Max", "0", "New_List_Max"},
		{"New_List_TTL", "0", "New_List_TTL"},
		{"New_List_TTL", "5y", "New_List_TTL: \"5y\" is not a duration"},
		{"Flush_Interval", "-1s", "Flush_Interval"},
		{"Flush_Interval", "1ms", "Flush_Interval"},
		{"Exit_Timeout", "11m", "Exit_Timeout"},
		{"Metrics_Listen", "2021", "Metrics_Listen: \"2021\" is not host:port"},
		{"Metrics_Listen", ":99999", "Metrics_Listen"},
		{"Queue_Size", "0", "Queue_Size"},
		{"Sample_Bytes", "1M", "Sample_Bytes"},
	}
	for _, tt := range tests {
		_, err := Parse(Map{tt.key: tt.value})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s=%q: err = %v, want it to contain %q", tt.key, tt.value, err, tt.want)
		}
	}
	// Every invalid key is reported, not only the first.
	_, err := Parse(Map{"Depth": "1", "Enabled": "x"})
	if err == nil || !strings.Contains(err.Error(), "Depth") || !strings.Contains(err.Error(), "Enabled") {
		t.Errorf("err = %v, want both keys", err)
	}
}

func TestTestPanicNeedsBuildTag(t *testing.T) {
	c, err := Parse(Map{"_test_panic": "panic"})
	if testHooks {
		if err != nil || c.TestPanic != "panic" {
			t.Fatalf("with drain_testhooks: %v, %+v", err, c)
		}
		if _, err := Parse(Map{"_test_panic": "boom"}); err == nil {
			t.Fatal("_test_panic=boom accepted")
		}
		return
	}
	if err != nil || c.TestPanic != "" {
		t.Fatalf("without drain_testhooks the key must be ignored: %v, %q", err, c.TestPanic)
	}
}

func TestSizesAndDurations(t *testing.T) {
	sizes := map[string]int{"500": 500, "4k": 4096, "4KB": 4096, "1M": 1 << 20, "2mb": 2 << 20, "1G": 1 << 30}
	for in, want := range sizes {
		if got, err := parseSize(in, 1, 1<<31); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "x", "-1", "4X", "1.5M", "K", "9223372036854775807K", " 4K"} {
		if n, ok := ParseSize(bad); ok {
			t.Errorf("ParseSize(%q) = %d, accepted", bad, n)
		}
	}
	if _, err := parseSize("2G", 1, 1<<30); err == nil {
		t.Error("parseSize accepted 2G above its bound of 1G")
	}
	durs := map[string]time.Duration{"10": 10 * time.Second, "10s": 10 * time.Second, "1m": time.Minute, "1h30m": 90 * time.Minute, "7d": 7 * 24 * time.Hour, "500ms": 500 * time.Millisecond}
	for in, want := range durs {
		if got, err := parseDuration(in, 0, 365*24*time.Hour); err != nil || got != want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
}

func TestStringRedactsSecrets(t *testing.T) {
	secrets := []string{"s3cr3t-url", "s3cr3t-kv", "s3cr3t quoted", "s3cr3t-redis", "s3cr3t-q", "s3cr3t-ssl"}
	tests := []struct {
		dsn      string
		want     string // substring of String()
		notShown string
	}{
		{"postgres://drain:s3cr3t-url@db.example:5432/logs?sslmode=require", "PG_DSN=postgres://drain:***@db.example:5432/logs?sslmode=require", "s3cr3t-url"},
		{"postgres://drain@db/logs?password=s3cr3t-q", "password=***", "s3cr3t-q"},
		{"host=db user=drain password=s3cr3t-kv dbname=logs", "PG_DSN=host=db user=drain password=*** dbname=logs", "s3cr3t-kv"},
		{"host=db password = 's3cr3t quoted' sslpassword=s3cr3t-ssl", "password = *** sslpassword=***", "s3cr3t"},
		{"postgres://drain:s3cr3t-url@[::1:bad/logs", "PG_DSN=(unparsable URL, hidden)", "s3cr3t-url"},
	}
	for _, tt := range tests {
		c, err := Parse(Map{"PG_DSN": tt.dsn, "Redis_Password": "s3cr3t-redis", "Redis_Addr": "redis:6379"})
		if err != nil {
			t.Fatal(err)
		}
		s := c.String()
		if !strings.Contains(s, tt.want) {
			t.Errorf("String() = %s\nwant it to contain %s", s, tt.want)
		}
		for _, sec := range secrets {
			if strings.Contains(s, sec) {
				t.Errorf("String() leaks %q: %s", sec, s)
			}
		}
		if !strings.Contains(s, "Redis_Password=*** ") || !strings.Contains(s, "Redis_Addr=redis:6379") {
			t.Errorf("String() = %s", s)
		}
	}
	c, _ := Parse(Map{})
	if s := c.String(); !strings.Contains(s, `PG_DSN="" `) || !strings.Contains(s, `Redis_Password="" `) || !strings.HasPrefix(s, "Enabled=on Shadow_Mode=on Message_Key=log,message,MESSAGE,msg") {
		t.Errorf("String() = %s", s)
	}
}

// TestSecretKeysRedacted: every key the table marks secret is redacted in
// the log line, whatever its value looks like.
func TestSecretKeysRedacted(t *testing.T) {
	const secret = "s3cr3t-value"
	values := map[string]string{
		KeyPGDSN:         "postgres://u:" + secret + "@h/db?sslpassword=" + secret,
		KeyRedisPassword: " " + secret + " ",
	}
	n := 0
	for _, k := range keys {
		if k.redact == nil {
			continue
		}
		n++
		v, ok := values[k.name]
		if !ok {
			t.Errorf("secret key %s: the test has no value for it", k.name)
			continue
		}
		c, err := Parse(Map{k.name: v, KeyRedisAddr: "r:1"})
		if err != nil {
			t.Fatal(err)
		}
		if s := c.String(); strings.Contains(s, secret) || !strings.Contains(s, k.name+"=") {
			t.Errorf("%s: log line %s", k.name, s)
		}
	}
	if n != len(values) {
		t.Errorf("%d secret keys in the table, the test knows %d", n, len(values))
	}
}
