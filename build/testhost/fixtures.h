//go:build ignore

/*
 * fixtures.h - writes the chunk fixtures of docs/fluent-bit.md#fixtures as
 * msgpack files plus an index (--write-fixtures DIR). Included once by
 * flb_host.c after mpbuf.h.
 *
 * index.tsv columns: file, tag, events (complete top-level msgpack objects),
 * records (log records a correct plugin processes: group markers, invalid
 * timestamps and the truncated tail excluded), description.
 */
#ifndef FLB_HOST_FIXTURES_H
#define FLB_HOST_FIXTURES_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FX_SEC 1764092401u  /* 2025-11-25T17:40:01Z */
#define FX_NSEC 123456789u

static const char fx_kube_tag[] =
    "kube.var.log.containers.coredns-5d78c9869d-x7k2p_kube-system_coredns-"
    "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90.log";

struct fx {
    struct buf b;
    size_t events, records;
};

static void fx_json(struct buf *out, const char *json)
{
    char *tag = NULL;
    const char *err = NULL;
    size_t col = 0;
    if (json_line_to_mp(json, strlen(json), out, &tag, &err, &col)) {
        fprintf(stderr, "flb-host: internal fixture JSON invalid at column %zu: %s\n", col, err);
        exit(2);
    }
    free(tag);
}

/* EventTime as fixext8 (ext8 when long_form) */
static void fx_eventtime(struct buf *b, int long_form)
{
    if (long_form) {
        buf_u8(b, 0xc7);
        buf_u8(b, 0x08);
    } else {
        buf_u8(b, 0xd7);
    }
    buf_u8(b, 0x00);
    buf_be(b, FX_SEC, 4);
    buf_be(b, FX_NSEC, 4);
}

static void fx_arr32_2(struct buf *b)
{
    static const uint8_t h[5] = {0xdd, 0, 0, 0, 2};
    buf_put(b, h, 5);
}

/* A v2 event: [[EventTime, META], BODY] with JSON metadata and body. */
static void fx_v2(struct fx *f, const char *meta, const char *body)
{
    fx_arr32_2(&f->b);
    fx_arr32_2(&f->b);
    fx_eventtime(&f->b, 0);
    fx_json(&f->b, meta);
    fx_json(&f->b, body);
    f->events++;
    f->records++;
}

static void fx_v2_raw(struct fx *f, const uint8_t *body, size_t n)
{
    fx_arr32_2(&f->b);
    fx_arr32_2(&f->b);
    fx_eventtime(&f->b, 0);
    buf_u8(&f->b, 0x80);
    buf_put(&f->b, body, n);
    f->events++;
    f->records++;
}

static void fx_write(const char *dir, FILE *idx, const char *name, const char *tag, struct fx *f,
                     const char *desc)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/%s.msgpack", dir, name);
    FILE *o = fopen(p, "wb");
    if (!o || fwrite(f->b.p, 1, f->b.len, o) != f->b.len || fclose(o) != 0) {
        fprintf(stderr, "flb-host: cannot write %s\n", p);
        exit(2);
    }
    fprintf(idx, "%s.msgpack\t%s\t%zu\t%zu\t%s\n", name, tag, f->events, f->records, desc);
    free(f->b.p);
    *f = (struct fx){0};
}

