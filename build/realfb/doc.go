// Package realfb is the optional end-to-end suite that runs out_drain.so inside a real
// Fluent Bit, with the repository's own fluent-bit.conf and fluent-bit.yaml (paths and
// stores set through their DRAIN_* environment overrides), against PostgreSQL and Redis.
//
// The tests skip with a one-line reason unless FLUENT_BIT names a fluent-bit binary
// (v4.2.8, built with the Go proxy, tail, systemd, kubernetes, parser and the HTTP
// server): `make test-fluent-bit FLUENT_BIT=/path/to/fluent-bit`. DRAIN_SO may name an
// out_drain.so to load; without it the tests build one.
package realfb
