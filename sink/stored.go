package sink

import (
	"context"
	"fmt"
	"hash/fnv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// storedSet is a Redis set of the ids of templates whose PostgreSQL row is
// committed, <prefix>:stored:<store> (the store a hash of the server,
// database and table, so that a set is not read for another table). A node
// asks it, on its Redis connection, before it writes templates new to the
// node to PostgreSQL: a template another node stored is then known
// without a PostgreSQL session. In a fleet's first minutes every node sees
// hundreds of templates new to it, almost all stored by others, and each
// would otherwise cost a backend start (docs/stores.md, "Scale").
//
// PostgreSQL stays the source of truth: an id is added only after a
// write's commit confirmed its row (created by this node or found there),
// a miss or an unreachable Redis sends the template to PostgreSQL as
// before, and a set lost (flushed, evicted, expired) only costs that extra
// PostgreSQL work. A template this node has sent to PostgreSQL before is
// not looked up (item.tried): an attempt whose reply was lost may have
// created its row, and only the insert can tell the node to announce it.
type storedSet struct {
	rdb     redis.UniversalClient
	key     string
	ttl     time.Duration
	timeout time.Duration // bound of one call, below the write's deadline
	c       *storeCounters
	// offUntil (Unix nanos): after a failure the set is not asked for a
	// while, so that a Redis away does not slow every PostgreSQL write.
	offUntil atomic.Int64
}

// storedKey is the set's key for the store named by store (knownStore).
func storedKey(prefix, store string) string {
	h := fnv.New64a()
	h.Write([]byte(store))
	return fmt.Sprintf("%s:stored:%016x", prefix, h.Sum64())
}

// storedTTL: the set expires this long after its last addition (a table
// no node writes to any more leaves no set behind).
const storedTTL = knownMaxAge

// storedPause is how long the set is left alone after a failed call.
const storedPause = 30 * time.Second

func (ss *storedSet) usable() bool { return time.Now().UnixNano() >= ss.offUntil.Load() }

func (ss *storedSet) failed(err error) {
	ss.offUntil.Store(time.Now().Add(storedPause).UnixNano())
	cause, _ := classifyRedis(err)
	ss.c.errors[causeIndex(cause)].Add(1)
}

// check returns the ids among items, not sent to PostgreSQL by this node
// before, that the set holds: nil when there are none or Redis did not
// answer in time.
func (ss *storedSet) check(ctx context.Context, items []*item) map[string]bool {
	if !ss.usable() {
		return nil
	}
	ids := make([]any, 0, len(items))
	for _, it := range items {
		if !it.tried {
			ids = append(ids, it.t.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, ss.timeout)
	defer cancel()
	in, err := ss.rdb.SMIsMember(ctx, ss.key, ids...).Result()
	if err != nil {
		ss.failed(err)
		return nil
	}
	var out map[string]bool
	for i, ok := range in {
		if ok && i < len(ids) {
			if out == nil {
				out = make(map[string]bool)
			}
			out[ids[i].(string)] = true
		}
	}
	return out
}

// add records that the rows of items are committed.
func (ss *storedSet) add(ctx context.Context, items []*item) {
	if !ss.usable() || len(items) == 0 {
		return
	}
	ids := make([]any, len(items))
	for i, it := range items {
		ids[i] = it.t.ID
	}
	ctx, cancel := context.WithTimeout(ctx, ss.timeout)
	defer cancel()
	_, err := ss.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.SAdd(ctx, ss.key, ids...)
		p.Expire(ctx, ss.key, ss.ttl)
		return nil
	})
	if err != nil {
		ss.failed(err)
	}
}
