//go:build flbprobe && legacyflush

package main

import "C"

import "unsafe"

// FLBPluginFlush is what Fluent Bit calls when FLBPluginFlushCtx is absent.
//
//export FLBPluginFlush
func FLBPluginFlush(data unsafe.Pointer, length C.int, tag *C.char) int {
	return flush(nil, data, length, tag)
}
