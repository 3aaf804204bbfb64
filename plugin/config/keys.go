package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/awoooi/fluent-bit-drain/drain"
	"github.com/awoooi/fluent-bit-drain/sink"
)

// A key is one configuration key: how Parse reads its value into a
// Config, how String shows the effective value, and its row of
// the README's "## Configuration keys" table, which TestKeyTable checks against it.
type key struct {
	name string
	value
	// def is read when the key is empty; "" leaves the field as Parse
	// starts it: the sink's defaults (sink.Config.SetDefaults) or the
	// preset's miner settings (drain.Preset), so each default is written
	// once.
	def string
	// env names an environment variable read, when the key is empty,
	// before def.
	env string
	// raw keeps the value's surrounding blanks (a password may have some).
	raw bool
	// redact is how the log line shows a secret's value.
	redact func(string) string
	// omit leaves the key out of the log line.
	omit func(*Config) bool
	// hook keys are read only in builds with the drain_testhooks tag and
	// are not documented.
	hook bool
	// docDefault and doc are the key's default and meaning in the docs
	// (Markdown, one line). docDefault "" is def in backquotes, or "(none)"
	// without def.
	docDefault, doc string
}

// value reads and shows one key's field.
type value struct {
	// set reads a non-empty value into c; its error says what is wrong
	// with the value (Parse names the key).
	set func(c *Config, v string) error
	// show renders the field for the log line; "" is shown as "".
	show func(c *Config) string
}

