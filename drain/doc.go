// Package drain mines log templates with the Drain algorithm, as Drain3
// (logpai/Drain3 v0.9.11) implements it, with partitions, bounds and a
// snapshot format fit for running inside Fluent Bit.
//
// A line goes through two steps. The text step (outside any lock, in pooled
// scratch memory) repairs invalid UTF-8 to U+FFFD, removes NUL bytes, cuts the
// line to MaxLineBytes, applies the masking rules and splits it on whitespace
// as Python's str.split() does. The tree step (under the miner's mutex) finds
// the partition, walks its prefix tree by token count and leading tokens,
// scores the clusters of the leaf, then creates or widens a cluster. Both
// steps are seams chosen by Config.Tokenizer and Config.Scoring: "drain3" is
// Drain3-exact (drain3_text.go, drain3_score.go), "default" is the plugin's
// preset (default_scan.go, default_score.go); with "default", a line that finds nothing in its leaf also scores a bounded
// number of clusters of other leaves, and a join there moves the cluster to
// the "<*>" child (cross.go). Also with "default", a line memo answers a
// masked token sequence seen before whose cluster already covered it,
// without the tree walk and scoring, for as long as its partition's tree and
// templates are unchanged (memo.go): masking makes most lines of a template
// identical, so in the steady state most lines never reach the tree.
//
// Locking: one sync.Mutex guards all partitions, trees, clusters, the global
// LRU list of clusters (the MaxClusters budget) and the LRU list of
// partitions. It is held only for the tree step, which does no allocation for
// a known line, so several Fluent Bit flush threads can call Add at once.
// AddBatch tokenises up to 16 lines first and then takes the lock once for
// their tree steps. Stats takes it briefly; the text-step counters are
// atomics.
//
// Memory ownership: Add, Match and Seed never retain their arguments (the
// plugin passes strings that point into Fluent Bit's memory). A new cluster
// owns one copy of its template; its tokens slice into that copy and wildcard
// slots point at a constant. Result strings are miner-owned.
//
// Drain3 compatibility: the "drain3" preset reproduces Drain3's change type,
// cluster id and template for every line. Differences that only show outside
// Drain3's domain: tokens of invalid UTF-8 / NUL input (Python strings cannot
// hold them), Match (which agrees with Add instead of preferring the covering
// template with most wildcards), and the bounds (Drain3 has only max_clusters,
// and keeps the tree nodes of evicted clusters; here nodes left empty by an
// eviction are removed, so memory is bounded by the live clusters).
package drain
