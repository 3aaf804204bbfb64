package sink

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// Config configures a Sink. The zero value is a valid log-only sink that
// discards its events; every duration or size left at zero takes the default
// written next to it (SetDefaults), and Validate checks the rest. The plugin's
// configuration holds one, and its keys (named in brackets) set its fields.
type Config struct {
	// PGDSN is the PostgreSQL connection string [PG_DSN], URL or key=value
	// form; sslmode and every other libpq setting in it are honoured. Empty
	// together with PGDSNFile means no PostgreSQL: "new" then means new to this
	// node.
	PGDSN string
	// PGDSNFile names a file holding the DSN [PG_DSN_File], e.g. a mounted
	// Kubernetes secret; surrounding white space is ignored. It wins over PGDSN.
	PGDSNFile string
	// PGMaxConns caps the PostgreSQL pool; a DaemonSet multiplies it by
	// the number of nodes. The writer and LoadKnown share one connection,
	// which is closed as soon as nothing is left to write (docs/stores.md,
	// "Scale"). pool_* settings in the DSN are ignored. Default 1.
	PGMaxConns int
	// PGPooler says that PGDSN points at a connection pooler (PgBouncer in
	// transaction mode) rather than at PostgreSQL [PG_Pooler]: the node
	// then keeps its connection to the pooler between writes instead of
	// closing it whenever nothing is left to write, which costs the pooler
	// a client connection per node (cheap) and PostgreSQL nothing, and
	// saves a dial per write. Off by default: against PostgreSQL itself an
	// idle connection would hold a server backend and a connection slot.
	PGPooler bool
	// PGHitsInterval is how often hit counts are written to PostgreSQL
	// [PG_Hits_Interval]; new templates still go every FlushInterval. Each
	// interval is jittered by ±10 % and the first one starts at a random
	// point, so the nodes of a DaemonSet started together do not update
	// the rows they share at the same moment. Default 60 s.
	PGHitsInterval time.Duration
	// PGMergeInterval is how old the oldest unmerged hit-count delta must
	// be before a node merges the deltas into the templates' counts: with
	// a fleet writing deltas all the time, about one merge per interval
	// cluster-wide (docs/stores.md, "Hit counts as deltas"). A closing
	// node merges whatever is pending. Default 10 s.
	PGMergeInterval time.Duration
	// PGTable is the table name [PG_Table], "table" or "schema.table", each
	// part matching [A-Za-z_][A-Za-z0-9_]* and at most 63 bytes. Default
	// "log_templates".
	PGTable string
	// PGCompatView names a read-only view over the table with the column
	// names of the seed service's LogClusterRecord (cluster_id, template,
	// size, source, sample_log, first_seen_at, last_seen_at), for its
	// downstream readers [PG_Compat_View]; created with the schema when
	// missing. Same syntax as PGTable; empty means no view.
	PGCompatView string

	// RedisAddr is host:port of Redis [Redis_Addr], or a comma list:
	// several addresses are the seed nodes of a Redis Cluster, or, with
	// RedisMasterName, the Sentinels. Empty means no Redis.
	RedisAddr string
	// RedisMasterName is the name of the master the Sentinels at RedisAddr
	// watch [Redis_Master_Name]; the sink follows its failovers.
	RedisMasterName string
	// RedisMinReplicas is how many replicas must hold a batch before it
	// counts as written [Redis_Min_Replicas] (WAIT after the batch's
	// MULTI/EXEC on its master): a master killed before replicating does
	// not lose it, as the batch is retried and its token makes the retry
	// apply it at most once. 0 (the default) does not wait.
	RedisMinReplicas int
	// RedisUsername is the ACL user [Redis_Username]; empty for the default user.
	RedisUsername string
	// RedisPassword is the password [Redis_Password].
	RedisPassword string
	// RedisPasswordFile names a file holding the password
	// [Redis_Password_File]; it wins over RedisPassword.
	RedisPasswordFile string
	// RedisDB is the database number [Redis_DB].
	RedisDB int
	// RedisTLS enables TLS to Redis [Redis_TLS].
	RedisTLS bool
	// RedisCAFile is a PEM bundle of CAs to verify Redis with [Redis_CA_File];
	// empty means the system roots. Implies RedisTLS.
	RedisCAFile string
	// RedisPrefix prefixes every key [Redis_Prefix]. Default "log_anomaly".
	RedisPrefix string
	// RedisHitsInterval is how often hit counts are written to Redis
	// [Redis_Hits_Interval], jittered like PGHitsInterval. Default 10 s.
	RedisHitsInterval time.Duration
	// RedisPoolSize caps connections to Redis; a DaemonSet multiplies it by
	// the number of nodes. Default 2 (the writer and the flags poller).
	RedisPoolSize int

	// NewListMax is the length <prefix>:new is trimmed to [New_List_Max].
	// Default 200.
	NewListMax int
	// NewListTTL is the expiry set on <prefix>:new and on the cluster hashes
	// at every write [New_List_TTL]. Default 7 days.
	NewListTTL time.Duration
	// AlertStreamMaxLen is the approximate length <prefix>:alerts is capped
	// at (XADD MAXLEN ~). Default 10000.
	AlertStreamMaxLen int64
	// AlertKinds are the event kinds also XADDed to <prefix>:alerts
	// [Alert_Kinds]; every event goes to <prefix>:new whatever its kind.
	// A widened template ("generalized") is the same event as before, so
	// by default only "new" is an alert. Default {"new"}.
	AlertKinds []string
	// FlagsInterval is how often <prefix>:flags is polled [_test_flags_interval,
	// test builds only]. Default 10 s.
	FlagsInterval time.Duration

	// FlushInterval is how often pending work is handed to the writers, which
	// write it as one batch per store [Flush_Interval]. Default 1 s.
	FlushInterval time.Duration
	// CallTimeout bounds every call to a store, connecting included.
	// Default 5 s.
	CallTimeout time.Duration
	// RetryMin and RetryMax bound the exponential backoff (with jitter)
	// between failed attempts of a store. Defaults 500 ms and 30 s.
	RetryMin, RetryMax time.Duration
	// ShutdownTimeout bounds Close when its context has no deadline.
	// Default 10 s.
	ShutdownTimeout time.Duration
	// LoadTimeout bounds LoadKnown on top of its context. Default 30 s.
	LoadTimeout time.Duration
	// LoadJitter spreads the warm starts of a DaemonSet rollout:
	// LoadKnown first waits a random time below it [Load_Jitter]. Zero
	// means no wait.
	LoadJitter time.Duration
	// LoadPageSize is the number of rows LoadKnown reads per query.
	// Default 5000.
	LoadPageSize int
	// MaxBatch caps the rows or events written in one statement or
	// transaction; a larger backlog takes several. Default 5000.
	MaxBatch int

	// BufferPath names a local file [Buffer_Path]: what Close cannot write
	// in time is appended to it, and New replays and removes it. Empty means
	// unwritten work is dropped (and counted) at Close.
	BufferPath string
	// NodeName is recorded as first_node and in events [Node_Name].
	// Default: the host name.
	NodeName string

	// Flags are the static run-time flags [Enabled, Shadow_Mode]; the Redis
	// hash <prefix>:flags overrides them while it is readable. The plugin
	// passes Shadow_Mode's default (on); the zero value here means off.
	Flags Flags

	// QueueBudget [Queue_Size] bounds pending work in entries: a template waiting for
	// confirmation, or one template's coalesced hit count, per store that
	// still has to write it. Past it new entries are dropped and counted;
	// counts of entries already pending still coalesce. Memory stays near
	// QueueBudget × (SampleBytes + template + ~200 bytes). Default 50000.
	QueueBudget int
	// SampleBytes truncates stored sample lines, on a UTF-8 boundary
	// [Sample_Bytes]. Default 500.
	SampleBytes int
	// TemplateBytes truncates stored templates, on a UTF-8 boundary; a
	// defence against hostile input, counted in Stats.Truncated. Default 16 KiB.
	TemplateBytes int

	// Events, when set, receives every announced event as one JSON line.
	// With neither store configured this is the log-only sink (the plugin
	// passes stdout); with stores it is shadow mode's "and logged".
	Events io.Writer

	// ledgerRecheck overrides how often a PostgreSQL writer without its
	// batch ledger looks for it again (tests); zero means ledgerRecheck.
	ledgerRecheck time.Duration
	// knownMargin overrides how far before its mark an incremental warm
	// start reads (tests); zero means knownMarginFor(CallTimeout).
	knownMargin time.Duration
}

