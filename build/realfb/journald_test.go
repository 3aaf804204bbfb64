package realfb

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The configurations' systemd input has no Path: like a DaemonSet with the host's journal
// mounted, it opens the local journal (/var/log/journal/<machine-id>, /run/log/journal).
// To feed it a journal of the test's own without touching the host's, Fluent Bit runs in a
// private mount namespace where a tmpfs covers /var/log and the test's directory is bound
// on /var/log/journal. systemd-journal-remote writes the journal files from the export
// format, the way a host's journald would hold them.

// journalRemote finds systemd-journal-remote (Debian package systemd-journal-remote).
func journalRemote() string {
	for _, p := range []string{"/lib/systemd/systemd-journal-remote", "/usr/lib/systemd/systemd-journal-remote"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// inJournalNamespace runs args in a new mount namespace with dir mounted on
// /var/log/journal. unshare and sh exec in turn, so the process keeps one pid and gets
// the test's signals directly.
func inJournalNamespace(dir string, args []string) *exec.Cmd {
	script := `mount -t tmpfs drain-test /var/log && mkdir /var/log/journal && mount --bind "$0" /var/log/journal && exec "$@"`
	return exec.Command("unshare", append([]string{"--mount", "--propagation", "private", "sh", "-c", script, dir}, args...)...)
}

// journalEntry is one record of testdata/samples/journald.jsonl: journal fields by name.
type journalEntry map[string]string

var journalField = regexp.MustCompile(`^[A-Z0-9_]+$`)

// exportFormat encodes entries in the journal export format (systemd's
// JOURNAL_EXPORT_FORMATS): one FIELD=value line per field, a binary length-prefixed form
// for values holding a newline, and an empty line after each entry. realtime is the
// first entry's __REALTIME_TIMESTAMP in microseconds; each next one is 1 µs later.
func exportFormat(entries []journalEntry, realtime int64, seq int) []byte {
	var b bytes.Buffer
	for i, e := range entries {
		names := make([]string, 0, len(e))
		for k := range e {
			if journalField.MatchString(k) && !strings.HasPrefix(k, "__") {
				names = append(names, k)
			}
		}
		sort.Strings(names)
		b.WriteString("__REALTIME_TIMESTAMP=" + strconv.FormatInt(realtime+int64(i), 10) + "\n")
		b.WriteString("__MONOTONIC_TIMESTAMP=" + strconv.Itoa(seq+i+1) + "\n")
		for _, k := range names {
			v := e[k]
			if strings.ContainsRune(v, '\n') {
				b.WriteString(k + "\n")
				binary.Write(&b, binary.LittleEndian, uint64(len(v)))
				b.WriteString(v + "\n")
				continue
			}
			b.WriteString(k + "=" + v + "\n")
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// writeJournal appends entries to the journal file path with systemd-journal-remote.
func writeJournal(t *testing.T, remote, path string, entries []journalEntry, seq int) {
	t.Helper()
	cmd := exec.Command(remote, "--split-mode=none", "--output="+path, "-")
	cmd.Stdin = bytes.NewReader(exportFormat(entries, time.Now().UnixMicro(), seq))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("systemd-journal-remote: %v\n%s", err, out)
	}
}

func readJournalSamples(t *testing.T) []journalEntry {
	t.Helper()
	var out []journalEntry
	for i, l := range readLines(t, "testdata/samples/journald.jsonl") {
		var e journalEntry
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("journald.jsonl line %d: %v", i+1, err)
		}
		out = append(out, e)
	}
	return out
}

// journalPartition is the plugin's partition for a journald record (docs/config.md):
// SYSLOG_IDENTIFIER, else _SYSTEMD_UNIT; every sample has one of them.
func journalPartition(t *testing.T, e journalEntry) string {
	for _, k := range []string{"SYSLOG_IDENTIFIER", "_SYSTEMD_UNIT"} {
		if v := e[k]; v != "" {
			return v
		}
	}
	t.Fatalf("journal sample without SYSLOG_IDENTIFIER or _SYSTEMD_UNIT: %v", e)
	return ""
}

// TestJournald: the systemd input of both configurations reads the node's journal. What the
// journal held before Fluent Bit started is not read (Read_From_Tail); what is written after
// it, in two writes, is: every entry one hit, every template one row announced once,
// partitioned by SYSLOG_IDENTIFIER.
func TestJournald(t *testing.T) {
	needFB(t)
	remote := journalRemote()
	if remote == "" {
		t.Skip("systemd-journal-remote is not installed (Debian package systemd-journal-remote): it writes the test's journal")
	}
	if out, err := exec.Command("unshare", "--mount", "true").CombinedOutput(); err != nil {
		t.Skipf("no private mount namespace for the test's journal (unshare --mount: %v %s): needs root", err, bytes.TrimSpace(out))
	}
	mid, err := os.ReadFile("/etc/machine-id")
	if err != nil || len(bytes.TrimSpace(mid)) != 32 {
		t.Skipf("no /etc/machine-id (%v): the systemd input reads the directory named after it", err)
	}
	samples := readJournalSamples(t)
	before, first, second := samples[:100], samples[100:650], samples[650:]
	for _, conf := range configs {
		t.Run(conf, func(t *testing.T) {
			st := sharedStores(t)
			f := newFiles(t)
			jdir := t.TempDir()
			dir := filepath.Join(jdir, string(bytes.TrimSpace(mid)))
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			journal := filepath.Join(dir, "system.journal")
			writeJournal(t, remote, journal, before, 0)

			n := newNode(t, "node-a", conf, f, st)
			n.journalDir = jdir
			n.start()
			e := newExpect(t)
			for i, part := range [][]journalEntry{first, second} {
				writeJournal(t, remote, journal, part, len(before)+i*len(first))
				for _, je := range part {
					e.add(journalPartition(t, je), je["MESSAGE"])
				}
				waitStored(t, st, e, e.lines, time.Minute)
			}
			checkMetrics(t, n, e.lines, len(e.ids))
			n.stopClean()
			t.Logf("%s: %d journal entries read (%d written before the start, not read), %d templates in PostgreSQL and Redis",
				conf, e.lines, len(before), len(e.ids))
		})
	}
}
