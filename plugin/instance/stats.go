package instance

import (
	"sync/atomic"

	"github.com/awoooi/fluent-bit-drain/plugin/metrics"
	"github.com/awoooi/fluent-bit-drain/sink"
)

// Causes of a skipped record, the label values of drain_records_skipped_total.
const (
	causeNoMessage = iota // no message key present
	causeNotText          // the first message key present holds a map, array or number
	causeEmpty            // the message is empty (after the trailing newline is cut)
	causeGroup            // v2 group start/end marker
	causeBadTime          // timestamp of an unknown type, ext type or size, or negative
	causeBadShape         // not [header, body], or the body is not a map
	nCauses
)

var causeNames = [nCauses]string{"no_message", "not_text", "empty", "group_marker", "bad_timestamp", "bad_shape"}

// counters are the instance's own; the miner's and the sink's are read
// from their Stats at scrape time.
type counters struct {
	chunks, bytes, records       atomic.Uint64
	chunksDisabled, chunksClosed atomic.Uint64
	decodeErrors                 atomic.Uint64
	skipped                      [nCauses]atomic.Uint64
	templatesNew                 atomic.Uint64
	templatesGeneralized         atomic.Uint64
	partitionsCleaned            atomic.Uint64
	panics                       atomic.Uint64
	lastDecodeLog                atomic.Int64 // unix seconds of the last decode-error log line
}

// Stats is a snapshot of the instance's counters.
type Stats struct {
	Chunks, Bytes, Records       uint64
	ChunksDisabled, ChunksClosed uint64 // acknowledged untouched: Enabled off, or after Close
	DecodeErrors                 uint64 // malformed chunks (events before the fault were processed)
	Skipped                      map[string]uint64
	TemplatesNew                 uint64
	TemplatesGeneralized         uint64
	PartitionsCleaned            uint64 // partition names cut or repaired
	Panics                       uint64
}

// Stats returns the instance's counters.
func (in *Instance) Stats() Stats {
	c := &in.c
	st := Stats{
		Chunks: c.chunks.Load(), Bytes: c.bytes.Load(), Records: c.records.Load(),
		ChunksDisabled: c.chunksDisabled.Load(), ChunksClosed: c.chunksClosed.Load(),
		DecodeErrors:         c.decodeErrors.Load(),
		Skipped:              make(map[string]uint64, nCauses),
		TemplatesNew:         c.templatesNew.Load(),
		TemplatesGeneralized: c.templatesGeneralized.Load(),
		PartitionsCleaned:    c.partitionsCleaned.Load(),
		Panics:               c.panics.Load(),
	}
	for i := range c.skipped {
		st.Skipped[causeNames[i]] = c.skipped[i].Load()
	}
	return st
}

