//go:build ignore

/*
 * flb-host - loads a Fluent Bit Go output plugin (.so) the way Fluent Bit
 * v4.2.x does and drives it with chunks built from local files.
 *
 * It follows docs/fluent-bit.md#test-host: signal handlers
 * installed before dlopen, the def/plugin/api/context structures with
 * Fluent Bit's layouts, Init on an engine thread named flb-pipeline, every
 * flush on a freshly malloc'd coroutine stack (makecontext/swapcontext),
 * worker threads named flb-out-<name>.<id>-w<k>, Fluent Bit's exact chunk
 * encoding, the shutdown order and the hot-reload sequence.
 *
 * Exit status: 0 success; 1 a contract failure (Init <= 0, missing symbol,
 * canary changed, coroutine stack overrun, ...); 2 usage or input error;
 * 134 (abort) on a fatal signal, like Fluent Bit.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/prctl.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "flb_abi.h"
#include "mpbuf.h"
#include "fixtures.h"

#define DEF_SIZE_V423 40
#define DEF_SIZE_OLD 32
#define DEF_CANARY_LEN 16
#define STACK_CANARY_LEN 256
#define WORKER_QUEUE_MAX 64
#define POISON_RING 16
#define RETRY_UNLIMITED_CAP 100

/* ------------------------------------------------------------------ */
/* options                                                            */

enum fmt { FMT_LINES, FMT_JSON, FMT_MSGPACK };
enum tsfmt { TS_EVENTTIME, TS_INT, TS_FLOAT, TS_EXT8 };

struct input {
    char *path;
    enum fmt format;
    char *key;
    char *tag;
};

struct inscfg {
    char **kv; /* raw "Key=Value" strings, expanded when the instance is created */
    int n;
};

static struct {
    const char *so_path;
    struct input *inputs;
    int n_inputs;
    struct inscfg *ins;
    int n_ins;
    long per_chunk;
    int event_format;
    enum tsfmt ts;
    int workers;
    size_t stack;
    bool per_tag, poison, def32, resignal, reload, hot_reload_flag, quiet, trace;
    long repeat;
    long pace_ms; /* pause before each chunk but the first */
    long linger_ms; /* wait after the last chunk before shutdown */
    const char *dump_dir;
    const char *fixtures_dir;
    bool fixed_time;
    uint32_t time_sec, time_nsec;
} opt = {
    .per_chunk = 1000,
    .event_format = 2,
    .ts = TS_EVENTTIME,
    .stack = 24576,
    .repeat = 1,
};

/* ------------------------------------------------------------------ */
/* logging and failures                                               */

static atomic_int failures;

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

static const char *thread_name(char *b, size_t n)
{
    if (prctl(PR_GET_NAME, b, 0, 0, 0) != 0)
        snprintf(b, n, "?");
    return b;
}

static void vlog(const char *lvl, const char *fmt, va_list ap)
{
    char line[4096], tn[32];
    int k = snprintf(line, sizeof line, "[host] %s[%s tid=%d] ", lvl, thread_name(tn, sizeof tn), (int)gettid_());
    if (k < 0)
        return;
    vsnprintf(line + k, sizeof line - (size_t)k, fmt, ap);
    size_t n = strlen(line);
    if (n < sizeof line - 1) {
        line[n++] = '\n';
    } else {
        line[sizeof line - 2] = '\n';
        n = sizeof line - 1;
    }
    /* one write per line so concurrent threads never interleave within a line */
    ssize_t w = write(STDERR_FILENO, line, n);
    (void)w;
}

__attribute__((format(printf, 1, 2))) static void hlog(const char *fmt, ...)
{
    if (opt.quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog("", fmt, ap);
    va_end(ap);
}

__attribute__((format(printf, 1, 2))) static void hwarn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog("warn ", fmt, ap);
    va_end(ap);
}

/* A contract failure: logged and reflected in the exit status. */
__attribute__((format(printf, 1, 2))) static void hfail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog("FAIL ", fmt, ap);
    va_end(ap);
    atomic_fetch_add(&failures, 1);
}

__attribute__((format(printf, 1, 2), noreturn)) static void die_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "flb-host: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(see flb-host --help)\n");
    va_end(ap);
    exit(2);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "flb-host: out of memory\n");
        exit(2);
    }
    return p;
}

static void *xcalloc(size_t a, size_t b)
{
    void *p = calloc(a ? a : 1, b ? b : 1);
    if (!p) {
        fprintf(stderr, "flb-host: out of memory\n");
        exit(2);
    }
    return p;
}

static char *xstrdup(const char *s)
{
    char *p = strdup(s);
    if (!p) {
        fprintf(stderr, "flb-host: out of memory\n");
        exit(2);
    }
    return p;
}

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ------------------------------------------------------------------ */
/* signals (docs/fluent-bit.md#test-host step 1, as flb_signal_init)    */

static volatile sig_atomic_t exit_requested, reload_requested;

static void sig_write(const char *s)
{
    ssize_t w = write(STDERR_FILENO, s, strlen(s));
    (void)w;
}

static void host_signal_init(void);

static void host_signal_handler(int sig)
{
    const char *name = sig == SIGINT ? "SIGINT" : sig == SIGQUIT ? "SIGQUIT" : sig == SIGHUP ? "SIGHUP"
                     : sig == SIGCONT ? "SIGCONT" : sig == SIGTERM ? "SIGTERM" : sig == SIGSEGV ? "SIGSEGV"
                     : sig == SIGFPE ? "SIGFPE" : "signal";
    /* One write(2), so the line is never split by another thread's output. */
    char line[64] = "[engine] caught signal (";
    size_t n = strlen(line);
    for (const char *c = name; *c != '\0' && n < sizeof line - 3; c++) {
        line[n++] = *c;
    }
    line[n++] = ')';
    line[n++] = '\n';
    line[n] = '\0';
    sig_write(line);
    /* Fluent Bit re-runs flb_signal_init() on every signal, which replaces
     * the Go runtime's SIGSEGV/SIGFPE handlers (docs/fluent-bit.md#crashes). */
    host_signal_init();
    switch (sig) {
    case SIGSEGV:
    case SIGFPE:
        abort();
    case SIGINT:
    case SIGQUIT:
    case SIGTERM:
        exit_requested = 1;
        break;
    case SIGHUP:
        /* hot reload, when enabled (--hot-reload-flag or --reload) */
        if (opt.hot_reload_flag || opt.reload)
            reload_requested = 1;
        break;
    default: /* SIGCONT: Fluent Bit dumps its state; here only the re-install */
        break;
    }
}

static void host_signal_init(void)
{
    signal(SIGINT, host_signal_handler);
    signal(SIGQUIT, host_signal_handler);
    signal(SIGHUP, host_signal_handler);
    signal(SIGCONT, host_signal_handler);
    signal(SIGTERM, host_signal_handler);
    signal(SIGSEGV, host_signal_handler);
    signal(SIGFPE, host_signal_handler);
}

/* ------------------------------------------------------------------ */
/* chunks                                                             */

struct chunk {
    char *tag;
    uint8_t *data;
    size_t len;
    size_t records;
};

static struct chunk *chunks;
static size_t n_chunks, cap_chunks;

static void add_chunk(const char *tag, struct buf *b, size_t records)
{
    if (b->len == 0)
        return; /* docs/fluent-bit.md#test-host step 8: never flush an empty chunk */
    if (n_chunks == cap_chunks) {
        cap_chunks = cap_chunks ? cap_chunks * 2 : 64;
        struct chunk *n = realloc(chunks, cap_chunks * sizeof *chunks);
        if (!n)
            die_usage("out of memory");
        chunks = n;
    }
    chunks[n_chunks++] = (struct chunk){.tag = xstrdup(tag), .data = b->p, .len = b->len, .records = records};
    *b = (struct buf){0};
}

