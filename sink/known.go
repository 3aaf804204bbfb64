package sink

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// The known-templates cache is a node-local file next to Buffer_Path
// (<Buffer_Path>.known): every template this node knows to be stored —
// loaded by a warm start, or confirmed by its first store (PostgreSQL, else
// the announcers) — and, with PostgreSQL, the server's time of the last
// load that read every partition (the mark). A warm start replays the file
// at once, without any store, then asks PostgreSQL only for the rows
// created since the mark (less a margin covering transactions in flight at
// that load), so that a rollout of thousands of nodes does not read the
// whole table per node, and a node without PostgreSQL does not announce
// again what it announced before a restart (docs/stores.md, "Warm start").
//
// The file is JSON lines: a header (format, version, the store it belongs
// to, the mark), one line per template, and a trailer with the count and a
// CRC-32 of everything before it. It is written to a temporary file, synced
// and renamed over the old one. An absent, foreign (another table or
// server), corrupt or over-long file is ignored (the warm start reads the
// whole table) and the reason logged once.

const (
	knownFormat  = "fluent-bit-drain known templates"
	knownVersion = 1
	// knownMaxBytes bounds the file and the cache's memory: past it the
	// node keeps no cache (and removes the file), logged once.
	knownMaxBytes = 64 << 20
	// knownMargin is how far before the mark an incremental load starts:
	// a row inserted by a transaction still open at the last load carries
	// a created_at before that load's mark. A write transaction's insert
	// statement and the wait before its COMMIT are each bounded by
	// CallTimeout (statement and idle-in-transaction timeouts set in the
	// transaction), so such a row is at most about 2 × CallTimeout older
	// than its commit; the margin is the larger of this and 4 × CallTimeout.
	knownMargin = 30 * time.Second
	// knownMaxAge: a mark older than this is not used; the warm start
	// reads every row again (a row deleted by hand leaves the caches at
	// the latest then).
	knownMaxAge = 7 * 24 * time.Hour
	// knownSaveEvery is how often the dispatcher writes a changed cache,
	// so that a node killed without Close loses little of it.
	knownSaveEvery = 5 * time.Minute
)

type knownHeader struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
	Store   string `json:"store"`          // which table on which server; "" without PostgreSQL
	Mark    string `json:"mark,omitempty"` // RFC 3339, PostgreSQL's clock; empty: never loaded in full
}

type knownLine struct {
	ID        string `json:"id"`
	Partition string `json:"p"`
	Template  string `json:"t"`
}

type knownTrailer struct {
	End   int    `json:"end"`
	CRC32 uint32 `json:"crc32"`
}

type knownEntry struct{ partition, template string }

// knownChange is a change made by a confirmed write while a load is
// running: applied again after the load has reconciled the cache.
type knownChange struct {
	id, parent string
	e          knownEntry
}

// knownCache is safe for concurrent use: LoadKnown runs on the caller's
// goroutine, the writers add what they confirm, Close and the dispatcher
// save it.
type knownCache struct {
	path, store string
	logf        func(format string, args ...any)

	save sync.Mutex // serialises writes of the file

	mu      sync.Mutex
	byID    map[string]knownEntry
	bytes   int       // approximate size of the file
	mark    time.Time // zero: no complete load yet
	off     bool      // over knownMaxBytes: no cache this run
	read    bool      // the file has been read
	dirty   bool
	savedAt time.Time
	loading int           // loads running: changes are journalled
	journal []knownChange // changes during loads
}

func newKnownCache(path, store string, logf func(string, ...any)) *knownCache {
	return &knownCache{path: path, store: store, logf: logf, byID: map[string]knownEntry{}, savedAt: time.Now()}
}

func entrySize(id string, e knownEntry) int { return len(id) + len(e.partition) + len(e.template) + 32 }

// load reads the file once; later calls return at once. A file that cannot
// be used is logged and ignored: the cache starts empty, without a mark.
func (k *knownCache) load() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.read {
		return
	}
	k.read = true
	why, err := k.readLocked()
	if err != nil {
		why = err.Error()
	}
	if why != "" {
		clear(k.byID)
		k.bytes, k.mark = 0, time.Time{}
		k.logf("known-templates cache %s not used (%s): the warm start reads every template", k.path, why)
	}
}

