// Package testutil holds the helpers that several packages' tests share:
// a log-capturing Logger, a goroutine-safe event buffer, polling (WaitFor),
// ports reserved for servers a test starts itself (Port), the machine's
// shared PostgreSQL and Redis with a schema or key prefix per test, private
// PostgreSQL and Redis servers (plain or TLS) for fault tests, a throwaway
// CA, the benchmarks' thread-CPU clock, loopback TCP stand-ins for stores
// that hang, a PgBouncer in transaction pooling mode (StartPgBouncer), and
// the build of the C test host.
//
// It is imported only from _test.go files and by cmd/fleetsim (its
// PgBouncer starter); the plugin must not depend on it.
package testutil
