// Command out_drain is the Fluent Bit output plugin "drain", built as a cgo
// shared object (make build → out/out_drain.so).
//
// This package is only the C boundary: the exported FLBPlugin* functions
// and the registry of instances by context handle, the plugin's only
// global state. Everything else lives in plugin/instance and below.
//
// Registration, the property getter and the return codes come from
// fluent-bit-go's output package at the pinned a7a013e2473c: its Register
// writes exactly the five fields of the definition every Fluent Bit from
// 3.2 to 5.x has, never event_type (docs/fluent-bit.md#proxy-def).
//
// The context handle is our own: FLBPluginInit callocs a small C cell per
// instance, stores its address in plugin->context->remote_context
// (docs/fluent-bit.md#plugin-struct) and maps it to the instance; FLBPluginExitCtx
// removes and frees it. fluent-bit-go's FLBPluginSetContext is not used: it
// never frees its entries (docs/fluent-bit.md#contexts), and instances must be released
// on hot reload. The cgo preamble below declares only what fluent-bit-go
// does not give: that cell and the fault-handler save/restore.
package main

/*
#include <stdlib.h>
#include <string.h>
#include <signal.h>

// The prefix of Fluent Bit's struct flbgo_output_plugin up to context, and
// struct flb_plugin_proxy_context up to remote_context (docs/fluent-bit.md#plugin-struct): fluent-bit-go declares them too but keeps the fields unexported.
struct drain_proxy_context {
	void *remote_context;
};

struct drain_go_plugin {
	void *name;
	void *api;
	void *o_ins;
	struct drain_proxy_context *context;
};

// drain_set_context stores the instance handle where Fluent Bit passes it
// back to FlushCtx and ExitCtx. Returns -1 when the host gave no context.
static int drain_set_context(void *plugin, void *handle) {
	struct drain_go_plugin *p = plugin;
	if (p == NULL || p->context == NULL) {
		return -1;
	}
	p->context->remote_context = handle;
	return 0;
}

// drain_has_api reports whether the property getter can be called.
static int drain_has_api(void *plugin) {
	struct drain_go_plugin *p = plugin;
	return p != NULL && p->api != NULL && *(void **)p->api != NULL;
}

// A handle is 16 bytes of C memory: its address is the key, nothing is
// stored in it.
static void *drain_handle_new(void) { return calloc(1, 16); }

// Go's handlers for the synchronous signals, captured when the library is
// loaded (package init: the runtime has installed them, Fluent Bit has not
// re-run its signal setup yet). Fluent Bit replaces them on SIGHUP and
// SIGCONT, after which a nil dereference in Go would kill the process
// instead of panicking (docs/fluent-bit.md#crashes); each flush puts them back.
// Capturing at load rather than at each Init matters for hot reload: the
// new generation's Init runs after the SIGHUP that replaced them.
static const int drain_fault_signals[3] = {SIGSEGV, SIGBUS, SIGFPE};
static struct sigaction drain_go_fault_actions[3];

static void drain_save_fault_handlers(void) {
	for (int i = 0; i < 3; i++) {
		sigaction(drain_fault_signals[i], NULL, &drain_go_fault_actions[i]);
	}
}

// drain_restore_fault_handlers re-installs Go's handlers that were replaced
// and returns how many were.
static int drain_restore_fault_handlers(void) {
	int n = 0;
	for (int i = 0; i < 3; i++) {
		struct sigaction cur;
		if (sigaction(drain_fault_signals[i], NULL, &cur) != 0) {
			continue;
		}
		if (cur.sa_sigaction != drain_go_fault_actions[i].sa_sigaction ||
		    cur.sa_flags != drain_go_fault_actions[i].sa_flags) {
			sigaction(drain_fault_signals[i], &drain_go_fault_actions[i], NULL);
			n++;
		}
	}
	return n;
}
*/
import "C"

