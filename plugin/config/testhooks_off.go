//go:build !drain_testhooks

package config

// testHooks is true only in builds with the drain_testhooks tag, which the
// end-to-end tests use to inject panics (see KeyTestPanic).
const testHooks = false
