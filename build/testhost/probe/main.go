//go:build flbprobe

// Command probe is a tiny Fluent Bit Go output plugin (built with
// -buildmode=c-shared) used only to test the C test host (../flb_host.c).
// Its behaviour is chosen by config keys, and it prints what it sees on
// stderr as "probe: <event> key=value ..." lines that the host tests parse.
package main

import "C"

import (
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/fluent/fluent-bit-go/output"
)

// probeCtx is the per-instance state stored with FLBPluginSetContext.
type probeCtx struct {
	label          string
	mode           string // ok | retry | error | rc:N | panic | nilderef | cstack:N
	sleep          time.Duration
	restoreSignals bool
	retain         bool
	dumpHex        bool
	quiet          bool

	flushes, records atomic.Int64
	inflight         atomic.Int32
	maxInflight      atomic.Int32

	mu        sync.Mutex
	kept      unsafe.Pointer // retained data pointer (retain on): a deliberate contract violation
	keptCopy  []byte
	keptCheck bool
}

func itoa(n int) string { return strconv.Itoa(n) }

// sink keeps the nil dereference in mode nilderef from being optimised away.
var sink string

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "probe: "+format+"\n", args...)
}

func on(v string) bool {
	switch strings.ToLower(v) {
	case "on", "true", "yes", "1":
		return true
	}
	return false
}

//export FLBPluginPreRegister
func FLBPluginPreRegister(hotReloading C.int) C.int {
	logf("preregister hot=%d %s", int(hotReloading), threadInfo())
	return 0
}

//export FLBPluginRegister
func FLBPluginRegister(def unsafe.Pointer) int {
	logf("register def=%p %s", def, threadInfo())
	rc := output.FLBPluginRegister(def, "probe", "flb-host test probe")
	if os.Getenv("PROBE_WRITE_EVENT_TYPE") == "1" {
		writeEventType(def)
	}
	return rc
}

//export FLBPluginInit
func FLBPluginInit(plugin unsafe.Pointer) (rc int) {
	defer func() {
		if r := recover(); r != nil {
			logf("init recovered: %v", r)
			rc = output.FLB_ERROR
		}
	}()
	key := func(k string) string { return output.FLBPluginConfigKey(plugin, k) }
	c := &probeCtx{
		label:          key("label"),
		mode:           key("mode"),
		restoreSignals: on(key("restore_signals")),
		retain:         on(key("retain")),
		dumpHex:        on(key("dump_hex")),
		quiet:          on(key("quiet")),
	}
	if c.mode == "" {
		c.mode = "ok"
	}
	if ms, err := strconv.Atoi(key("sleep_ms")); err == nil {
		c.sleep = time.Duration(ms) * time.Millisecond
	}
	logf("init label=%s mode=%s plugin=%p %s", c.label, c.mode, plugin, threadInfo())
	if dk := key("dump_keys"); dk != "" {
		for _, k := range strings.Split(dk, ",") {
			logf("key label=%s %q=%q", c.label, k, key(k))
		}
	}
	if on(key("fail_init")) {
		logf("init label=%s failing on purpose", c.label)
		return output.FLB_ERROR
	}
	if c.restoreSignals {
		saveSignals()
	}
	if !on(key("no_context")) {
		output.FLBPluginSetContext(plugin, c)
	}
	return output.FLB_OK
}

//export FLBPluginOutputPreRun
func FLBPluginOutputPreRun(enableHotReload C.int) C.int {
	logf("prerun hot=%d %s", int(enableHotReload), threadInfo())
	return 0
}

// flush is shared by FLBPluginFlushCtx and the legacy FLBPluginFlush variant.
func flush(ctx, data unsafe.Pointer, length C.int, tag *C.char) (rc int) {
	c, ok := output.FLBPluginGetContext(ctx).(*probeCtx)
	if !ok {
		logf("flush without context ctx=%p tag=%s %s", ctx, C.GoString(tag), threadInfo())
		return output.FLB_RETRY
	}
	if c.restoreSignals {
		if n := restoreSignals(); n > 0 {
			logf("restored %d fault handlers label=%s", n, c.label)
		}
	}
	defer func() {
		if r := recover(); r != nil {
			logf("recovered label=%s: %v", c.label, r)
			rc = output.FLB_ERROR
		}
	}()
	n := c.inflight.Add(1)
	defer c.inflight.Add(-1)
	for {
		m := c.maxInflight.Load()
		if n <= m || c.maxInflight.CompareAndSwap(m, n) {
			break
		}
	}
	c.checkRetained()

	dec := output.NewDecoder(data, int(length))
	records, stop := 0, 0
	for {
		ret, _, _ := output.GetRecord(dec)
		if ret != 0 {
			stop = ret
			break
		}
		records++
	}
	flushNo := c.flushes.Add(1)
	c.records.Add(int64(records))
	if !c.quiet {
		logf("flush label=%s ctx=%p tag=%s records=%d stop=%d bytes=%d sp=%#x %s",
			c.label, ctx, C.GoString(tag), records, stop, int(length), cStackPointer(), threadInfo())
	}
	if c.dumpHex && flushNo == 1 {
		logf("hex label=%s %s", c.label, hex.EncodeToString(C.GoBytes(data, length)))
	}
	if c.retain {
		c.mu.Lock()
		c.kept = data
		c.keptCopy = C.GoBytes(data, length)
		c.keptCheck = true
		c.mu.Unlock()
	}
	if c.sleep > 0 {
		time.Sleep(c.sleep)
	}
	switch {
	case c.mode == "panic":
		panic("probe: panic on purpose")
	case c.mode == "nilderef":
		var p *probeCtx
		sink = p.label // nil dereference: SIGSEGV that Go turns into a panic
	case c.mode == "retry":
		return output.FLB_RETRY
	case c.mode == "error":
		return output.FLB_ERROR
	case strings.HasPrefix(c.mode, "cstack:"):
		n, _ := strconv.Atoi(c.mode[7:])
		logf("cstack label=%s bytes=%d lowest=%#x", c.label, n, useCStack(n))
	case strings.HasPrefix(c.mode, "rc:"):
		v, _ := strconv.Atoi(c.mode[3:])
		return v
	}
	return output.FLB_OK
}

// checkRetained compares the previous flush's buffer, kept against the
// rules of docs/fluent-bit.md#memory, with the copy taken then: it changes when the host poisons it.
func (c *probeCtx) checkRetained() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.keptCheck {
		return
	}
	now := C.GoBytes(c.kept, C.int(len(c.keptCopy)))
	logf("retained label=%s changed=%t", c.label, string(now) != string(c.keptCopy))
	c.keptCheck = false
}

//export FLBPluginOutputPreExit
func FLBPluginOutputPreExit(byHotReload C.int) {
	logf("preexit reload=%d %s", int(byHotReload), threadInfo())
}

//export FLBPluginExitCtx
func FLBPluginExitCtx(ctx unsafe.Pointer) int {
	c, ok := output.FLBPluginGetContext(ctx).(*probeCtx)
	if !ok {
		logf("exitctx without context ctx=%p %s", ctx, threadInfo())
		return output.FLB_OK
	}
	logf("exitctx label=%s ctx=%p flushes=%d records=%d maxinflight=%d %s",
		c.label, ctx, c.flushes.Load(), c.records.Load(), c.maxInflight.Load(), threadInfo())
	return output.FLB_OK
}

//export FLBPluginUnregister
func FLBPluginUnregister(def unsafe.Pointer) {
	logf("unregister def=%p %s", def, threadInfo())
	output.FLBPluginUnregister(def)
}

func main() {}