// Defaults, exported so the plugin can document its keys with them.
const (
	DefaultPGTable       = "log_templates"
	DefaultRedisPrefix   = "log_anomaly"
	DefaultNewListMax    = 200
	DefaultNewListTTL    = 7 * 24 * time.Hour
	DefaultFlushInterval = time.Second
	DefaultFlagsInterval = 10 * time.Second
	DefaultPGHits        = time.Minute
	DefaultPGMerge       = 10 * time.Second
	DefaultRedisHits     = 10 * time.Second
	DefaultQueueBudget   = 50000
	DefaultSampleBytes   = 500
)

// SetDefaults fills every field left at zero (or below it) with the
// default written next to it: New and OpenClients call it, and the plugin
// starts its configuration from it, so each default is written once.
func (c *Config) SetDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	defInt := func(i *int, v int) {
		if *i <= 0 {
			*i = v
		}
	}
	if c.PGTable == "" {
		c.PGTable = DefaultPGTable
	}
	if c.RedisPrefix == "" {
		c.RedisPrefix = DefaultRedisPrefix
	}
	defInt(&c.RedisPoolSize, 2)
	defInt(&c.PGMaxConns, 1)
	def(&c.PGHitsInterval, DefaultPGHits)
	def(&c.PGMergeInterval, DefaultPGMerge)
	def(&c.RedisHitsInterval, DefaultRedisHits)
	if c.LoadJitter < 0 {
		c.LoadJitter = 0
	}
	defInt(&c.NewListMax, DefaultNewListMax)
	def(&c.NewListTTL, DefaultNewListTTL)
	if c.AlertStreamMaxLen <= 0 {
		c.AlertStreamMaxLen = 10000
	}
	if len(c.AlertKinds) == 0 {
		c.AlertKinds = []string{KindNew}
	}
	def(&c.FlagsInterval, DefaultFlagsInterval)
	def(&c.FlushInterval, DefaultFlushInterval)
	def(&c.CallTimeout, 5*time.Second)
	def(&c.RetryMin, 500*time.Millisecond)
	def(&c.RetryMax, 30*time.Second)
	if c.RetryMax < c.RetryMin {
		c.RetryMax = c.RetryMin
	}
	def(&c.LoadTimeout, 30*time.Second)
	def(&c.ShutdownTimeout, 10*time.Second)
	defInt(&c.LoadPageSize, 5000)
	defInt(&c.MaxBatch, 5000)
	defInt(&c.QueueBudget, DefaultQueueBudget)
	defInt(&c.SampleBytes, DefaultSampleBytes)
	defInt(&c.TemplateBytes, 16<<10)
	if c.NodeName == "" {
		c.NodeName, _ = os.Hostname()
	}
}