// keys are every key, in the order of the effective-configuration log line
// and of the docs table. Preset precedes the miner keys: it sets the
// settings they override. Adding a key is adding its Key constant and an
// entry here; go test ./plugin/config -run TestKeyTable -update then
// writes its row into docs/config.md.
var keys = []key{
	{name: KeyEnabled, def: "on", value: boolValue(func(c *Config) *bool { return &c.Sink.Flags.Enabled }),
		doc: "`off` acknowledges every chunk untouched (kill switch). The Redis hash `<Redis_Prefix>:flags` overrides it at run time."},
	{name: KeyShadowMode, def: "on", value: boolValue(func(c *Config) *bool { return &c.Sink.Flags.ShadowMode }),
		doc: "Record and announce new templates (with `\"shadow_mode\": true`), log them, but publish nothing on the alert stream. Overridable at run time like `Enabled`."},
	{name: KeyMessageKey, def: "log,message,MESSAGE,msg", value: value{
		set: func(c *Config, v string) (err error) {
			c.MessageKeys, err = parsePaths(v, MaxMessageKeys)
			return err
		},
		show: func(c *Config) string { return strings.Join(c.MessageKeys, ",") },
	}, doc: "Record keys tried in this order (not the record's order); the first whose value is a string (or bytes) is the message. Dotted keys reach into nested maps. One trailing `\\n` or `\\r\\n` is cut; invalid UTF-8 is repaired and NUL bytes removed by the miner. A record whose first present key holds a map, array or number, a record with none of the keys, and an empty message are skipped and counted (`drain_records_skipped_total{cause=\"not_text\"|\"no_message\"|\"empty\"}`). Up to 16 keys."},
	{name: KeyPartitionKey, docDefault: "per source (below)", value: value{
		set: func(c *Config, v string) (err error) {
			c.PartitionKeys, err = parsePaths(v, MaxPartitionKeys)
			return err
		},
		show: func(c *Config) string {
			if c.PartitionKeys == nil {
				return "(per source)"
			}
			return strings.Join(c.PartitionKeys, ",")
		},
	}, doc: "Comma list of record keys (dotted for nested maps, e.g. `kubernetes.namespace_name`); their values are joined with `/` (a missing one is `-`; if all are missing, the tag). Numbers and booleans are written out. Up to 8 keys."},
	{name: KeySource, docDefault: "(from `Source_Map`)", value: value{
		set: func(c *Config, v string) error {
			if !slices.Contains(sources, v) {
				return fmt.Errorf("%q is not a source (want one of %s)", v, strings.Join(sources, ", "))
			}
			c.Source = v
			return nil
		},
		show: func(c *Config) string { return c.Source },
	}, omit: func(c *Config) bool { return c.Source == "" }, doc: "Fixes the source of every record: `k8s_pod`, `journald`, `host_syslog` or `app_log`."},
	{name: KeySourceMap, def: "kube.=k8s_pod,host.=journald,node.=host_syslog", value: value{
		set: func(c *Config, v string) (err error) {
			c.SourceMap, err = parseSourceMap(v)
			return err
		},
		show: func(c *Config) string {
			rules := make([]string, len(c.SourceMap))
			for i, r := range c.SourceMap {
				rules[i] = r.Prefix + "=" + r.Source
			}
			return strings.Join(rules, ",")
		},
	}, omit: func(c *Config) bool { return c.Source != "" }, doc: "`tag_prefix=source` rules, first match wins; an empty prefix matches every tag; a tag no rule matches is `app_log`."},
	{name: KeyPreset, def: "default", value: value{
		set: func(c *Config, v string) error {
			d, err := drain.Preset(v)
			if err != nil {
				return fmt.Errorf("%q is not a preset (want default or drain3)", v)
			}
			c.Preset, c.Drain = v, d
			return nil
		},
		show: func(c *Config) string { return c.Preset },
	}, doc: "Miner settings: `default` (Drain tree with the project's masking scanner and scorer, sim 0.5; see docs/default-preset.md) or `drain3` (Drain3 0.9.11 exactly, as the seed service ran it). The keys below override single settings."},
	{name: KeySimTh, docDefault: "preset (`0.5`; drain3 `0.4`)", value: value{
		set: func(c *Config, v string) (err error) {
			f, err := parseFloat(v, 0, 1)
			if err == nil {
				c.Drain.SimTh = f
			}
			return err
		},
		show: func(c *Config) string { return fmt.Sprint(c.Drain.SimTh) },
	}, doc: "Similarity threshold in [0, 1]."},
	{name: KeyDepth, docDefault: "`4`", value: intValue(func(c *Config) *int { return &c.Drain.Depth }, 3, 32),
		doc: "Prefix-tree depth, 3 to 32."},
	{name: KeyMaxChildren, docDefault: "`100`", value: intValue(func(c *Config) *int { return &c.Drain.MaxChildren }, 1, 1<<20),
		doc: "Children per tree node before the `<*>` child takes the rest."},
	{name: KeyMaxClusters, docDefault: "`50000`", value: intValue(func(c *Config) *int { return &c.Drain.MaxClusters }, 1, 1<<24),
		doc: "Live templates across all partitions; the least recently used is evicted (counted)."},
	{name: KeyMaxPartitions, docDefault: "`10000`", value: intValue(func(c *Config) *int { return &c.Drain.MaxPartitions }, 1, 1<<20),
		doc: "Live partitions; the least recently used is evicted with its templates (counted)."},
	{name: KeyMaxLineBytes, docDefault: "`64K`", value: sizeValue(func(c *Config) *int { return &c.Drain.MaxLineBytes }, 1, 16<<20),
		doc: "Longer messages are cut (at a UTF-8 boundary) before mining (counted)."},
	{name: KeyMaxTokens, docDefault: "`512`", value: intValue(func(c *Config) *int { return &c.Drain.MaxTokens }, 1, 1<<16),
		doc: "Tokens after this many are dropped (counted)."},
	{name: KeyMaxScored, docDefault: "`256`", value: intValue(func(c *Config) *int { return &c.Drain.MaxScored }, 2, 1<<16),
		doc: "Templates of a leaf scored against one line; a bigger leaf is scored through a window of its most recently matched and newest templates (counted)."},
	{name: KeyNewBurst, docDefault: "`2000`", value: intValue(func(c *Config) *int { return &c.Drain.NewTemplateBurst }, 0, 1<<24),
		doc: "New templates a partition may create at once (token bucket); past it the partition is *flooding*: lines are matched, not learned (counted, one notice a minute). `0`: no bucket."},
	{name: KeyNewPerMinute, docDefault: "`60`", value: intValue(func(c *Config) *int { return &c.Drain.NewTemplateRate }, 0, 1<<24),
		doc: "Refill rate of that bucket."},
	{name: KeyMaxPartTemplates, docDefault: "`5000`", value: intValue(func(c *Config) *int { return &c.Drain.MaxPartitionClusters }, 1, 1<<24),
		doc: "Live templates per partition; at it, the partition is flooding too."},
	{name: KeySiblingValues, docDefault: "`4` (`default`), `0` (`drain3`)", value: intValue(func(c *Config) *int { return &c.Drain.SiblingValues }, 0, 1<<10),
		doc: "Evidence that a word position is a variable: templates that differ decisively at one position only, holding this many distinct names there (lower-case, or of any case where the line labels them: `Name(pid)`, `Label: Name`), merge into one with `<*>` there (a `generalized` event). `0`: off. docs/default-preset.md, \"Evidence from siblings\"."},
	{name: KeyMask, value: value{
		set: func(c *Config, v string) (err error) {
			if c.UserMasks, err = parseMasks(v); err == nil {
				c.Drain.Masks = append(slices.Clone(c.UserMasks), c.Drain.Masks...)
			}
			return err
		},
		show: func(c *Config) string {
			names := make([]string, len(c.UserMasks))
			for i, m := range c.UserMasks {
				names[i] = m.Name
			}
			return strings.Join(names, ";")
		},
	}, doc: "Extra masking rules `NAME=REGEX;NAME2=REGEX2` (Go RE2 syntax), applied in order before the preset's own; a match becomes `<NAME>` (`*` gives `<*>`). Write a `;` inside a regex as `\\;`. Names: letters, digits, `_ : . -`."},
	{name: KeyPGDSN, value: stringValue(func(c *Config) *string { return &c.Sink.PGDSN }), redact: RedactDSN,
		doc: "PostgreSQL connection string, URL or `key=value` form (libpq settings such as `sslmode` honoured). Never logged unredacted. Without it (and `PG_DSN_File`) \"new\" means new to this node."},
	{name: KeyPGDSNFile, value: stringValue(func(c *Config) *string { return &c.Sink.PGDSNFile }),
		doc: "File holding the DSN (a mounted Secret); wins over `PG_DSN`."},
	{name: KeyPGPooler, def: "off", value: boolValue(func(c *Config) *bool { return &c.Sink.PGPooler }),
		doc: "The DSN points at a connection pooler (PgBouncer in transaction mode): keep the connection to it between writes instead of closing it after each backlog (cheap for the pooler, nothing for PostgreSQL, a dial less per write). Off: against PostgreSQL itself an idle connection holds a backend and a slot. docs/stores.md, \"Scale\"."},
	{name: KeyPGTable, docDefault: "`log_templates`", value: stringValue(func(c *Config) *string { return &c.Sink.PGTable }),
		doc: "Table, `table` or `schema.table`, each part `[A-Za-z_][A-Za-z0-9_]*` (≤ 63 bytes)."},
	{name: KeyPGCompatView, value: stringValue(func(c *Config) *string { return &c.Sink.PGCompatView }),
		doc: "Name of a read-only view, created with the schema when missing, with the seed service's `LogClusterRecord` columns over the table (`cluster_id`, `template`, `size`, `source`, `sample_log`, `first_seen_at`, `last_seen_at`), e.g. `log_cluster_records`; same syntax as `PG_Table`."},
	{name: KeyRedisAddr, value: stringValue(func(c *Config) *string { return &c.Sink.RedisAddr }),
		doc: "`host:port` of Redis; none means no Redis. A comma list is a Redis Cluster's seed nodes (every key then starts with `{Redis_Prefix}`, one hash slot, since a batch is one MULTI/EXEC), or with `Redis_Master_Name` the Sentinels."},
	{name: KeyRedisMasterName, value: stringValue(func(c *Config) *string { return &c.Sink.RedisMasterName }),
		doc: "The master the Sentinels of `Redis_Addr` watch; the sink follows its failovers."},
	{name: KeyRedisMinReplicas, docDefault: "`0`", value: intValue(func(c *Config) *int { return &c.Sink.RedisMinReplicas }, 0, 16),
		doc: "Replicas that must hold a batch before it counts as written (`WAIT` after it on its master; retried otherwise, applied at most once by its token): a master killed before replicating loses nothing."},
	{name: KeyRedisUsername, value: stringValue(func(c *Config) *string { return &c.Sink.RedisUsername }),
		doc: "ACL user."},
	{name: KeyRedisPassword, value: stringValue(func(c *Config) *string { return &c.Sink.RedisPassword }), raw: true, redact: hide,
		doc: "Password (logged as `***`)."},
	{name: KeyRedisPasswordFile, value: stringValue(func(c *Config) *string { return &c.Sink.RedisPasswordFile }),
		doc: "File holding the password; wins over `Redis_Password`."},
	{name: KeyRedisDB, docDefault: "`0`", value: intValue(func(c *Config) *int { return &c.Sink.RedisDB }, 0, 1<<16),
		doc: "Database number."},
	{name: KeyRedisTLS, def: "off", value: boolValue(func(c *Config) *bool { return &c.Sink.RedisTLS }),
		doc: "TLS to Redis (the core reserves `tls*` keys; Go plugins cannot use them)."},
	{name: KeyRedisCAFile, docDefault: "(system roots)", value: stringValue(func(c *Config) *string { return &c.Sink.RedisCAFile }),
		doc: "PEM CA bundle for Redis TLS; implies `Redis_TLS on`."},
	{name: KeyRedisPrefix, docDefault: "`log_anomaly`", value: stringValue(func(c *Config) *string { return &c.Sink.RedisPrefix }),
		doc: "Prefix of every Redis key (`<prefix>:new`, `<prefix>:flags`, …). No blanks, ≤ 128 bytes."},
	{name: KeyNewListMax, docDefault: "`200`", value: intValue(func(c *Config) *int { return &c.Sink.NewListMax }, 1, 1<<20),
		doc: "Length `<prefix>:new` is trimmed to."},
	{name: KeyNewListTTL, docDefault: "`7d`", value: durationValue(func(c *Config) *time.Duration { return &c.Sink.NewListTTL }, time.Second, 365*24*time.Hour),
		doc: "Expiry set on `<prefix>:new` and the cluster hashes at every write."},
	{name: KeyAlertKinds, docDefault: "`new`", value: value{
		set: func(c *Config, v string) (err error) {
			c.Sink.AlertKinds, err = parseAlertKinds(v)
			return err
		},
		show: func(c *Config) string { return strings.Join(c.Sink.AlertKinds, ",") },
	}, doc: "Event kinds published on the alert stream `<prefix>:alerts` (shadow mode off): `new`, or `new,generalized` to alert on widened templates too. Every event still goes to `<prefix>:new` and the event log."},
	{name: KeyFlushInterval, docDefault: "`1s`", value: durationValue(func(c *Config) *time.Duration { return &c.Sink.FlushInterval }, 10*time.Millisecond, time.Hour),
		doc: "How often pending new templates are written (10 ms to 1 h); hit counts follow the two keys below."},
	{name: KeyPGHitsInterval, docDefault: "`60s`", value: durationValue(func(c *Config) *time.Duration { return &c.Sink.PGHitsInterval }, 10*time.Millisecond, time.Hour),
		doc: "How often hit counts (`hits`, `last_seen_at`) are written to PostgreSQL (10 ms to 1 h), jittered ±10 % per node, the first at a random point: the rows every node shares are updated once per interval per node, not every second. Exit writes what is pending."},
	{name: KeyRedisHitsInterval, docDefault: "`10s`", value: durationValue(func(c *Config) *time.Duration { return &c.Sink.RedisHitsInterval }, 10*time.Millisecond, time.Hour),
		doc: "The same for the Redis cluster hashes (`size`, `last_seen_at`)."},
	{name: KeyLoadJitter, def: "10s", value: durationValue(func(c *Config) *time.Duration { return &c.Sink.LoadJitter }, 0, 10*time.Minute),
		doc: "The warm start (loading the templates PostgreSQL knows) first waits a random time below this (0 to 10 m), so that a rollout does not ask for every row at once. `0`: no wait."},
	{name: KeyBufferPath, value: stringValue(func(c *Config) *string { return &c.Sink.BufferPath }),
		doc: "Local file: what cannot be written within `Exit_Timeout` at exit is appended there and replayed at the next start. Without it, that work is dropped and counted. Next to it, `<Buffer_Path>.known` caches the templates the node knows to be stored: a restart seeds the miner from it, PostgreSQL or not, and reads from PostgreSQL only the rows created since its last load (docs/stores.md, \"Warm start\")."},
	{name: KeyNodeName, env: "NODE_NAME", docDefault: "`$NODE_NAME`, else the host name", value: stringValue(func(c *Config) *string { return &c.Sink.NodeName }),
		doc: "Recorded as `first_node` and in events. In a pod the host name is the pod name: set `NODE_NAME` from the downward API."},
	{name: KeyMetricsListen, docDefault: "(off)", value: value{
		set: func(c *Config, v string) error {
			if !sink.ValidAddr(v) {
				return fmt.Errorf("%q is not host:port (e.g. 0.0.0.0:2021, :2021, 127.0.0.1:0)", v)
			}
			c.MetricsListen = v
			return nil
		},
		show: func(c *Config) string { return c.MetricsListen },
	}, doc: "`host:port` of this instance's own Prometheus endpoint (`/metrics`), e.g. `0.0.0.0:2021`. If the address is busy (hot reload) it is retried every second."},
	{name: KeyQueueSize, docDefault: "`50000`", value: intValue(func(c *Config) *int { return &c.Sink.QueueBudget }, 1, 1<<24),
		doc: "Budget of pending entries in the sink (a pending template, or one template's coalesced hit count, per store); beyond it new entries are dropped and counted, never waited for."},
	{name: KeyExitTimeout, def: "5s", value: durationValue(func(c *Config) *time.Duration { return &c.ExitTimeout }, 0, 10*time.Minute),
		doc: "How long shutdown may take to write what is pending (0 to 10 m). Keep it below Fluent Bit's `Grace` and the pod's termination grace period."},
	{name: KeySampleBytes, docDefault: "`500`", value: sizeValue(func(c *Config) *int { return &c.Sink.SampleBytes }, 1, 64<<10),
		doc: "Stored sample lines (`sample`, `sample_log`) are cut to this size (1 to 64K), after redaction."},
	{name: KeySampleRedact, def: SampleRedactSecrets, value: value{
		set: func(c *Config, v string) error {
			switch v = strings.ToLower(v); v {
			case SampleRedactSecrets, SampleRedactValues:
				c.SampleRedact = v
				return nil
			}
			return fmt.Errorf("%q (want secrets or values)", v)
		},
		show: func(c *Config) string { return c.SampleRedact },
	}, doc: "What a stored sample keeps of its line: `secrets` keeps the real line with its secrets redacted (`<redacted>`: the values of password, token, secret, API key and cookie settings, `?key=` in URLs, Bearer/Basic credentials, JWTs, e-mail addresses, AWS key ids, private key material), every other byte kept; `values` stores the line masked as its template is (every variable), for privacy-strict clusters."},
	{name: KeyTestPanic, hook: true, value: value{
		set: func(c *Config, v string) error {
			if v != "panic" && v != "nil" {
				return fmt.Errorf("%q (want panic or nil)", v)
			}
			c.TestPanic = v
			return nil
		},
		show: func(c *Config) string { return c.TestPanic },
	}, omit: func(c *Config) bool { return c.TestPanic == "" }},
	{name: KeyTestFlagsInterval, hook: true,
		value: durationValue(func(c *Config) *time.Duration { return &c.Sink.FlagsInterval }, 0, time.Hour),
		omit: func(c *Config) bool {
			return c.Sink.FlagsInterval <= 0 || c.Sink.FlagsInterval == sink.DefaultFlagsInterval
		}},
}

