// Package config reads the drain output's configuration keys, once, in
// FLBPluginInit, through a Getter (Fluent Bit's property getter in the
// plugin, a map in tests), validates them, and renders the effective
// configuration for the log with secrets redacted.
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

// Defaults of the keys that are not the miner's (those come from Preset);
// the store keys' are the sink's own.
const (
	DefaultMessageKeys   = "log,message,MESSAGE,msg"
	DefaultSourceMap     = "kube.=k8s_pod,host.=journald,node.=host_syslog"
	DefaultPreset        = "default"
	DefaultPGTable       = sink.DefaultPGTable
	DefaultRedisPrefix   = sink.DefaultRedisPrefix
	DefaultNewListMax    = sink.DefaultNewListMax
	DefaultNewListTTL    = sink.DefaultNewListTTL
	DefaultFlushInterval = sink.DefaultFlushInterval
	DefaultPGHits        = sink.DefaultPGHits
	DefaultRedisHits     = sink.DefaultRedisHits
	DefaultLoadJitter    = 10 * time.Second
	DefaultQueueSize     = sink.DefaultQueueBudget
	DefaultExitTimeout   = 5 * time.Second
	DefaultSampleBytes   = sink.DefaultSampleBytes
	DefaultSampleRedact  = SampleRedactSecrets
	DefaultAlertKinds    = sink.KindNew
)

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
type Config struct {
	Enabled    bool
	ShadowMode bool
	// AlertKinds are the event kinds published on the alert stream
	// (Alert_Kinds): "new", and "generalized" when asked for.
	AlertKinds []string

	MessageKeys   []string     // record paths, first string value wins
	PartitionKeys []string     // record paths joined with "/"; nil = per-source default
	Source        string       // fixed source, or "" to use SourceMap
	SourceMap     []SourceRule // first matching tag prefix wins; else app_log

	Preset     string
	Drain      drain.Config // preset + overrides + user masks, validated
	UserMasks  []drain.Mask // the Mask key's rules (already in Drain.Masks, first)
	SampleSize int          // Sample_Bytes
	// SampleRedact is Sample_Redact: SampleRedactSecrets or SampleRedactValues.
	SampleRedact string

	PGDSN, PGDSNFile, PGTable, PGCompatView                    string
	RedisAddr, RedisUsername, RedisPassword, RedisPasswordFile string
	RedisDB                                                    int
	RedisTLS                                                   bool
	RedisCAFile, RedisPrefix                                   string
	RedisMasterName                                            string // Sentinel: the master's name; Redis_Addr lists the Sentinels
	RedisMinReplicas                                           int    // replicas that must hold a batch (WAIT); 0: none
	NewListMax                                                 int
	NewListTTL                                                 time.Duration

	FlushInterval time.Duration
	// PGHitsInterval and RedisHitsInterval are how often hit counts are
	// written to each store; LoadJitter spreads the warm starts of a
	// rollout (docs/stores.md, "Scale").
	PGHitsInterval, RedisHitsInterval, LoadJitter time.Duration
	BufferPath                                    string
	NodeName                                      string
	MetricsListen                                 string
	QueueSize                                     int
	ExitTimeout                                   time.Duration

	// TestPanic is "", "panic" or "nil": make every flush panic, or
	// dereference a nil pointer, to test recovery. Only settable in builds
	// with the drain_testhooks tag.
	TestPanic string
	// TestFlagsInterval overrides the sink's flags poll interval (0: its
	// default). Only settable in builds with the drain_testhooks tag.
	TestFlagsInterval time.Duration
}

