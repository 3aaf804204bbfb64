package sink

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/awoooi/fluent-bit-drain/internal/testutil"
)

// TestAlertKinds: with shadow mode off, every event is LPUSHed to
// <prefix>:new, but only the kinds in AlertKinds reach <prefix>:alerts: by
// default "new" alone (a widened template is the event seen before), and
// "generalized" too when asked for.
func TestAlertKinds(t *testing.T) {
	for _, c := range []struct {
		name  string
		kinds []string
		want  []string // kinds on the alert stream, oldest first
	}{
		{"default", nil, []string{KindNew}},
		{"new only", []string{KindNew}, []string{KindNew}},
		{"new and generalized", []string{KindNew, KindGeneralized}, []string{KindNew, KindGeneralized}},
		{"generalized only", []string{KindGeneralized}, []string{KindGeneralized}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, rdb := sharedConfig(t)
			cfg.Flags.ShadowMode = false
			cfg.AlertKinds = c.kinds
			s, err := New(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			a := tmpl("ns/api", "GET <*> 200", KindNew)
			g := tmpl("ns/api", "GET <*> <*>", KindGeneralized)
			g.ParentID = a.ID
			s.Template(a)
			testutil.WaitFor(t, 10*time.Second, "first batch", func() bool { return s.Stats().Redis.Rows >= 1 })
			s.Template(g)
			testutil.WaitFor(t, 10*time.Second, "second batch", func() bool { return settled(s) && s.Stats().Created == 2 })
			closeSink(t, s)

			if evs := listEvents(t, rdb, cfg.RedisPrefix+":new"); len(evs) != 2 {
				t.Errorf("%d events on :new, want both kinds: %+v", len(evs), evs)
			}
			msgs, err := rdb.XRange(context.Background(), cfg.RedisPrefix+":alerts", "-", "+").Result()
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range msgs {
				var e Event
				if err := json.Unmarshal([]byte(m.Values["event"].(string)), &e); err != nil {
					t.Fatalf("alert %v: %v", m.Values, err)
				}
				got = append(got, e.Kind)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("alert kinds %q, want %q", got, c.want)
			}
		})
	}
}