// readLocked fills the cache from the file; why says why it is not used
// ("" for an absent file or a good one).
func (k *knownCache) readLocked() (why string, err error) {
	fi, err := os.Stat(k.path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if fi.Size() > knownMaxBytes {
		return fmt.Sprintf("%d bytes, over the limit of %d", fi.Size(), knownMaxBytes), nil
	}
	data, err := os.ReadFile(k.path)
	if err != nil {
		return "", err
	}
	// The trailer is the last line; the CRC covers every byte before it.
	body := bytes.TrimSuffix(data, []byte("\n"))
	cut := bytes.LastIndexByte(body, '\n')
	if cut < 0 {
		return "corrupt: no trailer", nil
	}
	var tr knownTrailer
	if err := json.Unmarshal(body[cut+1:], &tr); err != nil || tr.End == 0 && tr.CRC32 == 0 {
		return "corrupt: no trailer", nil
	}
	body = body[:cut+1]
	if crc32.ChecksumIEEE(body) != tr.CRC32 {
		return "corrupt: checksum mismatch", nil
	}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 64<<10), knownMaxBytes)
	if !sc.Scan() {
		return "corrupt: no header", nil
	}
	var h knownHeader
	if err := json.Unmarshal(sc.Bytes(), &h); err != nil || h.Format != knownFormat {
		return "corrupt: no header", nil
	}
	if h.Version != knownVersion {
		return fmt.Sprintf("version %d, this plugin writes %d", h.Version, knownVersion), nil
	}
	if h.Store != k.store {
		return fmt.Sprintf("written for %q, this node writes to %q", h.Store, k.store), nil
	}
	var mark time.Time
	if h.Mark != "" {
		if mark, err = time.Parse(time.RFC3339Nano, h.Mark); err != nil {
			return "corrupt: bad mark", nil
		}
	}
	n := 0
	for sc.Scan() {
		var l knownLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil || !validID(l.ID) {
			return "corrupt: bad line", nil
		}
		e := knownEntry{l.Partition, l.Template}
		k.byID[l.ID] = e
		k.bytes += entrySize(l.ID, e)
		n++
	}
	if sc.Err() != nil || n != tr.End {
		return "corrupt: truncated", nil
	}
	k.mark = mark
	return "", nil
}

// entries returns the cached templates of partitions (all when all).
func (k *knownCache) entries(all bool, partitions []string) map[string]knownEntry {
	k.mu.Lock()
	defer k.mu.Unlock()
	want := make(map[string]bool, len(partitions))
	for _, p := range partitions {
		want[p] = true
	}
	out := make(map[string]knownEntry, len(k.byID))
	for id, e := range k.byID {
		if all || want[e.partition] {
			out[id] = e
		}
	}
	return out
}

// has reports whether id is known to be stored.
func (k *knownCache) has(id string) bool {
	k.mu.Lock()
	_, ok := k.byID[id]
	k.mu.Unlock()
	return ok
}

// since is where an incremental read starts: the mark less margin, or
// zero when there is no mark or it is too old to use.
func (k *knownCache) since(margin time.Duration) time.Time {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.mark.IsZero() || time.Since(k.mark) >= knownMaxAge {
		return time.Time{}
	}
	return k.mark.Add(-margin)
}

// beginLoad starts journalling the writers' changes; endLoad stops.
func (k *knownCache) beginLoad() {
	k.mu.Lock()
	k.loading++
	k.mu.Unlock()
}

