package sink

import "sync/atomic"

// Causes of store errors, the label values of StoreStats.Errors.
const (
	CauseConnect  = "connect"  // cannot reach the server (refused, DNS, TLS)
	CauseAuth     = "auth"     // credentials or permissions refused
	CauseTimeout  = "timeout"  // a call exceeded CallTimeout
	CauseQuery    = "query"    // the server refused a statement; retried
	CauseRejected = "rejected" // data the server will never accept; batch dropped
	CausePanic    = "panic"    // a writer panicked and was recovered
	CauseIO       = "io"       // writing an event line or the buffer file failed
)

var causes = [...]string{CauseConnect, CauseAuth, CauseTimeout, CauseQuery, CauseRejected, CausePanic, CauseIO}

func causeIndex(c string) int {
	for i, s := range causes {
		if s == c {
			return i
		}
	}
	return len(causes) - 1
}

// Stats is a snapshot of the sink's counters; counters only grow, gauges
// (marked) move both ways. The plugin exports them to Prometheus.
type Stats struct {
	Templates   uint64 // Template calls accepted
	Hits        uint64 // Hit calls accepted
	Coalesced   uint64 // Template calls merged into one already pending with the same id
	Dropped     uint64 // Template or new-id Hit calls refused: budget full or sink closed
	DroppedHits uint64 // lines whose count was lost with a refused Hit or a dropped entry
	Invalid     uint64 // calls refused for a malformed id, kind or count
	Truncated   uint64 // samples or templates cut to their byte limit
	Created     uint64 // templates whose PostgreSQL row this node created (new to the cluster)
	Known       uint64 // templates whose row already existed (other node, earlier run), or that the known-templates cache held
	Unmatched   uint64 // hit counts for ids without a row (their template was dropped or never sent)
	Announced   uint64 // events announced (to Redis, else to the event log)
	Buffered    uint64 // entries appended to the buffer file at Close
	Replayed    uint64 // entries read back from the buffer file at New
	KnownCached uint64 // templates LoadKnown replayed from the node's known-templates cache
	KnownRead   uint64 // template rows LoadKnown read from PostgreSQL
	KnownStored uint64 // templates new to this node that the Redis set of stored templates showed stored: no PostgreSQL write (counted in Known too)
	Lost        uint64 // pending entries given up: Close without buffer file, rows rejected as bad data, panics
	Panics      uint64 // panics recovered in the sink's goroutines (writers, dispatcher, poller)
	Floods      uint64 // flood notices written (flood.go)
	FloodsLost  uint64 // flood notices dropped: queue full or a write failed
	Muted       uint64 // templates recorded but not announced: the mute list <prefix>:muted holds them

	AlreadyApplied uint64 // retried batches whose earlier attempt was applied but its reply lost (PostgreSQL COMMIT, Redis EXEC): found by token, not applied again
	Unguarded      uint64 // PostgreSQL batches of hit counts written without the batch ledger (missing and not creatable, or not writable): a lost COMMIT reply could count them twice
	Merges         uint64 // merges of the cluster's hit-count deltas into the templates' rows this node ran
	Merged         uint64 // template counts those merges updated

	QueueDepth       int64 // gauge: entries in the caller-side queue, not yet handed to a writer
	Pending          int64 // gauge: entries pending anywhere (what QueueBudget bounds)
	PendingTemplates int64 // gauge: templates and events waiting for a store to confirm them (per store)

	Postgres StoreStats
	Redis    StoreStats
	EventLog StoreStats
}

// StoreStats counts one store's work and failures.
type StoreStats struct {
	Batches uint64            // successful writes (transactions, pipelines, line batches)
	Rows    uint64            // rows, events or counters written
	Retries uint64            // failed attempts that will be retried after backoff
	Errors  map[string]uint64 // failed attempts by cause (Cause* constants)
	Pending int64             // gauge: entries waiting for this store
	Up      bool              // gauge: the last attempt succeeded
}

type storeCounters struct {
	batches, rows, retries atomic.Uint64
	errors                 [len(causes)]atomic.Uint64
	pending, items         atomic.Int64
	down                   atomic.Bool
}

func (c *storeCounters) snapshot() StoreStats {
	s := StoreStats{
		Batches: c.batches.Load(),
		Rows:    c.rows.Load(),
		Retries: c.retries.Load(),
		Errors:  make(map[string]uint64, len(causes)),
		Pending: c.pending.Load(),
		Up:      !c.down.Load(),
	}
	for i, name := range causes {
		s.Errors[name] = c.errors[i].Load()
	}
	return s
}

type counters struct {
	templates, hits, coalesced, dropped, droppedHits, invalid, truncated        atomic.Uint64
	created, known, announced, buffered, replayed, lost, knownCached, knownRead atomic.Uint64
	unmatched, panics, alreadyApplied, unguarded, muted, merges, merged         atomic.Uint64
	knownStored                                                                 atomic.Uint64
	queueDepth, frontTemplates                                                  atomic.Int64
}
