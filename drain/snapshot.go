package drain

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// snapshotVersion is the version of the snapshot format written by Snapshot.
const snapshotVersion = 1

// The snapshot is plain JSON, versioned, read back with a byte limit and no
// code execution (Drain3 persists with jsonpickle, which can run code).
type snapFile struct {
	Version    int         `json:"version"`
	Depth      int         `json:"depth"`      // the tree's shape depends on it
	Partitions []snapPart  `json:"partitions"` // least recently used first
	Clusters   []snapClust `json:"clusters"`   // least recently used first
}

type snapPart struct {
	Key    string              `json:"key"`
	NextID uint64              `json:"next_id"`
	Tree   map[string]snapNode `json:"tree"` // token count → node
}

type snapNode struct {
	Children map[string]snapNode `json:"c,omitempty"`
	Clusters []uint64            `json:"k,omitempty"` // leaf order
}

type snapClust struct {
	Part     int    `json:"p"` // index into Partitions
	ID       uint64 `json:"id"`
	Size     uint64 `json:"size"`
	Template string `json:"t"`
}

// Snapshot writes the whole state (trees, clusters, LRU order) to w. The
// miner is locked while the state is copied, not while w is written.
func (m *Miner) Snapshot(w io.Writer) error {
	m.mu.Lock()
	f := snapFile{Version: snapshotVersion, Depth: m.cfg.Depth}
	index := map[*partition]int{}
	for p := m.plru.prev; p != &m.plru; p = p.prev {
		index[p] = len(f.Partitions)
		sp := snapPart{Key: p.name, NextID: p.nextID, Tree: map[string]snapNode{}}
		for n, nd := range p.byLen {
			if nd != nil {
				sp.Tree[strconv.Itoa(n)] = snapTree(nd)
			}
		}
		f.Partitions = append(f.Partitions, sp)
	}
	for c := m.lru.prev; c != &m.lru; c = c.prev {
		f.Clusters = append(f.Clusters, snapClust{Part: index[c.part], ID: c.id, Size: c.size, Template: c.template})
	}
	m.mu.Unlock()
	bw := bufio.NewWriter(w)
	if err := json.NewEncoder(bw).Encode(&f); err != nil {
		return fmt.Errorf("drain: write snapshot: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("drain: write snapshot: %w", err)
	}
	return nil
}

func snapTree(nd *node) snapNode {
	var s snapNode
	if len(nd.children) > 0 {
		s.Children = make(map[string]snapNode, len(nd.children))
		for k, ch := range nd.children {
			s.Children[k] = snapTree(ch)
		}
	}
	for _, c := range nd.clusters {
		s.Clusters = append(s.Clusters, c.id)
	}
	return s
}

// errTooLarge is returned when a snapshot exceeds Config.MaxSnapshotBytes.
var errTooLarge = errors.New("drain: snapshot larger than Config.MaxSnapshotBytes")

// limitReader fails, rather than stopping quietly, past its limit.
type limitReader struct {
	r io.Reader
	n int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

// Restore returns a miner with cfg and the state of a snapshot read from r.
// The snapshot's Depth must equal cfg.Depth; everything is validated, and the
// bounds of cfg apply (the least recently used clusters and partitions beyond
// them are evicted and counted).
func Restore(r io.Reader, cfg Config) (*Miner, error) {
	m, err := New(cfg)
	if err != nil {
		return nil, err
	}
	var f snapFile
	dec := json.NewDecoder(&limitReader{r: r, n: int64(cfg.MaxSnapshotBytes)})
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, errTooLarge) {
			return nil, fmt.Errorf("%w (%d bytes)", errTooLarge, cfg.MaxSnapshotBytes)
		}
		return nil, fmt.Errorf("drain: read snapshot: %w", err)
	}
	if f.Version != snapshotVersion {
		return nil, fmt.Errorf("drain: snapshot version %d, want %d", f.Version, snapshotVersion)
	}
	if f.Depth != cfg.Depth {
		return nil, fmt.Errorf("drain: snapshot has Depth %d, Config.Depth is %d", f.Depth, cfg.Depth)
	}
	parts := make([]*partition, len(f.Partitions))
	byID := make([]map[uint64]*cluster, len(f.Partitions))
	// Partitions beyond MaxPartitions are skipped before anything is built
	// from them (the least recently used ones, listed first).
	skip := max(0, len(f.Partitions)-cfg.MaxPartitions)
	for i, sp := range f.Partitions {
		if i < skip {
			m.evictedP++
			continue
		}
		p := m.newPartition(sp.Key)
		if _, dup := m.parts[p.name]; dup {
			return nil, fmt.Errorf("drain: snapshot partition %q twice", p.name)
		}
		p.nextID = sp.NextID
		m.parts[p.name] = p
		parts[i], byID[i] = p, map[uint64]*cluster{}
		// Partitions are listed least recently used first: push each to the front.
		p.prev, p.next = &m.plru, m.plru.next
		m.plru.next.prev = p
		m.plru.next = p
	}
	for i, sc := range f.Clusters {
		if sc.Part < 0 || sc.Part >= len(parts) {
			return nil, fmt.Errorf("drain: snapshot cluster %d: partition index %d out of range", i, sc.Part)
		}
		p := parts[sc.Part]
		if p == nil {
			continue // skipped partition
		}
		if sc.ID == 0 || sc.ID > p.nextID || byID[sc.Part][sc.ID] != nil {
			return nil, fmt.Errorf("drain: snapshot partition %q: bad or repeated cluster id %d", p.name, sc.ID)
		}
		if strings.IndexByte(sc.Template, 0) >= 0 || !utf8.ValidString(sc.Template) {
			return nil, fmt.Errorf("drain: snapshot partition %q cluster %d: template is not valid UTF-8 without NUL", p.name, sc.ID)
		}
		var toks []string
		if sc.Template != "" {
			toks = strings.Split(sc.Template, " ")
		}
		for _, t := range toks {
			if t == "" || strings.IndexFunc(t, isPySpace) >= 0 {
				return nil, fmt.Errorf("drain: snapshot partition %q cluster %d: template %q is not single-space separated", p.name, sc.ID, sc.Template)
			}
		}
		c := &cluster{id: sc.ID, size: sc.Size, part: p}
		c.setTemplate(toks)
		byID[sc.Part][sc.ID] = c
		m.pushFront(c) // least recently used first
	}
	for i, sp := range f.Partitions {
		p := parts[i]
		if p == nil {
			continue
		}
		for k, sn := range sp.Tree {
			n, err := strconv.Atoi(k)
			if err != nil || n < 0 || strconv.Itoa(n) != k {
				return nil, fmt.Errorf("drain: snapshot partition %q: bad token count %q", p.name, k)
			}
			if n > cfg.MaxTokens {
				return nil, fmt.Errorf("drain: snapshot partition %q: tree for %d tokens, over Config.MaxTokens %d", p.name, n, cfg.MaxTokens)
			}
			if n >= len(p.byLen) {
				p.byLen = append(p.byLen, make([]*node, n+1-len(p.byLen))...)
			}
			nd, err := m.restoreNode(sn, p, byID[i], n, 0)
			if err != nil {
				return nil, err
			}
			p.byLen[n] = nd
		}
		cs := make([]*cluster, 0, len(byID[i]))
		for _, c := range byID[i] {
			if c.leaf == nil {
				return nil, fmt.Errorf("drain: snapshot partition %q: cluster %d is in no leaf", p.name, c.id)
			}
			cs = append(cs, c)
		}
		p.relinkLen(cs)
	}
	for m.nClusters > cfg.MaxClusters {
		m.evict(m.lru.prev)
	}
	return m, nil
}