// endLoad applies the load's result, when it succeeded: with full, the
// current templates of partitions (every partition when all) are exactly
// current; otherwise (incremental) current are rows created since the
// mark that nothing widened, gone the ones widened since (they and the
// parents of current rows leave the cache). mark, when not zero, becomes
// the cache's mark. The changes the writers made meanwhile are then
// applied again, and the journal dropped when no load is left.
func (k *knownCache) endLoad(ok, full, all bool, partitions []string, current map[string]knownEntry, gone []string, mark time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.loading--
	if ok && !k.off {
		if full {
			want := make(map[string]bool, len(partitions))
			for _, p := range partitions {
				want[p] = true
			}
			for id, e := range k.byID {
				if _, keep := current[id]; !keep && (all || want[e.partition]) {
					k.removeLocked(id)
				}
			}
		}
		for _, id := range gone {
			k.removeLocked(id)
		}
		for id, e := range current {
			k.addLocked(id, e)
		}
		k.applyLocked(k.journal)
		if !mark.IsZero() {
			k.mark = mark
		}
		k.dirty = true
	}
	if k.loading == 0 {
		k.journal = nil
	}
}

// confirmed records templates a first store confirmed: each is known now,
// and the template it widened (its parent) no longer current.
func (k *knownCache) confirmed(items []*item) {
	if len(items) == 0 {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	changes := make([]knownChange, len(items))
	for i, it := range items {
		changes[i] = knownChange{it.t.ID, it.t.ParentID, knownEntry{it.t.Partition, it.t.Template}}
	}
	k.applyLocked(changes)
	if k.loading > 0 {
		k.journal = append(k.journal, changes...)
	}
}

// applyLocked adds the changes' templates, then removes their parents: a
// batch holds a template and its widening in any order.
func (k *knownCache) applyLocked(changes []knownChange) {
	for _, c := range changes {
		k.addLocked(c.id, c.e)
	}
	for _, c := range changes {
		if c.parent != "" {
			k.removeLocked(c.parent)
		}
	}
}

func (k *knownCache) addLocked(id string, e knownEntry) {
	if k.off {
		return
	}
	if old, ok := k.byID[id]; ok {
		if old == e {
			return
		}
		k.bytes -= entrySize(id, old)
	}
	k.byID[id] = e
	k.bytes += entrySize(id, e)
	k.dirty = true
	if k.bytes > knownMaxBytes {
		k.off = true
		clear(k.byID)
		k.journal = nil
		k.logf("known-templates cache over %d bytes: not kept this run (%s removed); warm starts read every template", knownMaxBytes, k.path)
		os.Remove(k.path) //nolint:errcheck // absent is fine; a stale file would be read as current
	}
}

func (k *knownCache) removeLocked(id string) {
	if old, ok := k.byID[id]; ok {
		delete(k.byID, id)
		k.bytes -= entrySize(id, old)
		k.dirty = true
	}
}

// saveDue reports whether the dispatcher should save the cache now.
func (k *knownCache) saveDue(now time.Time) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.dirty && !k.off && now.Sub(k.savedAt) >= knownSaveEvery
}

// saveFile writes the cache if it changed since the last save: to a
// temporary file in the same directory, synced, then renamed over the old
// one, so a reader sees the old file or the new one, never a mix.
func (k *knownCache) saveFile() error {
	k.save.Lock()
	defer k.save.Unlock()
	k.mu.Lock()
	if !k.dirty || k.off || !k.read {
		k.mu.Unlock()
		return nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	h := knownHeader{Format: knownFormat, Version: knownVersion, Store: k.store}
	if !k.mark.IsZero() {
		h.Mark = k.mark.UTC().Format(time.RFC3339Nano)
	}
	enc.Encode(h) //nolint:errcheck // a bytes.Buffer does not fail
	for id, e := range k.byID {
		enc.Encode(knownLine{id, e.partition, e.template}) //nolint:errcheck // as above
	}
	n := len(k.byID)
	k.dirty = false
	k.savedAt = time.Now()
	k.mu.Unlock()
	enc.Encode(knownTrailer{End: n, CRC32: crc32.ChecksumIEEE(buf.Bytes())}) //nolint:errcheck // as above

	err := writeAtomic(k.path, buf.Bytes())
	if err != nil {
		k.mu.Lock()
		k.dirty = true
		k.mu.Unlock()
		return fmt.Errorf("sink: known-templates cache: %w", err)
	}
	return nil
}

// writeAtomic replaces path with data: a temporary file next to it,
// synced, renamed over it, and the directory synced.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o600)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp) //nolint:errcheck // best effort
		return err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync() //nolint:errcheck // the rename is done; a failed directory sync only weakens durability
		d.Close()
	}
	return nil
}

