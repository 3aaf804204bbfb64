package instance

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/awoooi/fluent-bit-drain/plugin/chunk"
	"github.com/awoooi/fluent-bit-drain/plugin/config"
)

// plan says, for one source, which record paths to look up and how to turn
// them into a partition name.
type plan struct {
	query *chunk.Query
	msg   []int // indexes into Event.Values of the message keys, in order
	part  []int // indexes of the partition paths, in order
	// join: the partition is the part values joined with "/"; else the
	// first one present.
	join bool
	// kubeTag: when the record has no partition values, parse the
	// container log tag for namespace/container.
	kubeTag bool
	// rawSyslog: when the record has no partition values, split a raw
	// syslog file line (tail without a matching parser) into ident and
	// message.
	rawSyslog bool
}

// defaultPartition is each source's partition paths when Partition_Key is unset.
var defaultPartition = map[string]struct {
	paths   []string
	join    bool
	kubeTag bool
}{
	config.SourceK8sPod:     {[]string{"kubernetes.namespace_name", "kubernetes.container_name"}, true, true},
	config.SourceJournald:   {[]string{"SYSLOG_IDENTIFIER", "_SYSTEMD_UNIT"}, false, false},
	config.SourceHostSyslog: {[]string{"ident"}, false, false},
	config.SourceAppLog:     {nil, false, false},
}

func newPlans(cfg *config.Config) (map[string]*plan, error) {
	plans := make(map[string]*plan, len(defaultPartition))
	for src, d := range defaultPartition {
		p := &plan{join: d.join, kubeTag: d.kubeTag}
		paths := d.paths
		p.rawSyslog = src == config.SourceHostSyslog
		if cfg.PartitionKeys != nil {
			paths, p.join, p.kubeTag, p.rawSyslog = cfg.PartitionKeys, true, false, false
		}
		// One query for both lists; a path in both is looked up once.
		var all []string
		index := func(path string) int {
			for i, q := range all {
				if q == path {
					return i
				}
			}
			all = append(all, path)
			return len(all) - 1
		}
		for _, k := range cfg.MessageKeys {
			p.msg = append(p.msg, index(k))
		}
		for _, k := range paths {
			p.part = append(p.part, index(k))
		}
		q, err := chunk.NewQuery(all...)
		if err != nil {
			return nil, err
		}
		p.query = q
		plans[src] = p
	}
	return plans, nil
}

// kubeTagPartition extracts "namespace/container" from a container log tag,
// "<prefix><pod>_<namespace>_<container>-<64 hex>.log", as the kubernetes
// filter does (its prefix is configurable, so match from the end).
func kubeTagPartition(tag string) (string, bool) {
	rest, ok := strings.CutSuffix(tag, ".log")
	if !ok {
		return "", false
	}
	dash := strings.LastIndexByte(rest, '-')
	if dash < 0 || len(rest)-dash-1 != 64 || !isHex(rest[dash+1:]) {
		return "", false
	}
	rest = rest[:dash]
	u2 := strings.LastIndexByte(rest, '_')
	if u2 <= 0 {
		return "", false
	}
	container := rest[u2+1:]
	u1 := strings.LastIndexByte(rest[:u2], '_')
	if u1 < 0 || container == "" || u1+1 == u2 {
		return "", false
	}
	return rest[u1+1:u2] + "/" + container, true
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// appendText appends a partition component: text as is, numbers and
// booleans formatted; other kinds are absent.
func appendText(dst []byte, v chunk.Value) ([]byte, bool) {
	switch v.Kind {
	case chunk.Str, chunk.Bin:
		return append(dst, v.Bytes...), len(v.Bytes) > 0
	case chunk.Uint:
		return strconv.AppendUint(dst, v.U, 10), true
	case chunk.Int:
		return strconv.AppendInt(dst, v.I, 10), true
	case chunk.Bool:
		return strconv.AppendBool(dst, v.U != 0), true
	}
	return dst, false
}

// cleanPartition cuts a partition name to config.MaxPartitionBytes on a
// rune boundary and makes it valid UTF-8 without NUL (it becomes a
// PostgreSQL text value and a Redis key). It reports whether it changed
// anything; only then does it allocate.
func cleanPartition(b []byte) ([]byte, bool) {
	changed := false
	if len(b) > config.MaxPartitionBytes {
		n := config.MaxPartitionBytes
		for n > 0 && !utf8.RuneStart(b[n]) {
			n--
		}
		b, changed = b[:n], true
	}
	if utf8.Valid(b) && bytes.IndexByte(b, 0) < 0 {
		return b, changed
	}
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	s = strings.ReplaceAll(s, "\x00", "")
	return []byte(s), true
}
