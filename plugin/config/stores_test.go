package config

import (
	"reflect"
	"strings"
	"testing"

	"github.com/awoooi/fluent-bit-drain/sink"
)

func TestStores(t *testing.T) {
	m := Map{
		KeyPGDSN: "postgres://h/x", KeyPGDSNFile: "/f", KeyPGTable: "s.t",
		KeyRedisAddr: "r:1,r:2", KeyRedisMasterName: "m", KeyRedisUsername: "u", KeyRedisPassword: " pw ", KeyRedisPasswordFile: "/p",
		KeyRedisDB: "3", KeyRedisTLS: "on", KeyRedisCAFile: "/ca", KeyRedisPrefix: "pre",
	}
	if len(m) != len(StoreKeys) {
		t.Fatalf("the test sets %d keys, StoreKeys has %d", len(m), len(StoreKeys))
	}
	for _, k := range StoreKeys {
		if _, ok := m[k]; !ok {
			t.Errorf("StoreKeys has %s, the test does not set it", k)
		}
	}
	c, err := Parse(m)
	if err != nil {
		t.Fatal(err)
	}
	s := c.Sink
	got := sink.Config{PGDSN: s.PGDSN, PGDSNFile: s.PGDSNFile, PGTable: s.PGTable, RedisAddr: s.RedisAddr, RedisMasterName: s.RedisMasterName,
		RedisUsername: s.RedisUsername, RedisPassword: s.RedisPassword, RedisPasswordFile: s.RedisPasswordFile, RedisDB: s.RedisDB,
		RedisTLS: s.RedisTLS, RedisCAFile: s.RedisCAFile, RedisPrefix: s.RedisPrefix}
	want := sink.Config{PGDSN: "postgres://h/x", PGDSNFile: "/f", PGTable: "s.t", RedisAddr: "r:1,r:2", RedisMasterName: "m", RedisUsername: "u",
		RedisPassword: " pw ", RedisPasswordFile: "/p", RedisDB: 3, RedisTLS: true, RedisCAFile: "/ca", RedisPrefix: "pre"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Sink = %+v, want %+v", got, want)
	}
	// Defaults and validation are Parse's.
	c, err = Parse(Map{})
	if err != nil || c.Sink.PGTable != sink.DefaultPGTable || c.Sink.RedisPrefix != sink.DefaultRedisPrefix {
		t.Errorf("defaults: %v %+v", err, c)
	}
	if _, err := Parse(Map{KeyRedisPrefix: "a b"}); err == nil || !strings.Contains(err.Error(), KeyRedisPrefix) {
		t.Errorf("bad prefix: %v", err)
	}
	for _, bad := range []Map{{KeyRedisAddr: "r:1,,r:2"}, {KeyRedisAddr: "r:1,r"}, {KeyRedisMasterName: "m"}} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%v) accepted", bad)
		}
	}
}