static void put_ts(struct buf *b)
{
    uint32_t sec, nsec;
    if (opt.fixed_time) {
        sec = opt.time_sec;
        nsec = opt.time_nsec;
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        sec = (uint32_t)ts.tv_sec;
        nsec = (uint32_t)ts.tv_nsec;
    }
    switch (opt.ts) {
    case TS_EVENTTIME:
        buf_u8(b, 0xd7);
        buf_u8(b, 0x00);
        buf_be(b, sec, 4);
        buf_be(b, nsec, 4);
        break;
    case TS_EXT8:
        buf_u8(b, 0xc7);
        buf_u8(b, 0x08);
        buf_u8(b, 0x00);
        buf_be(b, sec, 4);
        buf_be(b, nsec, 4);
        break;
    case TS_INT:
        mp_uint(b, sec);
        break;
    case TS_FLOAT:
        mp_double(b, (double)sec + (double)nsec / 1e9);
        break;
    }
}

/* Appends one event around an already-encoded body map, as Fluent Bit's
 * log event encoder does (docs/fluent-bit.md#chunks). */
static void put_event(struct buf *b, const uint8_t *body, size_t blen)
{
    static const uint8_t arr32_2[5] = {0xdd, 0, 0, 0, 2};
    if (opt.event_format == 2) {
        buf_put(b, arr32_2, 5);
        buf_put(b, arr32_2, 5);
        put_ts(b);
        buf_u8(b, 0x80);
    } else {
        buf_u8(b, 0x92);
        put_ts(b);
    }
    buf_put(b, body, blen);
}

/* Batches records into chunks of at most per_chunk records, one tag each:
 * consecutive records with the same tag by default; with --per-tag one open
 * chunk per tag (as Fluent Bit's per-tag input chunks), closed when full or
 * at the end of the input file. */
struct open_chunk {
    char *tag;
    struct buf b;
    size_t records;
};

struct batcher {
    struct open_chunk *o;
    size_t n, cap;
};

static void open_emit(struct open_chunk *oc)
{
    if (oc->records)
        add_chunk(oc->tag, &oc->b, oc->records);
    free(oc->b.p);
    oc->b = (struct buf){0};
    oc->records = 0;
}

static void batch_flush(struct batcher *bt)
{
    for (size_t i = 0; i < bt->n; i++) {
        open_emit(&bt->o[i]);
        free(bt->o[i].tag);
    }
    bt->n = 0;
}

static void batch_add(struct batcher *bt, const char *tag, const uint8_t *body, size_t blen)
{
    struct open_chunk *oc = NULL;
    if (opt.per_tag) {
        for (size_t i = 0; i < bt->n && !oc; i++)
            if (strcmp(bt->o[i].tag, tag) == 0)
                oc = &bt->o[i];
    } else if (bt->n && strcmp(bt->o[bt->n - 1].tag, tag) == 0) {
        oc = &bt->o[bt->n - 1];
    } else {
        batch_flush(bt); /* a tag change closes the chunk */
    }
    if (!oc) {
        if (bt->n == bt->cap) {
            bt->cap = bt->cap ? bt->cap * 2 : 8;
            struct open_chunk *n = realloc(bt->o, bt->cap * sizeof *n);
            if (!n)
                die_usage("out of memory");
            bt->o = n;
        }
        oc = &bt->o[bt->n++];
        *oc = (struct open_chunk){.tag = xstrdup(tag)};
    }
    if (oc->records >= (size_t)opt.per_chunk)
        open_emit(oc);
    put_event(&oc->b, body, blen);
    oc->records++;
}

