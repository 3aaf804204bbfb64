package sink

import (
	"context"
	"slices"
	"strings"
)

// maxMuted bounds the members of <prefix>:muted read: every glob is tried
// against each new template, and a runaway script should not make that slow.
const maxMuted = 10000

// muteList is the parsed Redis set <prefix>:muted. A member of exactly 16
// lower-case hex digits is a template id; any other member is a glob ('*'
// any run of bytes, '?' one byte) matched against the whole partition name
// and the whole template text. The drain CLI's mute command writes the
// members in this form.
type muteList struct {
	ids   map[string]struct{}
	globs []string
}

func newMuteList(members []string) *muteList {
	m := &muteList{ids: make(map[string]struct{})}
	for _, v := range members {
		if validID(v) {
			m.ids[v] = struct{}{}
		} else if v != "" {
			m.globs = append(m.globs, v)
		}
	}
	slices.Sort(m.globs) // the order does not matter; sorted, lists compare
	return m
}

// equal reports whether m and o hold the same members.
func (m *muteList) equal(o *muteList) bool {
	if m.size() != o.size() || m == nil || o == nil {
		return m.size() == o.size()
	}
	for id := range m.ids {
		if _, ok := o.ids[id]; !ok {
			return false
		}
	}
	return slices.Equal(m.globs, o.globs)
}

// muted reports whether t is on the list: by id, partition or template.
func (m *muteList) muted(t *Template) bool {
	if m == nil {
		return false
	}
	if _, ok := m.ids[t.ID]; ok {
		return true
	}
	for _, g := range m.globs {
		if globMatch(g, t.Partition) || globMatch(g, t.Template) {
			return true
		}
	}
	return false
}

// size is the number of members in use.
func (m *muteList) size() int {
	if m == nil {
		return 0
	}
	return len(m.ids) + len(m.globs)
}

// globMatch reports whether the whole of s matches pattern, where '*'
// matches any run of bytes (empty too) and '?' exactly one byte; every
// other byte matches itself. Backtracking goes to the last '*' only, so
// the time is O(len(pattern) × len(s)) at worst.
func globMatch(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]) && pattern[p] != '*':
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			mark++
			p, i = star+1, mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// muted reads the current mute list; nil (nothing muted) until the first
// poll, and always without Redis.
func (s *Sink) muteList() *muteList { return s.mute.Load() }

// markMuted decides, once per template about to be announced, whether the
// mute list holds it, and counts it when it does. A muted template is still
// recorded in PostgreSQL and its hits counted; only the announcements
// (<prefix>:new, the alert stream, the event log) skip it.
func (s *Sink) markMuted(it *item) {
	if it.muted = s.muteList().muted(&it.t); it.muted {
		s.c.muted.Add(1)
	}
}

// readMuted reads the set <prefix>:muted, at most maxMuted members.
func (w *redisWriter) readMuted(ctx context.Context) ([]string, bool, error) {
	var members []string
	var cursor uint64
	for {
		page, next, err := w.rdb.SScan(ctx, w.keyMuted, cursor, "", 1000).Result()
		if err != nil {
			return nil, false, err
		}
		members = append(members, page...)
		if len(members) >= maxMuted {
			return members[:maxMuted], true, nil
		}
		if cursor = next; cursor == 0 {
			return members, false, nil
		}
	}
}

// pollMuted refreshes the mute list; Redis away or the key of another
// type keeps the last list read. warned remembers the last problem logged.
func (s *Sink) pollMuted(warned *string) {
	defer func() {
		if r := recover(); r != nil {
			s.c.panics.Add(1)
			s.logf("redis: mute list poller panicked (recovered): %v", r)
		}
	}()
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.CallTimeout)
	members, cut, err := s.rd.readMuted(ctx)
	cancel()
	if err != nil {
		if s.ctx.Err() != nil {
			return
		}
		cause, _ := classifyRedis(err)
		s.rdC.errors[causeIndex(cause)].Add(1)
		if strings.HasPrefix(err.Error(), "WRONGTYPE") && *warned != "wrongtype" {
			s.logf("redis: %s is not a set; the mute list is unchanged until it is", s.rd.keyMuted)
			*warned = "wrongtype"
		}
		return
	}
	if cut && *warned != "cut" {
		s.logf("redis: %s has more than %d members; only %d are used", s.rd.keyMuted, maxMuted, maxMuted)
		*warned = "cut"
	}
	m := newMuteList(members)
	if old := s.mute.Swap(m); !old.equal(m) {
		s.logf("redis: mute list now %d template ids and %d globs", len(m.ids), len(m.globs))
	}
}
