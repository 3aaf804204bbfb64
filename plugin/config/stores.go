package config

// StoreKeys are the keys that say where the stores are and what their
// table and keys are named: all a tool that reads or steers the stores
// (the drain command) needs. Parse reads them into Config.Sink and the
// sink's Validate checks them, as for the plugin.
var StoreKeys = []string{
	KeyPGDSN, KeyPGDSNFile, KeyPGTable,
	KeyRedisAddr, KeyRedisMasterName, KeyRedisUsername, KeyRedisPassword, KeyRedisPasswordFile,
	KeyRedisDB, KeyRedisTLS, KeyRedisCAFile, KeyRedisPrefix,
}
