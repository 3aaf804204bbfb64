// Package config reads the drain output's configuration keys, once, in
// FLBPluginInit, through a Getter (Fluent Bit's property getter in the
// plugin, a map in tests), validates them, and renders the effective
// configuration for the log with secrets redacted. One table (keys.go)
// says, for every key, which field it sets and how, its default, whether
// it is secret and its documentation; Parse, String and TestKeyTable (the
// docs) all read it.
//
// Fluent Bit cannot tell an unset key from an empty one (docs/fluent-bit.md#config-keys), so
// "" always means the default. Key lookup is case-insensitive in Fluent Bit;
// the canonical spellings are the Key* constants. Unknown keys cannot be
// detected (the getter offers no way to list them): a misspelt key is
// silently a default.
package config

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/awoooi/fluent-bit-drain/drain"
	"github.com/awoooi/fluent-bit-drain/plugin/chunk"
	"github.com/awoooi/fluent-bit-drain/sink"
)

// Getter returns the value of a key, "" when unset or empty.
type Getter interface{ Get(key string) string }

// Map is a Getter over a map, with Fluent Bit's case-insensitive keys.
type Map map[string]string

// Get returns the value of key, matched case-insensitively.
func (m Map) Get(key string) string {
	if v, ok := m[key]; ok {
		return v
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return ""
}

// Keys, in their canonical spelling.
const (
	KeyEnabled           = "Enabled"
	KeyShadowMode        = "Shadow_Mode"
	KeyAlertKinds        = "Alert_Kinds"
	KeyMessageKey        = "Message_Key"
	KeyPartitionKey      = "Partition_Key"
	KeySource            = "Source"
	KeySourceMap         = "Source_Map"
	KeyPreset            = "Preset"
	KeySimTh             = "Sim_Th"
	KeyDepth             = "Depth"
	KeyMaxChildren       = "Max_Children"
	KeyMaxClusters       = "Max_Clusters"
	KeyMaxPartitions     = "Max_Partitions"
	KeyMaxLineBytes      = "Max_Line_Bytes"
	KeyMaxTokens         = "Max_Tokens"
	KeyMaxScored         = "Max_Scored"
	KeyNewBurst          = "New_Templates_Burst"
	KeyNewPerMinute      = "New_Templates_Per_Minute"
	KeyMaxPartTemplates  = "Max_Partition_Templates"
	KeySiblingValues     = "Sibling_Values"
	KeyMask              = "Mask"
	KeyPGDSN             = "PG_DSN"
	KeyPGDSNFile         = "PG_DSN_File"
	KeyPGPooler          = "PG_Pooler"
	KeyPGTable           = "PG_Table"
	KeyRedisAddr         = "Redis_Addr"
	KeyRedisMasterName   = "Redis_Master_Name"
	KeyRedisMinReplicas  = "Redis_Min_Replicas"
	KeyRedisUsername     = "Redis_Username"
	KeyRedisPassword     = "Redis_Password"
	KeyRedisPasswordFile = "Redis_Password_File"
	KeyRedisDB           = "Redis_DB"
	KeyRedisTLS          = "Redis_TLS"
	KeyRedisCAFile       = "Redis_CA_File"
	KeyRedisPrefix       = "Redis_Prefix"
	KeyNewListMax        = "New_List_Max"
	KeyNewListTTL        = "New_List_TTL"
	KeyFlushInterval     = "Flush_Interval"
	KeyPGHitsInterval    = "PG_Hits_Interval"
	KeyRedisHitsInterval = "Redis_Hits_Interval"
	KeyLoadJitter        = "Load_Jitter"
	KeyBufferPath        = "Buffer_Path"
	KeyNodeName          = "Node_Name"
	KeyMetricsListen     = "Metrics_Listen"
	KeyQueueSize         = "Queue_Size"
	KeyExitTimeout       = "Exit_Timeout"
	KeySampleBytes       = "Sample_Bytes"
	KeySampleRedact      = "Sample_Redact"
	KeyPGCompatView      = "PG_Compat_View"
	// KeyTestPanic is read only in builds with the drain_testhooks tag.
	KeyTestPanic = "_test_panic"
	// KeyTestFlagsInterval sets how often the Redis flags and mute list are
	// polled (10 s otherwise); read only with drain_testhooks.
	KeyTestFlagsInterval = "_test_flags_interval"
)

// Sources a record can come from (the `source` column of the template table).
const (
	SourceK8sPod     = "k8s_pod"
	SourceJournald   = "journald"
	SourceHostSyslog = "host_syslog"
	SourceAppLog     = "app_log"
)

var sources = []string{SourceK8sPod, SourceJournald, SourceHostSyslog, SourceAppLog}

// Values of Sample_Redact: what of the line a stored sample keeps.
const (
	// SampleRedactSecrets keeps the real line, its secrets redacted.
	SampleRedactSecrets = "secrets"
	// SampleRedactValues stores the line masked as its template is (every
	// variable, not only secrets): for privacy-strict clusters.
	SampleRedactValues = "values"
)

// Limits on the lists and on what they produce.
const (
	MaxMessageKeys   = 16
	MaxPartitionKeys = 8
	// MaxPartitionBytes bounds a partition name built from record values or
	// the tag: longer names are cut, so a hostile record cannot make the
	// miner key its trees by megabyte strings.
	MaxPartitionBytes = 256
)

// SourceRule maps a tag prefix to a source.
type SourceRule struct{ Prefix, Source string }

// Config is the parsed, validated configuration of one output instance.
// The miner's and the sink's settings are their own packages' Configs,
// validated by their own Validate; the rest are the plugin's.
type Config struct {
	// Drain is the miner's: the Preset's settings, the miner keys over
	// them, the Mask key's rules first in Masks.
	Drain drain.Config
	// Sink is the sink's: its defaults, the store, interval and budget
	// keys over them, Enabled and Shadow_Mode as its static Flags.
	Sink sink.Config

	MessageKeys   []string     // record paths, first string value wins
	PartitionKeys []string     // record paths joined with "/"; nil = per-source default
	Source        string       // fixed source, or "" to use SourceMap
	SourceMap     []SourceRule // first matching tag prefix wins; else app_log

	Preset    string
	UserMasks []drain.Mask // the Mask key's rules (already in Drain.Masks, first)
	// SampleRedact is Sample_Redact: SampleRedactSecrets or SampleRedactValues.
	SampleRedact  string
	MetricsListen string
	ExitTimeout   time.Duration

	// TestPanic is "", "panic" or "nil": make every flush panic, or
	// dereference a nil pointer, to test recovery. Only settable in builds
	// with the drain_testhooks tag.
	TestPanic string
}

// KeyError is an invalid value of one key.
type KeyError struct {
	Key string
	Err error // what is wrong with the value
}

func (e *KeyError) Error() string { return e.Key + ": " + e.Err.Error() }
func (e *KeyError) Unwrap() error { return e.Err }

// Parse reads every key of the table keys, then has the sink's and the
// miner's settings validated. The error reports every invalid key, each a
// *KeyError naming it and what it accepts; it never quotes a secret.
func Parse(g Getter) (*Config, error) {
	c := &Config{}
	c.Sink.SetDefaults()
	var errs []error
	for _, k := range keys {
		if k.hook && !testHooks {
			continue
		}
		v := g.Get(k.name)
		if !k.raw {
			v = strings.TrimSpace(v)
		}
		if v == "" && k.env != "" {
			v = os.Getenv(k.env)
		}
		if v == "" {
			v = k.def
		}
		if v == "" {
			continue // the field keeps its default
		}
		if err := k.set(c, v); err != nil {
			errs = append(errs, &KeyError{Key: k.name, Err: err})
		}
	}
	if err := c.Sink.Validate(); err != nil {
		errs = append(errs, err)
	}
	// Without a preset there are no miner settings to check.
	if c.Preset != "" {
		if err := c.Drain.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("miner settings: %w", err))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// parsePaths parses a comma list of dotted record paths.
func parsePaths(v string, max int) ([]string, error) {
	paths := parseList(v)
	if len(paths) == 0 || len(paths) > max {
		return nil, fmt.Errorf("want 1 to %d comma-separated record keys (dotted for nested maps, e.g. kubernetes.namespace_name)", max)
	}
	if _, err := chunk.NewQuery(paths...); err != nil {
		return nil, errors.New(strings.TrimPrefix(err.Error(), "chunk: "))
	}
	return paths, nil
}

// parseSourceMap parses "prefix=source,..." (an empty prefix matches every tag).
func parseSourceMap(v string) ([]SourceRule, error) {
	var rules []SourceRule
	for _, item := range parseList(v) {
		prefix, src, ok := strings.Cut(item, "=")
		src = strings.TrimSpace(src)
		if !ok || !slices.Contains(sources, src) {
			return nil, fmt.Errorf("%q is not tag_prefix=source (source one of %s)", item, strings.Join(sources, ", "))
		}
		rules = append(rules, SourceRule{Prefix: strings.TrimSpace(prefix), Source: src})
	}
	return rules, nil
}

// parseAlertKinds parses Alert_Kinds: a comma-separated subset of new and
// generalized, any case, each once.
func parseAlertKinds(v string) ([]string, error) {
	var kinds []string
	for _, k := range strings.Split(v, ",") {
		k = strings.ToLower(strings.TrimSpace(k))
		if k != sink.KindNew && k != sink.KindGeneralized {
			return nil, fmt.Errorf("%q is not an event kind (want new, generalized or both, comma-separated)", k)
		}
		if !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	return kinds, nil
}

// parseMasks parses "NAME=REGEX;NAME2=REGEX2". A ';' inside a regex is
// written "\;" (which the regex reads as a literal ';').
func parseMasks(v string) ([]drain.Mask, error) {
	var masks []drain.Mask
	for _, rule := range splitUnescaped(v, ';') {
		if rule = strings.TrimSpace(rule); rule == "" {
			continue
		}
		name, re, ok := strings.Cut(rule, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" || re == "" {
			return nil, fmt.Errorf("%q is not NAME=REGEX (rules separated by ';')", rule)
		}
		if _, err := regexp.Compile(re); err != nil {
			return nil, fmt.Errorf("rule %s: %v", name, err)
		}
		masks = append(masks, drain.Mask{Name: name, Pattern: re})
	}
	return masks, nil
}

func splitUnescaped(s string, sep byte) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case sep:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// SourceFor returns the source of a record with this tag.
func (c *Config) SourceFor(tag string) string {
	if c.Source != "" {
		return c.Source
	}
	for _, r := range c.SourceMap {
		if strings.HasPrefix(tag, r.Prefix) {
			return r.Source
		}
	}
	return SourceAppLog
}
