//go:build flbprobe

package main

/*
#include <signal.h>
#include <stdint.h>
#include <string.h>

static struct sigaction probe_saved[3];
static const int probe_sigs[3] = {SIGSEGV, SIGBUS, SIGFPE};

static void probe_save_signals(void) {
	for (int i = 0; i < 3; i++) sigaction(probe_sigs[i], NULL, &probe_saved[i]);
}

// Re-installs the handlers saved at Init when something replaced them;
// returns how many were re-installed (the mitigation in docs/fluent-bit.md#crashes).
static int probe_restore_signals(void) {
	int n = 0;
	for (int i = 0; i < 3; i++) {
		struct sigaction cur;
		sigaction(probe_sigs[i], NULL, &cur);
		if ((void *)cur.sa_sigaction != (void *)probe_saved[i].sa_sigaction) {
			sigaction(probe_sigs[i], &probe_saved[i], NULL);
			n++;
		}
	}
	return n;
}

static uintptr_t probe_sp(void) {
	volatile char c = 0;
	return (uintptr_t)&c;
}

// probe_use_stack touches n bytes of C stack below its own frame, to test
// the host's coroutine stack canary.
static uintptr_t probe_use_stack(size_t n) {
	volatile unsigned char *p = __builtin_alloca(n);
	for (size_t i = 0; i < n; i++) p[i] = (unsigned char)i;
	return (uintptr_t)p;
}

// What fluent-bit-go master does: write def->event_type at offset 32.
static void probe_write_event_type(void *def) {
	int one = 1;
	memcpy((char *)def + 32, &one, sizeof one);
}
*/
import "C"

import (
	"os"
	"strings"
	"syscall"
	"unsafe"
)

func saveSignals()        { C.probe_save_signals() }
func restoreSignals() int { return int(C.probe_restore_signals()) }

// cStackPointer is the address of a C local: where the C (g0) stack is during a callback.
func cStackPointer() uintptr { return uintptr(C.probe_sp()) }

func writeEventType(def unsafe.Pointer) { C.probe_write_event_type(def) }

// useCStack writes n bytes of the C stack the callback runs on (mode cstack:N).
func useCStack(n int) uintptr { return uintptr(C.probe_use_stack(C.size_t(n))) }

// threadInfo names the OS thread the current cgo callback runs on.
func threadInfo() string {
	comm, _ := os.ReadFile("/proc/thread-self/comm")
	return "tid=" + itoa(syscall.Gettid()) + " comm=" + strings.TrimSpace(string(comm))
}
