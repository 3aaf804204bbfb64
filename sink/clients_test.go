package sink

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/awoooi/fluent-bit-drain/internal/testutil"
)

// TestOpenClients: the clients resolve the configuration as New does (files,
// table name, TLS) and their errors and Redact never show a secret.
func TestOpenClients(t *testing.T) {
	const pw = "Cl13nt-s3cret"
	dir := t.TempDir()
	dsnFile := filepath.Join(dir, "dsn")
	os.WriteFile(dsnFile, []byte("postgres://u:"+pw+"@db.example:6543/x\n"), 0o600)
	pwFile := filepath.Join(dir, "pw")
	os.WriteFile(pwFile, []byte(pw+"\n"), 0o600)
	notPEM := filepath.Join(dir, "ca.pem")
	os.WriteFile(notPEM, []byte("not a certificate"), 0o600)

	for _, tc := range []struct {
		name              string
		cfg               Config
		err               string
		pgAddr, table     string
		redisAddr, prefix string
		holdsPW           bool // the configuration holds the password: Redact removes it
	}{
		{name: "nothing", cfg: Config{}, table: `"log_templates"`, prefix: "log_anomaly"},
		{name: "dsn file wins", cfg: Config{PGDSN: "postgres://other@h:1/y", PGDSNFile: dsnFile, PGTable: "s.t"}, pgAddr: "db.example:6543", table: `"s"."t"`, prefix: "log_anomaly", holdsPW: true},
		{name: "redis", cfg: Config{RedisAddr: "r:6380", RedisPasswordFile: pwFile, RedisPrefix: "p"}, table: `"log_templates"`, redisAddr: "r:6380", prefix: "p", holdsPW: true},
		{name: "bad table", cfg: Config{PGTable: "a.b.c"}, err: `PG_Table: "a.b.c" is not a table name (want table or schema.table`},
		{name: "missing dsn file", cfg: Config{PGDSNFile: filepath.Join(dir, "none")}, err: "PG_DSN_File: open " + filepath.Join(dir, "none")},
		{name: "unparsable dsn", cfg: Config{PGDSN: "postgres://u:" + pw + "@h:99999999/x"}, err: "PG_DSN: cannot be parsed (value not shown)"},
		{name: "missing password file", cfg: Config{RedisAddr: "r:1", RedisPasswordFile: filepath.Join(dir, "nope")}, err: "Redis_Password_File: open "},
		{name: "bad CA", cfg: Config{RedisAddr: "r:1", RedisCAFile: notPEM}, err: "Redis_CA_File " + notPEM + ": no PEM certificate in it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := OpenClients(tc.cfg)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || strings.Contains(err.Error(), pw) {
					t.Fatalf("error %v, want %q without the password", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if c.PGAddr != tc.pgAddr || (c.PG != nil) != (tc.pgAddr != "") || c.Table != tc.table ||
				c.RedisAddr != tc.redisAddr || (c.Redis != nil) != (tc.redisAddr != "") || c.Prefix != tc.prefix {
				t.Errorf("clients %+v", c)
			}
			if got := c.Redact("auth failed for " + pw + " at postgres://u:" + pw + "@db.example:6543/x"); tc.holdsPW && strings.Contains(got, pw) {
				t.Errorf("Redact left the password: %q", got)
			}
		})
	}
}

// TestOpenClientsReach: the clients reach the shared servers.
func TestOpenClientsReach(t *testing.T) {
	table := testutil.PGSchema(t, testutil.SharedDSN, "sinkt")
	_, prefix := testutil.RedisPrefix(t, testutil.SharedRedis, "sinkt")
	c, err := OpenClients(Config{PGDSN: testutil.SharedDSN, PGTable: table, RedisAddr: testutil.SharedRedis, RedisPrefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	var one int
	if err := c.PG.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Errorf("postgres: %v", err)
	}
	if err := c.Redis.Set(ctx, prefix+":x", "y", 0).Err(); err != nil {
		t.Errorf("redis: %v", err)
	}
}

func TestParseFlag(t *testing.T) {
	for v, want := range map[string][2]bool{"on": {true, true}, "OFF": {false, true}, " 1 ": {true, true}, "no": {false, true}, "maybe": {false, false}, "": {false, false}} {
		if on, ok := ParseFlag(v); on != want[0] || ok != want[1] {
			t.Errorf("ParseFlag(%q) = %v, %v", v, on, ok)
		}
	}
}
