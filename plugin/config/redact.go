package config

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

const hidden = "***"

// String renders the effective configuration as one log line, keys in
// their canonical spelling. Passwords (in the DSN or Redis_Password) are
// replaced by ***; files are shown by path only.
func (c *Config) String() string {
	var b strings.Builder
	kv := func(k string, v any) { fmt.Fprintf(&b, " %s=%v", k, v) }
	onOff := func(on bool) string {
		if on {
			return "on"
		}
		return "off"
	}
	orNone := func(s string) string {
		if s == "" {
			return `""`
		}
		return s
	}
	kv(KeyEnabled, onOff(c.Enabled))
	kv(KeyShadowMode, onOff(c.ShadowMode))
	kv(KeyMessageKey, strings.Join(c.MessageKeys, ","))
	if c.PartitionKeys == nil {
		kv(KeyPartitionKey, "(per source)")
	} else {
		kv(KeyPartitionKey, strings.Join(c.PartitionKeys, ","))
	}
	if c.Source != "" {
		kv(KeySource, c.Source)
	} else {
		rules := make([]string, len(c.SourceMap))
		for i, r := range c.SourceMap {
			rules[i] = r.Prefix + "=" + r.Source
		}
		kv(KeySourceMap, strings.Join(rules, ","))
	}
	d := &c.Drain
	kv(KeyPreset, c.Preset)
	kv(KeySimTh, d.SimTh)
	kv(KeyDepth, d.Depth)
	kv(KeyMaxChildren, d.MaxChildren)
	kv(KeyMaxClusters, d.MaxClusters)
	kv(KeyMaxPartitions, d.MaxPartitions)
	kv(KeyMaxLineBytes, d.MaxLineBytes)
	kv(KeyMaxTokens, d.MaxTokens)
	kv(KeyMaxScored, d.MaxScored)
	kv(KeyNewBurst, d.NewTemplateBurst)
	kv(KeyNewPerMinute, d.NewTemplateRate)
	kv(KeyMaxPartTemplates, d.MaxPartitionClusters)
	kv(KeySiblingValues, d.SiblingValues)
	names := make([]string, len(c.UserMasks))
	for i, m := range c.UserMasks {
		names[i] = m.Name
	}
	kv(KeyMask, orNone(strings.Join(names, ";")))
	kv(KeyPGDSN, orNone(RedactDSN(c.PGDSN)))
	kv(KeyPGDSNFile, orNone(c.PGDSNFile))
	kv(KeyPGTable, c.PGTable)
	kv(KeyPGCompatView, orNone(c.PGCompatView))
	kv(KeyRedisAddr, orNone(c.RedisAddr))
	kv(KeyRedisMasterName, orNone(c.RedisMasterName))
	kv(KeyRedisMinReplicas, c.RedisMinReplicas)
	kv(KeyRedisUsername, orNone(c.RedisUsername))
	if c.RedisPassword != "" {
		kv(KeyRedisPassword, hidden)
	} else {
		kv(KeyRedisPassword, `""`)
	}
	kv(KeyRedisPasswordFile, orNone(c.RedisPasswordFile))
	kv(KeyRedisDB, c.RedisDB)
	kv(KeyRedisTLS, onOff(c.RedisTLS))
	kv(KeyRedisCAFile, orNone(c.RedisCAFile))
	kv(KeyRedisPrefix, c.RedisPrefix)
	kv(KeyNewListMax, c.NewListMax)
	kv(KeyNewListTTL, c.NewListTTL)
	kv(KeyAlertKinds, strings.Join(c.AlertKinds, ","))
	kv(KeyFlushInterval, c.FlushInterval)
	kv(KeyPGHitsInterval, c.PGHitsInterval)
	kv(KeyRedisHitsInterval, c.RedisHitsInterval)
	kv(KeyLoadJitter, c.LoadJitter)
	kv(KeyBufferPath, orNone(c.BufferPath))
	kv(KeyNodeName, orNone(c.NodeName))
	kv(KeyMetricsListen, orNone(c.MetricsListen))
	kv(KeyQueueSize, c.QueueSize)
	kv(KeyExitTimeout, c.ExitTimeout)
	kv(KeySampleBytes, c.SampleSize)
	kv(KeySampleRedact, c.SampleRedact)
	if c.TestPanic != "" {
		kv(KeyTestPanic, c.TestPanic)
	}
	if c.TestFlagsInterval > 0 {
		kv(KeyTestFlagsInterval, c.TestFlagsInterval)
	}
	return strings.TrimPrefix(b.String(), " ")
}

// passwordKV matches password-like settings in a libpq keyword/value DSN
// (password, sslpassword), quoted or not.
var passwordKV = regexp.MustCompile(`(?i)(\b\w*password\s*=\s*)('(?:[^'\\]|\\.)*'?|\S*)`)

// RedactDSN hides the passwords of a PostgreSQL DSN, URL or keyword/value
// form. A URL that cannot be parsed is hidden whole.
func RedactDSN(dsn string) string {
	if dsn == "" {
		return ""
	}
	if !strings.Contains(dsn, "://") {
		return passwordKV.ReplaceAllString(dsn, "${1}"+hidden)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable URL, hidden)"
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	q := u.Query()
	for k := range q {
		if strings.Contains(strings.ToLower(k), "password") {
			q.Set(k, "xxxxx")
		}
	}
	u.RawQuery = q.Encode()
	return strings.ReplaceAll(u.String(), "xxxxx", hidden)
}