// Validate reports every invalid field of c (after SetDefaults), each
// error naming the field's configuration key and quoting its value:
// relation names, Redis addresses and prefix, and the fields that need
// another. Numeric ranges are the plugin's keys' (New clamps the rest).
func (c *Config) Validate() error {
	var errs []error
	if _, err := relIdent("PG_Table", "table", c.PGTable); err != nil {
		errs = append(errs, err)
	}
	if c.PGCompatView != "" {
		if _, err := relIdent("PG_Compat_View", "view", c.PGCompatView); err != nil {
			errs = append(errs, err)
		} else if c.PGCompatView == c.PGTable {
			errs = append(errs, fmt.Errorf("PG_Compat_View: %q is the table itself (PG_Table)", c.PGCompatView))
		}
	}
	// One host:port, or a comma list: a Redis Cluster's seed nodes, or
	// the Sentinels of RedisMasterName.
	for _, a := range strings.Split(c.RedisAddr, ",") {
		if a = strings.TrimSpace(a); a == "" && c.RedisAddr != "" {
			errs = append(errs, fmt.Errorf("Redis_Addr: %q has an empty address in its list", c.RedisAddr))
		} else if a != "" && !ValidAddr(a) {
			errs = append(errs, fmt.Errorf("Redis_Addr: %q is not host:port", a))
		}
	}
	if c.RedisMasterName != "" && c.RedisAddr == "" {
		errs = append(errs, fmt.Errorf("Redis_Master_Name: %q needs the Sentinels' addresses in Redis_Addr", c.RedisMasterName))
	}
	if strings.ContainsAny(c.RedisPrefix, " \t\r\n") || len(c.RedisPrefix) > 128 {
		errs = append(errs, fmt.Errorf("Redis_Prefix: %q must have no blanks and at most 128 bytes", c.RedisPrefix))
	}
	return errors.Join(errs...)
}