// knownStore names where the templates of the cache are stored, so that a
// cache is not used after the node is pointed at another table or server.
func knownStore(cfg *Config, pgWhere, pgDB string) string {
	switch {
	case pgWhere != "":
		return "postgres " + pgWhere + "/" + pgDB + " " + cfg.PGTable
	case cfg.RedisAddr != "":
		return "redis " + cfg.RedisAddr + " " + cfg.RedisPrefix
	}
	return "events"
}

// knownMarginFor is how far before the mark an incremental load starts.
func knownMarginFor(callTimeout time.Duration) time.Duration {
	return max(knownMargin, 4*callTimeout)
}

// ReplayKnown calls fn for every template of partitions (all when empty)
// in the node's known-templates cache, without any store, and returns how
// many: what LoadKnown does first. A caller that must not mine a line
// before its miner knows them (the plugin, whose LoadKnown runs in the
// background) calls it before the first line; LoadKnown then replays them
// again, which seeding tolerates.
func (s *Sink) ReplayKnown(partitions []string, fn func(partition, template string)) int {
	if s.known == nil {
		return 0
	}
	m := s.known.entries(len(partitions) == 0, partitions)
	for _, e := range m {
		fn(e.partition, e.template)
	}
	return len(m)
}

// LoadKnown calls fn for every template this node knows to be stored, of
// partitions (all when empty). First come those of its known-templates
// cache (with Buffer_Path; known.go), read from the local file without any
// store. Then, with PostgreSQL, after a random wait below Load_Jitter and
// bounded by ctx and LoadTimeout, the current templates PostgreSQL holds
// that the cache lacked: with the cache's mark, only the rows created since
// it (less a margin); otherwise every current template (a template
// widened since, the parent of another row, is left out). The cache is
// then brought up to date and saved: what PostgreSQL widened since leaves
// it (fn was called for it already, from the cache: the miner keeps it
// until the next start, as a node that had never stopped would).
//
// Without PostgreSQL it returns nil after the cache. An error (PostgreSQL
// away) is for the caller to log and try again later; fn may have been
// called for some templates already.
func (s *Sink) LoadKnown(ctx context.Context, partitions []string, fn func(partition, template string)) error {
	all := len(partitions) == 0
	var replayed map[string]knownEntry
	var since time.Time
	if s.known != nil {
		s.known.load()
		replayed = s.known.entries(all, partitions)
		for _, e := range replayed {
			fn(e.partition, e.template)
		}
		s.c.knownCached.Add(uint64(len(replayed)))
		since = s.known.since(s.knownMargin())
	}
	if s.pg == nil {
		return nil
	}
	if s.cfg.LoadJitter > 0 {
		// The nodes of a rollout start within a minute of each other:
		// spread their loads rather than ask at once.
		t := time.NewTimer(rand.N(s.cfg.LoadJitter))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("sink: postgres: loading known templates: %w", ctx.Err())
		}
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, s.cfg.LoadTimeout)
	defer cancel()
	want := make(map[string]bool, len(partitions))
	for _, p := range partitions {
		want[p] = true
	}
	fromPG := 0
	res, err := s.readKnown(ctx, partitions, since, func(id, part, tmpl string) {
		if _, ok := replayed[id]; !ok && (all || want[part]) {
			fn(part, tmpl)
			fromPG++
		}
	})
	if err == nil && s.known != nil {
		if err := s.known.saveFile(); err != nil {
			s.logf("%v", err)
		}
	}
	if err != nil && parent.Err() != nil {
		// The caller gave up (the instance is closing): not a store failure.
		return fmt.Errorf("sink: postgres: loading known templates: %w", parent.Err())
	}
	if err != nil {
		cause, _ := classifyPG(err)
		s.pgC.errors[causeIndex(cause)].Add(1)
		msg := fmt.Sprintf("loading known templates failed (%s): %s", cause, s.redact(err.Error()))
		s.logf("postgres: %s", msg)
		return fmt.Errorf("sink: postgres: %s", msg)
	}
	how := "every current template"
	if res.incremental {
		how = "the rows created since " + since.UTC().Format(time.RFC3339)
	}
	s.logf("postgres: loaded %d known templates (%d from the local cache, %d more from PostgreSQL reading %s: %d rows)",
		len(replayed)+fromPG, len(replayed), fromPG, how, res.rows)
	return nil
}

