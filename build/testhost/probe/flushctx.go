//go:build flbprobe && !noflush

package main

import "C"

import "unsafe"

//export FLBPluginFlushCtx
func FLBPluginFlushCtx(ctx, data unsafe.Pointer, length C.int, tag *C.char) int {
	return flush(ctx, data, length, tag)
}
