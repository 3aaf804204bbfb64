package testutil

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// The machine's shared PostgreSQL (trust auth, database test) and Redis.
// Tests never change them beyond a schema or key prefix of their own.
const (
	SharedDSN   = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	SharedRedis = "127.0.0.1:6379"
)

var uniqN atomic.Int64

// Uniq is a name no other test, test process or earlier run uses:
// prefix, the process id, the clock and a counter.
func Uniq(prefix string) string {
	return fmt.Sprintf("%s_%d_%d_%d", prefix, os.Getpid(), time.Now().UnixNano()%1e9, uniqN.Add(1))
}

// PGSchema creates a schema of its own (named Uniq(prefix)) in the database
// of dsn, drops it when the test ends, and returns its name. It skips the
// test when PostgreSQL cannot be reached.
func PGSchema(t testing.TB, dsn, prefix string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Skipf("PostgreSQL not reachable (%v): start it or run .ci/run", err)
	}
	defer conn.Close(ctx)
	schema := Uniq(prefix)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, dsn); err == nil {
			c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
			c.Close(ctx)
		}
	})
	return schema
}

// PGQuery runs sql on a connection of its own and returns every row's values.
func PGQuery(t testing.TB, dsn, sql string, args ...any) [][]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect for %q: %v", sql, err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, sql, args...)
	if err != nil {
		t.Fatalf("%q: %v", sql, err)
	}
	var out [][]any
	for rows.Next() {
		v, err := rows.Values()
		if err != nil {
			t.Fatalf("%q: %v", sql, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%q: %v", sql, err)
	}
	return out
}

// RedisPrefix returns a client of the Redis at addr and a key prefix of its
// own (Uniq(prefix)); when the test ends it deletes the prefix's keys and
// closes the client. It skips the test when Redis cannot be reached.
func RedisPrefix(t testing.TB, addr, prefix string) (*redis.Client, string) {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		t.Skipf("Redis not reachable at %s (%v): start it or run .ci/run", addr, err)
	}
	p := Uniq(prefix)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if keys, err := rdb.Keys(ctx, p+":*").Result(); err == nil && len(keys) > 0 {
			rdb.Del(ctx, keys...)
		}
		rdb.Close()
	})
	return rdb, p
}
