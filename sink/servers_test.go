package sink

// Test-only helpers of this package. The servers themselves (the machine's
// shared PostgreSQL and Redis with a schema or prefix per test, private
// servers for the tests that stop, kill or pause one) are in
// internal/testutil.

import (
	"os"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/awoooi/fluent-bit-drain/internal/testutil"
)

// TestMain removes the private PostgreSQL cluster after the tests.
func TestMain(m *testing.M) { os.Exit(testutil.Main(m)) }

// uniq is a name of its own for a table or key prefix.
func uniq() string { return testutil.Uniq("sinkt") }

// poolConfig is the pool configuration the sink would use for dsn.
func poolConfig(t testing.TB, dsn string) *pgxpool.Config {
	t.Helper()
	cfg := Config{PGDSN: dsn}
	cfg.SetDefaults()
	pc, _, err := cfg.pgConfig()
	if err != nil {
		t.Fatal(err)
	}
	return pc
}

// pgSchema creates a schema of its own in the database of dsn and returns
// the sink's table name inside it.
func pgSchema(t testing.TB, dsn string) string {
	t.Helper()
	return testutil.PGSchema(t, dsn, "sinkt") + ".log_templates"
}
