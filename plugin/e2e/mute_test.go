package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestMuteMidRun: the host feeds records of two partitions over about six
// seconds (--pace), each record a template new to the cluster. Once the
// first template of app.quiet is announced, the test adds the glob
// "app.qui*" to <prefix>:muted: from one flags poll on (plus the time a
// template takes to reach Redis), no template of app.quiet is announced,
// while app.loud's still are; every template of both is recorded in
// PostgreSQL.
func TestMuteMidRun(t *testing.T) {
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	ctx := context.Background()
	conn, rdb, id := sharedStores(t, "drain_e2e_mute")

	// 60 records, 100 ms apart, alternating partitions; record k has k+3
	// tokens, so no two share a template (Drain splits by token count).
	const n, pace, poll, flush = 60, 100 * time.Millisecond, 500 * time.Millisecond, 200 * time.Millisecond
	var in bytes.Buffer
	for k := 0; k < n; k++ {
		tag := "app.loud"
		if k%2 == 0 {
			tag = "app.quiet"
		}
		msg := tag + " record" + strings.Repeat(" x", k+1)
		line, _ := json.Marshal(map[string]string{"_tag": tag, "log": msg})
		in.Write(append(line, '\n'))
	}
	input := filepath.Join(t.TempDir(), "paced.jsonl")
	if err := os.WriteFile(input, in.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}

	hctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(hctx, hostBin, "-q", "-p", "workers=1",
		"-p", "PG_DSN=postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "-p", "PG_Table="+id,
		"-p", "Redis_Addr=127.0.0.1:6379", "-p", "Redis_Prefix="+id,
		"-p", "Flush_Interval="+flush.String(), "-p", "_test_flags_interval="+poll.String(), "-p", "Exit_Timeout=10s",
		"--pace", fmt.Sprint(pace.Milliseconds()), "-n", "1", "--format", "json", "-f", input, soPath)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	started := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	// Watch <prefix>:new: when each event first appeared.
	type seen struct {
		partition string
		at        time.Time
	}
	var mu sync.Mutex
	first := map[string]seen{}
	scan := func() {
		vals, err := rdb.LRange(ctx, id+":new", 0, -1).Result()
		if err != nil {
			t.Errorf("LRANGE: %v", err)
			return
		}
		now := time.Now()
		mu.Lock()
		defer mu.Unlock()
		for _, v := range vals {
			var e struct {
				ClusterID string `json:"cluster_id"`
				Partition string `json:"partition"`
			}
			if err := json.Unmarshal([]byte(v), &e); err != nil {
				t.Errorf("event %q: %v", v, err)
				continue
			}
			if _, ok := first[e.ClusterID]; !ok {
				first[e.ClusterID] = seen{e.Partition, now}
			}
		}
	}
	quietSeen := func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, s := range first {
			if s.partition == "app.quiet" {
				return true
			}
		}
		return false
	}
	var mutedAt time.Time
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var runErr error
loop:
	for {
		select {
		case runErr = <-done:
			break loop
		case <-tick.C:
			scan()
			if mutedAt.IsZero() && quietSeen() {
				if err := rdb.SAdd(ctx, id+":muted", "app.qui*").Err(); err != nil {
					t.Fatal(err)
				}
				mutedAt = time.Now()
			}
		}
	}
	scan()
	if runErr != nil {
		t.Fatalf("host: %v\nstderr:\n%s", runErr, tail(errb.String(), 3000))
	}
	if mutedAt.IsZero() {
		t.Fatalf("no app.quiet template announced before the run ended\nstderr:\n%s", tail(errb.String(), 3000))
	}

	// A template mined just before the poll that reads the mute list can
	// still be announced: allow one poll, two flush intervals (the sink's
	// and PostgreSQL's round) and two seconds of slack for a loaded
	// machine (make test runs every package at once). The feed goes on for
	// about three seconds more, so app.loud's later templates show the run
	// was still announcing.
	deadline := mutedAt.Add(poll + 2*flush + 2*time.Second)
	var quietBefore, quietLate, loudLate int
	for _, s := range first {
		switch {
		case s.partition == "app.quiet" && s.at.After(deadline):
			quietLate++
		case s.partition == "app.quiet":
			quietBefore++
		case s.at.After(deadline):
			loudLate++
		}
	}
	t.Logf("muted %v after start; quiet announced %d before the deadline, %d after; loud after the deadline %d",
		mutedAt.Sub(started).Round(time.Millisecond), quietBefore, quietLate, loudLate)
	if quietLate != 0 {
		t.Errorf("%d app.quiet templates announced more than one poll after the mute", quietLate)
	}
	if loudLate == 0 {
		t.Errorf("no app.loud template announced after the deadline: the run ended too early to show anything")
	}
	if quietBefore >= n/2 {
		t.Errorf("all %d app.quiet templates announced: the mute did not bite", quietBefore)
	}
	var rows, quietRows int
	if err := conn.QueryRow(ctx, "SELECT count(*), count(*) FILTER (WHERE partition = 'app.quiet') FROM "+id).Scan(&rows, &quietRows); err != nil {
		t.Fatal(err)
	}
	if rows != n || quietRows != n/2 {
		t.Errorf("rows %d (quiet %d), want every template recorded: %d (%d)", rows, quietRows, n, n/2)
	}
	if !strings.Contains(errb.String(), "mute list now 0 template ids and 1 globs") {
		t.Errorf("no log line for the mute list\nstderr:\n%s", tail(errb.String(), 3000))
	}
}

// make run's events: sample_log is a real line, no wildcard in it, never
// the template (unless the template has no variable), within Sample_Bytes.
func TestSamplesRealLines(t *testing.T) {
	needSamples(t)
	r := host(t, append([]string{"-q", "-p", "workers=1"}, sampleArgs()...)...)
	r.ok(t)
	evs := r.events(t)
	if len(evs) == 0 {
		t.Fatal("no events")
	}
	for _, e := range evs {
		if strings.Contains(e.SampleLog, "<*>") || strings.Contains(e.Template, "<*>") && e.SampleLog == e.Template {
			t.Errorf("sample_log %q of template %q is not a real line", e.SampleLog, e.Template)
		}
		if len(e.SampleLog) > 500 {
			t.Errorf("sample_log of %d bytes, want at most Sample_Bytes 500", len(e.SampleLog))
		}
	}
}