// ValidAddr reports whether a is host:port with a numeric port in
// [0, 65535]; the host may be empty (all interfaces) but holds no blank or
// '/'.
func ValidAddr(a string) bool {
	host, port, err := net.SplitHostPort(a)
	if err != nil || strings.ContainsAny(host, " /") {
		return false
	}
	p, err := strconv.Atoi(port)
	return err == nil && p >= 0 && p <= 65535
}

// ParseBool reads a boolean as Fluent Bit's configuration does
// (flb_utils_bool): true, on, yes or false, off, no, any case, surrounding
// blanks ignored; ok is false for anything else. The plugin's boolean keys
// and the flags hash (which adds 1 and 0) read their values with it.
func ParseBool(v string) (b, ok bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "on", "yes":
		return true, true
	case "false", "off", "no":
		return false, true
	}
	return false, false
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// tableIdent returns a validated table name as an identifier safe to
// splice into SQL.
func tableIdent(name string) (pgx.Identifier, error) { return relIdent("PG_Table", "table", name) }

// relIdent validates the relation name (what: "table" or "view") of
// configuration key key: name or schema.name, each part a plain
// identifier.
func relIdent(key, what, name string) (pgx.Identifier, error) {
	parts := strings.Split(name, ".")
	ok := len(parts) <= 2
	for _, p := range parts {
		ok = ok && identRE.MatchString(p)
	}
	if !ok {
		return nil, fmt.Errorf("%s: %q is not a %s name (want %s or schema.%s, each [A-Za-z_][A-Za-z0-9_]*, at most 63 bytes)", key, name, what, what, what)
	}
	return pgx.Identifier(parts), nil
}

