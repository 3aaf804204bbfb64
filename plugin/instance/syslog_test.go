package instance

import (
	"bytes"
	"testing"
)

func TestSplitSyslog(t *testing.T) {
	tests := []struct {
		line       string
		ident, msg string
		ok         bool
	}{
		{"Nov 25 17:40:07 node-a1 sshd[23456]: Accepted publickey for ubuntu", "sshd", "Accepted publickey for ubuntu", true},
		{"Nov  5 17:40:07 node-a1 kernel: [12345.678] eth0: link up", "kernel", "[12345.678] eth0: link up", true},
		{"Nov 25 17:40:07 node-a1 systemd-logind[812]: Removed session 42.", "systemd-logind", "Removed session 42.", true},
		{"<38>Nov 25 17:40:07 node-a1 CRON[1]: (root) CMD (true)", "CRON", "(root) CMD (true)", true},
		{"2026-11-25T17:40:07.123456+00:00 node-a1 containerd[901]: time=x", "containerd", "time=x", true},
		{"2026-11-25T17:40:07Z node-a1 sudo: deploy : TTY=pts/2", "sudo", "deploy : TTY=pts/2", true},
		{"2026-11-25T17:40:07-05:00 h kubelet[1]:", "kubelet", "", true},
		// Not syslog headers: mined whole.
		{"", "", "", false},
		{"Connection from 10.0.0.1 closed", "", "", false},
		{"Nov 25 17:40:07", "", "", false},
		{"Nov 25 17:40:07 host", "", "", false},
		{"Nov 25 17:40:07 host ident", "", "", false},
		{"Nov 25 17:40:07 host ident[12: x", "", "", false},
		{"Nov 25 17:40:07 host two words: x", "", "", false},
		{"2026-11-25 17:40:07 host ident: x", "", "", false},
		{"2026-11-25T17:40:07+0000 host ident: x", "", "", false},
		{"<999999>Nov 25 17:40:07 host ident: x", "", "", false},
	}
	for _, tt := range tests {
		ident, msg, ok := splitSyslog([]byte(tt.line))
		if ok != tt.ok || string(ident) != tt.ident || string(msg) != tt.msg {
			t.Errorf("splitSyslog(%q) = %q, %q, %v; want %q, %q, %v", tt.line, ident, msg, ok, tt.ident, tt.msg, tt.ok)
		}
	}
}

// FuzzSplitSyslog: never panics, and on success the parts are subslices of
// the line in order, the ident a non-empty word.
func FuzzSplitSyslog(f *testing.F) {
	f.Add([]byte("Nov 25 17:40:07 node-a1 sshd[23456]: Accepted publickey"))
	f.Add([]byte("<38>2026-11-25T17:40:07.1+00:00 h x[1]: y"))
	f.Fuzz(func(t *testing.T, line []byte) {
		ident, msg, ok := splitSyslog(line)
		if !ok {
			return
		}
		if len(ident) == 0 || bytes.ContainsAny(ident, " [:") {
			t.Fatalf("bad ident %q from %q", ident, line)
		}
		if !bytes.HasSuffix(line, msg) || !bytes.Contains(line, ident) {
			t.Fatalf("parts %q %q are not from %q", ident, msg, line)
		}
	})
}

func BenchmarkSplitSyslog(b *testing.B) {
	line := []byte("Nov 25 17:40:07 node-a1 systemd-logind[812]: Session 42 logged out. Waiting for processes to exit.")
	b.ReportAllocs()
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		if _, _, ok := splitSyslog(line); !ok {
			b.Fatal("no split")
		}
	}
}