// collect writes every counter in the Prometheus text format.
func (in *Instance) collect(w *metrics.Writer) {
	st := in.Stats()
	w.Counter("drain_chunks_total", "Chunks received from Fluent Bit.", st.Chunks)
	w.Counter("drain_chunk_bytes_total", "Bytes of the chunks received.", st.Bytes)
	w.Counter("drain_chunks_ignored_total", "Chunks acknowledged untouched.", st.ChunksDisabled, "reason", "disabled")
	w.Counter("drain_chunks_ignored_total", "Chunks acknowledged untouched.", st.ChunksClosed, "reason", "closed")
	w.Counter("drain_decode_errors_total", "Malformed chunks; the events before the fault were processed.", st.DecodeErrors)
	w.Counter("drain_records_total", "Log events decoded.", st.Records)
	for _, k := range metrics.SortedKeys(st.Skipped) {
		w.Counter("drain_records_skipped_total", "Events or records not mined, by cause.", st.Skipped[k], "cause", k)
	}
	w.Counter("drain_templates_total", "Templates created or widened by the miner.", st.TemplatesNew, "kind", "new")
	w.Counter("drain_templates_total", "Templates created or widened by the miner.", st.TemplatesGeneralized, "kind", "generalized")
	w.Counter("drain_partitions_cleaned_total", "Partition names cut to length or repaired to valid UTF-8.", st.PartitionsCleaned)
	w.Counter("drain_panics_total", "Panics recovered.", st.Panics)

	ms := in.miner.Stats()
	w.Counter("drain_miner_lines_total", "Lines mined.", ms.Lines)
	w.Counter("drain_miner_memo_hits_total", "Lines the line memo answered without the tree step.", ms.MemoHits)
	w.Gauge("drain_miner_clusters", "Live clusters.", float64(ms.Clusters))
	w.Gauge("drain_miner_partitions", "Live partitions.", float64(ms.Partitions))
	w.Counter("drain_miner_seeded_total", "Known templates loaded from PostgreSQL.", ms.Seeded)
	w.Counter("drain_miner_evicted_total", "Least recently used evictions.", ms.EvictedClusters, "what", "cluster")
	w.Counter("drain_miner_evicted_total", "Least recently used evictions.", ms.EvictedPartitions, "what", "partition")
	w.Counter("drain_miner_folded_total", "Templates folded into a sibling merge's template.", ms.Absorbed)
	w.Counter("drain_miner_lines_limited_total", "Lines a bound applied to.", ms.LinesCut, "limit", "max_line_bytes")
	w.Counter("drain_miner_lines_limited_total", "Lines a bound applied to.", ms.LinesTruncated, "limit", "max_tokens")
	w.Counter("drain_miner_lines_limited_total", "Lines a bound applied to.", ms.LinesRepaired, "limit", "utf8_nul_repair")
	w.Counter("drain_miner_lines_limited_total", "Lines a bound applied to.", ms.ScoreCapped, "limit", "max_scored")
	w.Counter("drain_miner_lines_limited_total", "Lines a bound applied to.", ms.Throttled, "limit", "new_templates")
	w.Counter("drain_miner_scored_total", "Clusters scored against lines (the work Max_Scored bounds).", ms.Scored)
	w.Counter("drain_miner_floods_total", "Flood periods begun: a partition over its new-template budget.", ms.Floods)

	ss := in.sink.Stats()
	for _, s := range []struct {
		name, help string
		v          uint64
	}{
		{"drain_sink_templates_total", "Templates accepted by the sink queue.", ss.Templates},
		{"drain_sink_hits_total", "Hit calls accepted by the sink queue.", ss.Hits},
		{"drain_sink_coalesced_total", "Templates merged into one already pending.", ss.Coalesced},
		{"drain_sink_dropped_total", "Templates or hit ids refused: queue budget full or sink closed.", ss.Dropped},
		{"drain_sink_dropped_hits_total", "Lines whose hit count was lost.", ss.DroppedHits},
		{"drain_sink_invalid_total", "Calls refused as malformed.", ss.Invalid},
		{"drain_sink_truncated_total", "Samples or templates cut to their byte limit.", ss.Truncated},
		{"drain_sink_created_total", "Templates new to the cluster (this node created the row).", ss.Created},
		{"drain_sink_known_total", "Templates already known to the cluster.", ss.Known},
		{"drain_sink_announced_total", "Events announced.", ss.Announced},
		{"drain_templates_muted_total", "Templates new to the cluster, recorded but not announced: the Redis mute list <prefix>:muted holds them.", ss.Muted},
		{"drain_sink_buffered_total", "Entries written to the buffer file at exit.", ss.Buffered},
		{"drain_sink_replayed_total", "Entries replayed from the buffer file.", ss.Replayed},
		{"drain_sink_known_cached_total", "Known templates replayed from the node's cache next to Buffer_Path by warm starts.", ss.KnownCached},
		{"drain_sink_known_read_total", "Template rows warm starts read from PostgreSQL.", ss.KnownRead},
		{"drain_sink_known_stored_total", "Templates new to this node that the Redis set of stored templates showed stored: no PostgreSQL write.", ss.KnownStored},
		{"drain_sink_lost_total", "Pending entries given up.", ss.Lost},
		{"drain_sink_unmatched_total", "Hit counts for template ids without a row.", ss.Unmatched},
		{"drain_sink_panics_total", "Panics recovered in the sink's goroutines.", ss.Panics},
		{"drain_sink_flood_notices_total", "Flood notices written to the event log and Redis.", ss.Floods},
		{"drain_sink_flood_notices_lost_total", "Flood notices dropped (queue full or write failed).", ss.FloodsLost},
		{"drain_sink_already_applied_total", "Retried batches found applied by their token (reply lost), not applied again.", ss.AlreadyApplied},
		{"drain_sink_unguarded_total", "PostgreSQL hit batches written without the batch ledger (a lost COMMIT reply could count them twice).", ss.Unguarded},
	} {
		w.Counter(s.name, s.help, s.v)
	}
	w.Gauge("drain_sink_pending", "Entries pending anywhere in the sink.", float64(ss.Pending))
	w.Gauge("drain_sink_queue_depth", "Entries in the caller-side queue, not yet handed to a writer.", float64(ss.QueueDepth))
	w.Gauge("drain_sink_pending_templates", "Templates and events waiting for a store to confirm them.", float64(ss.PendingTemplates))
	// Samples of one family must be adjacent: families outside, stores inside.
	stores := []struct {
		name string
		st   sink.StoreStats
	}{{"postgres", ss.Postgres}, {"redis", ss.Redis}, {"event_log", ss.EventLog}}
	for _, x := range stores {
		w.Counter("drain_store_batches_total", "Successful writes per store.", x.st.Batches, "store", x.name)
	}
	for _, x := range stores {
		w.Counter("drain_store_rows_total", "Rows, events or counters written per store.", x.st.Rows, "store", x.name)
	}
	for _, x := range stores {
		w.Gauge("drain_store_pending", "Entries waiting for this store.", float64(x.st.Pending), "store", x.name)
	}
	for _, x := range stores {
		up := 0.0
		if x.st.Up {
			up = 1
		}
		w.Gauge("drain_store_up", "1 when the store's last attempt succeeded.", up, "store", x.name)
	}
	for _, x := range stores {
		w.Counter("drain_store_retries_total", "Failed attempts retried after backoff.", x.st.Retries, "store", x.name)
	}
	for _, x := range stores {
		for _, cause := range metrics.SortedKeys(x.st.Errors) {
			w.Counter("drain_store_errors_total", "Failed attempts per store and cause.", x.st.Errors[cause], "store", x.name, "cause", cause)
		}
	}
}