static void write_fixtures(const char *dir)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/index.tsv", dir);
    FILE *idx = fopen(p, "w");
    if (!idx) {
        fprintf(stderr, "flb-host: cannot write %s\n", p);
        exit(2);
    }
    struct fx f = {0};
    char line[512];

    /* 1. v2, Fluent Bit-exact encoding */
    fx_v2(&f, "{}", "{\"log\":\"hello from a single record\"}");
    fx_write(dir, idx, "v2-single", "app.test", &f, "v2 array32 headers, EventTime fixext8, {} metadata");
    for (int i = 0; i < 10000; i++) {
        snprintf(line, sizeof line, "{\"log\":\"request %d served in %d ms\",\"stream\":\"stdout\"}", i, i % 97);
        fx_v2(&f, "{}", line);
    }
    fx_write(dir, idx, "v2-10000", "app.test", &f, "10000 v2 records in one chunk");

    /* 2. non-empty metadata; group markers */
    for (int i = 0; i < 3; i++)
        fx_v2(&f, "{\"otlp\":{\"severity_number\":9}}", "{\"message\":\"otlp log line\"}");
    fx_write(dir, idx, "v2-metadata", "otel.logs", &f, "v2 with non-empty metadata");
    fx_arr32_2(&f.b);
    fx_arr32_2(&f.b);
    mp_int(&f.b, -1);
    fx_json(&f.b, "{\"resource\":{\"service.name\":\"api\"}}");
    fx_json(&f.b, "{\"scope\":\"io.opentelemetry\"}");
    f.events++;
    for (int i = 0; i < 3; i++)
        fx_v2(&f, "{}", "{\"message\":\"grouped record\"}");
    fx_arr32_2(&f.b);
    fx_arr32_2(&f.b);
    mp_int(&f.b, -2);
    buf_u8(&f.b, 0x80);
    buf_u8(&f.b, 0x80);
    f.events++;
    fx_write(dir, idx, "v2-groups", "otel.logs", &f, "group start [[-1,{..}],{..}], 3 records, group end [[-2,{}],{}]");

    /* 3. v1 forms */
    for (int form = 0; form < 3; form++) {
        for (int i = 0; i < 3; i++) {
            buf_u8(&f.b, 0x92);
            if (form == 0)
                fx_eventtime(&f.b, 0);
            else if (form == 1)
                mp_uint(&f.b, FX_SEC);
            else
                mp_double(&f.b, FX_SEC + FX_NSEC / 1e9);
            fx_json(&f.b, "{\"log\":\"legacy v1 record\"}");
            f.events++;
            f.records++;
        }
        static const char *names[3] = {"v1-eventtime", "v1-uint", "v1-float"};
        static const char *descs[3] = {"[EventTime, body]", "[uint seconds, body]",
                                       "[float64 seconds, body] (fluent-bit-go GetRecord returns -5)"};
        fx_write(dir, idx, names[form], "forward.app", &f, descs[form]);
    }

    /* 4. ext8 EventTime; invalid ext type and size */
    for (int i = 0; i < 3; i++) {
        fx_arr32_2(&f.b);
        fx_arr32_2(&f.b);
        fx_eventtime(&f.b, 1);
        buf_u8(&f.b, 0x80);
        fx_json(&f.b, "{\"log\":\"ext8 timestamp\"}");
        f.events++;
        f.records++;
    }
    fx_write(dir, idx, "ts-ext8", "app.test", &f, "EventTime encoded as ext8 (c7 08 00)");
    fx_v2(&f, "{}", "{\"log\":\"valid before\"}");
    fx_arr32_2(&f.b);
    fx_arr32_2(&f.b);
    buf_u8(&f.b, 0xd7);
    buf_u8(&f.b, 0x01); /* ext type 1 */
    buf_be(&f.b, FX_SEC, 4);
    buf_be(&f.b, FX_NSEC, 4);
    buf_u8(&f.b, 0x80);
    fx_json(&f.b, "{\"log\":\"ext type 1\"}");
    f.events++;
    fx_arr32_2(&f.b);
    fx_arr32_2(&f.b);
    buf_u8(&f.b, 0xd6);
    buf_u8(&f.b, 0x00); /* fixext4 type 0 */
    buf_be(&f.b, FX_SEC, 4);
    buf_u8(&f.b, 0x80);
    fx_json(&f.b, "{\"log\":\"ext size 4\"}");
    f.events++;
    fx_v2(&f, "{}", "{\"log\":\"valid after\"}");
    fx_write(dir, idx, "ts-invalid-ext", "app.test", &f, "valid, ext type 1, fixext4 type 0, valid: 2 invalid events");

    /* 5. bodies of docs/fluent-bit.md#records */
    fx_v2(&f, "{}",
          "{\"time\":\"2026-11-25T17:40:01.123456789Z\",\"stream\":\"stdout\",\"_p\":\"F\",\"log\":\"[INFO] "
          "10.244.1.5:53122 - 4321 \\\"A IN api.example.com. udp 33 false 512\\\" NOERROR qr,rd,ra 94 0.000312s\","
          "\"kubernetes\":{\"pod_name\":\"coredns-5d78c9869d-x7k2p\",\"namespace_name\":\"kube-system\","
          "\"pod_id\":\"6e1f0c2a-3b4d-4e5f-8a9b-0c1d2e3f4a5b\",\"labels\":{\"k8s-app\":\"kube-dns\"},"
          "\"annotations\":{\"prometheus.io/port\":\"9153\"},\"host\":\"node-a1\",\"pod_ip\":\"10.244.1.7\","
          "\"container_name\":\"coredns\",\"docker_id\":\"a1b2c3d4\",\"container_hash\":\"registry.k8s.io/coredns/"
          "coredns@sha256:1eeb4c73\",\"container_image\":\"registry.k8s.io/coredns/coredns:v1.11.1\"}}");
    fx_write(dir, idx, "body-cri-k8s", fx_kube_tag, &f, "CRI record + kubernetes filter");
    fx_v2(&f, "{}",
          "{\"log\":\"10.0.0.7 - - [25/Nov/2026:17:40:03 +0000] \\\"GET /healthz HTTP/1.1\\\" 200 2 \\\"-\\\" "
          "\\\"kube-probe/1.30\\\"\\n\",\"stream\":\"stdout\",\"time\":\"2026-11-25T17:40:03.512345678Z\","
          "\"kubernetes\":{\"pod_name\":\"web-7f9c6d8b5-qwert\",\"namespace_name\":\"shop\","
          "\"container_name\":\"nginx\",\"host\":\"node-a1\"}}");
    fx_write(dir, idx, "body-docker", fx_kube_tag, &f, "Docker json-file: log ends with \\n");
    fx_v2(&f, "{}",
          "{\"stream\":\"stderr\",\"time\":\"2026-11-25T17:40:04.000000001Z\",\"level\":\"error\",\"msg\":"
          "\"upstream timed out\",\"upstream\":\"10.0.3.4:8080\",\"kubernetes\":{\"pod_name\":\"web-7f9c6d8b5-qwert\","
          "\"namespace_name\":\"shop\",\"container_name\":\"nginx\",\"host\":\"node-a1\"}}");
    fx_write(dir, idx, "body-merged-json", fx_kube_tag, &f, "Merge_Log On + Keep_Log Off: no log key, text in msg");
    fx_v2(&f, "{}", "{\"log\":\"Nov 25 17:40:05 node-a1 systemd[1]: Started session-42.scope - Session 42 of User ubuntu.\"}");
    fx_write(dir, idx, "body-raw-log", "node.syslog.var.log.syslog", &f, "unparsed syslog file line under log");
    fx_v2(&f, "{}",
          "{\"_TRANSPORT\":\"stdout\",\"PRIORITY\":\"6\",\"SYSLOG_IDENTIFIER\":\"kubelet\",\"_PID\":\"1234\","
          "\"_SYSTEMD_UNIT\":\"kubelet.service\",\"_HOSTNAME\":\"node-a1\",\"CODE_FILE\":[\"a.go\",\"b.go\"],"
          "\"MESSAGE\":\"I1125 17:40:09.123456    1234 kubelet.go:2461] \\\"SyncLoop (probe)\\\" probe=\\\"readiness\\\"\"}");
    fx_write(dir, idx, "body-journald-array", "host.kubelet.service", &f, "journald entry with an array-valued field");
    fx_v2(&f, "{}",
          "{\"pri\":\"28\",\"time\":\"2026-11-25T17:34:50.375211+00:00\",\"host\":\"node-a1\",\"ident\":\"kubelet\","
          "\"pid\":\"1234\",\"msgid\":\"KLOG\",\"extradata\":\"-\",\"message\":\"Failed to get pod status for pod "
          "\\\"web-7f9c6d8b5-qwert\\\"\"}");
    fx_write(dir, idx, "body-syslog5424", "syslog.5424", &f, "syslog input, RFC 5424");
    fx_v2(&f, "{}",
          "{\"pri\":\"38\",\"time\":\"Nov 25 17:34:50\",\"host\":\"node-a1\",\"ident\":\"sshd\",\"pid\":\"4321\","
          "\"message\":\"Accepted publickey for ubuntu from 203.0.113.9 port 51234 ssh2\"}");
    fx_write(dir, idx, "body-syslog3164", "syslog.3164", &f, "syslog input, RFC 3164");

    /* 6. hostile content */
    fx_v2(&f, "{}", "{\"log\":\"bad utf8 \xff\xfe overlong \xc0\xaf cut \xe2\x82 end\"}");
    fx_write(dir, idx, "hostile-invalid-utf8", "app.test", &f, "invalid UTF-8 in log");
    fx_v2(&f, "{}", "{\"log\":\"nul \\u0000 inside\\u0000\"}");
    fx_write(dir, idx, "hostile-nul", "app.test", &f, "embedded NUL bytes in log");
    {
        struct buf big = {0};
        buf_put(&big, "{\"log\":\"", 8);
        for (int i = 0; i < (1 << 20); i++)
            buf_u8(&big, (uint8_t)('a' + i % 26));
        buf_put(&big, "\"}", 3);
        fx_v2(&f, "{}", (const char *)big.p);
        free(big.p);
    }
    fx_write(dir, idx, "hostile-1mib-value", "app.test", &f, "one log value of 1 MiB");
    {
        while (f.b.len < 2100000) {
            char body[1200], pad[1001];
            memset(pad, 'x', 1000);
            pad[1000] = 0;
            snprintf(body, sizeof body, "{\"log\":\"filler %zu %s\"}", f.records, pad);
            fx_v2(&f, "{}", body);
        }
    }
    fx_write(dir, idx, "hostile-2.1mb-chunk", "app.test", &f, "a chunk of about 2.1 MB");
    {
        struct buf deep = {0};
        buf_put(&deep, "{\"log\":\"deep\",\"n\":", 18);
        for (int i = 0; i < 500; i++)
            buf_put(&deep, "{\"a\":", 5);
        buf_u8(&deep, '1');
        for (int i = 0; i < 500; i++)
            buf_u8(&deep, '}');
        buf_put(&deep, "}", 2);
        fx_v2(&f, "{}", (const char *)deep.p);
        free(deep.p);
    }
    fx_write(dir, idx, "hostile-deep-nesting", "app.test", &f, "maps nested 500 deep");
    {
        /* {1: "int key", "log": "x", 2: {3: 4}} */
        static const uint8_t body[] = {0x83, 0x01, 0xa7, 'i', 'n', 't', ' ', 'k', 'e', 'y', 0xa3, 'l', 'o', 'g',
                                       0xa1, 'x', 0x02, 0x81, 0x03, 0x04};
        fx_v2_raw(&f, body, sizeof body);
    }
    fx_write(dir, idx, "hostile-int-keys", "app.test", &f, "map keys that are integers");
    fx_v2(&f, "{}", "{}");
    fx_write(dir, idx, "hostile-empty-body", "app.test", &f, "empty body {}");

    /* 7. truncated chunk: last event cut in the middle of its string */
    for (int i = 0; i < 3; i++)
        fx_v2(&f, "{}", "{\"log\":\"complete record before the cut\"}");
    fx_v2(&f, "{}", "{\"log\":\"this record is cut in the middle of its log string\"}");
    f.b.len -= 20;
    f.events--;
    f.records--;
    fx_write(dir, idx, "truncated", "app.test", &f, "3 events, then one cut mid-string");

    /* 8. tags */
    {
        char tag[400];
        snprintf(tag, sizeof tag,
                 "kube.var.log.containers.payments-settlement-reconciler-7f9c6d8b5-qwert_payments-production-eu-"
                 "west-1_settlement-reconciler-sidecar-%s-%s.log",
                 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                 "fedcba9876543210fedcba9876543210fedcba9876543210fedcba98");
        fx_v2(&f, "{}", "{\"log\":\"long tag\"}");
        fx_write(dir, idx, "tag-long", tag, &f, "tag longer than 250 characters");
    }
    fx_v2(&f, "{}", "{\"log\":\"path-derived tag\"}");
    fx_write(dir, idx, "tag-path-dots", "node.syslog.var.log.pods.kube-system_coredns_1.coredns.0.log", &f,
             "tag with dots derived from a file path");
    fclose(idx);
}

#endif
