package sink

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
)

// Clients are connections to the stores a sink with the same Config writes,
// for tools that read them or change the run-time keys (the drain command):
// the DSN file, the password file, TLS and the table name are resolved and
// validated exactly as New does. Nothing is dialed until the first call.
type Clients struct {
	// PG is nil without PostgreSQL; PGAddr is its server for messages
	// (host:port or the socket directory, never credentials), Table the
	// configured table as a quoted identifier safe to splice into SQL.
	PG     *pgxpool.Pool
	PGAddr string
	Table  string
	// Deltas is the table's hit-count deltas table, quoted, and Pending a
	// subquery of its counts no merge has added yet, per template
	// (template_id, n): a reader adds them to hits (PendingSum).
	Deltas, Pending string
	// Redis is nil without Redis; RedisAddr is Config.RedisAddr.
	Redis     redis.UniversalClient
	RedisAddr string
	// Prefix is what every key starts with (Config.RedisKeyPrefix).
	Prefix string

	secrets []string
}

// OpenClients resolves cfg's stores. Its errors never quote a secret.
func OpenClients(cfg Config) (*Clients, error) {
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("sink: %w", err)
	}
	c := &Clients{Prefix: cfg.RedisKeyPrefix()}
	ident, _ := tableIdent(cfg.PGTable) // valid: Validate checked it
	c.Table = ident.Sanitize()
	var err error
	if c.Deltas, c.Pending, err = PendingHits(cfg.PGTable); err != nil {
		return nil, err
	}
	pc, dsn, err := cfg.pgConfig()
	if err != nil {
		return nil, err
	}
	if pc != nil {
		c.secrets = append(c.secrets, dsn, pc.ConnConfig.Password)
		c.PGAddr = pgAddr(pc)
		if c.PG, err = pgxpool.NewWithConfig(context.Background(), pc); err != nil {
			return nil, errors.New("sink: postgres pool: " + c.Redact(err.Error()))
		}
	}
	if cfg.RedisAddr != "" {
		pw := cfg.RedisPassword
		if cfg.RedisPasswordFile != "" {
			if pw, err = readSecret(cfg.RedisPasswordFile, "Redis_Password_File"); err != nil {
				c.Close()
				return nil, err
			}
		}
		c.secrets = append(c.secrets, pw)
		tc, err := cfg.redisTLS()
		if err != nil {
			c.Close()
			return nil, err
		}
		quietOnce.Do(func() { redis.SetLogger(quietLogger{}) })
		c.RedisAddr = cfg.RedisAddr
		var dial func(context.Context, string, string) (net.Conn, error)
		if tc != nil {
			dial = newTiedDialer(context.Background(), cfg.CallTimeout, tc).DialContext
		}
		o := cfg.redisOptions(pw, dial, 1)
		o.ConnMaxIdleTime = time.Minute
		c.Redis = redis.NewUniversalClient(o)
	}
	return c, nil
}

// Redact removes every configured secret (the DSN, the PostgreSQL and Redis
// passwords) from s: drivers are careful, but an error that echoes one must
// still not reach a terminal or a log.
func (c *Clients) Redact(s string) string {
	for _, sec := range c.secrets {
		if len(sec) >= 3 {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return s
}

// Close closes whatever was opened.
func (c *Clients) Close() {
	if c.PG != nil {
		c.PG.Close()
	}
	if c.Redis != nil {
		c.Redis.Close() //nolint:errcheck // closing
	}
}

// ParseFlag reads a value of the run-time flags hash <prefix>:flags as the
// sink's poller does: ParseBool's spellings and 1/0; ok is false for
// anything else, which the poller ignores.
func ParseFlag(v string) (on, ok bool) { return parseBool(v) }