// restoreNode rebuilds a subtree at level (0 = the token-count node) of the
// tree for n-token lines, checking that clusters sit where search finds them.
func (m *Miner) restoreNode(sn snapNode, p *partition, byID map[uint64]*cluster, n, level int) (*node, error) {
	leafLevel := min(m.maxNodeDepth-1, n-1)
	if n == 0 {
		leafLevel = 0
	}
	if level > leafLevel && (len(sn.Children) > 0 || len(sn.Clusters) > 0) || level == leafLevel && len(sn.Children) > 0 {
		return nil, fmt.Errorf("drain: snapshot partition %q: tree for %d tokens deeper than Depth allows", p.name, n)
	}
	if len(sn.Clusters) > 0 && level != leafLevel {
		return nil, fmt.Errorf("drain: snapshot partition %q: clusters on an inner node of the tree for %d tokens", p.name, n)
	}
	nd := &node{}
	for _, id := range sn.Clusters {
		c := byID[id]
		if c == nil || c.leaf != nil || len(c.tokens) != n {
			return nil, fmt.Errorf("drain: snapshot partition %q: leaf lists cluster %d that is missing, repeated or not %d tokens long", p.name, id, n)
		}
		c.leaf = nd
		nd.clusters = append(nd.clusters, c)
	}
	if len(sn.Children) > 0 {
		nd.children = make(map[string]*node, len(sn.Children))
		for k, sc := range sn.Children {
			if k == "" || strings.IndexByte(k, 0) >= 0 || !utf8.ValidString(k) {
				return nil, fmt.Errorf("drain: snapshot partition %q: bad tree key %q", p.name, k)
			}
			ch, err := m.restoreNode(sc, p, byID, n, level+1)
			if err != nil {
				return nil, err
			}
			ch.parent, ch.key = nd, k
			nd.setChild(k, ch, m.indexed)
		}
	}
	return nd, nil
}