// readSecret reads a secret file, trimming the newline editors and
// Kubernetes add. The error names the file, never its content.
func readSecret(path, key string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("sink: %s: %w", key, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// pgConfig resolves the DSN into a lazy pool configuration: no connection
// kept open when idle (MinConns 0; the writer closes its connection when
// its backlog is written), PGMaxConns at most, no prepared statements (a
// connection lives for a few batches, and PgBouncer's transaction pooling
// keeps no statement across transactions), dead connections
// found by a periodic health check, every dial bounded by CallTimeout. The
// error never quotes the DSN.
func (c *Config) pgConfig() (*pgxpool.Config, string, error) {
	dsn := c.PGDSN
	if c.PGDSNFile != "" {
		var err error
		if dsn, err = readSecret(c.PGDSNFile, "PG_DSN_File"); err != nil {
			return nil, "", err
		}
	}
	if dsn == "" {
		return nil, "", nil
	}
	pc, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, dsn, errors.New("sink: PG_DSN: cannot be parsed (value not shown)")
	}
	pc.MaxConns = int32(min(c.PGMaxConns, 1000))
	pc.MinConns, pc.MinIdleConns = 0, 0
	pc.MaxConnIdleTime = 30 * time.Second
	if c.PGPooler {
		pc.MaxConnIdleTime = 5 * time.Minute // kept between writes (closeIdle)
	}
	pc.HealthCheckPeriod = 30 * time.Second
	pc.PingTimeout = c.CallTimeout
	cc := pc.ConnConfig
	if cc.DefaultQueryExecMode == pgx.QueryExecModeCacheStatement { // pgx's default, not chosen in the DSN
		cc.DefaultQueryExecMode = pgx.QueryExecModeExec
	}
	if cc.ConnectTimeout <= 0 || cc.ConnectTimeout > c.CallTimeout {
		cc.ConnectTimeout = c.CallTimeout
	}
	if _, ok := cc.RuntimeParams["application_name"]; !ok {
		cc.RuntimeParams["application_name"] = "fluent-bit-drain"
	}
	return pc, dsn, nil
}

// redisAddrs returns the addresses of RedisAddr's comma list.
func (c *Config) redisAddrs() []string {
	var out []string
	for _, a := range strings.Split(c.RedisAddr, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// RedisCluster reports whether RedisAddr names a Redis Cluster: several
// addresses and no RedisMasterName.
func (c *Config) RedisCluster() bool {
	return c.RedisMasterName == "" && len(c.redisAddrs()) > 1
}

// RedisKeyPrefix is what every Redis key starts with: RedisPrefix, in
// braces on a Redis Cluster ("{log_anomaly}:new"), so that every key
// shares one hash slot: a batch is one MULTI/EXEC over the lists, the
// stream and the template hashes, which a cluster runs only within a slot.
func (c *Config) RedisKeyPrefix() string {
	if c.RedisCluster() {
		return "{" + c.RedisPrefix + "}"
	}
	return c.RedisPrefix
}

// redisOptions are the client options every Redis client of the sink
// shares: one server, a Redis Cluster or a Sentinel-watched master
// (go-redis' universal client picks by the addresses and the master name).
// The driver's own retries are off: the sink retries whole batches itself,
// and a silent driver retry of a MULTI could announce an event twice.
func (c *Config) redisOptions(password string, dial func(context.Context, string, string) (net.Conn, error), pool int) *redis.UniversalOptions {
	return &redis.UniversalOptions{
		Addrs:                    c.redisAddrs(),
		MasterName:               c.RedisMasterName,
		Username:                 c.RedisUsername,
		Password:                 password,
		DB:                       c.RedisDB,
		Dialer:                   dial,
		Protocol:                 2,
		DisableIdentity:          true,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
		MaxRetries:               -1,
		DialerRetries:            1,
		DialTimeout:              c.CallTimeout,
		ReadTimeout:              c.CallTimeout,
		WriteTimeout:             c.CallTimeout,
		ContextTimeoutEnabled:    true,
		PoolSize:                 pool,
		MaxActiveConns:           pool,
		PoolTimeout:              c.CallTimeout,
		ConnMaxIdleTime:          5 * time.Minute,
	}
}

func (c *Config) redisTLS() (*tls.Config, error) {
	if !c.RedisTLS && c.RedisCAFile == "" {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	// One server: its name. Several: each connection verifies the name
	// it dials (tiedDialer).
	if addrs := c.redisAddrs(); len(addrs) == 1 {
		if host, _, ok := strings.Cut(addrs[0], ":"); ok && host != "" {
			tc.ServerName = host
		}
	}
	if c.RedisCAFile != "" {
		pem, err := os.ReadFile(c.RedisCAFile)
		if err != nil {
			return nil, fmt.Errorf("sink: Redis_CA_File: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("sink: Redis_CA_File %s: no PEM certificate in it", c.RedisCAFile)
		}
		tc.RootCAs = pool
	}
	return tc, nil
}

// pgAddr is the server a PostgreSQL DSN names, for log lines: host:port or
// the socket directory, never the user or password.
func pgAddr(pc *pgxpool.Config) string {
	cc := pc.ConnConfig
	if strings.HasPrefix(cc.Host, "/") {
		return cc.Host
	}
	return net.JoinHostPort(cc.Host, strconv.Itoa(int(cc.Port)))
}
