package sink

import (
	"bytes"
	"encoding/json"
	"time"
)

// Event is the JSON announced for a template new to the cluster (or to this
// node without PostgreSQL): LPUSHed to <prefix>:new, added to the stream
// <prefix>:alerts as field "event" when shadow mode is off, and written as
// one line to Config.Events. The first six fields, and size, first_seen_at
// and last_seen_at, are the Python seed's, so its reader works unchanged.
//
//	{"cluster_id":"3f2a…","template":"Connection from <*> closed","sample_log":"Connection from 10.0.0.1 closed",
//	 "detected_at":"2026-11-25T18:00:00.123456Z","shadow_mode":true,"source":"k8s_pod",
//	 "kind":"new","partition":"default/api","node":"node-1","parent_id":"","hits":1,
//	 "size":1,"first_seen_at":"2026-11-25T18:00:00.123456Z","last_seen_at":"2026-11-25T18:00:00.123456Z"}
type Event struct {
	// ClusterID is the template id: 16 hex digits of
	// SHA-256(partition + "\x00" + template), the same on every node.
	ClusterID string `json:"cluster_id"`
	// Template is the template text, tokens replaced by <*> where they vary.
	Template string `json:"template"`
	// SampleLog is one line of the template, truncated, its secrets
	// redacted (or masked as the template, with Sample_Redact values).
	SampleLog string `json:"sample_log"`
	// DetectedAt is when this node first saw the template, RFC 3339 UTC.
	DetectedAt string `json:"detected_at"`
	// ShadowMode is the effective shadow flag when the event was announced;
	// false means it was also published on the alert stream.
	ShadowMode bool `json:"shadow_mode"`
	// Source is the kind of log: k8s_pod, host_syslog, journald, app_log.
	Source string `json:"source"`
	// Kind is "new", or "generalized" when an existing template was widened.
	Kind string `json:"kind"`
	// Partition is the miner partition the template belongs to.
	Partition string `json:"partition"`
	// Node is the node that announced it (Config.NodeName).
	Node string `json:"node"`
	// ParentID is the id of the template this one generalized; "" for new.
	ParentID string `json:"parent_id"`
	// Hits is the number of lines the cluster had seen when detected.
	Hits int64 `json:"hits"`
	// Size is Hits under the seed's name for it.
	Size int64 `json:"size"`
	// FirstSeenAt and LastSeenAt are the seed's cluster times: both are
	// DetectedAt, the time of the line that made the template (the rows in
	// PostgreSQL go on counting and moving last_seen_at).
	FirstSeenAt string `json:"first_seen_at"`
	LastSeenAt  string `json:"last_seen_at"`
}

// item is a template waiting for a store: for PostgreSQL a row to insert,
// for Redis and the event log an event to announce.
type item struct {
	t      Template
	shadow bool
	muted  bool // on the mute list when it was to be announced: recorded, not announced
	// tried: sent to PostgreSQL by this node before (a write attempted,
	// its outcome perhaps unknown), so not looked up in the stored set.
	tried bool
	// seq is the order in which the sink took it (0: read back from the
	// buffer file): events of the same instant are logged and announced in
	// that order, whatever batches they were written in.
	seq uint64
}

func (it *item) event(node string) Event {
	at := it.t.SeenAt.UTC().Format(time.RFC3339Nano)
	return Event{
		ClusterID:   it.t.ID,
		Template:    it.t.Template,
		SampleLog:   it.t.Sample,
		DetectedAt:  at,
		ShadowMode:  it.shadow,
		Source:      it.t.Source,
		Kind:        it.t.Kind,
		Partition:   it.t.Partition,
		Node:        node,
		ParentID:    it.t.ParentID,
		Hits:        it.t.Hits,
		Size:        it.t.Hits,
		FirstSeenAt: at,
		LastSeenAt:  at,
	}
}

// json renders the event without HTML escaping: templates are full of
// "<*>", which json.Marshal would write as "\u003c*\u003e" (valid, but
// unreadable in redis-cli and logs, and unlike the Python seed's json.dumps).
func (it *item) json(node string) []byte { return jsonLine(it.event(node)) }

// jsonLine renders v (strings and numbers only, so it cannot fail) as one
// JSON line without the newline and without HTML escaping.
func jsonLine(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return []byte(`{}`)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}
