package drain

import (
	"hash/maphash"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/awoooi/fluent-bit-drain/internal/testutil"
)

// cpuTimer reports the thread CPU time per op as "cpu-ns/op" (see testutil.ThreadCPU).
type cpuTimer struct{ start time.Duration }

func startCPU(b *testing.B) *cpuTimer {
	runtime.LockOSThread()
	b.ResetTimer()
	return &cpuTimer{testutil.ThreadCPU()}
}

func (c *cpuTimer) stop(b *testing.B) {
	d := testutil.ThreadCPU() - c.start
	b.StopTimer()
	runtime.UnlockOSThread()
	b.ReportMetric(float64(d.Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// benchLine is one input line of the benchmarks with its partition.
type benchLine struct{ part, line string }

// sequential returns all datasets one after the other, each its own partition.
func sequential(b *testing.B) []benchLine {
	needShared(b)
	var out []benchLine
	for _, name := range datasetNames {
		for _, l := range loadContents(b, name) {
			out = append(out, benchLine{name, l})
		}
	}
	return out
}

// interleaved returns the datasets interleaved line by line, as a node sees
// several sources at once.
func interleaved(b *testing.B) []benchLine {
	needShared(b)
	var sets [][]string
	for _, name := range datasetNames {
		sets = append(sets, loadContents(b, name))
	}
	var out []benchLine
	for i := 0; ; i++ {
		more := false
		for j, s := range sets {
			if i < len(s) {
				out = append(out, benchLine{datasetNames[j], s[i]})
				more = true
			}
		}
		if !more {
			return out
		}
	}
}

func warmMiner(b *testing.B, preset string, lines []benchLine) *Miner {
	cfg, err := Preset(preset)
	if err != nil {
		b.Fatal(err)
	}
	m, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range lines {
		m.Add(l.part, l.line)
	}
	return m
}

var sinkResult Result

func benchHot(b *testing.B, preset string, lines []benchLine) {
	m := warmMiner(b, preset, lines)
	b.ReportAllocs()
	hits, scored := m.memoHits, m.scored
	cpu := startCPU(b)
	for i := 0; i < b.N; i++ {
		l := lines[i%len(lines)]
		sinkResult = m.Add(l.part, l.line)
	}
	cpu.stop(b)
	b.ReportMetric(float64(m.scored-scored)/float64(b.N), "scored/line")
	if m.memo.tab != nil {
		// The share of lines the line memo answered (memo.go).
		b.ReportMetric(float64(m.memoHits-hits)/float64(b.N), "memo-hits/line")
	}
}

// BenchmarkAddHot: drain3 preset, every template already known; ns/op is per line.
func BenchmarkAddHot(b *testing.B) { benchHot(b, "drain3", sequential(b)) }

// BenchmarkAddMixed: all datasets interleaved line by line, one partition each.
func BenchmarkAddMixed(b *testing.B) { benchHot(b, "drain3", interleaved(b)) }

// BenchmarkAddHotDefault: the default preset, every template known.
func BenchmarkAddHotDefault(b *testing.B) { benchHot(b, "default", sequential(b)) }

// BenchmarkAddMixedDefault: the default preset on the interleaved datasets.
func BenchmarkAddMixedDefault(b *testing.B) { benchHot(b, "default", interleaved(b)) }

// BenchmarkAddCold: a fresh miner for every pass over the data.
func BenchmarkAddCold(b *testing.B) { benchCold(b, "drain3", sequential(b)) }

// BenchmarkAddColdDefault: BenchmarkAddCold with the default preset, whose
// misses also look at other leaves (cross.go).
func BenchmarkAddColdDefault(b *testing.B) { benchCold(b, "default", sequential(b)) }

// BenchmarkAddAllNewDefault: every line a new template of one length (a
// hostile stream), a fresh miner every 2000 lines. Every Add is a miss:
// it scans its leaf (past MaxChildren first tokens, all lines share the <*>
// leaf, which any Drain scans in full), looks at up to maxCross clusters of
// other leaves, then creates a cluster.
func BenchmarkAddAllNewDefault(b *testing.B) {
	var lines []benchLine
	for i := 0; i < 2000; i++ {
		lines = append(lines, benchLine{"p", letters(i) + " : mode=" + letters(i+7) + " " + letters(i+1) + " " + letters(i+3) + " done"})
	}
	benchCold(b, "default", lines)
}

func benchCold(b *testing.B, preset string, lines []benchLine) {
	cfg, _ := Preset(preset)
	var m *Miner
	var hits, before uint64
	b.ReportAllocs()
	cpu := startCPU(b)
	for i := 0; i < b.N; i++ {
		if i%len(lines) == 0 {
			m, _ = New(cfg)
			before = 0
		}
		l := lines[i%len(lines)]
		sinkResult = m.Add(l.part, l.line)
		hits += m.memoHits - before
		before = m.memoHits
	}
	cpu.stop(b)
	if preset == "default" {
		// A first pass: the memo answers lines whose masked form came
		// before in the same partition, its tree unchanged since.
		b.ReportMetric(float64(hits)/float64(b.N), "memo-hits/line")
	}
}

// BenchmarkAddParallel: hot Add from GOMAXPROCS goroutines, to see contention
// on the miner's mutex.
func BenchmarkAddParallel(b *testing.B) {
	lines := interleaved(b)
	m := warmMiner(b, "drain3", lines)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		var r Result
		for pb.Next() {
			l := lines[i%len(lines)]
			r = m.Add(l.part, l.line)
			i += 7
		}
		_ = r
	})
}

// BenchmarkMatchHot: inference only.
func BenchmarkMatchHot(b *testing.B) {
	lines := sequential(b)
	m := warmMiner(b, "drain3", lines)
	b.ReportAllocs()
	cpu := startCPU(b)
	for i := 0; i < b.N; i++ {
		l := lines[i%len(lines)]
		sinkResult, _ = m.Match(l.part, l.line)
	}
	cpu.stop(b)
}

var sinkHash uint64

// BenchmarkFloor is the floor of any Drain: split on ASCII whitespace and
// hash each token, nothing else. Compare AddHot against it in the same run.
func BenchmarkFloor(b *testing.B) {
	lines := sequential(b)
	seed := maphash.MakeSeed()
	b.ReportAllocs()
	cpu := startCPU(b)
	defer cpu.stop(b)
	for i := 0; i < b.N; i++ {
		s := lines[i%len(lines)].line
		var h uint64
		start := -1
		for j := 0; j < len(s); j++ {
			c := s[j]
			if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' {
				if start >= 0 {
					h ^= maphash.String(seed, s[start:j])
					start = -1
				}
			} else if start < 0 {
				start = j
			}
		}
		if start >= 0 {
			h ^= maphash.String(seed, s[start:])
		}
		sinkHash += h
	}
}