static void read_input(const struct input *in, struct batcher *bt)
{
    FILE *f = fopen(in->path, "rb");
    if (!f)
        die_usage("cannot open input %s: %s", in->path, strerror(errno));
    if (in->format == FMT_MSGPACK) {
        batch_flush(bt);
        struct buf b = {0};
        char tmp[65536];
        size_t n;
        while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
            buf_put(&b, tmp, n);
        fclose(f);
        size_t off = 0, events = 0;
        while (off < b.len) {
            size_t k = mp_skip(b.p + off, b.len - off, 0);
            if (!k)
                break;
            off += k;
            events++;
        }
        if (off != b.len)
            hlog("input %s: %zu complete events, %zu trailing bytes not a complete event (passed verbatim)",
                 in->path, events, b.len - off);
        add_chunk(in->tag, &b, events);
        free(b.p);
        return;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long lineno = 0;
    struct buf body = {0};
    while ((n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            n--;
        body.len = 0;
        if (in->format == FMT_LINES) {
            if (n == 0)
                continue; /* tail skips empty lines */
            mp_map_hdr(&body, 1);
            mp_str(&body, in->key, strlen(in->key));
            mp_str(&body, line, (size_t)n);
            batch_add(bt, in->tag, body.p, body.len);
            continue;
        }
        size_t i = 0;
        while (i < (size_t)n && isspace((unsigned char)line[i]))
            i++;
        if (i == (size_t)n)
            continue;
        char *tag = NULL;
        const char *err = NULL;
        size_t col = 0;
        if (json_line_to_mp(line, (size_t)n, &body, &tag, &err, &col)) {
            fprintf(stderr, "flb-host: %s:%ld:%zu: invalid JSON: %s\n", in->path, lineno, col, err);
            exit(2);
        }
        batch_add(bt, tag ? tag : in->tag, body.p, body.len);
        free(tag);
    }
    free(body.p);
    free(line);
    fclose(f);
    if (opt.per_tag)
        batch_flush(bt);
}

static void build_chunks(void)
{
    struct batcher bt = {0};
    for (int i = 0; i < opt.n_inputs; i++)
        read_input(&opt.inputs[i], &bt);
    batch_flush(&bt);
    free(bt.o);
    if (opt.dump_dir) {
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/index.tsv", opt.dump_dir);
        FILE *idx = fopen(p, "w");
        if (!idx)
            die_usage("cannot write %s: %s", p, strerror(errno));
        for (size_t i = 0; i < n_chunks; i++) {
            snprintf(p, sizeof p, "%s/chunk-%06zu.msgpack", opt.dump_dir, i);
            FILE *f = fopen(p, "wb");
            if (!f || fwrite(chunks[i].data, 1, chunks[i].len, f) != chunks[i].len)
                die_usage("cannot write %s", p);
            fclose(f);
            fprintf(idx, "chunk-%06zu.msgpack\t%s\t%zu\t%zu\n", i, chunks[i].tag, chunks[i].records, chunks[i].len);
        }
        fclose(idx);
    }
}

/* ------------------------------------------------------------------ */
/* instances and the property getter (docs/fluent-bit.md#config-keys)  */

struct prop {
    char *key;
    char *val; /* NULL when empty */
};

struct gen;

struct task {
    struct chunk *c;
    struct task *next;
};

struct worker {
    struct instance *ins;
    int k;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct task *head, *tail;
    int qlen;
    bool closing;
};

struct instance {
    /* ins->name, e.g. "probe.0": the internal name threads are named after */
    char name[64];
    int id;
    char *alias;
    char *match;
    int workers;
    int retry_limit; /* retries after the first attempt; -1 unlimited */
    struct prop *props;
    int n_props;
    struct flb_plugin_proxy_context *pctx;
    int init_rc;
    bool inited;
    struct gen *g;
    struct worker *w;
    int next_worker;
    /* statistics */
    pthread_mutex_t mu;
    uint64_t chunks, records, attempts, ok, retry, error, other, dropped;
    uint32_t *lat;
    size_t n_lat, cap_lat;
    atomic_int inflight;
    int max_inflight;
};

typedef int (*pre_register_fn)(int);
typedef int (*register_fn)(struct flb_plugin_proxy_def *);
typedef int (*pre_run_fn)(int);
typedef void (*pre_exit_fn)(int);
typedef void (*unregister_fn)(struct flb_plugin_proxy_def *);

struct gen {
    int no;
    void *dl;
    uint8_t *def_mem;
    struct flb_plugin_proxy_def *def;
    pre_register_fn pre_register;
    register_fn reg;
    pre_run_fn pre_run;
    pre_exit_fn pre_exit;
    unregister_fn unreg;
    struct flbgo_output_plugin *plugin;
    struct flb_api *api;
    struct instance *ins;
    int n_ins;
    pthread_t engine;
    bool engine_started;
    bool by_reload;    /* shut down because of a reload */
    bool overlap;      /* keep feeding until stop_feeding (reload overlap) */
    atomic_bool stop_feeding;
    atomic_bool init_failed;
    atomic_bool feeding_done;
    atomic_ulong flushes_done;
};

static const char *core_keys[] = {
    "name", "match", "match_regex", "alias", "log_level", "log_suppress_interval", "host", "port", "ipv6",
    "retry_limit", "workers", "storage.total_limit_size", "tls", "tls.verify", "tls.verify_hostname",
    "tls.debug", "tls.vhost", "tls.ca_path", "tls.ca_file", "tls.crt_file", "tls.key_file",
    "tls.key_passwd", "tls.min_version", "tls.max_version", "tls.ciphers", NULL,
};

static bool is_core_key(const char *k)
{
    if (strncasecmp(k, "net.", 4) == 0 || strncasecmp(k, "_debug.http.", 12) == 0)
        return true;
    for (int i = 0; core_keys[i]; i++)
        if (strcasecmp(k, core_keys[i]) == 0)
            return true;
    return false;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = 0;
    return s;
}

/* ${VAR} from the environment; unset -> "" with a warning (flb_env_var_translate). */
static char *env_expand(const char *v)
{
    struct buf b = {0};
    const char *p = v;
    while (*p) {
        const char *st = strstr(p, "${");
        const char *en = st ? strchr(st + 2, '}') : NULL;
        if (!st || !en) {
            buf_put(&b, p, strlen(p));
            break;
        }
        buf_put(&b, p, (size_t)(st - p));
        char name[256];
        size_t nl = (size_t)(en - st - 2);
        if (nl >= sizeof name)
            nl = sizeof name - 1;
        memcpy(name, st + 2, nl);
        name[nl] = 0;
        const char *val = getenv(name);
        char hn[256];
        if (!val && strcmp(name, "HOSTNAME") == 0 && gethostname(hn, sizeof hn) == 0) {
            hn[sizeof hn - 1] = 0;
            val = hn;
        }
        if (!val || !*val) {
            hwarn("[env] variable ${%s} is used but not set", name);
            val = "";
        }
        buf_put(&b, val, strlen(val));
        p = en + 1;
    }
    buf_u8(&b, 0);
    return (char *)b.p;
}

static bool parse_bool(const char *v, bool *out)
{
    if (!strcasecmp(v, "on") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcmp(v, "1"))
        return *out = true, true;
    if (!strcasecmp(v, "off") || !strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcmp(v, "0"))
        return *out = false, true;
    return false;
}

/* Creates an instance from its raw properties, as flb_output_set_property would.
 * Returns false on a configuration error (logged). */
static bool instance_create(struct gen *g, int idx, const struct inscfg *cfg, const char *plugin_name)
{
    struct instance *in = &g->ins[idx];
    memset(in, 0, sizeof *in);
    in->id = idx;
    in->g = g;
    in->workers = opt.workers;
    in->retry_limit = 1;
    in->init_rc = -1;
    snprintf(in->name, sizeof in->name, "%s.%d", plugin_name, idx);
    pthread_mutex_init(&in->mu, NULL);
    in->props = xcalloc((size_t)cfg->n, sizeof *in->props);
    bool tls = false;
    for (int i = 0; i < cfg->n; i++) {
        char *raw = xstrdup(cfg->kv[i]);
        char *eq = strchr(raw, '=');
        *eq = 0;
        char *k = trim(raw), *v = env_expand(trim(eq + 1));
        char *vt = trim(v);
        const char *val = *vt ? vt : NULL;
        if (is_core_key(k)) {
            if (!strcasecmp(k, "name") && val && strcasecmp(val, plugin_name) != 0) {
                hfail("[config] section '%s' tried to instance a plugin name that doesn't exist", val);
                free(raw), free(v);
                return false;
            } else if (!strcasecmp(k, "match") && val) {
                free(in->match);
                in->match = xstrdup(val);
            } else if (!strcasecmp(k, "alias") && val) {
                free(in->alias);
                in->alias = xstrdup(val);
            } else if (!strcasecmp(k, "workers") && val) {
                char *e;
                long w = strtol(val, &e, 10);
                if (*e || w < 0 || w > 64) {
                    hfail("[config] %s: invalid workers '%s'", in->name, val);
                    free(raw), free(v);
                    return false;
                }
                in->workers = (int)w;
            } else if (!strcasecmp(k, "retry_limit") && val) {
                bool b;
                char *e;
                long n = strtol(val, &e, 10);
                if (!strcasecmp(val, "no_limits") || (parse_bool(val, &b) && !b && strcmp(val, "0")))
                    in->retry_limit = -1;
                else if (!strcasecmp(val, "no_retries"))
                    in->retry_limit = 0;
                else if (!*e && n > 0)
                    in->retry_limit = (int)n;
                else
                    hwarn("[config] %s: retry_limit '%s' invalid, using 1", in->name, val);
            } else if (!strcasecmp(k, "tls") && val) {
                if (!parse_bool(val, &tls)) {
                    hfail("[config] %s: invalid tls value '%s'", in->name, val);
                    free(raw), free(v);
                    return false;
                }
            }
            /* other core keys are consumed by the core and never reach the plugin */
        } else {
            in->props[in->n_props].key = xstrdup(k);
            in->props[in->n_props].val = val ? xstrdup(val) : NULL;
            in->n_props++;
        }
        free(raw);
        free(v);
    }
    if (tls) {
        hfail("[output] %s does not support TLS", in->name);
        hfail("[config] could not configure property 'tls' on %s", in->name);
        return false;
    }
    if (!in->match) {
        hlog("[output] %s has no match property: using *", in->name);
        in->match = xstrdup("*");
    }
    in->pctx = xcalloc(1, sizeof *in->pctx);
    return true;
}

static void instance_free(struct instance *in)
{
    for (int i = 0; i < in->n_props; i++) {
        free(in->props[i].key);
        free(in->props[i].val);
    }
    free(in->props);
    free(in->alias);
    free(in->match);
    free(in->pctx);
    free(in->lat);
    free(in->w);
    pthread_mutex_destroy(&in->mu);
}

/* api->output_get_property: case-insensitive, first match wins, NULL for missing or empty. */
static const char *api_output_get_property(const char *key, void *o_ins)
{
    struct instance *in = o_ins;
    if (!key || !in)
        return NULL;
    size_t kl = strlen(key);
    for (int i = 0; i < in->n_props; i++)
        if (strlen(in->props[i].key) == kl && strncasecmp(in->props[i].key, key, kl) == 0)
            return in->props[i].val;
    return NULL;
}

static const char *api_input_get_property(const char *key, void *ins)
{
    (void)key, (void)ins;
    return NULL;
}

static void *api_get_cmt(void *ins)
{
    (void)ins;
    return NULL;
}

static void api_log_print(int level, const char *file, int line, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    hlog("plugin log level=%d %s:%d: %s", level, file ? file : "?", line, msg);
}

static int api_log_check(void *ins, int level)
{
    (void)ins;
    return level <= 3; /* FLB_LOG_INFO */
}

/* ------------------------------------------------------------------ */
/* flushing: fresh coroutine stack per call (fluent-bit.md step 7)    */

struct coro_call {
    struct instance *in;
    const void *data;
    size_t len;
    char *tag;
    int rc;
    ucontext_t caller, coro;
};

static __thread struct coro_call *current_call;

static void coro_entry(void)
{
    struct coro_call *cc = current_call;
    struct gen *g = cc->in->g;
    if (g->plugin->cb_flush_ctx)
        cc->rc = g->plugin->cb_flush_ctx(cc->in->pctx->remote_context, cc->data, cc->len, cc->tag);
    else
        cc->rc = g->plugin->cb_flush(cc->data, cc->len, cc->tag);
    /* returning resumes uc_link (the caller) */
}

static pthread_mutex_t poison_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
    void *p;
    size_t n;
} poison_ring[POISON_RING];
static int poison_next;

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void record(struct instance *in, const struct chunk *c, int rc, uint64_t us, bool first)
{
    pthread_mutex_lock(&in->mu);
    if (first) {
        in->chunks++;
        in->records += c->records;
    }
    in->attempts++;
    if (rc == FLB_OK)
        in->ok++;
    else if (rc == FLB_RETRY)
        in->retry++;
    else if (rc == FLB_ERROR)
        in->error++;
    else
        in->other++;
    if (in->n_lat == in->cap_lat) {
        in->cap_lat = in->cap_lat ? in->cap_lat * 2 : 256;
        uint32_t *n = realloc(in->lat, in->cap_lat * sizeof *n);
        if (!n) {
            pthread_mutex_unlock(&in->mu);
            return;
        }
        in->lat = n;
    }
    in->lat[in->n_lat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
    pthread_mutex_unlock(&in->mu);
}

/* One flush attempt: fresh read-only copy of the data, fresh tag copy, fresh stack. */
static int flush_once(struct instance *in, const struct chunk *c, bool first)
{
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    size_t maplen = (c->len + pg - 1) / pg * pg;
    uint8_t *data = mmap(NULL, maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (data == MAP_FAILED) {
        hfail("mmap %zu bytes: %s", maplen, strerror(errno));
        return -1;
    }
    memcpy(data, c->data, c->len);
    mprotect(data, maplen, PROT_READ); /* the plugin must never write into data */
    char *tag = xstrdup(c->tag);
    uint8_t *stack = xmalloc(opt.stack);
    memset(stack, 0xeb, STACK_CANARY_LEN);

    struct coro_call cc = {.in = in, .data = data, .len = c->len, .tag = tag, .rc = -1};
    getcontext(&cc.coro);
    cc.coro.uc_stack.ss_sp = stack;
    cc.coro.uc_stack.ss_size = opt.stack;
    cc.coro.uc_link = &cc.caller;
    makecontext(&cc.coro, coro_entry, 0);
    current_call = &cc;

    int now = atomic_fetch_add(&in->inflight, 1) + 1;
    pthread_mutex_lock(&in->mu);
    if (now > in->max_inflight)
        in->max_inflight = now;
    pthread_mutex_unlock(&in->mu);
    uint64_t t0 = now_us();
    swapcontext(&cc.caller, &cc.coro);
    uint64_t us = now_us() - t0;
    atomic_fetch_sub(&in->inflight, 1);
    current_call = NULL;

    if (opt.trace)
        hlog("flush instance=%s ctx=%p tag=%s records=%zu bytes=%zu data=%p stack=%p-%p rc=%d us=%llu", in->name,
             in->pctx->remote_context, c->tag, c->records, c->len, (void *)data, (void *)stack,
             (void *)(stack + opt.stack), cc.rc, (unsigned long long)us);
    for (int i = 0; i < STACK_CANARY_LEN; i++) {
        if (stack[i] != 0xeb) {
            hfail("flush on %s used more than %zu bytes of coroutine stack (canary overwritten at offset %d)",
                  in->name, opt.stack - STACK_CANARY_LEN, i);
            break;
        }
    }
    free(stack);
    free(tag);
    if (opt.poison) {
        /* overwrite now, release later: a retained pointer reads garbage instead of faulting */
        mprotect(data, maplen, PROT_READ | PROT_WRITE);
        memset(data, 0xc1, maplen);
        pthread_mutex_lock(&poison_mu);
        if (poison_ring[poison_next].p)
            munmap(poison_ring[poison_next].p, poison_ring[poison_next].n);
        poison_ring[poison_next].p = data;
        poison_ring[poison_next].n = maplen;
        poison_next = (poison_next + 1) % POISON_RING;
        pthread_mutex_unlock(&poison_mu);
    } else {
        munmap(data, maplen);
    }
    record(in, c, cc.rc, us, first);
    return cc.rc;
}

/* Flush with Fluent Bit's return-code mapping and immediate re-delivery on RETRY. */
static void deliver(struct instance *in, struct chunk *c)
{
    int limit = in->retry_limit < 0 ? RETRY_UNLIMITED_CAP : in->retry_limit;
    for (int attempt = 0;; attempt++) {
        int rc = flush_once(in, c, attempt == 0);
        atomic_fetch_add(&in->g->flushes_done, 1);
        if (rc != FLB_RETRY)
            return;
        if (attempt >= limit) {
            hlog("chunk for %s (tag %s) cannot be retried after %d attempts", in->name, c->tag, attempt + 1);
            pthread_mutex_lock(&in->mu);
            in->dropped++;
            pthread_mutex_unlock(&in->mu);
            return;
        }
    }
}

/* ------------------------------------------------------------------ */
/* workers (docs/fluent-bit.md#test-host step 7)                       */

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    char full[96], tn[32];
    snprintf(full, sizeof full, "flb-out-%s-w%d", w->ins->name, w->k);
    memcpy(tn, full, 15); /* Linux keeps 15 characters */
    tn[15] = 0;
    pthread_setname_np(pthread_self(), tn);
    hlog("worker %s started", full);
    for (;;) {
        pthread_mutex_lock(&w->mu);
        while (!w->head && !w->closing)
            pthread_cond_wait(&w->cv, &w->mu);
        struct task *t = w->head;
        if (!t) {
            pthread_mutex_unlock(&w->mu);
            break;
        }
        w->head = t->next;
        if (!w->head)
            w->tail = NULL;
        w->qlen--;
        pthread_cond_broadcast(&w->cv);
        pthread_mutex_unlock(&w->mu);
        deliver(w->ins, t->c);
        free(t);
    }
    hlog("worker %s stopping", full);
    return NULL;
}

static void workers_start(struct instance *in)
{
    if (in->workers <= 0)
        return;
    in->w = xcalloc((size_t)in->workers, sizeof *in->w);
    for (int k = 0; k < in->workers; k++) {
        struct worker *w = &in->w[k];
        w->ins = in;
        w->k = k;
        pthread_mutex_init(&w->mu, NULL);
        pthread_cond_init(&w->cv, NULL);
        if (pthread_create(&w->th, NULL, worker_main, w) != 0) {
            hfail("cannot start worker %d of %s", k, in->name);
            exit(1);
        }
    }
}

static void workers_enqueue(struct instance *in, struct chunk *c)
{
    struct worker *w = &in->w[in->next_worker];
    in->next_worker = (in->next_worker + 1) % in->workers;
    struct task *t = xmalloc(sizeof *t);
    *t = (struct task){.c = c};
    pthread_mutex_lock(&w->mu);
    while (w->qlen >= WORKER_QUEUE_MAX)
        pthread_cond_wait(&w->cv, &w->mu);
    if (w->tail)
        w->tail->next = t;
    else
        w->head = t;
    w->tail = t;
    w->qlen++;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* Stops the pool after its queue drains, waiting for in-flight flushes. */
static void workers_stop(struct instance *in)
{
    for (int k = 0; k < in->workers && in->w; k++) {
        struct worker *w = &in->w[k];
        pthread_mutex_lock(&w->mu);
        w->closing = true;
        pthread_cond_broadcast(&w->cv);
        pthread_mutex_unlock(&w->mu);
    }
    for (int k = 0; k < in->workers && in->w; k++) {
        pthread_join(in->w[k].th, NULL);
        pthread_mutex_destroy(&in->w[k].mu);
        pthread_cond_destroy(&in->w[k].cv);
    }
}

/* ------------------------------------------------------------------ */
/* loading and registration (docs/fluent-bit.md#test-host steps 2-5)   */

static void *sym(void *dl, const char *name)
{
    dlerror();
    void *p = dlsym(dl, name);
    if (dlerror())
        return NULL;
    return p;
}

/* Loads the .so (again) and registers it. Returns NULL on failure. */
static struct gen *gen_load(int no, int hot_reloading)
{
    struct gen *g = xcalloc(1, sizeof *g);
    g->no = no;
    hlog("dlopen(%s, RTLD_LAZY) generation %d", opt.so_path, no);
    g->dl = dlopen(opt.so_path, RTLD_LAZY);
    if (!g->dl) {
        hfail("[proxy] error opening plugin %s: '%s'", opt.so_path, dlerror());
        free(g);
        return NULL;
    }
    g->pre_register = (pre_register_fn)sym(g->dl, "FLBPluginPreRegister");
    if (g->pre_register) {
        int rc = g->pre_register(hot_reloading);
        hlog("FLBPluginPreRegister(%d) -> %d", hot_reloading, rc);
        if (rc == -1) {
            hfail("FLBPluginPreRegister returned -1: registration aborted");
            return g;
        }
    }
    if (opt.def32) {
        /* v3.2 - v4.2.2: malloc(32), not zeroed; a guard canary follows */
        g->def_mem = xmalloc(DEF_SIZE_OLD + DEF_CANARY_LEN);
        memset(g->def_mem, 0xa5, DEF_SIZE_OLD);
        for (int i = 0; i < DEF_CANARY_LEN; i++)
            g->def_mem[DEF_SIZE_OLD + i] = (uint8_t)(0x5c ^ i);
    } else {
        g->def_mem = xcalloc(1, DEF_SIZE_V423);
    }
    g->def = (struct flb_plugin_proxy_def *)g->def_mem;
    g->reg = (register_fn)sym(g->dl, "FLBPluginRegister");
    if (!g->reg) {
        hfail("FLBPluginRegister symbol missing: [config] section tried to instance a plugin name that doesn't exist");
        return g;
    }
    int rc = g->reg(g->def);
    hlog("FLBPluginRegister(def=%p, %s) -> %d", (void *)g->def, opt.def32 ? "malloc 32 + canary" : "calloc 40", rc);
    if (rc == -1) {
        hfail("FLBPluginRegister returned -1");
        return g;
    }
    if (opt.def32) {
        for (int i = 0; i < DEF_CANARY_LEN; i++) {
            if (g->def_mem[DEF_SIZE_OLD + i] != (uint8_t)(0x5c ^ i)) {
                hfail("FLBPluginRegister wrote past the 32-byte def (canary byte %d changed): "
                      "heap corruption on Fluent Bit <= v4.2.2",
                      i);
                break;
            }
        }
    } else if (g->def->event_type != 0) {
        hlog("def.event_type = %d (honoured by v4.2.3+ only)", g->def->event_type);
    }
    struct flb_plugin_proxy_def *d = g->def;
    if (d->type != FLB_PROXY_OUTPUT_PLUGIN || d->proxy != FLB_PROXY_GOLANG) {
        hfail("def.type=%d def.proxy=%d, want type=2 (output) proxy=11 (golang)", d->type, d->proxy);
        return g;
    }
    if (!d->name || !d->name[0]) {
        hfail("def.name is NULL or empty");
        return g;
    }
    hlog("registered name=%s description=%s flags=%d", d->name, d->description ? d->description : "(null)",
         d->flags);

    /* docs/fluent-bit.md#test-host step 4: symbol resolution */
    g->plugin = xcalloc(1, sizeof *g->plugin);
    g->plugin->name = xstrdup(d->name);
    g->plugin->cb_init = (int (*)(struct flbgo_output_plugin *))sym(g->dl, "FLBPluginInit");
    if (!g->plugin->cb_init) {
        hfail("[go proxy]: could not load FLBPluginInit symbol");
        return g;
    }
    g->plugin->cb_flush = (int (*)(const void *, size_t, const char *))sym(g->dl, "FLBPluginFlush");
    g->plugin->cb_flush_ctx = (int (*)(void *, const void *, size_t, char *))sym(g->dl, "FLBPluginFlushCtx");
    g->plugin->cb_exit = (int (*)(void))sym(g->dl, "FLBPluginExit");
    g->plugin->cb_exit_ctx = (int (*)(void *))sym(g->dl, "FLBPluginExitCtx");
    g->pre_run = (pre_run_fn)sym(g->dl, "FLBPluginOutputPreRun");
    g->pre_exit = (pre_exit_fn)sym(g->dl, "FLBPluginOutputPreExit");
    g->unreg = (unregister_fn)sym(g->dl, "FLBPluginUnregister");
    if (!g->plugin->cb_flush_ctx && !g->plugin->cb_flush) {
        hfail("neither FLBPluginFlushCtx nor FLBPluginFlush is exported: Fluent Bit would SIGSEGV at the first flush");
        return g;
    }
    if (!g->plugin->cb_flush_ctx)
        hwarn("FLBPluginFlushCtx missing: using FLBPluginFlush (no instance context)");
    hlog("symbols: FlushCtx=%s Flush=%s ExitCtx=%s Exit=%s PreRun=%s PreExit=%s Unregister=%s",
         g->plugin->cb_flush_ctx ? "yes" : "no", g->plugin->cb_flush ? "yes" : "no",
         g->plugin->cb_exit_ctx ? "yes" : "no", g->plugin->cb_exit ? "yes" : "no", g->pre_run ? "yes" : "no",
         g->pre_exit ? "yes" : "no", g->unreg ? "yes" : "no");

    g->api = xcalloc(1, sizeof *g->api);
    g->api->output_get_property = api_output_get_property;
    g->api->input_get_property = api_input_get_property;
    g->api->output_get_cmt_instance = api_get_cmt;
    g->api->input_get_cmt_instance = api_get_cmt;
    g->api->log_print = api_log_print;
    g->api->input_log_check = api_log_check;
    g->api->output_log_check = api_log_check;
    g->api->custom_get_property = api_input_get_property;
    g->api->custom_log_check = api_log_check;
    g->plugin->api = g->api;

    /* instances are created (and ${VAR} expanded) at property-set time */
    g->n_ins = opt.n_ins;
    g->ins = xcalloc((size_t)g->n_ins, sizeof *g->ins);
    for (int i = 0; i < g->n_ins; i++) {
        if (!instance_create(g, i, &opt.ins[i], d->name)) {
            g->n_ins = i + 1;
            return g;
        }
    }
    return g;
}

static bool gen_ready(const struct gen *g)
{
    return g && g->plugin && g->plugin->api && g->ins && atomic_load(&failures) == 0;
}

/* ------------------------------------------------------------------ */
/* engine thread (docs/fluent-bit.md#test-host step 6)                 */

static void instance_shutdown(struct gen *g, struct instance *in)
{
    if (!in->inited)
        return;
    workers_stop(in);
    int flag = g->by_reload ? 1 : 0;
    if (g->pre_exit) {
        g->pre_exit(flag);
        hlog("FLBPluginOutputPreExit(%d) instance=%s", flag, in->name);
    }
    if (g->plugin->cb_exit_ctx) {
        uint64_t t0 = now_us();
        int rc = g->plugin->cb_exit_ctx(in->pctx->remote_context);
        hlog("FLBPluginExitCtx(%p) instance=%s -> %d (%llu us)", in->pctx->remote_context, in->name, rc,
             (unsigned long long)(now_us() - t0));
    } else if (g->plugin->cb_exit) {
        int rc = g->plugin->cb_exit();
        hlog("FLBPluginExit() instance=%s -> %d", in->name, rc);
    }
    in->inited = false;
}

static void dispatch(struct gen *g, struct chunk *c)
{
    for (int i = 0; i < g->n_ins; i++) {
        struct instance *in = &g->ins[i];
        if (fnmatch(in->match, c->tag, 0) != 0)
            continue;
        if (in->workers > 0)
            workers_enqueue(in, c);
        else
            deliver(in, c);
    }
}

static void *engine_main(void *arg)
{
    struct gen *g = arg;
    pthread_setname_np(pthread_self(), "flb-pipeline");
    int enable_hot_reload = (opt.hot_reload_flag || opt.reload) ? 1 : 0;
    for (int i = 0; i < g->n_ins; i++) {
        struct instance *in = &g->ins[i];
        g->plugin->o_ins = in;
        g->plugin->context = in->pctx;
        in->init_rc = g->plugin->cb_init(g->plugin);
        hlog("FLBPluginInit(plugin=%p) instance=%s alias=%s -> %d remote_context=%p", (void *)g->plugin, in->name,
             in->alias ? in->alias : "-", in->init_rc, in->pctx->remote_context);
        if (in->init_rc <= 0) {
            hfail("[go proxy]: plugin '%s' failed to initialize", g->plugin->name);
            hfail("[output] failed to initialize '%s' plugin", in->name);
            atomic_store(&g->init_failed, true);
            break;
        }
        in->inited = true;
        workers_start(in);
    }
    if (!atomic_load(&g->init_failed)) {
        if (g->pre_run) {
            for (int i = 0; i < g->n_ins; i++) {
                int rc = g->pre_run(enable_hot_reload);
                hlog("FLBPluginOutputPreRun(%d) -> %d", enable_hot_reload, rc);
            }
        }
        if (opt.resignal) {
            /* what Fluent Bit does on SIGCONT (dump) or SIGHUP: its handler re-runs signal() */
            hlog("raising SIGCONT: Fluent Bit's handler re-installs its SIGSEGV/SIGFPE handlers");
            raise(SIGCONT);
        }
        /* in reload-overlap mode generation 1 keeps feeding until told to stop */
        for (long pass = 0; !exit_requested && n_chunks > 0; pass++) {
            if (!g->overlap && pass >= opt.repeat)
                break;
            for (size_t i = 0; i < n_chunks && !exit_requested; i++) {
                if (atomic_load(&g->stop_feeding))
                    break;
                if (opt.pace_ms > 0 && (pass > 0 || i > 0))
                    usleep((useconds_t)opt.pace_ms * 1000);
                dispatch(g, &chunks[i]);
            }
            if (atomic_load(&g->stop_feeding))
                break;
        }
    }
    for (long ms = 0; ms < opt.linger_ms && !exit_requested; ms += 10)
        usleep(10 * 1000);
    atomic_store(&g->feeding_done, true);
    if (g->overlap) {
        while (!atomic_load(&g->stop_feeding))
            usleep(1000);
    }
    for (int i = 0; i < g->n_ins; i++)
        instance_shutdown(g, &g->ins[i]);
    return NULL;
}

static void engine_start(struct gen *g)
{
    if (pthread_create(&g->engine, NULL, engine_main, g) != 0) {
        hfail("cannot create the engine thread");
        exit(1);
    }
    g->engine_started = true;
}

/* Unregister on the calling (main) thread, then free the host's copies and dlclose. */
static void gen_unload(struct gen *g)
{
    if (!g)
        return;
    if (g->unreg && g->def && g->def->name) {
        g->unreg(g->def);
        hlog("FLBPluginUnregister(def=%p) generation %d", (void *)g->def, g->no);
    }
    for (int i = 0; i < g->n_ins; i++)
        instance_free(&g->ins[i]);
    free(g->ins);
    if (g->plugin)
        free(g->plugin->name);
    free(g->plugin);
    free(g->api);
    free(g->def_mem);
    if (g->dl)
        dlclose(g->dl);
    hlog("dlclose generation %d", g->no);
}

/* ------------------------------------------------------------------ */
/* summary                                                            */

static struct {
    uint64_t chunks, records, attempts, ok, retry, error, other, dropped, max_us;
} total;

static void summarize(struct gen *g)
{
    for (int i = 0; i < g->n_ins; i++) {
        struct instance *in = &g->ins[i];
        uint32_t max = 0, p50 = 0, p99 = 0;
        if (in->n_lat) {
            qsort(in->lat, in->n_lat, sizeof *in->lat, cmp_u32);
            max = in->lat[in->n_lat - 1];
            p50 = in->lat[(in->n_lat - 1) / 2];
            p99 = in->lat[(in->n_lat - 1) * 99 / 100];
        }
        fprintf(stderr,
                "[host] summary generation=%d instance=%s workers=%d chunks=%llu records=%llu attempts=%llu ok=%llu "
                "retry=%llu error=%llu other=%llu dropped=%llu max_inflight=%d p50_us=%u p99_us=%u max_us=%u\n",
                g->no, in->name, in->workers, (unsigned long long)in->chunks, (unsigned long long)in->records,
                (unsigned long long)in->attempts, (unsigned long long)in->ok, (unsigned long long)in->retry,
                (unsigned long long)in->error, (unsigned long long)in->other, (unsigned long long)in->dropped,
                in->max_inflight, p50, p99, max);
        total.chunks += in->chunks;
        total.records += in->records;
        total.attempts += in->attempts;
        total.ok += in->ok;
        total.retry += in->retry;
        total.error += in->error;
        total.other += in->other;
        total.dropped += in->dropped;
        if (max > total.max_us)
            total.max_us = max;
    }
}

/* ------------------------------------------------------------------ */
/* command line                                                       */

static const char usage[] =
    "usage: flb-host [options] PATH.so\n"
    "\n"
    "Loads a Fluent Bit Go output plugin exactly like Fluent Bit v4.2.x does\n"
    "(docs/fluent-bit.md#test-host) and flushes chunks built from files.\n"
    "The .so basename must not start with 'flb-' (Fluent Bit would treat it as a C plugin).\n"
    "\n"
    "Instances and properties:\n"
    "  -p KEY=VALUE        property of the current [OUTPUT] instance; ${VAR} is expanded\n"
    "                      from the environment (unset: warning + empty); key and value are\n"
    "                      trimmed. The plugin's getter is case-insensitive, first match\n"
    "                      wins, empty or missing reads NULL, core keys are hidden: name,\n"
    "                      match, match_regex, alias, log_level, log_suppress_interval, host,\n"
    "                      port, ipv6, retry_limit, workers, storage.total_limit_size, net.*,\n"
    "                      tls, tls.*. The host itself uses match (glob, default *), alias,\n"
    "                      workers, retry_limit (default 1; no_retries; no_limits/false/off =\n"
    "                      unlimited, capped at 100) and tls (on aborts, as in Fluent Bit).\n"
    "  -i, --instance      start the next instance (instance 0 exists implicitly)\n"
    "\n"
    "Inputs (several, fed in order; -t, --format and --key apply to the -f options after them):\n"
    "  -f FILE             input file\n"
    "  --format F          lines (default): each non-empty line -> {KEY: line};\n"
    "                      json: each line is a JSON object -> msgpack map; a top-level string\n"
    "                      \"_tag\" is removed and becomes the record's tag; invalid JSON stops\n"
    "                      the host with file:line:column (exit 2);\n"
    "                      msgpack: the file's bytes are one chunk, verbatim (malformed-chunk tests)\n"
    "  --key KEY           record key for lines (default log)\n"
    "  -t TAG              tag (default app.test)\n"
    "  -n N                records per chunk (default 1000); a chunk never mixes tags: by default\n"
    "                      consecutive records with the same tag go together\n"
    "  --per-tag           one open chunk per tag instead (like Fluent Bit's per-tag input\n"
    "                      chunks), closed when full or at the end of each input file\n"
    "  --event-format 1|2  2 (default): [[TIME, {}], BODY] with array32 headers, Fluent Bit's\n"
    "                      exact bytes; 1: legacy [TIME, BODY]\n"
    "  --ts T              TIME encoding: eventtime (fixext8 type 0, default), ext8 (c7 08 00),\n"
    "                      int (seconds), float (float64 seconds)\n"
    "  --time SEC[.NSEC]   fixed event time instead of the clock (reproducible bytes)\n"
    "  --repeat K          feed all chunks K times (soak, bench)\n"
    "  --pace MS           pause MS milliseconds before each chunk but the first, so the\n"
    "                      inputs arrive over time (tests that change something mid-run)\n"
    "  --linger MS         keep running MS milliseconds after the last chunk before shutting\n"
    "                      down, as Fluent Bit does between inputs (the plugin's background work)\n"
    "  --dump-chunks DIR   also write every chunk to DIR/chunk-NNNNNN.msgpack + DIR/index.tsv\n"
    "  --write-fixtures DIR  write the chunk fixtures (docs/fluent-bit.md#fixtures) to DIR (*.msgpack +\n"
    "                      index.tsv: file, tag, events, records, description); PATH.so optional\n"
    "\n"
    "Engine:\n"
    "  --workers N         default workers for all instances (default 0: flush on the engine\n"
    "                      thread flb-pipeline; N: threads flb-out-<name>.<id>-w<k>)\n"
    "  --stack BYTES       coroutine stack per flush, freshly malloc'd (default 24576)\n"
    "  --poison            overwrite data with 0xc1 right after each flush returns (and free it\n"
    "                      16 flushes later); without it data is unmapped at once. data is\n"
    "                      always mapped read-only during the call\n"
    "  --def32             malloc'd 32-byte def plus a guard canary (Fluent Bit <= v4.2.2);\n"
    "                      a changed canary is a failure. Default: calloc'd 40 bytes\n"
    "  --resignal          after PreRun, raise SIGCONT: the handler re-runs signal() for\n"
    "                      SIGSEGV/SIGFPE etc. as Fluent Bit does on SIGCONT/SIGHUP\n"
    "  --reload            hot-reload sequence: while generation 1 keeps flushing, dlopen\n"
    "                      again + PreRegister(1) + Register(new def); then old PreExit(1),\n"
    "                      ExitCtx, Unregister(old def); new Init on a new engine thread,\n"
    "                      PreRun(1), feed the inputs again\n"
    "  --hot-reload-flag   hot reload enabled (Fluent Bit's -Y): PreRun gets 1, and SIGHUP\n"
    "                      reloads as --reload does (any number of times); each new\n"
    "                      generation feeds the inputs again\n"
    "  --trace             log every flush (context, stack range, rc, latency)\n"
    "  -q                  quiet: only warnings, failures and the summary\n"
    "  -h, --help          this text\n"
    "\n"
    "Signals: SIGINT/SIGQUIT/SIGHUP/SIGCONT/SIGTERM/SIGSEGV/SIGFPE handlers are installed\n"
    "with signal() before dlopen, SIGPIPE ignored. A fault prints 'caught signal (SIGSEGV)'\n"
    "and aborts (exit 134). SIGINT/SIGTERM stop feeding and shut down in order.\n"
    "SIGHUP reloads when hot reload is enabled; SIGCONT only re-installs the handlers.\n"
    "\n"
    "Output: lifecycle calls with thread names on stderr, then one 'summary' line per\n"
    "instance (chunks, records, attempts, ok/retry/error/other return codes, p50/p99/max\n"
    "flush latency in us) and a 'total' line.\n"
    "Exit: 0 ok; 1 contract failure (Init <= 0, missing symbol, bad def, canary changed,\n"
    "coroutine stack overrun, ...); 2 usage/input error; 134 fatal signal.\n";

enum {
    OPT_FORMAT = 256,
    OPT_KEY,
    OPT_EVENT_FORMAT,
    OPT_TS,
    OPT_WORKERS,
    OPT_STACK,
    OPT_POISON,
    OPT_DEF32,
    OPT_RESIGNAL,
    OPT_RELOAD,
    OPT_REPEAT,
    OPT_HOT,
    OPT_TRACE,
    OPT_DUMP,
    OPT_TIME,
    OPT_FIXTURES,
    OPT_PER_TAG,
    OPT_PACE,
    OPT_LINGER,
};

static long parse_long(const char *s, const char *what, long min, long max)
{
    char *e;
    errno = 0;
    long v = strtol(s, &e, 10);
    if (errno || *e || e == s || v < min || v > max)
        die_usage("invalid %s '%s' (want %ld..%ld)", what, s, min, max);
    return v;
}

static void parse_args(int argc, char **argv)
{
    static const struct option lo[] = {
        {"instance", no_argument, NULL, 'i'},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"key", required_argument, NULL, OPT_KEY},
        {"event-format", required_argument, NULL, OPT_EVENT_FORMAT},
        {"ts", required_argument, NULL, OPT_TS},
        {"workers", required_argument, NULL, OPT_WORKERS},
        {"stack", required_argument, NULL, OPT_STACK},
        {"poison", no_argument, NULL, OPT_POISON},
        {"def32", no_argument, NULL, OPT_DEF32},
        {"resignal", no_argument, NULL, OPT_RESIGNAL},
        {"reload", no_argument, NULL, OPT_RELOAD},
        {"repeat", required_argument, NULL, OPT_REPEAT},
        {"hot-reload-flag", no_argument, NULL, OPT_HOT},
        {"trace", no_argument, NULL, OPT_TRACE},
        {"dump-chunks", required_argument, NULL, OPT_DUMP},
        {"time", required_argument, NULL, OPT_TIME},
        {"write-fixtures", required_argument, NULL, OPT_FIXTURES},
        {"per-tag", no_argument, NULL, OPT_PER_TAG},
        {"pace", required_argument, NULL, OPT_PACE},
        {"linger", required_argument, NULL, OPT_LINGER},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    enum fmt cur_fmt = FMT_LINES;
    const char *cur_key = "log", *cur_tag = "app.test";
    opt.ins = xcalloc(1, sizeof *opt.ins);
    opt.n_ins = 1;
    int c;
    while ((c = getopt_long(argc, argv, "p:if:t:n:qh", lo, NULL)) != -1) {
        switch (c) {
        case 'p': {
            const char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg)
                die_usage("-p wants KEY=VALUE, got '%s'", optarg);
            struct inscfg *ic = &opt.ins[opt.n_ins - 1];
            char **n = realloc(ic->kv, (size_t)(ic->n + 1) * sizeof *n);
            if (!n)
                die_usage("out of memory");
            ic->kv = n;
            ic->kv[ic->n++] = optarg;
            break;
        }
        case 'i': {
            struct inscfg *n = realloc(opt.ins, (size_t)(opt.n_ins + 1) * sizeof *n);
            if (!n)
                die_usage("out of memory");
            opt.ins = n;
            opt.ins[opt.n_ins++] = (struct inscfg){0};
            break;
        }
        case 'f': {
            struct input *n = realloc(opt.inputs, (size_t)(opt.n_inputs + 1) * sizeof *n);
            if (!n)
                die_usage("out of memory");
            opt.inputs = n;
            opt.inputs[opt.n_inputs++] =
                (struct input){.path = optarg, .format = cur_fmt, .key = (char *)cur_key, .tag = (char *)cur_tag};
            break;
        }
        case 't':
            if (!*optarg)
                die_usage("empty tag");
            cur_tag = optarg;
            break;
        case 'n':
            opt.per_chunk = parse_long(optarg, "-n", 1, 100000000);
            break;
        case 'q':
            opt.quiet = true;
            break;
        case 'h':
            fputs(usage, stdout);
            exit(0);
        case OPT_FORMAT:
            if (!strcmp(optarg, "lines"))
                cur_fmt = FMT_LINES;
            else if (!strcmp(optarg, "json"))
                cur_fmt = FMT_JSON;
            else if (!strcmp(optarg, "msgpack"))
                cur_fmt = FMT_MSGPACK;
            else
                die_usage("unknown --format '%s' (lines, json, msgpack)", optarg);
            break;
        case OPT_KEY:
            if (!*optarg)
                die_usage("empty --key");
            cur_key = optarg;
            break;
        case OPT_EVENT_FORMAT:
            opt.event_format = (int)parse_long(optarg, "--event-format", 1, 2);
            break;
        case OPT_TS:
            if (!strcmp(optarg, "eventtime"))
                opt.ts = TS_EVENTTIME;
            else if (!strcmp(optarg, "int"))
                opt.ts = TS_INT;
            else if (!strcmp(optarg, "float"))
                opt.ts = TS_FLOAT;
            else if (!strcmp(optarg, "ext8"))
                opt.ts = TS_EXT8;
            else
                die_usage("unknown --ts '%s' (eventtime, int, float, ext8)", optarg);
            break;
        case OPT_WORKERS:
            opt.workers = (int)parse_long(optarg, "--workers", 0, 64);
            break;
        case OPT_STACK:
            opt.stack = (size_t)parse_long(optarg, "--stack", 8192, 64L << 20);
            break;
        case OPT_POISON:
            opt.poison = true;
            break;
        case OPT_DEF32:
            opt.def32 = true;
            break;
        case OPT_RESIGNAL:
            opt.resignal = true;
            break;
        case OPT_RELOAD:
            opt.reload = true;
            break;
        case OPT_REPEAT:
            opt.repeat = parse_long(optarg, "--repeat", 1, 100000000);
            break;
        case OPT_HOT:
            opt.hot_reload_flag = true;
            break;
        case OPT_TRACE:
            opt.trace = true;
            break;
        case OPT_DUMP:
            opt.dump_dir = optarg;
            break;
        case OPT_FIXTURES:
            opt.fixtures_dir = optarg;
            break;
        case OPT_PER_TAG:
            opt.per_tag = true;
            break;
        case OPT_PACE:
            opt.pace_ms = parse_long(optarg, "--pace", 0, 60000);
            break;
        case OPT_LINGER:
            opt.linger_ms = parse_long(optarg, "--linger", 0, 600000);
            break;
        case OPT_TIME: {
            char *e;
            errno = 0;
            unsigned long s = strtoul(optarg, &e, 10);
            unsigned long ns = 0;
            if (*e == '.') {
                /* fraction of a second, up to 9 digits */
                int digits = 0;
                for (e++; *e >= '0' && *e <= '9' && digits < 9; e++, digits++)
                    ns = ns * 10 + (unsigned long)(*e - '0');
                if (digits == 0)
                    die_usage("invalid --time '%s'", optarg);
                for (; digits < 9; digits++)
                    ns *= 10;
            }
            if (errno || *e || s > UINT32_MAX)
                die_usage("invalid --time '%s'", optarg);
            opt.fixed_time = true;
            opt.time_sec = (uint32_t)s;
            opt.time_nsec = (uint32_t)ns;
            break;
        }
        default:
            die_usage("unknown option");
        }
    }
    if (opt.fixtures_dir && optind == argc)
        return;
    if (optind != argc - 1)
        die_usage("exactly one PATH.so expected");
    opt.so_path = argv[optind];
    const char *base = strrchr(opt.so_path, '/');
    base = base ? base + 1 : opt.so_path;
    if (strncmp(base, "flb-", 4) == 0)
        die_usage("%s: basenames starting with 'flb-' are loaded by Fluent Bit as C plugins "
                  "('registration structure is missing'); rename the Go plugin (e.g. out_drain.so)",
                  opt.so_path);
}

/* ------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    /* docs/fluent-bit.md#test-host step 1: Fluent Bit installs its handlers
     * before option parsing and dlopen */
    host_signal_init();
    signal(SIGPIPE, SIG_IGN);
    parse_args(argc, argv);
    if (opt.fixtures_dir) {
        write_fixtures(opt.fixtures_dir);
        if (!opt.so_path)
            return 0;
    }
    build_chunks();
    size_t recs = 0;
    for (size_t i = 0; i < n_chunks; i++)
        recs += chunks[i].records;
    hlog("%zu chunks, %zu records from %d inputs; workers=%d stack=%zu event-format=%d", n_chunks, recs,
         opt.n_inputs, opt.workers, opt.stack, opt.event_format);

    /* One generation per (re)load. --reload reloads once, while generation 1
     * keeps flushing; SIGHUP reloads whenever hot reload is enabled. */
    struct gen *cur = gen_load(1, 0);
    bool scripted = opt.reload;
    while (gen_ready(cur)) {
        struct gen *next = NULL;
        cur->overlap = scripted;
        engine_start(cur);
        for (;;) {
            if (atomic_load(&cur->init_failed))
                break;
            bool fed = atomic_load(&cur->feeding_done);
            if (fed && !cur->overlap)
                break;
            bool want = scripted ? (atomic_load(&cur->flushes_done) > 0 || fed) : reload_requested;
            if (exit_requested && (fed || !want))
                break;
            if (!want) {
                usleep(500);
                continue;
            }
            reload_requested = 0;
            /* docs/fluent-bit.md#test-host step 10: register the new
             * generation while the old one flushes */
            hlog("reload: loading generation %d while generation %d is flushing", cur->no + 1, cur->no);
            next = gen_load(cur->no + 1, 1);
            unsigned long during = atomic_load(&cur->flushes_done);
            for (int i = 0; i < 2000 && !atomic_load(&cur->feeding_done) &&
                            atomic_load(&cur->flushes_done) <= during + 1;
                 i++)
                usleep(1000);
            hlog("reload: generation %d flushes before/after registration: %lu/%lu", cur->no, during,
                 atomic_load(&cur->flushes_done));
            break;
        }
        cur->by_reload = next != NULL;
        atomic_store(&cur->stop_feeding, true);
        pthread_join(cur->engine, NULL);
        if (cur->no > 1 && atomic_load(&cur->init_failed))
            hfail("reloading is aborted and exit");
        summarize(cur);
        gen_unload(cur);
        cur = next;
        scripted = false;
        if (exit_requested && cur) {
            summarize(cur);
            gen_unload(cur);
            cur = NULL;
        }
    }
    if (cur) {
        /* loaded but not startable (failed registration): still unregistered */
        summarize(cur);
        gen_unload(cur);
    }
    for (size_t i = 0; i < n_chunks; i++) {
        free(chunks[i].tag);
        free(chunks[i].data);
    }
    free(chunks);
    int fails = atomic_load(&failures);
    fprintf(stderr,
            "[host] total chunks=%llu records=%llu attempts=%llu ok=%llu retry=%llu error=%llu other=%llu "
            "dropped=%llu max_us=%llu failures=%d\n",
            (unsigned long long)total.chunks, (unsigned long long)total.records,
            (unsigned long long)total.attempts, (unsigned long long)total.ok, (unsigned long long)total.retry,
            (unsigned long long)total.error, (unsigned long long)total.other, (unsigned long long)total.dropped,
            (unsigned long long)total.max_us, fails);
    return fails ? 1 : 0;
}
