package config

import "github.com/awoooi/fluent-bit-drain/sink"

// StoreKeys are the keys that say where the stores are and what their
// table and keys are named: all a tool that reads or steers the stores
// (the drain command) needs, parsed and validated by Parse like the rest.
var StoreKeys = []string{
	KeyPGDSN, KeyPGDSNFile, KeyPGTable,
	KeyRedisAddr, KeyRedisMasterName, KeyRedisUsername, KeyRedisPassword, KeyRedisPasswordFile,
	KeyRedisDB, KeyRedisTLS, KeyRedisCAFile, KeyRedisPrefix,
}

// Stores returns the sink configuration of the StoreKeys, the same fields
// the plugin's sink gets from them.
func (c *Config) Stores() sink.Config {
	return sink.Config{
		PGDSN:             c.PGDSN,
		PGDSNFile:         c.PGDSNFile,
		PGTable:           c.PGTable,
		RedisAddr:         c.RedisAddr,
		RedisMasterName:   c.RedisMasterName,
		RedisUsername:     c.RedisUsername,
		RedisPassword:     c.RedisPassword,
		RedisPasswordFile: c.RedisPasswordFile,
		RedisDB:           c.RedisDB,
		RedisTLS:          c.RedisTLS,
		RedisCAFile:       c.RedisCAFile,
		RedisPrefix:       c.RedisPrefix,
	}
}
