package sink

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisWriter writes events and counters to Redis. go-redis dials lazily
// and its own retries are off: the sink retries whole batches itself, and a
// silent driver retry of a MULTI could announce an event twice.
type redisWriter struct {
	rdb                         redis.UniversalClient
	keyNew, keyAlerts, keyFlags string
	keyFloods                   string // <prefix>:floods, flood notices (flood.go)
	keyMuted                    string // <prefix>:muted, the mute list
	keyCluster                  string // prefix of <prefix>:clusters:<id>
	keyBatch                    string // <prefix>:batch:<node>: token of the last batch applied
	listMax                     int64
	ttl                         time.Duration
	alertMax                    int64
	alertKinds                  []string // kinds XADDed to <prefix>:alerts
	node                        string
	minReplicas                 int           // WAIT for this many replicas after a batch
	waitFor                     time.Duration // their deadline
}

// quietLogger silences go-redis's process-wide logger, which would print
// every failed dial to stderr without the [drain] prefix; the sink reports
// failures itself, rate-limited.
type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

var quietOnce sync.Once

// newRedisWriter dials through d, which does TLS itself when configured and
// ties every connection to the sink's life.
func newRedisWriter(cfg *Config, password string, d *tiedDialer) *redisWriter {
	quietOnce.Do(func() { redis.SetLogger(quietLogger{}) })
	p := cfg.RedisKeyPrefix()
	return &redisWriter{
		rdb:         redis.NewUniversalClient(cfg.redisOptions(password, d.DialContext, cfg.RedisPoolSize)),
		keyNew:      p + ":new",
		keyAlerts:   p + ":alerts",
		keyFlags:    p + ":flags",
		keyFloods:   p + ":floods",
		keyMuted:    p + ":muted",
		keyCluster:  p + ":clusters:",
		keyBatch:    p + ":batch:" + cfg.NodeName,
		listMax:     int64(cfg.NewListMax),
		ttl:         cfg.NewListTTL,
		alertMax:    cfg.AlertStreamMaxLen,
		alertKinds:  cfg.AlertKinds,
		node:        cfg.NodeName,
		minReplicas: cfg.RedisMinReplicas,
		waitFor:     cfg.CallTimeout,
	}
}

// write sends one batch as a single MULTI/EXEC, so a batch is applied whole
// or not at all: the events LPUSHed oldest first (the newest ends at the
// head), LTRIM, EXPIRE; alerts XADDed to the stream when not in shadow mode
// and of a kind in AlertKinds (by default only "new");
// cluster hashes updated. The same MULTI records the batch's token under
// <prefix>:batch:<node>; a retry first reads it, and a batch whose reply was
// lost (timeout, connection killed after EXEC) but which was applied is not
// applied again. One key per node suffices: the node's writer is sequential.
func (w *redisWriter) write(ctx context.Context, b *batch) error {
	var c redis.Cmdable = w.rdb
	var conn *redis.Conn
	if w.minReplicas > 0 {
		// WAIT counts the replicas that hold the writes of its own
		// connection: the batch, and the WAIT, go through one.
		var err error
		if conn, err = w.masterConn(ctx); err != nil {
			return err
		}
		defer conn.Close()
		c = conn
	}
	if b.attempt > 1 {
		last, err := c.Get(ctx, w.keyBatch).Result()
		if err != nil && err != redis.Nil {
			return err
		}
		if last == b.token {
			// Applied, but perhaps not replicated yet (the WAIT that
			// failed, on a connection now gone): write the token again
			// here, so that WAIT confirms it and all before it.
			if w.minReplicas > 0 {
				if err := c.Set(ctx, w.keyBatch, b.token, w.ttl).Err(); err != nil {
					return err
				}
				if err := w.replicated(ctx, conn); err != nil {
					return err
				}
			}
			b.applied = true
			return nil
		}
	}
	_, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		if len(b.items) > 0 {
			items := slices.Clone(b.items)
			sortBySeen(items)
			vals := make([]any, 0, len(items))
			for _, it := range items {
				// A muted template keeps its cluster hash (hits go on
				// counting there) but is neither listed nor alerted.
				key := w.keyCluster + it.t.ID
				p.HSet(ctx, key, "template", it.t.Template, "partition", it.t.Partition, "kind", it.t.Kind)
				p.Expire(ctx, key, w.ttl)
				if it.muted {
					continue
				}
				js := it.json(w.node)
				vals = append(vals, js)
				if !it.shadow && slices.Contains(w.alertKinds, it.t.Kind) {
					p.XAdd(ctx, &redis.XAddArgs{Stream: w.keyAlerts, MaxLen: w.alertMax, Approx: true, Values: []any{"event", js}})
				}
			}
			if len(vals) > 0 {
				p.LPush(ctx, w.keyNew, vals...)
				p.LTrim(ctx, w.keyNew, 0, w.listMax-1)
				p.Expire(ctx, w.keyNew, w.ttl)
			}
		}
		for i, id := range b.hitIDs {
			key := w.keyCluster + id
			p.HIncrBy(ctx, key, "size", b.hitN[i])
			p.HSet(ctx, key, "last_seen_at", time.UnixMicro(b.hitLast[i]).UTC().Format(time.RFC3339Nano))
			p.Expire(ctx, key, w.ttl)
		}
		p.Set(ctx, w.keyBatch, b.token, w.ttl)
		return nil
	})
	if err != nil || w.minReplicas <= 0 {
		return err
	}
	return w.replicated(ctx, conn)
}

