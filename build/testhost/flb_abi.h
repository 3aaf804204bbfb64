//go:build ignore

/*
 * flb_abi.h - the structures Fluent Bit shares with a Go proxy output plugin,
 * laid out exactly as Fluent Bit v4.2.3+ declares them (LP64).
 * Layouts: docs/fluent-bit.md#proxy-def, #plugin-struct, #api-struct.
 */
#ifndef FLB_HOST_ABI_H
#define FLB_HOST_ABI_H

#include <stddef.h>

#define FLB_ERROR 0
#define FLB_OK 1
#define FLB_RETRY 2

#define FLB_PROXY_OUTPUT_PLUGIN 2
#define FLB_PROXY_GOLANG 11

/* Filled by FLBPluginRegister. 40 bytes from v4.2.3 (calloc'd); v3.2-v4.2.2
 * allocate only the first 32 bytes with malloc (see --def32). */
struct flb_plugin_proxy_def {
    int type;
    int proxy;
    int flags;
    char *name;
    char *description;
    int event_type;
};

/* Per-instance context; the plugin writes remote_context during Init. */
struct flb_plugin_proxy_context {
    void *remote_context;
    void *proxy;
};

/* Full 9-member layout (v4.0.3+); fluent-bit-go only calls member 0. */
struct flb_api {
    const char *(*output_get_property)(const char *key, void *ins);
    const char *(*input_get_property)(const char *key, void *ins);
    void *(*output_get_cmt_instance)(void *ins);
    void *(*input_get_cmt_instance)(void *ins);
    void (*log_print)(int level, const char *file, int line, const char *fmt, ...);
    int (*input_log_check)(void *ins, int level);
    int (*output_log_check)(void *ins, int level);
    const char *(*custom_get_property)(const char *key, void *ins);
    int (*custom_log_check)(void *ins, int level);
};

/* One per registration (not per instance); o_ins and context are
 * overwritten before each instance's Init. Only the first 32 bytes are ABI. */
struct flbgo_output_plugin {
    char *name;
    struct flb_api *api;
    void *o_ins;
    struct flb_plugin_proxy_context *context;
    int (*cb_init)(struct flbgo_output_plugin *plugin);
    int (*cb_flush)(const void *data, size_t size, const char *tag);
    int (*cb_flush_ctx)(void *remote_context, const void *data, size_t size, char *tag);
    int (*cb_exit)(void);
    int (*cb_exit_ctx)(void *remote_context);
};

_Static_assert(offsetof(struct flb_plugin_proxy_def, name) == 16, "def.name offset");
_Static_assert(offsetof(struct flb_plugin_proxy_def, event_type) == 32, "def.event_type offset");
_Static_assert(sizeof(struct flb_plugin_proxy_def) == 40, "def size");
_Static_assert(sizeof(struct flb_plugin_proxy_context) == 16, "context size");
_Static_assert(offsetof(struct flbgo_output_plugin, context) == 24, "plugin.context offset");
_Static_assert(sizeof(struct flbgo_output_plugin) == 72, "plugin size");
_Static_assert(sizeof(struct flb_api) == 9 * sizeof(void *), "api size");

#endif