import (
	"context"
	"fmt"
	"log"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/fluent/fluent-bit-go/output"

	"github.com/awoooi/fluent-bit-drain/plugin/config"
	"github.com/awoooi/fluent-bit-drain/plugin/instance"
)

// version is set by the linker (-X main.version=...).
var version = "dev"

// registry maps context handles to instances: the only global state. A new
// generation's instances (hot reload) get new handles, so both generations
// can coexist until the old one's ExitCtx.
var registry struct {
	m            sync.Map // uintptr(handle) → *entry
	missing      atomic.Uint64
	restored     atomic.Uint64
	instanceSeqs atomic.Uint64
}

// entry is one live instance and what the C side keeps for it.
type entry struct {
	in      *instance.Instance
	seq     uint64
	log     *panicLimiter
	observe func(time.Duration) // flush-duration histogram; nil when the instance has none
}

// flushObserver is an instance that takes the duration of each flush for
// its drain_flush_duration_seconds histogram.
type flushObserver interface{ ObserveFlush(time.Duration) }

// logger writes one line per event to stderr, where Fluent Bit logs too;
// every line starts with "[drain]".
var logger = log.New(os.Stderr, "", 0)

func init() {
	C.drain_save_fault_handlers()
}

func main() {}

// FLBPluginPreRegister is called before each Register, with 1 on a hot
// reload. Nothing to prepare: the registry is keyed by context handle, so
// generations coexist. 0 lets the registration go on (-1 would abort it).
//
//export FLBPluginPreRegister
func FLBPluginPreRegister(hotReloading C.int) C.int {
	return 0
}

// FLBPluginRegister fills the definition through fluent-bit-go: output (2),
// Go proxy (11), flags 0, name and description as C strings, event_type
// never written (docs/fluent-bit.md#proxy-def: past the end of the definition in Fluent
// Bit ≤ 4.2.2).
//
//export FLBPluginRegister
func FLBPluginRegister(def unsafe.Pointer) (ret int) {
	defer func() {
		if r := recover(); r != nil {
			logger.Printf("[drain] panic in FLBPluginRegister (recovered): %v", r)
			ret = -1
		}
	}()
	if def == nil {
		return -1
	}
	return output.FLBPluginRegister(def, "drain", "Drain log template mining ("+version+")")
}

// FLBPluginInit reads and validates the configuration, builds the instance
// and sets its context handle. It returns 0 (Fluent Bit aborts) only for an
// invalid configuration.
//
//export FLBPluginInit
func FLBPluginInit(plugin unsafe.Pointer) (ret int) {
	defer func() {
		if r := recover(); r != nil {
			logger.Printf("[drain] panic in FLBPluginInit (recovered): %v", r)
			ret = output.FLB_ERROR
		}
	}()
	seq := registry.instanceSeqs.Add(1)
	if C.drain_has_api(plugin) == 0 {
		logger.Printf("[drain] instance %d: Fluent Bit passed no property getter", seq)
		return output.FLB_ERROR
	}
	cfg, err := config.Parse(getter{plugin})
	if err != nil {
		logger.Printf("[drain] instance %d: invalid configuration: %v", seq, oneLine(err))
		return output.FLB_ERROR
	}
	logger.Printf("[drain] instance %d (%s): %s", seq, version, cfg)
	lim := newPanicLimiter(logger, panicLogEvery)
	in, err := instance.New(cfg, lim, os.Stdout)
	if err != nil {
		logger.Printf("[drain] instance %d: %v", seq, oneLine(err))
		return output.FLB_ERROR
	}
	handle := C.drain_handle_new()
	if handle == nil {
		in.Close(context.Background())
		logger.Printf("[drain] instance %d: out of memory for the context handle", seq)
		return output.FLB_ERROR
	}
	e := &entry{in: in, seq: seq, log: lim}
	if o, ok := any(in).(flushObserver); ok && cfg.MetricsListen != "" {
		e.observe = o.ObserveFlush
	}
	registry.m.Store(uintptr(handle), e)
	if C.drain_set_context(plugin, handle) != 0 {
		registry.m.Delete(uintptr(handle))
		C.free(handle)
		in.Close(context.Background())
		logger.Printf("[drain] instance %d: Fluent Bit passed no context", seq)
		return output.FLB_ERROR
	}
	return output.FLB_OK
}