// masterConn is one connection to the master of the sink's keys (one
// server, the Sentinels' current master, or the cluster node of their slot).
func (w *redisWriter) masterConn(ctx context.Context) (*redis.Conn, error) {
	switch c := w.rdb.(type) {
	case *redis.Client:
		return c.Conn(), nil
	case *redis.ClusterClient:
		m, err := c.MasterForKey(ctx, w.keyBatch)
		if err != nil {
			return nil, err
		}
		return m.Conn(), nil
	default:
		return nil, fmt.Errorf("redis: Redis_Min_Replicas: cannot WAIT through a %T", c)
	}
}

// replicated waits until RedisMinReplicas replicas acknowledge the writes
// made so far on c, the connection of the batch.
func (w *redisWriter) replicated(ctx context.Context, c *redis.Conn) error {
	n, err := c.Wait(ctx, w.minReplicas, w.waitFor).Result()
	if err != nil {
		return err
	}
	if n < int64(w.minReplicas) {
		return fmt.Errorf("redis: the batch reached %d of %d replicas (Redis_Min_Replicas) in %v", n, w.minReplicas, w.waitFor)
	}
	return nil
}

// flags reads the run-time flags hash <prefix>:flags.
func (w *redisWriter) flags(ctx context.Context) (map[string]string, error) {
	return w.rdb.HGetAll(ctx, w.keyFlags).Result()
}

func (w *redisWriter) close() { w.rdb.Close() } //nolint:errcheck // shutting down

func (w *redisWriter) classify(err error) (string, bool) { return classifyRedis(err) }

func classifyRedis(err error) (string, bool) {
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "WRONGPASS"), strings.HasPrefix(msg, "NOAUTH"), strings.HasPrefix(msg, "NOPERM"),
		strings.Contains(msg, "invalid password"), strings.Contains(msg, "invalid username-password"):
		return CauseAuth, true
	case errors.Is(err, context.DeadlineExceeded):
		return CauseTimeout, true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return CauseTimeout, true
	}
	var oe *net.OpError
	if errors.As(err, &oe) || errors.Is(err, redis.ErrClosed) {
		return CauseConnect, true
	}
	var re redis.Error
	if errors.As(err, &re) {
		return CauseQuery, true
	}
	return CauseConnect, true
}

// parseBool reads a value of the flags hash: ParseBool's spellings, and 1
// or 0 as people type them into redis-cli.
func parseBool(v string) (bool, bool) {
	switch strings.TrimSpace(v) {
	case "1":
		return true, true
	case "0":
		return false, true
	}
	return ParseBool(v)
}

// pollFlags refreshes the run-time flags from <prefix>:flags, and the mute
// list from <prefix>:muted, every FlagsInterval until Close. A field absent or unreadable keeps the static
// value; Redis being away keeps the last value read.
func (s *Sink) pollFlags() {
	defer close(s.pollDn)
	t := time.NewTicker(s.cfg.FlagsInterval)
	defer t.Stop()
	warned, mutedWarned := "", ""
	for {
		s.pollOnce(&warned)
		s.pollMuted(&mutedWarned)
		select {
		case <-t.C:
		case <-s.drain:
			return
		case <-s.ctx.Done():
			return
		}
	}
}

// pollOnce reads the flags hash once; warned remembers the last bad value
// logged, so a bad value is reported once, not every poll.
func (s *Sink) pollOnce(warned *string) {
	defer func() {
		if r := recover(); r != nil {
			s.c.panics.Add(1)
			s.logf("redis: flags poller panicked (recovered): %v", r)
		}
	}()
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.CallTimeout)
	m, err := s.rd.flags(ctx)
	cancel()
	if err != nil {
		if s.ctx.Err() == nil {
			cause, _ := classifyRedis(err)
			s.rdC.errors[causeIndex(cause)].Add(1)
		}
		return // Redis away: keep the last value read
	}
	f := s.cfg.Flags
	for field, dst := range map[string]*bool{"enabled": &f.Enabled, "shadow_mode": &f.ShadowMode} {
		v, ok := m[field]
		if !ok {
			continue
		}
		b, ok := parseBool(v)
		if !ok {
			if w := field + "=" + v; w != *warned {
				s.logf("redis: %s field %q has value %q, want on/off; ignored", s.rd.keyFlags, field, v)
				*warned = w
			}
			continue
		}
		*dst = b
	}
	if old := s.flags.Swap(packFlags(f)); old != packFlags(f) {
		s.logf("redis: run-time flags now enabled=%s shadow_mode=%s", strconv.FormatBool(f.Enabled), strconv.FormatBool(f.ShadowMode))
	}
}