// BenchmarkMemoryPerCluster reports the heap bytes per live cluster after
// mining every dataset into 16 partitions each, for each preset.
func BenchmarkMemoryPerCluster(b *testing.B) {
	lines := sequential(b)
	for _, preset := range []string{"drain3", "default"} {
		b.Run(preset, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				cfg, _ := Preset(preset)
				m, _ := New(cfg)
				suffix := []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b", "c", "d", "e", "f"}
				for _, s := range suffix {
					for _, l := range lines {
						m.Add(l.part+s, l.line)
					}
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				n := m.Stats().Clusters
				b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(n), "bytes/cluster")
				b.ReportMetric(float64(n), "clusters")
				runtime.KeepAlive(m)
			}
		})
	}
}

// BenchmarkSplit is the drain3 tokenizer alone on the datasets' lines (the
// text step of AddHot without the pool and the bookkeeping).
func BenchmarkSplit(b *testing.B) {
	lines := sequential(b)
	cfg, _ := Preset("drain3")
	m, _ := New(cfg)
	tk := m.text.(*drain3Tokenizer)
	dst := make([]string, 0, cfg.MaxTokens)
	sigs := make([]uint64, 0, cfg.MaxTokens)
	b.ReportAllocs()
	cpu := startCPU(b)
	for i := 0; i < b.N; i++ {
		dst, sigs, _, _ = tk.split(dst, sigs, lines[i%len(lines)].line)
	}
	cpu.stop(b)
}

// benchHotBatch is benchHot through AddBatch, 64 lines per call (a chunk's
// worth of records handed over at once); ns/op is per line.
func benchHotBatch(b *testing.B, preset string, lines []benchLine) {
	m := warmMiner(b, preset, lines)
	const per = 64
	var parts, text []string
	for _, l := range lines {
		parts, text = append(parts, l.part), append(text, l.line)
	}
	out := make([]Result, per)
	b.ReportAllocs()
	cpu := startCPU(b)
	for i := 0; i < b.N; i += per {
		j := i % len(lines)
		n := min(per, len(lines)-j, b.N-i)
		m.AddBatch(parts[j:j+n], text[j:j+n], out[:n])
	}
	cpu.stop(b)
}

// BenchmarkAddBatchHot: BenchmarkAddHot through AddBatch.
func BenchmarkAddBatchHot(b *testing.B) { benchHotBatch(b, "drain3", sequential(b)) }

// BenchmarkAddBatchHotDefault: BenchmarkAddHotDefault through AddBatch.
func BenchmarkAddBatchHotDefault(b *testing.B) { benchHotBatch(b, "default", sequential(b)) }

// variedRaw returns the raw lines (headers included) of all 16 Loghub-2k
// sets interleaved line by line: the varied corpus that make
// bench-fluent-bit tails into one partition.
func variedRaw(tb testing.TB) []string {
	needShared(tb)
	var sets [][]string
	for _, name := range allDatasets {
		data, err := os.ReadFile(filepath.Join(sharedDir, "loghub-2k", name, name+"_2k.log"))
		if err != nil {
			tb.Fatal(err)
		}
		sets = append(sets, strings.Split(strings.TrimRight(string(data), "\r\n"), "\n"))
	}
	var out []string
	for i := 0; ; i++ {
		more := false
		for _, s := range sets {
			if i < len(s) {
				out = append(out, strings.TrimSuffix(s[i], "\r"))
				more = true
			}
		}
		if !more {
			return out
		}
	}
}

// BenchmarkScanVaried is the default tokenizer alone on variedRaw.
func BenchmarkScanVaried(b *testing.B) { benchScan(b, variedRaw(b)) }

// BenchmarkAddVariedDefault: the default preset on variedRaw in one
// partition, every template already known (as inside Fluent Bit, where the
// corpus is repeated).
func BenchmarkAddVariedDefault(b *testing.B) {
	var lines []benchLine
	for _, l := range variedRaw(b) {
		lines = append(lines, benchLine{"varied", l})
	}
	benchHot(b, "default", lines)
}

// BenchmarkAddVaried: BenchmarkAddVariedDefault with the drain3 preset.
func BenchmarkAddVaried(b *testing.B) {
	var lines []benchLine
	for _, l := range variedRaw(b) {
		lines = append(lines, benchLine{"varied", l})
	}
	benchHot(b, "drain3", lines)
}