// getter reads keys through Fluent Bit's property getter; valid only during
// FLBPluginInit (docs/fluent-bit.md#config-keys).
type getter struct{ plugin unsafe.Pointer }

func (g getter) Get(key string) string { return output.FLBPluginConfigKey(g.plugin, key) }

// FLBPluginOutputPreRun is called once per instance after all are
// initialised, with no context. A no-op: Init already started each
// instance's goroutines. Fluent Bit ignores the result.
//
//export FLBPluginOutputPreRun
func FLBPluginOutputPreRun(enableHotReload C.int) C.int { return 0 }

// FLBPluginFlushCtx mines one chunk. It returns FLB_OK once the context is
// known (FLB_ERROR only for a chunk with nothing decodable, FLB_RETRY only
// for an unknown context) and acknowledges a chunk whose flush panicked.
//
//export FLBPluginFlushCtx
func FLBPluginFlushCtx(ctx, data unsafe.Pointer, length C.int, tag *C.char) int {
	return flush(ctx, data, int(length), unsafe.Pointer(tag))
}

// flush is FLBPluginFlushCtx with Go types; tag is a NUL-terminated string.
func flush(ctx, data unsafe.Pointer, length int, tag unsafe.Pointer) (ret int) {
	if C.drain_restore_fault_handlers() > 0 {
		if n := registry.restored.Add(1); n&(n-1) == 0 { // log the 1st, 2nd, 4th, ...
			logger.Printf("[drain] re-installed Go's SIGSEGV/SIGBUS/SIGFPE handlers, replaced by the host (%d times)", n)
		}
	}
	var e *entry
	tagStr := ""
	defer func() {
		if r := recover(); r != nil {
			if e != nil {
				e.in.Panicked(tagStr, r)
			} else {
				logger.Printf("[drain] panic in FLBPluginFlushCtx (recovered): %v", r)
			}
			ret = output.FLB_OK
		}
	}()
	if e = lookup(ctx); e == nil {
		if n := registry.missing.Add(1); n&(n-1) == 0 {
			logger.Printf("[drain] flush with unknown context %p (%d times): retry", ctx, n)
		}
		return output.FLB_RETRY
	}
	if tag != nil {
		// A view of Fluent Bit's copy, valid during this call only; the
		// instance never retains it.
		tagStr = unsafe.String((*byte)(tag), int(C.strlen((*C.char)(tag))))
	}
	if length < 0 || (data == nil && length > 0) {
		logger.Printf("[drain] flush: invalid chunk (length %d, data %p): dropped", length, data)
		return output.FLB_ERROR
	}
	var chunk []byte
	if length > 0 {
		chunk = unsafe.Slice((*byte)(data), length)
	}
	if e.observe == nil {
		return int(e.in.Flush(chunk, tagStr))
	}
	start := time.Now()
	st := e.in.Flush(chunk, tagStr)
	e.observe(time.Since(start))
	return int(st)
}

// lookup returns the instance behind a context handle, nil when the handle
// is NULL, was never issued or was already released by ExitCtx.
func lookup(ctx unsafe.Pointer) *entry {
	v, _ := registry.m.Load(uintptr(ctx))
	e, _ := v.(*entry)
	return e
}

// FLBPluginFlush is the context-less flush, used by Fluent Bit only when
// FlushCtx is missing, which cannot happen with this plugin.
//
//export FLBPluginFlush
func FLBPluginFlush(data unsafe.Pointer, length C.int, tag *C.char) int {
	logger.Printf("[drain] FLBPluginFlush without a context: chunk dropped")
	return output.FLB_ERROR
}

