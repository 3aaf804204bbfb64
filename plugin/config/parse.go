package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Parsers of the keys' values. Each returns what is wrong with the value
// and what is accepted; Parse names the key (KeyError). Only non-secret
// values reach them.

// parseInt accepts a plain decimal integer in [lo, hi].
func parseInt(v string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%q is not an integer in [%d, %d]", v, lo, hi)
	}
	return n, nil
}

// ParseSize reads a Fluent Bit size as flb_utils_size_to_bytes does: a
// byte count with an optional unit, 500, 4K, 4KB, 1M, 1MB, 1G (powers of
// 1024, case-insensitive). It reports false for
// anything else and for a negative or overflowing value.
func ParseSize(v string) (int64, bool) {
	num, mult := strings.ToUpper(v), int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KB", 1 << 10}, {"K", 1 << 10}, {"MB", 1 << 20}, {"M", 1 << 20}, {"GB", 1 << 30}, {"G", 1 << 30}} {
		if rest, ok := strings.CutSuffix(num, u.suffix); ok {
			num, mult = rest, u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/mult {
		return 0, false
	}
	return n * mult, true
}

// parseSize is ParseSize within [lo, hi].
func parseSize(v string, lo, hi int) (int, error) {
	n, ok := ParseSize(v)
	if !ok || n > int64(hi) || n < int64(lo) {
		return 0, fmt.Errorf("%q is not a size in [%d, %d] bytes (e.g. 500, 4K, 1M)", v, lo, hi)
	}
	return int(n), nil
}

// parseDuration accepts a Go duration (500ms, 10s, 1m, 2h), a number of
// days (7d), or a plain integer of seconds, within [lo, hi].
func parseDuration(v string, lo, hi time.Duration) (time.Duration, error) {
	bad := fmt.Errorf("%q is not a duration in [%v, %v] (e.g. 10s, 1m, 7d, or plain seconds)", v, lo, hi)
	var d time.Duration
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 || n > int64(hi/time.Second) {
			return 0, bad
		}
		d = time.Duration(n) * time.Second
	} else if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.ParseInt(days, 10, 64)
		if err != nil || n < 0 || n > int64(hi/(24*time.Hour)) {
			return 0, bad
		}
		d = time.Duration(n) * 24 * time.Hour
	} else if d, err = time.ParseDuration(v); err != nil {
		return 0, bad
	}
	if d < lo || d > hi {
		return 0, bad
	}
	return d, nil
}

// parseFloat accepts a decimal in [lo, hi].
func parseFloat(v string, lo, hi float64) (float64, error) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || !(f >= lo && f <= hi) {
		return 0, fmt.Errorf("%q is not a number in [%v, %v]", v, lo, hi)
	}
	return f, nil
}

// parseList splits a comma list, trimming blanks and dropping empty items.
func parseList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
