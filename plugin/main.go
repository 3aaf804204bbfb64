// Command out_drain is the Fluent Bit output plugin "drain", built as a cgo
// shared object (make build → out/out_drain.so).
//
// This package is only the C boundary: the exported FLBPlugin* functions
// and the registry of instances by context handle, the plugin's only
// global state. Everything else lives in plugin/instance and below.
//
// The ABI is declared here, in the cgo preamble, from the contract (§2):
// only the fields this plugin touches, at their fixed offsets. It matches
// fluent-bit-go a7a013e2473c field for field (Register writes exactly the
// five fields that version writes, never event_type), without importing
// it: its output package pulls in a msgpack decoder this plugin does not
// use.
//
// Context handles: FLBPluginInit mallocs a small C cell per instance,
// stores its address in plugin->context->remote_context (contract §2.2,
// §2.3), and maps it to the instance; FLBPluginExitCtx removes and frees it.
// fluent-bit-go's FLBPluginSetContext is not used: it never frees its
// entries (contract §1.5), and instances must be released on hot reload.
package main

/*
#include <stdlib.h>
#include <string.h>
#include <signal.h>

// struct flb_plugin_proxy_def up to description (contract §2.1): type at 0,
// proxy at 4, flags at 8, name at 16, description at 24. event_type (at 32,
// v4.2.3+ only) is never written.
struct drain_proxy_def {
	int type;
	int proxy;
	int flags;
	char *name;
	char *description;
};

static void drain_register(void *def, char *name, char *desc) {
	struct drain_proxy_def *d = def;
	d->type = 2;   // FLB_PROXY_OUTPUT_PLUGIN
	d->proxy = 11; // FLB_PROXY_GOLANG
	d->flags = 0;
	d->name = name;
	d->description = desc;
}

static void drain_unregister(void *def) {
	struct drain_proxy_def *d = def;
	free(d->name);
	free(d->description);
	d->name = NULL;
	d->description = NULL;
}

// struct flb_api, member 0 only (contract §2.4).
struct drain_api {
	const char *(*output_get_property)(const char *key, void *ins);
};

// The first 32 bytes of Fluent Bit's struct flbgo_output_plugin, and its
// struct flb_plugin_proxy_context (contract §2.2, §2.3).
struct drain_proxy_context {
	void *remote_context;
	void *proxy;
};

struct drain_go_plugin {
	void *name;
	void *api;
	void *o_ins;
	struct drain_proxy_context *context;
};

// drain_get_property reads a key of the instance being initialised; NULL
// when unset or empty. Owned by Fluent Bit.
static const char *drain_get_property(void *plugin, const char *key) {
	struct drain_go_plugin *p = plugin;
	struct drain_api *api = p->api;
	if (api == NULL || api->output_get_property == NULL) {
		return NULL;
	}
	return api->output_get_property(key, p->o_ins);
}

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

// A handle is 16 bytes of C memory: its address is the key, nothing is
// stored in it.
static void *drain_handle_new(void) { return calloc(1, 16); }

// Go's handlers for the synchronous signals, captured when the library is
// loaded (package init: the runtime has installed them, Fluent Bit has not
// re-run its signal setup yet). Fluent Bit replaces them on SIGHUP and
// SIGCONT, after which a nil dereference in Go would kill the process
// instead of panicking (contract §3.6); each flush puts them back.
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
	"log"
	"os"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/awoooi/fluent-bit-drain/plugin/config"
	"github.com/awoooi/fluent-bit-drain/plugin/instance"
)

// Return codes (contract §3.1).
const (
	flbError = 0
	flbOK    = 1
	flbRetry = 2
)

// version is set by the linker (-X main.version=...).
var version = "dev"

// registry maps context handles to instances: the only global state. A new
// generation's instances (hot reload) get new handles, so both generations
// can coexist until the old one's ExitCtx.
var registry struct {
	m            sync.Map // uintptr(handle) → *instance.Instance
	missing      atomic.Uint64
	restored     atomic.Uint64
	instanceSeqs atomic.Uint64
}

// logger writes one line per event to stderr, where Fluent Bit logs too;
// every line starts with "[drain]".
var logger = log.New(os.Stderr, "", 0)

func init() {
	C.drain_save_fault_handlers()
}

func main() {}

// FLBPluginRegister fills the definition: output (2), Go proxy (11), flags
// 0, name and description C strings. event_type is never written (contract
// §2.1: it is past the end of the definition in Fluent Bit ≤ 4.2.2).
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
	C.drain_register(def, C.CString("drain"), C.CString("Drain log template mining ("+version+")"))
	return 0
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
			ret = flbError
		}
	}()
	seq := registry.instanceSeqs.Add(1)
	cfg, err := config.Parse(getter{plugin})
	if err != nil {
		logger.Printf("[drain] instance %d: invalid configuration: %v", seq, oneLine(err))
		return flbError
	}
	logger.Printf("[drain] instance %d (%s): %s", seq, version, cfg)
	in, err := instance.New(cfg, logger, os.Stdout)
	if err != nil {
		logger.Printf("[drain] instance %d: %v", seq, oneLine(err))
		return flbError
	}
	handle := C.drain_handle_new()
	if handle == nil {
		in.Close(context.Background())
		logger.Printf("[drain] instance %d: out of memory for the context handle", seq)
		return flbError
	}
	registry.m.Store(uintptr(handle), in)
	if C.drain_set_context(plugin, handle) != 0 {
		registry.m.Delete(uintptr(handle))
		C.free(handle)
		in.Close(context.Background())
		logger.Printf("[drain] instance %d: Fluent Bit passed no context", seq)
		return flbError
	}
	return flbOK
}

// getter reads keys through Fluent Bit's property getter; valid only during
// FLBPluginInit (contract §2.5).
type getter struct{ plugin unsafe.Pointer }

func (g getter) Get(key string) string {
	k := C.CString(key)
	defer C.free(unsafe.Pointer(k))
	return C.GoString(C.drain_get_property(g.plugin, k))
}

// FLBPluginFlushCtx mines one chunk. It returns FLB_OK once the context is
// known (FLB_ERROR only for a chunk with nothing decodable, FLB_RETRY only
// for an unknown context) and acknowledges a chunk whose flush panicked.
//
//export FLBPluginFlushCtx
func FLBPluginFlushCtx(ctx, data unsafe.Pointer, length C.int, tag *C.char) (ret int) {
	if C.drain_restore_fault_handlers() > 0 {
		if n := registry.restored.Add(1); n&(n-1) == 0 { // log the 1st, 2nd, 4th, ...
			logger.Printf("[drain] re-installed Go's SIGSEGV/SIGBUS/SIGFPE handlers, replaced by the host (%d times)", n)
		}
	}
	var in *instance.Instance
	tagStr := ""
	defer func() {
		if r := recover(); r != nil {
			if in != nil {
				in.Panicked(tagStr, r)
			} else {
				logger.Printf("[drain] panic in FLBPluginFlushCtx (recovered): %v", r)
			}
			ret = flbOK
		}
	}()
	v, ok := registry.m.Load(uintptr(ctx))
	if in, ok = v.(*instance.Instance); !ok {
		if n := registry.missing.Add(1); n&(n-1) == 0 {
			logger.Printf("[drain] flush with unknown context %p (%d times): retry", ctx, n)
		}
		return flbRetry
	}
	if tag != nil {
		// A view of Fluent Bit's copy, valid during this call only; the
		// instance never retains it.
		tagStr = unsafe.String((*byte)(unsafe.Pointer(tag)), int(C.strlen(tag)))
	}
	if length < 0 || (data == nil && length > 0) {
		logger.Printf("[drain] flush: invalid chunk (length %d, data %p): dropped", length, data)
		return flbError
	}
	var chunk []byte
	if length > 0 {
		chunk = unsafe.Slice((*byte)(data), int(length))
	}
	return int(in.Flush(chunk, tagStr))
}

// FLBPluginFlush is the context-less flush, used by Fluent Bit only when
// FlushCtx is missing, which cannot happen with this plugin.
//
//export FLBPluginFlush
func FLBPluginFlush(data unsafe.Pointer, length C.int, tag *C.char) int {
	logger.Printf("[drain] FLBPluginFlush without a context: chunk dropped")
	return flbError
}

// FLBPluginExitCtx stops the instance: no more intake, the sink flushed
// within Exit_Timeout (the rest buffered), then the handle is freed.
//
//export FLBPluginExitCtx
func FLBPluginExitCtx(ctx unsafe.Pointer) (ret int) {
	defer func() {
		if r := recover(); r != nil {
			logger.Printf("[drain] panic in FLBPluginExitCtx (recovered): %v", r)
			ret = flbError
		}
	}()
	v, ok := registry.m.Load(uintptr(ctx))
	if !ok {
		logger.Printf("[drain] exit with unknown context %p", ctx)
		return flbError
	}
	// Stop intake first (a late flush is acknowledged, not retried), then
	// forget the handle and free it.
	in := v.(*instance.Instance)
	c, cancel := context.WithTimeout(context.Background(), in.ExitTimeout())
	defer cancel()
	if err := in.Close(c); err != nil {
		logger.Printf("[drain] exit: %v", oneLine(err))
	}
	registry.m.Delete(uintptr(ctx))
	C.free(ctx)
	return flbOK
}

// FLBPluginExit is the context-less exit, called only when ExitCtx is
// missing; every instance is closed by its ExitCtx.
//
//export FLBPluginExit
func FLBPluginExit() int { return flbOK }

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
		C.drain_unregister(def)
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