// readKnown reads PostgreSQL's templates of partitions (all when empty):
// the rows created since since, or every current one when since is zero
// or the table lacks created_at. It calls each for every current row and
// brings the node's cache up to date with what it read (knownCache.endLoad).
func (s *Sink) readKnown(ctx context.Context, partitions []string, since time.Time, each func(id, partition, template string)) (pgLoad, error) {
	var kr knownRows // without a cache nothing is kept
	if s.known != nil {
		kr.current = map[string]knownEntry{}
		s.known.beginLoad()
	}
	res, err := s.pg.loadKnown(ctx, partitions, s.cfg.LoadPageSize, since, func(id, part, tmpl, parentID string, superseded bool) {
		if kr.add(id, part, tmpl, parentID, superseded) && each != nil {
			each(id, part, tmpl)
		}
	})
	s.c.knownRead.Add(uint64(res.rows))
	if s.known != nil {
		all := len(partitions) == 0
		var mark time.Time
		if all || res.incremental { // an incremental load reads every partition
			mark = res.mark
		}
		s.known.endLoad(err == nil, !res.incremental, all, partitions, kr.current, kr.gone, mark)
	}
	return res, err
}

// knownRows collects rows read from PostgreSQL for the known-templates
// cache: current templates, and those no longer current (widened since,
// or widened by a row read).
type knownRows struct {
	current map[string]knownEntry // nil: not kept
	gone    []string
	rows    int
	more    bool      // a refresh read a full page: the rest is left to refreshKnown
	mark    time.Time // the server's clock before the read
}

// add takes one row and reports whether it is current.
func (kr *knownRows) add(id, part, tmpl, parentID string, superseded bool) bool {
	kr.rows++
	if parentID != "" {
		kr.gone = append(kr.gone, parentID)
	}
	if superseded {
		kr.gone = append(kr.gone, id)
		return false
	}
	if kr.current != nil {
		kr.current[id] = knownEntry{part, tmpl}
	}
	return true
}

func (s *Sink) knownMargin() time.Duration {
	if s.cfg.knownMargin > 0 {
		return s.cfg.knownMargin
	}
	return knownMarginFor(s.cfg.CallTimeout)
}

// refreshKnown reads the rows created since the cache's mark (less the
// margin) on the writer's goroutine, with a batch of hit counts: in the
// batch's own transaction (b.refresh, read by sendTx), else (the page was
// full, or the batch did not read them) right after it, on the connection
// the pool still holds: no dial of its own. A template
// another node stored is then known here, and Template takes it without a
// write (at 1,000 nodes, each template first seen by a node minutes after
// it started cost a PostgreSQL session of its own: docs/stores.md,
// "Scale"). Only with created_at and a mark (an incremental read); a
// failure is counted and left for the next batch.
func (s *Sink) refreshKnown(b *batch) {
	if s.known == nil || !s.pg.createdOK.ok {
		return
	}
	if r := b.refresh; r != nil {
		// Read by the write's own transaction (sendTx): no round trip.
		s.c.knownRead.Add(uint64(r.rows))
		s.known.beginLoad()
		s.known.endLoad(true, false, true, nil, r.current, r.gone, r.mark)
		if !r.more {
			return
		}
	}
	since := s.known.since(s.knownMargin())
	if since.IsZero() {
		return
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.CallTimeout)
	defer cancel()
	if _, err := s.readKnown(ctx, nil, since, nil); err != nil && s.ctx.Err() == nil {
		cause, _ := classifyPG(err)
		s.pgC.errors[causeIndex(cause)].Add(1)
	}
}