// boolValue reads a boolean key (sink.ParseBool), shown on or off.
func boolValue(field func(*Config) *bool) value {
	return value{
		set: func(c *Config, v string) error {
			b, ok := sink.ParseBool(v)
			if !ok {
				return fmt.Errorf("%q is not a boolean (want true/on/yes or false/off/no)", v)
			}
			*field(c) = b
			return nil
		},
		show: func(c *Config) string {
			if *field(c) {
				return "on"
			}
			return "off"
		},
	}
}

// intValue reads a decimal integer in [lo, hi].
func intValue(field func(*Config) *int, lo, hi int) value {
	return value{
		set: func(c *Config, v string) error {
			n, err := parseInt(v, lo, hi)
			if err == nil {
				*field(c) = n
			}
			return err
		},
		show: func(c *Config) string { return strconv.Itoa(*field(c)) },
	}
}

// sizeValue reads a size (ParseSize) in [lo, hi] bytes, shown in bytes.
func sizeValue(field func(*Config) *int, lo, hi int) value {
	return value{
		set: func(c *Config, v string) error {
			n, err := parseSize(v, lo, hi)
			if err == nil {
				*field(c) = n
			}
			return err
		},
		show: func(c *Config) string { return strconv.Itoa(*field(c)) },
	}
}

// durationValue reads a duration (parseDuration) in [lo, hi].
func durationValue(field func(*Config) *time.Duration, lo, hi time.Duration) value {
	return value{
		set: func(c *Config, v string) error {
			d, err := parseDuration(v, lo, hi)
			if err == nil {
				*field(c) = d
			}
			return err
		},
		show: func(c *Config) string { return field(c).String() },
	}
}

// stringValue takes the value as it is; the sink's Validate checks the
// names and addresses among them.
func stringValue(field func(*Config) *string) value {
	return value{
		set:  func(c *Config, v string) error { *field(c) = v; return nil },
		show: func(c *Config) string { return *field(c) },
	}
}

// hide redacts a password whole.
func hide(v string) string {
	if v == "" {
		return ""
	}
	return hidden
}