// FLBPluginOutputPreExit is called once per instance right before its
// ExitCtx, with no context. A no-op: ExitCtx, which has the context, does
// the work.
//
//export FLBPluginOutputPreExit
func FLBPluginOutputPreExit(byHotReload C.int) {}

// FLBPluginExitCtx stops the instance: no more intake, the sink flushed
// within Exit_Timeout (the rest buffered), then the handle is freed.
//
//export FLBPluginExitCtx
func FLBPluginExitCtx(ctx unsafe.Pointer) (ret int) {
	defer func() {
		if r := recover(); r != nil {
			logger.Printf("[drain] panic in FLBPluginExitCtx (recovered): %v", r)
			ret = output.FLB_ERROR
		}
	}()
	e := lookup(ctx)
	if e == nil {
		logger.Printf("[drain] exit with unknown context %p", ctx)
		return output.FLB_ERROR
	}
	// Stop intake first (a late flush is acknowledged, not retried), then
	// forget the handle and free it.
	c, cancel := context.WithTimeout(context.Background(), e.in.ExitTimeout())
	defer cancel()
	if err := e.in.Close(c); err != nil {
		logger.Printf("[drain] instance %d: exit: %v", e.seq, oneLine(err))
	}
	e.log.flushSuppressed()
	registry.m.Delete(uintptr(ctx))
	C.free(ctx)
	return output.FLB_OK
}

// FLBPluginExit is the context-less exit, called only when ExitCtx is
// missing; every instance is closed by its ExitCtx.
//
//export FLBPluginExit
func FLBPluginExit() int { return output.FLB_OK }

// FLBPluginUnregister frees the name and description written by Register.
//
//export FLBPluginUnregister
func FLBPluginUnregister(def unsafe.Pointer) {
	defer func() {
		if r := recover(); r != nil {
			logger.Printf("[drain] panic in FLBPluginUnregister (recovered): %v", r)
		}
	}()
	if def != nil {
		output.FLBPluginUnregister(def)
	}
}

func oneLine(err error) string {
	b := []byte(err.Error())
	for i, c := range b {
		if c == '\n' {
			b[i] = ';'
		}
	}
	return string(b)
}

// panicLogEvery is the least time between two logged panics of one
// instance: a panic on every flush would otherwise log on every flush.
const panicLogEvery = 10 * time.Second

// panicLimiter is an instance's logger. Lines about recovered panics
// ("[drain] panic in ...") are logged at most once per period, the next
// logged one saying how many were suppressed; other lines pass through.
// The panics themselves are all counted (drain_panics_total).
type panicLimiter struct {
	out    interface{ Printf(string, ...any) }
	every  time.Duration
	now    func() time.Time
	mu     sync.Mutex
	last   time.Time
	missed uint64
}

func newPanicLimiter(out interface{ Printf(string, ...any) }, every time.Duration) *panicLimiter {
	return &panicLimiter{out: out, every: every, now: time.Now}
}

func (l *panicLimiter) Printf(format string, args ...any) {
	if !strings.HasPrefix(format, "[drain] panic in ") {
		l.out.Printf(format, args...)
		return
	}
	l.mu.Lock()
	now := l.now()
	if !l.last.IsZero() && now.Sub(l.last) < l.every {
		l.missed++
		l.mu.Unlock()
		return
	}
	l.last = now
	missed := l.missed
	l.missed = 0
	l.mu.Unlock()
	line := fmt.Sprintf(format, args...)
	if missed > 0 {
		line += fmt.Sprintf(" (%d more panics not logged since the last one)", missed)
	}
	l.out.Printf("%s", line)
}

// flushSuppressed logs the panics not logged yet, at exit.
func (l *panicLimiter) flushSuppressed() {
	l.mu.Lock()
	missed := l.missed
	l.missed = 0
	l.mu.Unlock()
	if missed > 0 {
		l.out.Printf("[drain] %d more panics not logged since the last one", missed)
	}
}