// Parse reads and validates every key. The error names the first invalid
// key and the accepted values; it never quotes a secret.
func Parse(g Getter) (*Config, error) {
	var errs []error
	check := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	get := func(k string) string { return strings.TrimSpace(g.Get(k)) }
	c := &Config{}
	var err error

	c.Enabled, err = parseBool(KeyEnabled, get(KeyEnabled), true)
	check(err)
	c.ShadowMode, err = parseBool(KeyShadowMode, get(KeyShadowMode), true)
	check(err)
	c.AlertKinds, err = parseAlertKinds(or(get(KeyAlertKinds), DefaultAlertKinds))
	check(err)

	c.MessageKeys, err = parsePaths(KeyMessageKey, or(get(KeyMessageKey), DefaultMessageKeys), MaxMessageKeys)
	check(err)
	if v := get(KeyPartitionKey); v != "" {
		c.PartitionKeys, err = parsePaths(KeyPartitionKey, v, MaxPartitionKeys)
		check(err)
	}
	if v := get(KeySource); v != "" {
		if !slices.Contains(sources, v) {
			check(fmt.Errorf("%s: %q is not a source (want one of %s)", KeySource, v, strings.Join(sources, ", ")))
		}
		c.Source = v
	}
	c.SourceMap, err = parseSourceMap(or(get(KeySourceMap), DefaultSourceMap))
	check(err)

	c.Preset = or(get(KeyPreset), DefaultPreset)
	c.Drain, err = drain.Preset(c.Preset)
	if err != nil {
		check(fmt.Errorf("%s: %q is not a preset (want default or drain3)", KeyPreset, c.Preset))
	}
	d := &c.Drain
	if v := get(KeySimTh); v != "" {
		d.SimTh, err = parseFloat(KeySimTh, v, 0, 1)
		check(err)
	}
	d.Depth, err = parseInt(KeyDepth, get(KeyDepth), d.Depth, 3, 32)
	check(err)
	d.MaxChildren, err = parseInt(KeyMaxChildren, get(KeyMaxChildren), d.MaxChildren, 1, 1<<20)
	check(err)
	d.MaxClusters, err = parseInt(KeyMaxClusters, get(KeyMaxClusters), d.MaxClusters, 1, 1<<24)
	check(err)
	d.MaxPartitions, err = parseInt(KeyMaxPartitions, get(KeyMaxPartitions), d.MaxPartitions, 1, 1<<20)
	check(err)
	d.MaxLineBytes, err = parseSize(KeyMaxLineBytes, get(KeyMaxLineBytes), d.MaxLineBytes, 1, 16<<20)
	check(err)
	d.MaxTokens, err = parseInt(KeyMaxTokens, get(KeyMaxTokens), d.MaxTokens, 1, 1<<16)
	check(err)
	d.MaxScored, err = parseInt(KeyMaxScored, get(KeyMaxScored), d.MaxScored, 2, 1<<16)
	check(err)
	d.NewTemplateBurst, err = parseInt(KeyNewBurst, get(KeyNewBurst), d.NewTemplateBurst, 0, 1<<24)
	check(err)
	d.NewTemplateRate, err = parseInt(KeyNewPerMinute, get(KeyNewPerMinute), d.NewTemplateRate, 0, 1<<24)
	check(err)
	d.MaxPartitionClusters, err = parseInt(KeyMaxPartTemplates, get(KeyMaxPartTemplates), d.MaxPartitionClusters, 1, 1<<24)
	check(err)
	d.SiblingValues, err = parseInt(KeySiblingValues, get(KeySiblingValues), d.SiblingValues, 0, 1<<10)
	check(err)
	c.UserMasks, err = parseMasks(get(KeyMask))
	check(err)
	d.Masks = append(slices.Clone(c.UserMasks), d.Masks...)
	if len(errs) == 0 {
		if err := d.Validate(); err != nil {
			check(fmt.Errorf("miner settings: %w", err))
		}
	}

	c.PGDSN = get(KeyPGDSN)
	c.PGDSNFile = get(KeyPGDSNFile)
	c.PGTable = or(get(KeyPGTable), DefaultPGTable)
	if !tableRE.MatchString(c.PGTable) {
		check(fmt.Errorf("%s: %q is not a table name (want table or schema.table, each [A-Za-z_][A-Za-z0-9_]*, at most 63 bytes)", KeyPGTable, c.PGTable))
	}
	if c.PGCompatView = get(KeyPGCompatView); c.PGCompatView != "" {
		if !tableRE.MatchString(c.PGCompatView) {
			check(fmt.Errorf("%s: %q is not a view name (want view or schema.view, each [A-Za-z_][A-Za-z0-9_]*, at most 63 bytes)", KeyPGCompatView, c.PGCompatView))
		} else if c.PGCompatView == c.PGTable {
			check(fmt.Errorf("%s: %q is the table itself (%s)", KeyPGCompatView, c.PGCompatView, KeyPGTable))
		}
	}
	// One host:port, or a comma list: a Redis Cluster's seed nodes, or
	// the Sentinels of Redis_Master_Name.
	c.RedisAddr = get(KeyRedisAddr)
	for _, a := range strings.Split(c.RedisAddr, ",") {
		if a = strings.TrimSpace(a); a == "" && c.RedisAddr != "" {
			check(fmt.Errorf("%s: %q has an empty address in its list", KeyRedisAddr, c.RedisAddr))
		} else if a != "" {
			if _, err := parseListen(KeyRedisAddr, a); err != nil {
				check(fmt.Errorf("%s: %q is not host:port", KeyRedisAddr, a))
			}
		}
	}
	c.RedisMinReplicas, err = parseInt(KeyRedisMinReplicas, get(KeyRedisMinReplicas), 0, 0, 16)
	check(err)
	c.RedisMasterName = get(KeyRedisMasterName)
	if c.RedisMasterName != "" && c.RedisAddr == "" {
		check(fmt.Errorf("%s: %q needs the Sentinels' addresses in %s", KeyRedisMasterName, c.RedisMasterName, KeyRedisAddr))
	}
	c.RedisUsername = get(KeyRedisUsername)
	c.RedisPassword = g.Get(KeyRedisPassword) // a password may have edge blanks
	c.RedisPasswordFile = get(KeyRedisPasswordFile)
	c.RedisDB, err = parseInt(KeyRedisDB, get(KeyRedisDB), 0, 0, 1<<16)
	check(err)
	c.RedisTLS, err = parseBool(KeyRedisTLS, get(KeyRedisTLS), false)
	check(err)
	c.RedisCAFile = get(KeyRedisCAFile)
	c.RedisPrefix = or(get(KeyRedisPrefix), DefaultRedisPrefix)
	if strings.ContainsAny(c.RedisPrefix, " \t\r\n") || len(c.RedisPrefix) > 128 {
		check(fmt.Errorf("%s: %q must have no blanks and at most 128 bytes", KeyRedisPrefix, c.RedisPrefix))
	}
	c.NewListMax, err = parseInt(KeyNewListMax, get(KeyNewListMax), DefaultNewListMax, 1, 1<<20)
	check(err)
	c.NewListTTL, err = parseDuration(KeyNewListTTL, get(KeyNewListTTL), DefaultNewListTTL, time.Second, 365*24*time.Hour)
	check(err)

	c.FlushInterval, err = parseDuration(KeyFlushInterval, get(KeyFlushInterval), DefaultFlushInterval, 10*time.Millisecond, time.Hour)
	check(err)
	c.PGHitsInterval, err = parseDuration(KeyPGHitsInterval, get(KeyPGHitsInterval), DefaultPGHits, 10*time.Millisecond, time.Hour)
	check(err)
	c.RedisHitsInterval, err = parseDuration(KeyRedisHitsInterval, get(KeyRedisHitsInterval), DefaultRedisHits, 10*time.Millisecond, time.Hour)
	check(err)
	c.LoadJitter, err = parseDuration(KeyLoadJitter, get(KeyLoadJitter), DefaultLoadJitter, 0, 10*time.Minute)
	check(err)
	c.BufferPath = get(KeyBufferPath)
	c.NodeName = get(KeyNodeName)
	if c.NodeName == "" {
		c.NodeName = os.Getenv("NODE_NAME")
	}
	if c.NodeName == "" {
		c.NodeName, _ = os.Hostname()
	}
	c.MetricsListen, err = parseListen(KeyMetricsListen, get(KeyMetricsListen))
	check(err)
	c.QueueSize, err = parseInt(KeyQueueSize, get(KeyQueueSize), DefaultQueueSize, 1, 1<<24)
	check(err)
	c.ExitTimeout, err = parseDuration(KeyExitTimeout, get(KeyExitTimeout), DefaultExitTimeout, 0, 10*time.Minute)
	check(err)
	c.SampleSize, err = parseSize(KeySampleBytes, get(KeySampleBytes), DefaultSampleBytes, 1, 64<<10)
	check(err)
	switch c.SampleRedact = strings.ToLower(or(get(KeySampleRedact), DefaultSampleRedact)); c.SampleRedact {
	case SampleRedactSecrets, SampleRedactValues:
	default:
		check(fmt.Errorf("%s: %q (want secrets or values)", KeySampleRedact, c.SampleRedact))
	}

	if testHooks {
		switch v := get(KeyTestPanic); v {
		case "", "panic", "nil":
			c.TestPanic = v
		default:
			check(fmt.Errorf("%s: %q (want panic or nil)", KeyTestPanic, v))
		}
		c.TestFlagsInterval, err = parseDuration(KeyTestFlagsInterval, get(KeyTestFlagsInterval), 0, 0, time.Hour)
		check(err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

var tableRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$`)

// parsePaths parses a comma list of dotted record paths.
func parsePaths(key, v string, max int) ([]string, error) {
	paths := parseList(v)
	if len(paths) == 0 || len(paths) > max {
		return nil, fmt.Errorf("%s: want 1 to %d comma-separated record keys (dotted for nested maps, e.g. kubernetes.namespace_name)", key, max)
	}
	if _, err := chunk.NewQuery(paths...); err != nil {
		return nil, fmt.Errorf("%s: %v", key, strings.TrimPrefix(err.Error(), "chunk: "))
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
			return nil, fmt.Errorf("%s: %q is not tag_prefix=source (source one of %s)", KeySourceMap, item, strings.Join(sources, ", "))
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
			return nil, fmt.Errorf("%s: %q is not an event kind (want new, generalized or both, comma-separated)", KeyAlertKinds, k)
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
			return nil, fmt.Errorf("%s: %q is not NAME=REGEX (rules separated by ';')", KeyMask, rule)
		}
		if _, err := regexp.Compile(re); err != nil {
			return nil, fmt.Errorf("%s: rule %s: %v", KeyMask, name, err)
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
